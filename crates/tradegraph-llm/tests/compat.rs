#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "openai")]
//! Groq, Together and OpenRouter: the OpenAI-compatible presets and what each accepts.

mod common;

use common::*;
use serde_json::json;
use tradegraph_llm::openai::OpenAi;
use tradegraph_llm::{LlmError, Provider, SchemaMode};
use wiremock::matchers::{
    bearer_token, body_partial_json, body_string_contains, header, method, path,
};
use wiremock::{Mock, MockServer};

fn completion(content: &str) -> serde_json::Value {
    json!({
        "id": "x", "object": "chat.completion", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    })
}

#[tokio::test]
async fn groq_uses_json_mode_and_the_schema_instruction_where_json_schema_is_missing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/v1/chat/completions"))
        .and(bearer_token(CANARY))
        .and(body_partial_json(json!({"model": "llama-3.3-70b-versatile", "response_format": {"type": "json_object"}, "max_completion_tokens": 200})))
        .and(body_string_contains("It must conform to this JSON Schema"))
        .respond_with(json(200, completion(&format!("Here you go:\n{VALID}"))))
        .expect(1)
        .mount(&server)
        .await;
    let groq = OpenAi::groq(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/openai/v1", server.uri()))
        .unwrap();
    assert_eq!(ask(&groq, request()).await.unwrap().value, valid());
}

#[tokio::test]
async fn groq_gpt_oss_gets_strict_json_schema() {
    let server = MockServer::start().await;
    Mock::given(path("/openai/v1/chat/completions"))
        .and(body_partial_json(json!({"model": "openai/gpt-oss-20b", "response_format": {"type": "json_schema", "json_schema": {"strict": true}}})))
        .respond_with(json(200, completion(VALID)))
        .expect(1)
        .mount(&server)
        .await;
    let groq = OpenAi::groq(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/openai/v1", server.uri()))
        .unwrap()
        .with_model("openai/gpt-oss-20b");
    ask(&groq, request()).await.unwrap();
}

#[tokio::test]
async fn a_rejected_json_schema_falls_back_to_json_mode_for_good() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"response_format": {"type": "json_schema"}})))
        .respond_with(json(400, json!({"error": {"message": "response_format `json_schema` is not supported by this model", "type": "invalid_request_error"}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/chat/completions"))
        .and(body_partial_json(
            json!({"response_format": {"type": "json_object"}, "max_tokens": 200}),
        ))
        .respond_with(json(200, completion(VALID)))
        .expect(2)
        .mount(&server)
        .await;
    let together = OpenAi::together(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/v1", server.uri()))
        .unwrap();
    ask(&together, request()).await.unwrap();
    ask(&together, request()).await.unwrap(); // straight to JSON mode: the 400 mock expects one call
}

#[tokio::test]
async fn openrouter_requires_the_parameters_and_reads_errors_in_200_bodies() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/chat/completions"))
        .and(header("x-title", "tradegraph"))
        .and(body_partial_json(json!({"model": "openai/gpt-4.1-mini", "provider": {"require_parameters": true}, "max_tokens": 200,
                                      "response_format": {"type": "json_schema", "json_schema": {"strict": true}}})))
        .and(body_string_contains("trading analyst"))
        .respond_with(json(200, completion(VALID)))
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/chat/completions"))
        .and(body_string_contains("upstream"))
        .respond_with(json(
            200,
            json!({"error": {"code": 502, "message": "Provider returned error", "metadata": {}}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/key"))
        .and(bearer_token(CANARY))
        .respond_with(json(
            200,
            json!({"data": {"label": "k", "limit": null, "usage": 0.5, "is_free_tier": false}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let or = OpenAi::openrouter(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/api/v1", server.uri()))
        .unwrap();
    ask(&or, request()).await.unwrap();
    let err = or
        .complete(&tradegraph_llm::Request::chat("s", "upstream"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::Server { status: 502, .. }),
        "{err:?}"
    );
    or.check_key().await.unwrap();
}

#[tokio::test]
async fn a_generic_server_takes_a_forced_mode_and_no_key() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/chat/completions"))
        .and(body_string_contains("It must conform to this JSON Schema"))
        .respond_with(json(200, completion(VALID)))
        .expect(1)
        .mount(&server)
        .await;
    let local = OpenAi::compatible("vllm", &format!("{}/v1", server.uri()), None)
        .unwrap()
        .with_model("qwen")
        .with_schema_mode(SchemaMode::Prompt);
    assert_eq!(local.name(), "vllm");
    ask(&local, request()).await.unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    assert!(sent.headers.get("authorization").is_none());
    let body: serde_json::Value = sent.body_json().unwrap();
    assert!(body.get("response_format").is_none());
}

/// A chain of Groq, on a local server answering every request with `status` and `body`, and
/// a scripted backup that answers once.
async fn groq_then_backup(
    status: u16,
    body: serde_json::Value,
) -> (
    MockServer,
    tradegraph_llm::Llm,
    tradegraph_llm::ScriptedProvider,
) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(status, body))
        .mount(&server)
        .await;
    let groq = OpenAi::groq(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/openai/v1", server.uri()))
        .unwrap();
    let backup = tradegraph_llm::ScriptedProvider::new("backup", "m2").text(VALID);
    let llm = tradegraph_llm::Llm::builder()
        .provider(groq)
        .provider(backup.clone())
        .build()
        .unwrap();
    (server, llm, backup)
}

/// Errors that belong to one provider's model, as the vendors word them, hand the call to the
/// next provider instead of ending it: Groq's JSON mode failing to produce JSON, a retired
/// model, a model the server does not have (OpenAI's and Ollama's 404), a prompt longer than
/// the model's context. A bad request of ours still ends the call (`fallback.rs`).
#[tokio::test]
async fn errors_of_one_providers_model_fail_over_to_the_next() {
    let bodies = [
        (
            400,
            json!({"error": {"message": "Failed to generate JSON. Please adjust your prompt. See 'failed_generation' for more details.", "type": "invalid_request_error", "code": "json_validate_failed", "failed_generation": "{\"action\": BUY"}}),
        ),
        (
            400,
            json!({"error": {"message": "The model `llama3-70b-8192` has been decommissioned and is no longer supported.", "type": "invalid_request_error", "code": "model_decommissioned"}}),
        ),
        (
            404,
            json!({"error": {"message": "The model `gpt-9` does not exist or you do not have access to it.", "type": "invalid_request_error", "param": null, "code": "model_not_found"}}),
        ),
        (
            404,
            json!({"error": "model \"llama9\" not found, try pulling it first"}),
        ),
        (
            400,
            json!({"error": {"message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9100 tokens.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}),
        ),
    ];
    // a 404 that is not about the model is a wrong address: ours, no failover
    {
        let (_server, llm, backup) = groq_then_backup(
            404,
            json!({"error": {"message": "Invalid URL (POST /v1/chat/completionz)", "type": "invalid_request_error", "param": null, "code": null}}),
        )
        .await;
        let err = llm.structured::<Signal>(request()).await.unwrap_err();
        assert!(
            matches!(err, LlmError::BadRequest { status: 404, .. }),
            "{err:?}"
        );
        assert!(backup.requests().is_empty());
    }
    for (status, body) in bodies {
        let (_server, llm, backup) = groq_then_backup(status, body.clone()).await;
        let out = llm.structured::<Signal>(request()).await;
        assert!(out.is_ok(), "{status} {body}: {out:?}");
        assert_eq!(backup.requests().len(), 1, "{body}");
    }
}
