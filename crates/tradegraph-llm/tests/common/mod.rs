//! Shared by the integration tests: the answer type, the canary key, response builders.
#![allow(dead_code, unreachable_pub)]

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;
use tradegraph_llm::{LlmError, Repair, Structured};
use wiremock::ResponseTemplate;

/// A key that must reach the wire and nothing else.
pub const CANARY: &str = "sk-canary-Q7f3a9c2e1b0d4e5f6a7b8c9";

/// A short timeout for stall tests.
pub const STALL_TIMEOUT: Duration = Duration::from_millis(300);

/// What the agents ask for, in miniature.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct Signal {
    /// BUY, SELL or HOLD.
    pub action: Action,
    /// How sure, from 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub confidence: f64,
    /// Why.
    pub reasons: Vec<String>,
}

/// The trade direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    /// Go long.
    Buy,
    /// Go short.
    Sell,
    /// Stay out.
    Hold,
}

pub const VALID: &str = r#"{"action": "BUY", "confidence": 0.8, "reasons": ["trend up"]}"#;
pub const INVALID: &str = r#"{"action": "MAYBE", "confidence": 3, "reasons": []}"#;

pub fn valid() -> Signal {
    Signal {
        action: Action::Buy,
        confidence: 0.8,
        reasons: vec!["trend up".into()],
    }
}

/// A JSON response.
pub fn json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

/// A structured call with the default repair policy.
pub async fn ask(
    provider: &dyn tradegraph_llm::Provider,
    req: tradegraph_llm::Request,
) -> Result<Structured<Signal>, LlmError> {
    tradegraph_llm::structured::complete::<Signal>(provider, req, &Repair::default()).await
}

pub fn request() -> tradegraph_llm::Request {
    tradegraph_llm::Request::chat("You are a trading analyst.", "BTC is at 45000. Signal?")
        .temperature(0.0)
        .max_tokens(200)
}

/// The key must be on the wire and in no error text.
pub fn assert_no_canary(err: &LlmError) {
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(
            !text.contains(CANARY) && !text.contains(&CANARY[..12]),
            "key leaked: {text}"
        );
    }
}

/// An address nobody listens on.
pub async fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
