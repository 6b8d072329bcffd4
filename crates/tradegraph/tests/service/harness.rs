#![allow(unreachable_pub, dead_code)]
//! A served bot for the tests: `tradegraph run --feed binance` on a local WebSocket feed and a
//! local model server, with its HTTP service on a free loopback port, and an HTTP client (JSON
//! and server-sent events) for it.

use crate::support::binance::script;
use crate::support::llm::LlmServer;
use crate::support::process::{Bot, Exited};
use crate::support::ws::{Keepalive, WsServer};
use crate::support::{closed_port, temp_dir, this_minute_ms};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tradegraph_core::Timestamp;

/// The API token the bots run with.
pub const TOKEN: &str = "service-test-token-0123456789abcdef";
pub const SYMBOL: &str = "BTCUSDT";
/// As `TRADEGRAPH_API_TOKEN` in [`Served::start_with`]'s environment: leave it unset.
pub const GENERATE: &str = "<generate>";

/// A bot served over HTTP, with its feed and model servers.
pub struct Served {
    pub runtime: Runtime,
    pub llm: LlmServer,
    pub feed: WsServer,
    pub dir: PathBuf,
    pub bot: Option<Bot>,
    pub base: String,
    pub http: reqwest::Client,
    start_ms: i64,
    listen: String,
    env: Vec<(&'static str, String)>,
}

impl Served {
    /// A bot named `name` whose configuration adds `extra` to `[bot]`; the feed plays
    /// `played` minutes (more with [`Served::play`]) of a 20-minute script that started half an
    /// hour ago.
    pub fn start(name: &str, extra: &str, played: usize) -> Self {
        Self::start_with(name, extra, "", played, Vec::new())
    }

    /// [`Served::start`], with `stores` added to `[stores]` and `env` to the environment.
    pub fn start_with(
        name: &str,
        extra: &str,
        stores: &str,
        played: usize,
        env: Vec<(&'static str, String)>,
    ) -> Self {
        Self::start_scripted(name, extra, stores, played, env, 20)
    }

    /// [`Served::start_with`], on a script of `minutes` minutes that started `minutes + 10`
    /// minutes ago.
    pub fn start_scripted(
        name: &str,
        extra: &str,
        stores: &str,
        played: usize,
        env: Vec<(&'static str, String)>,
        minutes: usize,
    ) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = Runtime::new().unwrap();
        let llm = LlmServer::start(&runtime);
        let start_ms = this_minute_ms() - (minutes as i64 + 10) * 60_000;
        let feed = WsServer::start(
            &runtime,
            script(start_ms, minutes),
            played,
            Duration::from_millis(40),
            Keepalive::Ping,
            |_| true,
        );
        let dir = temp_dir(&format!("service-{name}"));
        std::fs::write(
            dir.join("bot.toml"),
            format!(
                "[bot]\ndecision_timeframe = \"1m\"\nmax_verdict_age_secs = 86400\n{extra}\n\n\
                 [stores]\nstate_file = \"state/btc.json\"\nspill_file = \"state/spill-btc.jsonl\"\n{stores}\n"
            ),
        )
        .unwrap();
        let listen = format!("127.0.0.1:{}", closed_port());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut served = Self {
            runtime,
            llm,
            feed,
            dir,
            bot: None,
            base: format!("http://{listen}"),
            http,
            start_ms,
            listen,
            env,
        };
        served.spawn();
        served
    }

    /// Starts the bot (again, after [`Served::stop`]) on the same state and port.
    pub fn spawn(&mut self) {
        let env = self.command_env();
        self.bot = Some(Bot::spawn(&self.dir, &self.args(&self.listen), &env));
        if self
            .env
            .iter()
            .any(|(k, v)| *k == "TRADEGRAPH_API_TOKEN" && v.len() < 16 && v != GENERATE)
        {
            return;
        }
        self.wait("the service to answer /healthz", |s| {
            s.try_get("/healthz").is_some_and(|(code, _)| code == 200)
        });
    }

    /// A second process of this bot (a second host, as far as files go: a directory `name` of
    /// its own with the same `bot.toml`), on another port and the same feed, models and
    /// environment; not waited for.
    pub fn spawn_another(&self, name: &str) -> Bot {
        let dir = temp_dir(&format!("service-{name}"));
        std::fs::copy(self.dir.join("bot.toml"), dir.join("bot.toml")).unwrap();
        let listen = format!("127.0.0.1:{}", closed_port());
        Bot::spawn(&dir, &self.args(&listen), &self.command_env())
    }

    fn args<'a>(&self, listen: &'a str) -> [&'a str; 9] {
        [
            "run",
            "--instrument",
            "btc",
            "--feed",
            "binance",
            "--config",
            "bot.toml",
            "--listen",
            listen,
        ]
    }

    fn command_env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.llm.env();
        env.push(("BINANCE_WS_URL", self.feed.url.clone()));
        // `GENERATE` as the token: none is set, the bot makes one.
        match self.env.iter().find(|(k, _)| *k == "TRADEGRAPH_API_TOKEN") {
            Some((_, v)) if v == GENERATE => {}
            Some(_) => {}
            None => env.push(("TRADEGRAPH_API_TOKEN", TOKEN.to_owned())),
        }
        env.extend(
            self.env
                .iter()
                .filter(|(k, v)| !(*k == "TRADEGRAPH_API_TOKEN" && v == GENERATE))
                .cloned(),
        );
        env
    }

    /// Stops the bot (SIGTERM, clean exit) and starts it again on the same state and port.
    pub fn restart(&mut self) -> Exited {
        let exited = self.stop();
        self.spawn();
        exited
    }

    /// Stops the bot: SIGTERM, and its exit, which must be clean.
    pub fn stop(&mut self) -> Exited {
        let bot = self.bot.take().expect("the bot runs");
        bot.stop_cleanly()
    }

    /// Lets the feed play up to minute `minutes` (excluded).
    pub fn play(&self, minutes: usize) {
        self.feed.play_up_to(minutes);
    }

    /// The start of minute `m` of the script.
    pub fn minute(&self, m: i64) -> Timestamp {
        Timestamp::from_millis(self.start_ms + m * 60_000)
    }

    /// The id of the decision taken when minute `m` starts (the close of minute `m - 1`).
    pub fn decision_id(&self, m: i64) -> String {
        format!("{SYMBOL}-{}", self.minute(m).compact_millis())
    }

    fn try_get(&self, path: &str) -> Option<(u16, Value)> {
        self.runtime.block_on(async {
            let response = self
                .http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .ok()?;
            let code = response.status().as_u16();
            Some((code, response.json().await.unwrap_or(Value::Null)))
        })
    }

    /// `GET path`: the status code, the `Content-Type` and the body as text.
    pub fn get_text(&self, path: &str) -> (u16, String, String) {
        self.runtime.block_on(async {
            let response = self
                .http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {path}: {e}"));
            let code = response.status().as_u16();
            let kind = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            (code, kind, response.text().await.unwrap_or_default())
        })
    }

    /// `GET path`: the status code and the JSON body.
    pub fn get(&self, path: &str) -> (u16, Value) {
        self.try_get(path)
            .unwrap_or_else(|| panic!("GET {path}: no answer\n{}", self.dump()))
    }

    /// `POST path` with `body` (JSON text) and, when given, `Authorization: Bearer <token>`.
    pub fn post(
        &self,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
    ) -> (u16, Value, Option<String>) {
        self.runtime.block_on(async {
            let mut request = self.http.post(format!("{}{path}", self.base));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_owned());
            }
            let response = request.send().await.unwrap();
            let code = response.status().as_u16();
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            (
                code,
                response.json().await.unwrap_or(Value::Null),
                challenge,
            )
        })
    }

    /// `GET /api/v1/status`.
    pub fn status(&self) -> Value {
        let (code, status) = self.get("/api/v1/status");
        assert_eq!(code, 200, "{status}");
        status
    }

    /// The bot's output so far, for failure messages.
    pub fn dump(&self) -> String {
        self.bot.as_ref().map_or(String::new(), |b| {
            format!(
                "--- stdout ---\n{}\n--- stderr ---\n{}",
                b.stdout().join("\n"),
                b.stderr().join("\n")
            )
        })
    }

    /// Polls `done` until it holds (fails after 30 s).
    pub fn wait(&mut self, what: &str, mut done: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if done(self) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within 30 s\n{}",
                self.dump()
            );
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    /// Waits until the status says `cycles` decision cycles ran.
    pub fn wait_cycles(&mut self, cycles: u64) {
        self.wait(&format!("{cycles} cycles"), |s| {
            s.status()["cycles"].as_u64() >= Some(cycles)
        });
    }

    /// The decision record `id`.
    pub fn decision(&self, id: &str) -> Value {
        let (code, decision) = self.get(&format!("/api/v1/decisions/{id}"));
        assert_eq!(code, 200, "{decision}");
        decision
    }

    /// Opens the event stream at `query` (`?types=...`), after event `last` (a bare number, as
    /// older clients sent) when given.
    pub fn events(&self, query: &str, last: Option<u64>) -> Sse {
        self.events_after(query, last.map(|n| n.to_string()).as_deref())
    }

    /// Opens the event stream at `query` with `Last-Event-ID: <last>` when given (an SSE `id`
    /// as the server wrote it, `<run>:<n>`, or anything else).
    pub fn events_after(&self, query: &str, last: Option<&str>) -> Sse {
        self.runtime.block_on(async {
            let mut request = self.http.get(format!("{}/api/v1/events{query}", self.base));
            if let Some(last) = last {
                request = request.header("last-event-id", last);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(
                response.headers()["content-type"].to_str().unwrap(),
                "text/event-stream"
            );
            Sse {
                response,
                buffer: String::new(),
            }
        })
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        drop(self.bot.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// The event's number (the part of the SSE `id` after the run).
    pub id: Option<u64>,
    /// The run of the bot that numbered it (the part of the SSE `id` before `:`).
    pub run: Option<String>,
    /// The SSE `id` as sent.
    pub raw_id: Option<String>,
    pub event: String,
    pub data: Value,
}

/// A server-sent event stream being read.
pub struct Sse {
    response: reqwest::Response,
    buffer: String,
}

impl Sse {
    /// The next event within `within` (comments skipped); `None` on timeout or end.
    pub async fn next(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let (mut raw_id, mut event, mut data) =
                    (None::<String>, String::from("message"), String::new());
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        raw_id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data).unwrap();
                let (run, id) = match raw_id.as_deref().and_then(|r| r.split_once(':')) {
                    Some((run, n)) => (Some(run.to_owned()), n.parse().ok()),
                    None => (None, raw_id.as_deref().and_then(|r| r.parse().ok())),
                };
                return Some(SseEvent {
                    id,
                    run,
                    raw_id,
                    event,
                    data,
                });
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                _ => return None,
            }
        }
    }

    /// Every event until `done` holds for the last one read (fails after `within`).
    pub async fn until(
        &mut self,
        within: Duration,
        mut done: impl FnMut(&SseEvent) -> bool,
    ) -> Vec<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(event) = self.next(left).await else {
                panic!("the stream ended or went quiet before the awaited event; got {seen:?}");
            };
            let stop = done(&event);
            seen.push(event);
            if stop {
                return seen;
            }
        }
    }
}

/// Runs the `tradegraph` binary with `args` and, when given, the control token in
/// `TRADEGRAPH_API_TOKEN`: its exit code, stdout and stderr.
pub fn cli(args: &[&str], token: Option<&str>) -> (i32, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tradegraph"));
    command.args(args).env_remove("TRADEGRAPH_API_TOKEN");
    if let Some(token) = token {
        command.env("TRADEGRAPH_API_TOKEN", token);
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}
