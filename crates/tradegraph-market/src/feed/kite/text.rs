//! Text messages from Kite: order updates, errors and notices, as JSON
//! `{"type": "order"|"error"|"message", "data": ...}`.

use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// A text message, ready to become a [`FeedNotice::Message`](crate::FeedNotice::Message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMessage {
    /// `type`: `order`, `error`, `message` (others are passed on as they come).
    pub kind: String,
    /// `data`: the text itself for a string, the JSON as sent otherwise, empty when absent or
    /// `null`.
    pub payload: String,
}

/// Reads a text message.
///
/// ```
/// use tradegraph_market::feed::kite::parse_text;
/// let m = parse_text(r#"{"type":"error","data":"Invalid access token"}"#).unwrap();
/// assert_eq!((m.kind.as_str(), m.payload.as_str()), ("error", "Invalid access token"));
/// ```
///
/// # Errors
///
/// What is wrong, when the text is not a JSON object with a string `type`: an array, a string,
/// a number, a boolean or `null` is refused naming what it is (serde would read a struct from an
/// array of its fields, so `["error", "x"]` must not pass for an error message).
///
/// ```
/// use tradegraph_market::feed::kite::parse_text;
/// let e = parse_text(r#"["error", "x"]"#).unwrap_err();
/// assert!(e.starts_with("text message is a JSON array"), "{e}");
/// ```
pub fn parse_text(text: &str) -> Result<TextMessage, String> {
    let not_a_message = |e: &dyn std::fmt::Display| {
        format!("text message is not a Kite message {{\"type\", \"data\"}}: {e}")
    };
    let start = text.trim_start_matches([' ', '\t', '\n', '\r']);
    if !start.starts_with('{') {
        return Err(match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => format!(
                "text message is {}, not a Kite message object {{\"type\", \"data\"}}",
                json_kind(&value)
            ),
            Err(e) => not_a_message(&e),
        });
    }
    let envelope: Envelope<'_> = serde_json::from_str(text).map_err(|e| not_a_message(&e))?;
    let payload = match envelope.data.map(RawValue::get) {
        None | Some("null") => String::new(),
        Some(raw) if raw.starts_with('"') => {
            serde_json::from_str::<String>(raw).map_err(|e| format!("text message data: {e}"))?
        }
        Some(raw) => raw.to_owned(),
    };
    Ok(TextMessage {
        kind: envelope.kind,
        payload,
    })
}
/// What a JSON value that is not an object is, for messages.
fn json_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Array(_) => "a JSON array",
        Value::String(_) => "a JSON string",
        Value::Number(_) => "a JSON number",
        Value::Bool(_) => "a JSON boolean",
        Value::Null => "JSON null",
        Value::Object(_) => "a JSON object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_keep_their_json_and_junk_is_explained() {
        let m = parse_text(r#"{"type":"order","data":{"order_id":"1","status":"COMPLETE"}}"#);
        assert_eq!(
            m.map(|m| (m.kind, m.payload)),
            Ok((
                "order".into(),
                r#"{"order_id":"1","status":"COMPLETE"}"#.into()
            ))
        );
        assert!(parse_text("nope").is_err_and(|e| e.contains("not a Kite message")));
        assert!(parse_text(r#"{"data":1}"#).is_err_and(|e| e.contains("`type`")));
    }

    #[test]
    fn only_an_object_is_a_message() {
        for (text, kind) in [
            (r#"["error", "x"]"#, "a JSON array"),
            (r#" "error""#, "a JSON string"),
            ("42", "a JSON number"),
            ("true", "a JSON boolean"),
            ("null", "JSON null"),
        ] {
            let e = parse_text(text).unwrap_err();
            assert!(
                e.starts_with(&format!("text message is {kind}, not")),
                "{text}: {e}"
            );
        }
        let m = parse_text(" \n{\"type\":\"message\"}").unwrap();
        assert_eq!((m.kind.as_str(), m.payload.as_str()), ("message", ""));
    }
}
