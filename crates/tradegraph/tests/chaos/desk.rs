//! A local model server in OpenAI's chat-completions format whose portfolio manager follows a
//! script keyed by the decision time alone, so that a bot killed and restarted any number of
//! times gets the same answer for the same decision: at the `n`-th quarter hour of the data it
//! buys when `n % 4 == 1` (5% of equity, a stop 0.6% below, a target 3% above), closes when
//! `n % 4 == 3`, and holds otherwise. Every other agent gets the same valid report each time.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tradegraph_core::Timestamp;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The running server.
pub struct Desk {
    server: MockServer,
    /// Requests it answered (all runs together).
    pub answered: Arc<AtomicU64>,
    /// When it was last asked, and about which decision time.
    pub last_asked: Arc<Mutex<Option<(Instant, Timestamp)>>>,
}

impl Desk {
    /// Starts it on `runtime`, for data that starts at `start`.
    pub fn start(runtime: &tokio::runtime::Runtime, start: Timestamp) -> Self {
        Self::start_slow(runtime, start, std::time::Duration::ZERO, 15)
    }

    /// [`start`](Self::start), each answer taking `delay` (a model that thinks), the script's
    /// step `minutes` long (15 for the quarter hours).
    pub fn start_slow(
        runtime: &tokio::runtime::Runtime,
        start: Timestamp,
        delay: std::time::Duration,
        minutes: i64,
    ) -> Self {
        let answered = Arc::new(AtomicU64::new(0));
        let last_asked = Arc::new(Mutex::new(None));
        let server = runtime.block_on(async {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .and(path_regex("chat/completions$"))
                .respond_with(Script {
                    start,
                    delay,
                    minutes,
                    answered: Arc::clone(&answered),
                    last_asked: Arc::clone(&last_asked),
                })
                .mount(&server)
                .await;
            server
        });
        Self {
            server,
            answered,
            last_asked,
        }
    }

    /// The environment that makes a bot use this server, and only it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("OPENAI_API_KEY", "test".to_owned()),
            ("OPENAI_BASE_URL", format!("{}/v1", self.server.uri())),
            ("OPENAI_MODEL", "gpt-test".to_owned()),
        ]
    }
}

/// What the portfolio manager does at the `n`-th quarter hour of the data.
pub fn scripted(n: i64) -> &'static str {
    match n % 4 {
        1 => "BUY",
        3 => "CLOSE",
        _ => "HOLD",
    }
}

struct Script {
    start: Timestamp,
    delay: std::time::Duration,
    minutes: i64,
    answered: Arc<AtomicU64>,
    last_asked: Arc<Mutex<Option<(Instant, Timestamp)>>>,
}

/// The text after `label` up to the end of its sentence.
fn field<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let rest = &text[text.find(label)? + label.len()..];
    let end = [rest.find(". "), rest.find(".\n"), rest.find('\n')]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].trim().trim_end_matches('.'))
}

impl Script {
    fn portfolio_manager(&self, user: &str) -> Value {
        let at: Timestamp = field(user, "Decision time: ")
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| {
                panic!("no decision time in the portfolio manager's prompt: {user}")
            });
        let price: f64 = field(user, "Last price: ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no last price in the portfolio manager's prompt: {user}"));
        let n = (at.millis() - self.start.millis()) / (self.minutes * 60_000);
        let round = |x: f64| (x * 100.0).round() / 100.0;
        match scripted(n) {
            "BUY" => json!({"action": "BUY", "size_pct": 5.0, "stop_loss": round(price * 0.994),
                "take_profit": round(price * 1.03), "trailing_pct": null, "confidence": 0.8,
                "rationale": "Scripted entry."}),
            "CLOSE" => json!({"action": "CLOSE", "size_pct": 0.0, "stop_loss": null,
                "take_profit": null, "trailing_pct": null, "confidence": 0.8,
                "rationale": "Scripted exit."}),
            _ => json!({"action": "HOLD", "size_pct": 0.0, "stop_loss": null,
                "take_profit": null, "trailing_pct": null, "confidence": 0.6,
                "rationale": "Scripted hold."}),
        }
    }
}

impl Respond for Script {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let messages = body["messages"].as_array().unwrap();
        let system = messages[0]["content"].as_str().unwrap_or_default();
        let user = messages
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default();
        if let Some(at) = field(user, "Decision time: ").and_then(|t| t.parse().ok()) {
            *self.last_asked.lock().unwrap() = Some((Instant::now(), at));
        }
        let is = |role: &str| system.contains(&format!("You are the {role}"));
        let answer = if is("portfolio manager") {
            self.portfolio_manager(user)
        } else if is("technical analyst") {
            json!({"signal": "BUY", "confidence": 0.7, "reasoning": "Scripted.",
                "key_levels": {"support": [], "resistance": []}})
        } else if is("fundamental analyst") {
            json!({"thesis": "Scripted.", "signal": "HOLD", "confidence": 0.5})
        } else if is("sentiment analyst") {
            json!({"score": 0.1, "confidence": 0.5, "drivers": ["scripted"]})
        } else if is("macro analyst") {
            json!({"regime": "neutral", "confidence": 0.5, "factors": ["scripted"]})
        } else if is("bull researcher") || is("bear researcher") {
            json!({"argument": "Scripted.", "points": [], "rebuttal": "", "conviction": 0.5})
        } else if is("risk manager") {
            json!({"risk_score": 0.3, "max_position_pct": 5.0, "stop_loss_pct": 0.6,
                "take_profit_pct": 3.0, "warnings": []})
        } else if is("learning agent") {
            json!({"text": "Scripted lesson: the entry lost to the drift."})
        } else {
            return ResponseTemplate::new(400).set_body_json(
                json!({"error": {"message": "unknown agent", "type": "invalid_request_error"}}),
            );
        };
        self.answered.fetch_add(1, Ordering::Relaxed);
        ResponseTemplate::new(200)
            .set_delay(self.delay)
            .set_body_json(json!({
                "id": "chatcmpl-chaos", "object": "chat.completion", "created": 1_733_000_000,
                "model": "gpt-test",
                "choices": [{"index": 0, "message": {"role": "assistant",
                    "content": answer.to_string()}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960}
            }))
    }
}
