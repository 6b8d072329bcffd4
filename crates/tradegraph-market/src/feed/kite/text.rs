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
/// What is wrong, when the text is not a JSON object with a string `type`.
pub fn parse_text(text: &str) -> Result<TextMessage, String> {
    let envelope: Envelope<'_> = serde_json::from_str(text)
        .map_err(|e| format!("text message is not a Kite message {{\"type\", \"data\"}}: {e}"))?;
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
}
