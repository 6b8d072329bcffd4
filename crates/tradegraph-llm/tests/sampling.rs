#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(all(
    feature = "openai",
    feature = "anthropic",
    feature = "gemini",
    feature = "ollama"
))]
//! A provider's configured temperature and seed reach the wire where its API takes them, in
//! place of the request's, against local peers speaking each documented format.

mod common;

use common::*;
use serde_json::{json, Value};
use tradegraph_llm::config::{ProviderConfig, ProviderKind};
use tradegraph_llm::{Provider, Sampling};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

/// The configuration of `kind` at `base`, at temperature 0.3 and seed 42.
fn configured(kind: ProviderKind, base: String) -> std::sync::Arc<dyn Provider> {
    let mut p = ProviderConfig::new(kind);
    p.api_key = Some(CANARY.into());
    p.base_url = Some(base);
    p.temperature = Some(0.3);
    p.seed = Some(42);
    p.provider().unwrap()
}

/// Serves `answer` at `at`, asks `provider` a structured question (the request says
/// temperature 0.0 and no seed), and returns the body that was sent.
async fn sent_body(server: &MockServer, at: &str, answer: Value, provider: &dyn Provider) -> Value {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(json(200, answer))
        .expect(1)
        .mount(server)
        .await;
    let out = ask(provider, request()).await.unwrap();
    assert_eq!(out.value, valid());
    assert_eq!(
        provider.sampling(),
        Sampling {
            temperature: Some(0.3),
            seed: Some(42)
        }
    );
    server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap()
}

/// `0.3` as an `f32` sent through JSON.
fn point_three() -> Value {
    json!(0.3f32)
}

#[tokio::test]
async fn openai_sends_seed_and_temperature() {
    let server = MockServer::start().await;
    let answer = json!({
        "id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": VALID}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    });
    let p = configured(ProviderKind::Openai, format!("{}/v1", server.uri()));
    let body = sent_body(&server, "/v1/chat/completions", answer, p.as_ref()).await;
    assert_eq!(
        (&body["seed"], &body["temperature"]),
        (&json!(42), &point_three())
    );
}

#[tokio::test]
async fn gemini_sends_them_in_the_generation_config() {
    let server = MockServer::start().await;
    let answer = json!({
        "candidates": [{"content": {"parts": [{"text": VALID}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2}
    });
    let p = configured(ProviderKind::Gemini, server.uri());
    let body = sent_body(
        &server,
        "/v1beta/models/gemini-2.5-flash:generateContent",
        answer,
        p.as_ref(),
    )
    .await;
    let config = &body["generationConfig"];
    assert_eq!(
        (&config["seed"], &config["temperature"]),
        (&json!(42), &point_three())
    );
    assert!(body.get("seed").is_none(), "{body}");
}

#[tokio::test]
async fn ollama_sends_them_in_the_options() {
    let server = MockServer::start().await;
    let answer = json!({
        "model": "llama3.2", "created_at": "2025-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": VALID}, "done": true, "done_reason": "stop",
        "prompt_eval_count": 1, "eval_count": 1
    });
    let p = configured(ProviderKind::Ollama, server.uri());
    let body = sent_body(&server, "/api/chat", answer, p.as_ref()).await;
    assert_eq!(
        body["options"],
        json!({"temperature": point_three(), "seed": 42, "num_predict": 200})
    );
}

#[tokio::test]
async fn anthropic_sends_the_temperature_and_no_seed() {
    let server = MockServer::start().await;
    let answer = json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{"type": "tool_use", "id": "t", "name": "Signal", "input": serde_json::from_str::<Value>(VALID).unwrap()}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 1, "output_tokens": 1}
    });
    let p = configured(ProviderKind::Anthropic, server.uri());
    let body = sent_body(&server, "/v1/messages", answer, p.as_ref()).await;
    assert_eq!(body["temperature"], point_three());
    assert!(
        !body.to_string().contains("seed"),
        "the messages API takes no seed: {body}"
    );
}

#[cfg(feature = "config-file")]
#[test]
fn the_configuration_file_sets_them_per_provider() {
    let config = tradegraph_llm::config::LlmConfig::from_toml(
        "[[providers]]\nkind = \"openai\"\ntemperature = 0.0\nseed = 7\n[[providers]]\nkind = \"anthropic\"\n",
    )
    .unwrap();
    assert_eq!(
        config.providers[0].sampling(),
        Sampling {
            temperature: Some(0.0),
            seed: Some(7)
        }
    );
    assert!(config.providers[1].sampling().is_empty());
}
