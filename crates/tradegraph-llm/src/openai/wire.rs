//! The chat completions wire format: request bodies and response parsing.

use super::preset::Preset;
use crate::provider::with_instruction;
use crate::{Content, FinishReason, LlmError, Request, Response, SchemaMode, Usage};
use serde_json::{json, Map, Value};

/// The body of `POST /chat/completions`. `mode` is the resolved schema form (never `Auto`).
pub(crate) fn body(preset: &Preset, model: &str, request: &Request, mode: SchemaMode) -> Value {
    let schema = request.schema.as_deref();
    let messages = match (schema, mode) {
        (Some(s), SchemaMode::JsonMode | SchemaMode::Prompt) => {
            with_instruction(&request.messages, s.instruction())
        }
        _ => request.messages.clone(),
    };
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert(
        "messages".into(),
        Value::Array(
            messages
                .iter()
                .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
                .collect(),
        ),
    );
    if let Some(t) = request.temperature.filter(|_| !rejects_temperature(model)) {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(seed) = request.seed {
        body.insert("seed".into(), json!(seed));
    }
    if let Some(n) = request.max_tokens {
        body.insert(preset.max_tokens_field.into(), json!(n));
    }
    if let Some(agent) = request.agent.as_deref().filter(|_| preset.prompt_cache_key) {
        body.insert(
            "prompt_cache_key".into(),
            json!(format!("tradegraph-{agent}")),
        );
    }
    if let Some(schema) = schema {
        let format = match (mode, schema.openai_strict()) {
            (SchemaMode::Strict, Ok(strict)) => Some(json!({
                "type": "json_schema",
                "json_schema": {"name": schema.name(), "strict": true, "schema": strict},
            })),
            (SchemaMode::Strict | SchemaMode::Native, _) => Some(json!({
                "type": "json_schema",
                "json_schema": {"name": schema.name(), "schema": schema.inlined().unwrap_or(schema.schema())},
            })),
            (SchemaMode::JsonMode, _) => Some(json!({"type": "json_object"})),
            (SchemaMode::Prompt | SchemaMode::Auto, _) => None,
        };
        if let Some(format) = format {
            body.insert("response_format".into(), format);
            if preset.require_parameters {
                body.insert("provider".into(), json!({"require_parameters": true}));
            }
        }
    }
    Value::Object(body)
}

/// OpenAI's reasoning models (`o1`, `o3`, `o4-mini`, `gpt-5`...) refuse any `temperature`
/// but the default; it is left out for them (also behind OpenRouter's `openai/` prefix).
fn rejects_temperature(model: &str) -> bool {
    let m = model.strip_prefix("openai/").unwrap_or(model);
    ["o1", "o3", "o4", "gpt-5"].iter().any(|p| m.starts_with(p))
}

/// A chat completion as a [`Response`] or the typed error it stands for.
pub(crate) fn parse(provider: &str, request: &Request, body: &Value) -> Result<Response, LlmError> {
    let malformed = |what: &str| LlmError::Malformed {
        provider: provider.to_owned(),
        message: what.to_owned(),
    };
    let choice = body
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| malformed("no `choices` in the chat completion"))?;
    let message = choice
        .get("message")
        .ok_or_else(|| malformed("no `choices[0].message`"))?;
    if let Some(refusal) = message
        .get("refusal")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        return Err(LlmError::Refusal {
            provider: provider.to_owned(),
            message: refusal.to_owned(),
        });
    }
    let finish = match choice.get("finish_reason").and_then(Value::as_str) {
        Some("stop") | None => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("content_filter") => {
            return Err(LlmError::ContentFilter {
                provider: provider.to_owned(),
                reason: "content_filter".into(),
            })
        }
        Some(other) => FinishReason::Other(other.to_owned()),
    };
    let text = message
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // `prompt_tokens` counts the tokens read from the prompt cache too.
    let usage = body.get("usage").map_or_else(Usage::default, |u| {
        Usage::new(
            u.get("prompt_tokens").and_then(Value::as_u64).unwrap_or(0),
            u.get("completion_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        )
        .with_cache(
            u.pointer("/prompt_tokens_details/cached_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            0,
        )
    });
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_else(|| request.model.as_deref().unwrap_or_default());
    Ok(
        Response::new(provider, model, Content::Text(text.to_owned()))
            .with_usage(usage)
            .with_finish(finish),
    )
}
