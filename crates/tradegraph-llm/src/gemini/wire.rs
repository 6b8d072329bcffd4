//! The `generateContent` wire format.

use crate::provider::system_with;
use crate::{Content, FinishReason, LlmError, Request, Response, Role, SchemaMode, Usage};
use serde_json::{json, Map, Value};

/// Finish reasons that mean a safety or policy filter stopped the answer.
const FILTERED: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "LANGUAGE",
];

/// The thinking budget Gemini 2.5 Pro gets on top of a request's answer limit (Pro always
/// thinks; its least budget is 128).
pub(crate) const PRO_THINKING_BUDGET: u32 = 1_024;

/// How `model` thinks, for a request whose answer may take `max_tokens`: Gemini 2.5 counts its
/// thinking against `maxOutputTokens`, so Flash models are asked not to think (budget 0) and
/// Pro gets [`PRO_THINKING_BUDGET`] on top of the answer's limit. `None`: the model is sent
/// nothing about thinking. Answers `(thinking budget, maxOutputTokens)`.
fn thinking(model: &str, max_tokens: Option<u32>) -> (Option<u32>, Option<u32>) {
    let model = model.strip_prefix("models/").unwrap_or(model);
    if model.starts_with("gemini-2.5-flash") {
        (Some(0), max_tokens)
    } else if model.starts_with("gemini-2.5-pro") {
        (
            Some(PRO_THINKING_BUDGET),
            max_tokens.map(|n| n.saturating_add(PRO_THINKING_BUDGET)),
        )
    } else {
        (None, max_tokens)
    }
}

/// The body of `POST /v1beta/models/{model}:generateContent`.
pub(crate) fn body(request: &Request, model: &str, mode: SchemaMode) -> Value {
    let schema = request.schema.as_deref();
    let native = schema.and_then(|s| match mode {
        SchemaMode::JsonMode | SchemaMode::Prompt => None,
        _ => s.gemini().ok(),
    });
    let instruction = match (schema, native) {
        (Some(s), None) => Some(s.instruction()),
        _ => None,
    };
    let mut body = Map::new();
    let contents: Vec<Value> = request
        .turns()
        .map(|m| {
            let role = if m.role == Role::Assistant {
                "model"
            } else {
                "user"
            };
            json!({"role": role, "parts": [{"text": m.content}]})
        })
        .collect();
    body.insert("contents".into(), Value::Array(contents));
    if let Some(system) = system_with(request, instruction) {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system}]}),
        );
    }
    let mut config = Map::new();
    if let Some(t) = request.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(seed) = request.seed {
        config.insert("seed".into(), json!(seed));
    }
    let (budget, max_output) = thinking(model, request.max_tokens);
    if let Some(n) = max_output {
        config.insert("maxOutputTokens".into(), json!(n));
    }
    if let Some(budget) = budget {
        config.insert("thinkingConfig".into(), json!({ "thinkingBudget": budget }));
    }
    if schema.is_some() && mode != SchemaMode::Prompt {
        config.insert("responseMimeType".into(), json!("application/json"));
    }
    if let Some(native) = native {
        config.insert("responseSchema".into(), native.clone());
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    Value::Object(body)
}

/// A `GenerateContentResponse` as a [`Response`] or the typed error it stands for.
pub(crate) fn parse(provider: &str, model: &str, body: &Value) -> Result<Response, LlmError> {
    if let Some(reason) = body
        .pointer("/promptFeedback/blockReason")
        .and_then(Value::as_str)
    {
        return Err(LlmError::ContentFilter {
            provider: provider.to_owned(),
            reason: format!("prompt blocked: {reason}"),
        });
    }
    let candidate = body
        .get("candidates")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| LlmError::EmptyAnswer {
            provider: provider.to_owned(),
            detail: Some("no candidates".into()),
        })?;
    let finish = match candidate.get("finishReason").and_then(Value::as_str) {
        Some("STOP") | None => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(r) if FILTERED.contains(&r) => {
            return Err(LlmError::ContentFilter {
                provider: provider.to_owned(),
                reason: r.to_owned(),
            })
        }
        Some(other) => FinishReason::Other(other.to_owned()),
    };
    let text: String = candidate
        .pointer("/content/parts")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter(|p| !p.get("thought").and_then(Value::as_bool).unwrap_or(false))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("")
        })
        .unwrap_or_default();
    let meta = body.get("usageMetadata");
    let count = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    // Thinking tokens are billed as output.
    // `promptTokenCount` counts the tokens read from the (implicit or explicit) cache too.
    let usage = Usage::new(
        count("promptTokenCount"),
        count("candidatesTokenCount") + count("thoughtsTokenCount"),
    )
    .with_cache(count("cachedContentTokenCount"), 0);
    let model = body
        .get("modelVersion")
        .and_then(Value::as_str)
        .unwrap_or(model);
    Ok(Response::new(provider, model, Content::Text(text))
        .with_usage(usage)
        .with_finish(finish))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, PreparedSchema};
    use std::sync::Arc;

    #[test]
    fn bodies_follow_the_documented_api() {
        let schema = Arc::new(
            PreparedSchema::from_value(
                "Sig",
                json!({"type": "object", "properties": {"a": {"type": "string"}}}),
            )
            .unwrap(),
        );
        let req = Request::new(vec![
            Message::system("S"),
            Message::user("U"),
            Message::assistant("A"),
        ])
        .max_tokens(7)
        .schema(schema.clone());
        let b = body(&req, "gemini-2.0-flash", SchemaMode::Auto);
        assert_eq!(b["systemInstruction"], json!({"parts": [{"text": "S"}]}));
        assert_eq!(
            b["contents"][1],
            json!({"role": "model", "parts": [{"text": "A"}]})
        );
        assert_eq!(
            b["generationConfig"]["responseMimeType"],
            "application/json"
        );
        assert_eq!(b["generationConfig"]["responseSchema"]["type"], "OBJECT");
        assert_eq!(b["generationConfig"]["maxOutputTokens"], 7);
        let map = Arc::new(
            PreparedSchema::from_value(
                "M",
                json!({"type": "object", "additionalProperties": {"type": "number"}}),
            )
            .unwrap(),
        );
        let fallback = body(
            &Request::chat("S", "U").schema(map),
            "gemini-2.0-flash",
            SchemaMode::Auto,
        );
        assert!(fallback["generationConfig"].get("responseSchema").is_none());
        assert!(fallback["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .contains("JSON Schema"));
    }
}
