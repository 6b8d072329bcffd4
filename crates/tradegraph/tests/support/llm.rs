//! A local server in OpenAI's chat-completions format that answers like a desk of models: each
//! agent (found by its system prompt) gets a valid report; the portfolio manager says BUY, with
//! a stop below and a target above the last price, for the first decision time it is asked
//! about (and again whenever it is asked about that same decision), and HOLD for every other.
//! It lists its model (`GET /v1/models`, the providers' key check), and can be told to fail
//! every request with an HTTP status ([`LlmServer::fail_with`]).

use serde_json::{json, Value};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What the portfolio manager was asked and answered.
#[derive(Debug, Default)]
pub struct Asked {
    /// The decision time of the BUY.
    pub buy_at: Option<String>,
    /// Every decision time it was asked about, in order, with its answer.
    pub decisions: Vec<(String, &'static str)>,
    /// Requests of agents the server did not recognise (their system prompts' starts).
    pub unknown: Vec<String>,
}

/// The running server.
pub struct LlmServer {
    pub server: MockServer,
    pub asked: Arc<Mutex<Asked>>,
    /// The status every request is answered with, when not 0.
    failing: Arc<AtomicU16>,
}

impl LlmServer {
    /// Starts it on a runtime of its own (one worker thread), returned with it: the server
    /// lives as long as that runtime.
    pub fn on_own_runtime() -> (tokio::runtime::Runtime, Self) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = Self::start(&runtime);
        (runtime, server)
    }

    /// Starts it on `runtime` (it lives as long as the runtime).
    pub fn start(runtime: &tokio::runtime::Runtime) -> Self {
        let asked = Arc::new(Mutex::new(Asked::default()));
        let failing = Arc::new(AtomicU16::new(0));
        let server = runtime.block_on(async {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .and(path_regex("chat/completions$"))
                .respond_with(DeskModels {
                    asked: Arc::clone(&asked),
                    failing: Arc::clone(&failing),
                })
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .and(path_regex("/models$"))
                .respond_with(Models {
                    failing: Arc::clone(&failing),
                })
                .mount(&server)
                .await;
            server
        });
        Self {
            server,
            asked,
            failing,
        }
    }

    /// From now on every request (completions and the models listing) is answered with HTTP
    /// `status` and an OpenAI-format error (401: a rejected key, 500: a server error); `0`
    /// answers normally again.
    pub fn fail_with(&self, status: u16) {
        self.failing.store(status, Ordering::SeqCst);
    }

    /// `OPENAI_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.uri())
    }

    /// The environment that makes the bot use this server, and only it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("OPENAI_API_KEY", "test".to_owned()),
            ("OPENAI_BASE_URL", self.base_url()),
            ("OPENAI_MODEL", "gpt-test".to_owned()),
        ]
    }
}

struct DeskModels {
    asked: Arc<Mutex<Asked>>,
    failing: Arc<AtomicU16>,
}

/// The answer of a server told to fail, if it is.
fn failure(failing: &AtomicU16) -> Option<ResponseTemplate> {
    let status = failing.load(Ordering::SeqCst);
    (status != 0).then(|| {
        let kind = if status == 401 {
            "invalid_request_error"
        } else {
            "server_error"
        };
        ResponseTemplate::new(status).set_body_json(
            json!({"error": {"message": format!("told to fail with {status}"), "type": kind}}),
        )
    })
}

/// `GET /v1/models`: the one model, as OpenAI lists models.
struct Models {
    failing: Arc<AtomicU16>,
}

impl Respond for Models {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        failure(&self.failing).unwrap_or_else(|| {
            ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": [
                {"id": "gpt-test", "object": "model", "created": 1_733_000_000, "owned_by": "test"}
            ]}))
        })
    }
}

/// A chat completion whose message is `content` as JSON text.
pub fn completion(content: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1_733_000_000, "model": "gpt-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960}
    }))
}

/// The text after `label` up to the end of its sentence (`. ` or a line end).
fn field<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let start = text.find(label)? + label.len();
    let rest = &text[start..];
    let end = rest
        .find(". ")
        .into_iter()
        .chain(rest.find(".\n"))
        .chain(rest.find('\n'))
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].trim())
}

impl DeskModels {
    fn portfolio_manager(&self, user: &str) -> Value {
        let at = field(user, "Decision time: ")
            .unwrap_or_default()
            .to_owned();
        let price: f64 = field(user, "Last price: ")
            .and_then(|p| p.trim_end_matches('.').parse().ok())
            .unwrap_or_else(|| panic!("no last price in the portfolio manager's prompt: {user}"));
        let mut asked = self.asked.lock().unwrap();
        let buy = match &asked.buy_at {
            None => {
                asked.buy_at = Some(at.clone());
                true
            }
            Some(first) => *first == at,
        };
        asked.decisions.push((at, if buy { "BUY" } else { "HOLD" }));
        if buy {
            let round = |x: f64| (x * 100.0).round() / 100.0;
            json!({"action": "BUY", "size_pct": 2.0, "stop_loss": round(price * 0.97),
                "take_profit": round(price * 1.05), "trailing_pct": null, "confidence": 0.8,
                "rationale": "Trend and flows agree; a small long with a stop below support."})
        } else {
            json!({"action": "HOLD", "size_pct": 0.0, "stop_loss": null, "take_profit": null,
                "trailing_pct": null, "confidence": 0.6, "rationale": "Nothing new; keep what is held."})
        }
    }
}

impl Respond for DeskModels {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if let Some(failed) = failure(&self.failing) {
            return failed;
        }
        let (system, user) = messages(request);
        let answer = if is_agent(&system, "portfolio manager") {
            self.portfolio_manager(&user)
        } else if let Some(answer) = desk_answer(&system) {
            answer
        } else {
            self.asked
                .lock()
                .unwrap()
                .unknown
                .push(system.chars().take(80).collect());
            return ResponseTemplate::new(400).set_body_json(
                json!({"error": {"message": "unknown agent", "type": "invalid_request_error"}}),
            );
        };
        completion(&answer)
    }
}

/// The system message and the last user message of a chat-completions request.
pub fn messages(request: &Request) -> (String, String) {
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let messages = body["messages"].as_array().unwrap();
    let text = |m: &Value| m["content"].as_str().unwrap_or_default().to_owned();
    let system = messages.first().map(text).unwrap_or_default();
    let user = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(text)
        .unwrap_or_default();
    (system, user)
}

/// Whether the system message is `role`'s (`portfolio manager`, `risk manager`, ...).
pub fn is_agent(system: &str, role: &str) -> bool {
    system.contains(&format!("You are the {role}"))
}

/// A valid answer for every agent but the portfolio manager (`None` for it, or for an agent
/// the desk does not know).
pub fn desk_answer(system: &str) -> Option<Value> {
    let is = |role: &str| is_agent(system, role);
    Some(if is("technical analyst") {
        json!({"signal": "BUY", "confidence": 0.7, "reasoning": "Higher lows above the EMA.",
            "key_levels": {"support": [], "resistance": []}})
    } else if is("fundamental analyst") {
        json!({"thesis": "Adoption keeps growing.", "signal": "HOLD", "confidence": 0.5})
    } else if is("sentiment analyst") {
        json!({"score": 0.2, "confidence": 0.6, "drivers": ["steady flows"]})
    } else if is("macro analyst") {
        json!({"regime": "neutral", "confidence": 0.5, "factors": ["rates on hold"]})
    } else if is("bull researcher") || is("bear researcher") {
        json!({"argument": "The evidence is mixed.", "points": [], "rebuttal": "", "conviction": 0.5})
    } else if is("risk manager") {
        json!({"risk_score": 0.3, "max_position_pct": 5.0, "stop_loss_pct": 3.0,
            "take_profit_pct": 5.0, "warnings": []})
    } else if is("learning agent") {
        json!({"text": "A small long with a wide stop held through chop."})
    } else {
        return None;
    })
}
