//! A small W3C WebDriver client for the dashboard's browser test: Debian's `chromedriver`
//! driving headless `chromium`, over HTTP with reqwest. Started on a free port with a
//! throw-away profile; dropping the [`Browser`] ends the session, then chromedriver and every
//! process of its group (chromium's), and removes the profile, even when the test failed.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `chromedriver` (`TRADEGRAPH_CHROMEDRIVER`, exported by `scripts/services.sh env`, else on
/// `PATH` or in /usr/bin); `None`, saying so, when there is none, unless
/// `TRADEGRAPH_REQUIRE_SERVICES=1` (the test command), which makes that a failure.
pub fn chromedriver() -> Option<PathBuf> {
    let named = std::env::var_os("TRADEGRAPH_CHROMEDRIVER").map(PathBuf::from);
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("chromedriver"))
            .find(|p| p.is_file())
    });
    let found = named
        .into_iter()
        .chain(on_path)
        .chain([PathBuf::from("/usr/bin/chromedriver")])
        .find(|p| p.is_file());
    if found.is_some() {
        return found;
    }
    tradegraph_testkit::services::unavailable(
        "chromedriver is not installed (scripts/services.sh start installs Debian's chromium and \
         chromium-driver)",
    )
}

/// A headless Chromium session.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    driver: Child,
    base: String,
    session: Option<String>,
    profile: PathBuf,
}

impl Browser {
    /// Starts `driver` on a free port and opens a session of a `width` x `height` window.
    pub fn start(driver: &Path, width: u32, height: u32) -> Self {
        Self::start_in(driver, width, height, None)
    }

    /// [`start`](Self::start), the browser in time zone `zone` (`Asia/Kolkata`) when given.
    pub fn start_in(driver: &Path, width: u32, height: u32, zone: Option<&str>) -> Self {
        let port = super::closed_port();
        let profile = super::temp_dir(&format!("chromium-{port}"));
        let mut command = Command::new(driver);
        if let Some(zone) = zone {
            command.env("TZ", zone);
        }
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let mut browser = Self {
            runtime,
            http,
            driver: child,
            base: format!("http://127.0.0.1:{port}"),
            session: None,
            profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = browser
                .runtime
                .block_on(async {
                    browser
                        .http
                        .get(format!("{}/status", browser.base))
                        .send()
                        .await
                })
                .ok()
                .is_some_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let chromium = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"]
            .into_iter()
            .find(|p| Path::new(p).is_file());
        let mut options = json!({"args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--force-color-profile=srgb",
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", browser.profile.display()),
        ]});
        if let Some(binary) = chromium {
            options["binary"] = json!(binary);
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options,
        }}});
        let answer = browser.call("POST", "/session", Some(caps));
        browser.session = Some(answer["sessionId"].as_str().unwrap().to_owned());
        browser
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|(status, answer)| panic!("{method} {path}: {status} {answer}"))
    }

    /// The command's `value`, or its HTTP status and answer when it failed.
    fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, (reqwest::StatusCode, Value)> {
        let url = format!("{}{path}", self.base);
        self.runtime.block_on(async {
            let request = match method {
                "GET" => self.http.get(&url),
                "DELETE" => self.http.delete(&url),
                _ => self
                    .http
                    .post(&url)
                    .json(&body.unwrap_or_else(|| json!({}))),
            };
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
            let status = response.status();
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            if status.is_success() {
                Ok(answer["value"].clone())
            } else {
                Err((status, answer))
            }
        })
    }

    /// The text of the page's open user prompt (a `confirm` or `alert` dialog), waiting for
    /// one up to `limit`; fails when none opens.
    pub fn prompt_text(&self, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            match self.try_call("GET", &self.session("/alert/text"), None) {
                Ok(text) => return text.as_str().unwrap_or_default().to_owned(),
                Err((_, answer)) if Instant::now() < deadline => {
                    assert_eq!(answer["value"]["error"], "no such alert", "{answer}");
                    std::thread::sleep(Duration::from_millis(40));
                }
                Err((status, answer)) => panic!("no prompt within {limit:?}: {status} {answer}"),
            }
        }
    }

    /// Accepts (OK) or dismisses (Cancel) the page's open user prompt.
    pub fn answer_prompt(&self, accept: bool) {
        let action = if accept {
            "/alert/accept"
        } else {
            "/alert/dismiss"
        };
        self.call("POST", &self.session(action), None);
    }

    fn session(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session.as_deref().unwrap())
    }

    /// Opens `url` (returns once the page loaded).
    pub fn goto(&self, url: &str) {
        self.call("POST", &self.session("/url"), Some(json!({"url": url})));
    }

    /// The element `css` selects (fails when there is none).
    pub fn find(&self, css: &str) -> String {
        let found = self.call(
            "POST",
            &self.session("/element"),
            Some(json!({"using": "css selector", "value": css})),
        );
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element `{css}`: {found}"))
            .to_owned()
    }

    /// Clicks the element `css` selects.
    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &self.session(&format!("/element/{id}/click")), None);
    }

    /// Types `text` into the element `css` selects.
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call(
            "POST",
            &self.session(&format!("/element/{id}/value")),
            Some(json!({"text": text})),
        );
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page; its return value.
    pub fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            &self.session("/execute/sync"),
            Some(json!({"script": script, "args": args})),
        )
    }

    /// `element.dataset[key]` of the element `css` selects (`null` when unset).
    pub fn data(&self, css: &str, key: &str) -> Value {
        self.script(
            "const e = document.querySelector(arguments[0]); return e ? (e.dataset[arguments[1]] ?? null) : null;",
            json!([css, key]),
        )
    }

    /// Polls `done` until it holds; fails with `what` and the page's state after `limit`.
    pub fn wait(&self, what: &str, limit: Duration, mut done: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            if done(self) {
                return;
            }
            if Instant::now() > deadline {
                let state = self.script(
                    "return JSON.stringify(document.getElementById('dashboard')?.dataset ?? {});",
                    json!([]),
                );
                panic!("no {what} within {limit:?}; the page's state: {state}");
            }
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    /// A PNG of the window, saved at `path`.
    pub fn screenshot(&self, path: &Path) {
        let encoded = self.call("GET", &self.session("/screenshot"), None);
        let png = base64(encoded.as_str().unwrap());
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let url = format!("{}/session/{session}", self.base);
            let http = self.http.clone();
            let _ = self.runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), http.delete(url).send()).await
            });
        }
        // chromedriver and what is left of its group (chromium's processes), by the group id.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Standard base64 (WebDriver's screenshots) decoded.
fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= u32::from(value(*c)) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}
