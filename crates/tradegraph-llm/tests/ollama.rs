#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "ollama")]
//! Ollama /api/chat against a local peer speaking the documented wire format.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use tradegraph_llm::ollama::Ollama;
use tradegraph_llm::{LlmError, Provider, Request};
use wiremock::matchers::{body_partial_json, body_string_contains, method, path};
use wiremock::{Mock, MockServer};

fn chat(content: &str, reason: &str) -> serde_json::Value {
    json!({
        "model": "llama3.2", "created_at": "2025-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": content},
        "done": true, "done_reason": reason,
        "total_duration": 4_883_583_458u64, "load_duration": 1_334_875, "prompt_eval_count": 26,
        "prompt_eval_duration": 342_546_000, "eval_count": 282, "eval_duration": 4_535_599_000u64
    })
}

async fn provider(server: &MockServer) -> Ollama {
    Ollama::new(&server.uri()).unwrap()
}

#[tokio::test]
async fn sends_the_schema_as_format_without_streaming() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .and(body_partial_json(json!({
            "model": "llama3.2", "stream": false,
            "format": {"type": "object", "properties": {"action": {"oneOf": [{"const": "BUY"}, {"const": "SELL"}, {"const": "HOLD"}]}}},
            "options": {"temperature": 0.0, "num_predict": 200}
        })))
        .respond_with(json(200, chat(VALID, "stop")))
        .expect(1)
        .mount(&server)
        .await;
    let out = ask(&provider(&server).await, request()).await.unwrap();
    assert_eq!(out.value, valid());
    assert_eq!(out.response.usage.total(), 308);
    let sent = &server.received_requests().await.unwrap()[0];
    assert!(
        sent.headers.get("authorization").is_none(),
        "no key, no header"
    );
}

#[tokio::test]
async fn an_empty_answer_is_an_error_never_a_result() {
    let server = MockServer::start().await;
    Mock::given(body_string_contains("empty"))
        .respond_with(json(200, chat("", "stop")))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("think"))
        .respond_with(json(200, json!({"model": "qwen3", "message": {"role": "assistant", "content": "", "thinking": "Let me think about BTC..."}, "done": true, "done_reason": "stop"})))
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let err = ask(&p, Request::chat("s", "empty")).await.unwrap_err();
    assert!(matches!(err, LlmError::EmptyAnswer { .. }), "{err:?}");
    assert!(err.is_retryable(), "another provider may answer");
    let err = p.complete(&Request::chat("s", "think")).await.unwrap_err();
    assert!(
        err.to_string().contains("spent its answer on thinking"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_model_a_stall_and_a_key_behind_a_proxy() {
    let server = MockServer::start().await;
    Mock::given(body_string_contains("missing"))
        .respond_with(json(
            404,
            json!({"error": "model \"llama9\" not found, try pulling it first"}),
        ))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("slow"))
        .respond_with(json(200, chat(VALID, "stop")).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("proxied"))
        .and(wiremock::matchers::bearer_token(CANARY))
        .respond_with(json(200, chat("ok", "stop")))
        .mount(&server)
        .await;
    let p = provider(&server).await.with_timeout(STALL_TIMEOUT);
    let err = p
        .complete(&Request::chat("s", "missing"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::ModelUnavailable { status: 404, ref message, .. } if message.contains("try pulling")),
        "{err:?}"
    );
    let err = p.complete(&Request::chat("s", "slow")).await.unwrap_err();
    assert!(matches!(err, LlmError::Timeout { .. }), "{err:?}");
    let keyed = provider(&server).await.with_key(CANARY);
    assert_eq!(
        keyed
            .complete(&Request::chat("s", "proxied"))
            .await
            .unwrap()
            .text(),
        "ok"
    );
}

#[tokio::test]
async fn the_key_check_confirms_the_model_is_pulled() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/tags"))
        .respond_with(json(200, json!({"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest", "size": 2_019_393_189u64}]})))
        .mount(&server)
        .await;
    provider(&server).await.check_key().await.unwrap();
    let err = provider(&server)
        .await
        .with_model("mistral")
        .check_key()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ollama pull mistral"), "{err}");
}
