//! Non-2xx answers as typed errors, from each vendor's documented error bodies:
//!
//! - OpenAI and compatibles: `{"error": {"message", "type", "code"}}`;
//! - Anthropic: `{"type": "error", "error": {"type": "overloaded_error", "message"}}`;
//! - Gemini: `{"error": {"code", "message", "status", "details": [{"@type": ".../RetryInfo", "retryDelay": "22s"}]}}`;
//! - Ollama: `{"error": "model 'x' not found"}`.

use crate::{LlmError, Secret};
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::Duration;

/// How much of a vendor message goes into an error.
const SNIPPET_CHARS: usize = 300;

/// The typed error for a non-2xx answer.
pub(crate) fn status_error(
    provider: &str,
    status: u16,
    headers: &HeaderMap,
    body: &str,
    keys: &[Secret],
    timeout: Duration,
) -> LlmError {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let error = json.as_ref().and_then(|j| j.get("error"));
    let kind = error
        .and_then(|e| e.get("type").or_else(|| e.get("status")))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let raw_message = error
        .and_then(|e| {
            e.get("message")
                .and_then(Value::as_str)
                .or_else(|| e.as_str())
        })
        .unwrap_or(body);
    let message = redacted_snippet(raw_message, keys);
    let provider = provider.to_owned();
    let lower = raw_message.to_ascii_lowercase();
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind == "overloaded_error" || status == 529 {
        return LlmError::Overloaded { provider, status };
    }
    match status {
        // The client follows no redirects (one could carry the key to another host).
        300..=399 => LlmError::BadRequest {
            provider,
            status,
            message: "the endpoint answered with a redirect, which is not followed (it could \
                      carry the API key to another host); set the base URL to the final address"
                .to_owned(),
        },
        401 | 403 => LlmError::Unauthorized { provider, status },
        // Gemini answers a bad key with 400 INVALID_ARGUMENT and reason API_KEY_INVALID.
        400 if body.contains("API_KEY_INVALID") || lower.contains("api key not valid") => {
            LlmError::Unauthorized { provider, status }
        }
        429 => LlmError::RateLimited {
            provider,
            retry_after: retry_after(headers, json.as_ref()),
        },
        408 => LlmError::Timeout {
            provider,
            after: timeout,
        },
        500..=599 => LlmError::Server {
            provider,
            status,
            message,
        },
        // Groq's JSON mode: the model's output was not JSON (its answer, not our request).
        400 if code == "json_validate_failed" => LlmError::Malformed { provider, message },
        // A 404 about the model (OpenAI's `model_not_found`, Ollama's and Gemini's "model ...
        // not found"); any other 404 is a wrong address: ours to fix, not a failover.
        404 if code == "model_not_found" || lower.contains("model") => LlmError::ModelUnavailable {
            provider,
            status,
            message,
        },
        400 if model_unavailable(code, &lower) => LlmError::ModelUnavailable {
            provider,
            status,
            message,
        },
        _ if lower.contains("response_format")
            || lower.contains("json_schema")
            || lower.contains("responseschema")
            || lower.contains("input_schema") =>
        {
            LlmError::SchemaUnsupported {
                provider,
                reason: message,
            }
        }
        _ => LlmError::BadRequest {
            provider,
            status,
            message,
        },
    }
}

/// Whether a 400 says the provider's model cannot serve the request (vendors' codes and words:
/// OpenAI's and Groq's `model_not_found`, `model_decommissioned`, `context_length_exceeded`;
/// Anthropic's "prompt is too long"; Gemini's "User location is not supported").
fn model_unavailable(code: &str, lower: &str) -> bool {
    matches!(
        code,
        "model_not_found" | "model_decommissioned" | "context_length_exceeded"
    ) || lower.contains("decommissioned")
        || lower.contains("maximum context length")
        || lower.contains("prompt is too long")
        || lower.contains("location is not supported")
}

/// The start of a vendor text, on one line, with the key redacted.
pub(crate) fn redacted_snippet(text: &str, keys: &[Secret]) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let redacted = keys.iter().fold(one_line, |text, k| k.redact(&text));
    let mut out: String = redacted.chars().take(SNIPPET_CHARS).collect();
    if redacted.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

/// The delay a 429 asks for: `retry-after-ms`, `Retry-After` (seconds or an HTTP date), or
/// Gemini's `RetryInfo.retryDelay` (`"22s"`, `"0.5s"`).
fn retry_after(headers: &HeaderMap, body: Option<&Value>) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return seconds(ms / 1000.0);
    }
    if let Some(delay) = header("retry-after").and_then(tradegraph_core::retry_after::parse) {
        return Some(delay.min(MAX_RETRY_AFTER));
    }
    body?
        .pointer("/error/details")?
        .as_array()?
        .iter()
        .filter_map(|d| d.get("retryDelay").and_then(Value::as_str))
        .find_map(|d| d.strip_suffix('s').and_then(|s| s.parse::<f64>().ok()))
        .and_then(seconds)
}

/// The longest delay taken from a vendor (a day).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

fn seconds(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0)
        .then(|| Duration::from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::time::UNIX_EPOCH;

    fn err(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> LlmError {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_static(v));
        }
        status_error(
            "p",
            status,
            &map,
            body,
            &[Secret::new("sk-canary-0123456789")],
            Duration::from_secs(3),
        )
    }

    #[test]
    fn every_vendor_error_shape_is_typed() {
        assert!(matches!(
            err(
                401,
                &[],
                r#"{"error":{"message":"Incorrect API key provided: sk-canary-0123456789"}}"#
            ),
            LlmError::Unauthorized { status: 401, .. }
        ));
        assert!(matches!(
            err(403, &[], ""),
            LlmError::Unauthorized { status: 403, .. }
        ));
        assert!(matches!(
            err(
                400,
                &[],
                r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}"#
            ),
            LlmError::Unauthorized { status: 400, .. }
        ));
        assert_eq!(
            err(429, &[("retry-after", "7")], "{}").retry_after(),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            err(429, &[("retry-after-ms", "250")], "{}").retry_after(),
            Some(Duration::from_millis(250))
        );
        let gemini = r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"22s"}]}}"#;
        assert_eq!(
            err(429, &[], gemini).retry_after(),
            Some(Duration::from_secs(22))
        );
        assert_eq!(err(429, &[], "{}").retry_after(), None);
        assert!(matches!(
            err(
                529,
                &[],
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            LlmError::Overloaded { status: 529, .. }
        ));
        assert!(matches!(
            err(
                429,
                &[],
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            LlmError::Overloaded { status: 429, .. }
        ));
        assert!(
            matches!(err(500, &[], r#"{"error":{"message":"boom"}}"#), LlmError::Server { status: 500, ref message, .. } if message == "boom")
        );
        assert!(matches!(err(408, &[], ""), LlmError::Timeout { .. }));
        assert!(
            matches!(err(404, &[], r#"{"error":"model \"x\" not found, try pulling it first"}"#), LlmError::ModelUnavailable { status: 404, ref message, .. } if message.contains("try pulling"))
        );
        // a 400 that is ours stays a bad request; one about the model is the model's
        assert!(matches!(
            err(
                400,
                &[],
                r#"{"error":{"message":"Unrecognized request argument supplied: foo","type":"invalid_request_error"}}"#
            ),
            LlmError::BadRequest { status: 400, .. }
        ));
        assert!(matches!(
            err(
                400,
                &[],
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#
            ),
            LlmError::ModelUnavailable { status: 400, .. }
        ));
        assert!(matches!(
            err(
                400,
                &[],
                r#"{"error":{"message":"Invalid schema for response_format 'Signal'","type":"invalid_request_error"}}"#
            ),
            LlmError::SchemaUnsupported { .. }
        ));
    }

    #[test]
    fn vendor_messages_are_redacted_and_shortened() {
        let e = err(
            400,
            &[],
            &format!(
                r#"{{"error":{{"message":"bad key sk-canary-0123456789 {}"}}}}"#,
                "x".repeat(400)
            ),
        );
        let text = e.to_string();
        assert!(!text.contains("canary"), "{text}");
        assert!(text.ends_with('…'));
    }

    #[test]
    fn http_dates_parse() {
        let since_epoch = |text| tradegraph_core::retry_after::parse_at(text, UNIX_EPOCH);
        let t = since_epoch("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(t.as_secs(), 1_445_412_480);
        assert!(since_epoch("Wed, 21 Oct 2015 07:28:00 CET").is_none());
        assert!(since_epoch("soon").is_none());
        let mut past = HeaderMap::new();
        past.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&past, None), Some(Duration::ZERO));
    }
}
