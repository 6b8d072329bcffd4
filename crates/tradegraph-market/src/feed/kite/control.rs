//! The JSON messages a client sends: subscribe, unsubscribe, set mode.

use super::KiteMode;
use serde_json::json;

/// `{"a":"subscribe","v":[tokens]}`.
///
/// ```
/// use tradegraph_market::feed::kite::{mode, subscribe, KiteMode};
/// assert_eq!(subscribe(&[408065, 256265]), r#"{"a":"subscribe","v":[408065,256265]}"#);
/// assert_eq!(mode(KiteMode::Full, &[408065]), r#"{"a":"mode","v":["full",[408065]]}"#);
/// ```
pub fn subscribe(tokens: &[u32]) -> String {
    json!({"a": "subscribe", "v": tokens}).to_string()
}

/// `{"a":"unsubscribe","v":[tokens]}`.
pub fn unsubscribe(tokens: &[u32]) -> String {
    json!({"a": "unsubscribe", "v": tokens}).to_string()
}

/// `{"a":"mode","v":["ltp"|"quote"|"full",[tokens]]}`.
pub fn mode(mode: KiteMode, tokens: &[u32]) -> String {
    json!({"a": "mode", "v": [mode.as_str(), tokens]}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_kites_documentation() {
        assert_eq!(unsubscribe(&[1]), r#"{"a":"unsubscribe","v":[1]}"#);
        assert_eq!(mode(KiteMode::Ltp, &[]), r#"{"a":"mode","v":["ltp",[]]}"#);
    }
}
