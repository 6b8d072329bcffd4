//! Kite text messages: what `feed::kite::parse_text` makes of any text, against a model built
//! from the message as plain JSON.
//!
//! Shared by the property test `tests/kite_text_properties.rs` and the cargo-fuzz target
//! `fuzz/fuzz_targets/kite_text.rs` (which includes this file by path). A violated property
//! panics with what was violated.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use serde_json::Value;
use tradegraph_market::feed::kite::{parse_text, TextMessage};

/// Parses `text` and checks the answer: a message only for a JSON object with a string
/// `type`, carrying that type and its `data` (the text of a string, the JSON of anything
/// else, empty for none or `null`); otherwise an error saying what is wrong. Returns the
/// message, if there was one.
pub fn check(text: &str) -> Option<TextMessage> {
    let parsed = parse_text(text);
    let model = serde_json::from_str::<Value>(text);
    match (&parsed, model) {
        (Err(e), _) => {
            assert!(
                e.starts_with("text message"),
                "an error that does not say what failed: {e}"
            );
        }
        (Ok(m), Ok(Value::Object(object))) => {
            assert_eq!(
                object.get("type").and_then(Value::as_str),
                Some(m.kind.as_str()),
                "the kind is not the message's `type`: {text}"
            );
            match object.get("data") {
                None | Some(Value::Null) => assert_eq!(m.payload, "", "{text}"),
                Some(Value::String(s)) => assert_eq!(&m.payload, s, "{text}"),
                Some(other) => {
                    let payload: Value = serde_json::from_str(&m.payload)
                        .unwrap_or_else(|e| panic!("payload `{}` is not JSON: {e}", m.payload));
                    assert_eq!(
                        &payload, other,
                        "the payload is not the data as sent: {text}"
                    );
                }
            }
        }
        (Ok(m), Ok(other)) => panic!(
            "a message ({m:?}) from JSON that is not an object with a string `type`: {other}"
        ),
        // Deeper than plain JSON parsing goes: nothing to compare with.
        (Ok(_), Err(_)) => {}
    }
    parsed.ok()
}
