//! The messages API wire format.

use crate::provider::system_with;
use crate::{Content, FinishReason, LlmError, Message, Request, Response, Role, SchemaMode, Usage};
use serde_json::{json, Map, Value};

/// The body of `POST /v1/messages`.
pub(crate) fn body(model: &str, request: &Request, mode: SchemaMode) -> Value {
    let schema = request.schema.as_deref();
    let tool = schema.filter(|s| {
        s.root_is_object() && !matches!(mode, SchemaMode::JsonMode | SchemaMode::Prompt)
    });
    let instruction = match (schema, tool) {
        (Some(s), None) => Some(s.instruction()),
        _ => None,
    };
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert(
        "max_tokens".into(),
        json!(request.max_tokens.unwrap_or(Request::DEFAULT_MAX_TOKENS)),
    );
    // The system prompt is the same on every call of an agent (its data is in the user turn):
    // marked for Anthropic's prompt cache, so the tools and the system prompt are read from
    // the cache after the first call (prompts under the model's minimum are not cached, and
    // the mark is then ignored).
    if let Some(system) = system_with(request, instruction) {
        body.insert(
            "system".into(),
            json!([{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]),
        );
    }
    body.insert("messages".into(), Value::Array(turns(request)));
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(s) = tool {
        body.insert(
            "tools".into(),
            json!([{
                "name": s.name(),
                "description": "Record the answer. Call this tool with the complete answer as its input.",
                "input_schema": s.inlined().unwrap_or(s.schema()),
            }]),
        );
        body.insert(
            "tool_choice".into(),
            json!({"type": "tool", "name": s.name()}),
        );
    }
    Value::Object(body)
}

/// The turns, alternating as the API requires (consecutive turns of one role are joined) and
/// starting with the user.
fn turns(request: &Request) -> Vec<Value> {
    let mut merged: Vec<Message> = Vec::new();
    for m in request.turns() {
        match merged.last_mut() {
            Some(last) if last.role == m.role => {
                last.content.push_str("\n\n");
                last.content.push_str(&m.content);
            }
            _ => merged.push(m.clone()),
        }
    }
    if merged.first().is_none_or(|m| m.role != Role::User) {
        merged.insert(0, Message::user("(continue)"));
    }
    merged
        .iter()
        .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
        .collect()
}

/// A message as a [`Response`] or the typed error it stands for.
pub(crate) fn parse(provider: &str, request: &Request, body: &Value) -> Result<Response, LlmError> {
    let blocks = body
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| LlmError::Malformed {
            provider: provider.to_owned(),
            message: "no `content` in the message".into(),
        })?;
    let text: String = blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("");
    let finish = match body.get("stop_reason").and_then(Value::as_str) {
        Some("refusal") => {
            let message = if text.trim().is_empty() {
                "the model declined to answer".to_owned()
            } else {
                text
            };
            return Err(LlmError::Refusal {
                provider: provider.to_owned(),
                message,
            });
        }
        Some("max_tokens") => FinishReason::Length,
        Some("end_turn" | "tool_use" | "stop_sequence") | None => FinishReason::Stop,
        Some(other) => FinishReason::Other(other.to_owned()),
    };
    let tool_input = request.schema.as_deref().and_then(|s| {
        blocks
            .iter()
            .find(|b| {
                b.get("type").and_then(Value::as_str) == Some("tool_use")
                    && b.get("name").and_then(Value::as_str) == Some(s.name())
            })
            .and_then(|b| b.get("input"))
    });
    let content = match tool_input {
        Some(input) => Content::Json(input.clone()),
        None => Content::Text(text),
    };
    // `input_tokens` leaves out the tokens read from and written to the prompt cache, which
    // come apart: all three are the prompt.
    let usage = body.get("usage").map_or_else(Usage::default, |u| {
        let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
        let (read, written) = (
            n("cache_read_input_tokens"),
            n("cache_creation_input_tokens"),
        );
        Usage::new(
            n("input_tokens")
                .saturating_add(read)
                .saturating_add(written),
            n("output_tokens"),
        )
        .with_cache(read, written)
    });
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(Response::new(provider, model, content)
        .with_usage(usage)
        .with_finish(finish))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PreparedSchema;
    use std::sync::Arc;

    #[test]
    fn structured_requests_force_the_tool() {
        let schema = Arc::new(
            PreparedSchema::from_value(
                "Sig",
                json!({"type": "object", "properties": {"a": {"type": "string"}}}),
            )
            .unwrap(),
        );
        let req = Request::new(vec![
            Message::system("S"),
            Message::user("U1"),
            Message::user("U2"),
        ])
        .schema(schema);
        let b = body("claude", &req, SchemaMode::Auto);
        assert_eq!(b["max_tokens"], 1024);
        assert_eq!(
            b["system"],
            json!([{"type": "text", "text": "S", "cache_control": {"type": "ephemeral"}}])
        );
        assert_eq!(
            b["messages"],
            json!([{"role": "user", "content": "U1\n\nU2"}])
        );
        assert_eq!(b["tool_choice"], json!({"type": "tool", "name": "Sig"}));
        assert_eq!(
            b["tools"][0]["input_schema"]["properties"]["a"]["type"],
            "string"
        );
        let prompt = body("claude", &req, SchemaMode::Prompt);
        assert!(prompt.get("tools").is_none());
        assert!(prompt["system"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("S\n\nAnswer with one JSON value"));
    }
}
