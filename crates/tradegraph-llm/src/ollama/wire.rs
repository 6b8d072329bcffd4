//! The `/api/chat` wire format.

use crate::provider::with_instruction;
use crate::{Content, FinishReason, LlmError, Request, Response, SchemaMode, Usage};
use serde_json::{json, Map, Value};

/// The body of `POST /api/chat`.
pub(crate) fn body(model: &str, request: &Request, mode: SchemaMode) -> Value {
    let schema = request.schema.as_deref();
    let messages = match schema {
        Some(s) => with_instruction(&request.messages, s.instruction()),
        None => request.messages.clone(),
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
    body.insert("stream".into(), json!(false));
    if let Some(s) = schema {
        match mode {
            SchemaMode::Prompt => {}
            SchemaMode::JsonMode => {
                body.insert("format".into(), json!("json"));
            }
            _ => {
                body.insert("format".into(), s.inlined().unwrap_or(s.schema()).clone());
            }
        }
    }
    let mut options = Map::new();
    if let Some(t) = request.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(seed) = request.seed {
        options.insert("seed".into(), json!(seed));
    }
    if let Some(n) = request.max_tokens {
        options.insert("num_predict".into(), json!(n));
    }
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
    }
    Value::Object(body)
}

/// A chat answer as a [`Response`] or the typed error it stands for.
pub(crate) fn parse(provider: &str, model: &str, body: &Value) -> Result<Response, LlmError> {
    let message = body.get("message").ok_or_else(|| LlmError::Malformed {
        provider: provider.to_owned(),
        message: "no `message` in the chat answer".into(),
    })?;
    let text = message
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let reason = body.get("done_reason").and_then(Value::as_str);
    if text.trim().is_empty() {
        let thinking = message
            .get("thinking")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.trim().is_empty());
        let detail = match reason {
            Some("load") => "the model was only loaded; ask again".to_owned(),
            Some("length") => "the token limit was reached before any answer".to_owned(),
            _ if thinking => "the model spent its answer on thinking".to_owned(),
            Some(r) => format!("done_reason `{r}`"),
            None => "no content".to_owned(),
        };
        return Err(LlmError::EmptyAnswer {
            provider: provider.to_owned(),
            detail: Some(detail),
        });
    }
    let finish = match reason {
        Some("stop") | None => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some(other) => FinishReason::Other(other.to_owned()),
    };
    let usage = Usage::new(
        body.get("prompt_eval_count")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        body.get("eval_count").and_then(Value::as_u64).unwrap_or(0),
    );
    let model = body.get("model").and_then(Value::as_str).unwrap_or(model);
    Ok(
        Response::new(provider, model, Content::Text(text.to_owned()))
            .with_usage(usage)
            .with_finish(finish),
    )
}

/// Whether an `/api/tags` entry is `model` (`llama3.2` is `llama3.2:latest`).
pub(crate) fn same_model(entry: &Value, model: &str) -> bool {
    let name = entry
        .get("name")
        .or_else(|| entry.get("model"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    name == model || name.strip_suffix(":latest") == Some(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PreparedSchema;
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
        let req = Request::chat("S", "U")
            .temperature(0.0)
            .max_tokens(5)
            .schema(schema);
        let b = body("llama3.2", &req, SchemaMode::Auto);
        assert_eq!(b["stream"], false);
        assert_eq!(b["format"]["properties"]["a"]["type"], "string");
        assert_eq!(b["options"], json!({"temperature": 0.0, "num_predict": 5}));
        assert_eq!(b["messages"].as_array().unwrap().len(), 3);
        assert_eq!(body("m", &req, SchemaMode::JsonMode)["format"], "json");
    }

    #[test]
    fn empty_answers_are_errors_that_say_why() {
        let thinking = json!({"message": {"role": "assistant", "content": "", "thinking": "hmm..."}, "done": true, "done_reason": "stop"});
        match parse("ollama", "m", &thinking) {
            Err(LlmError::EmptyAnswer {
                detail: Some(d), ..
            }) => assert!(d.contains("thinking")),
            other => panic!("{other:?}"),
        }
        assert!(same_model(&json!({"name": "llama3.2:latest"}), "llama3.2"));
        assert!(!same_model(&json!({"name": "llama3.1:latest"}), "llama3.2"));
    }
}
