#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "gemini")]
//! Gemini generateContent against a local peer speaking the documented wire format.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use tradegraph_llm::gemini::Gemini;
use tradegraph_llm::{LlmError, Provider, Request};
use wiremock::matchers::{
    body_partial_json, body_string_contains, header, method, path, query_param_is_missing,
};
use wiremock::{Mock, MockServer};

fn generated(text: &str, finish: &str) -> serde_json::Value {
    json!({
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": finish, "index": 0}],
        "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 20, "thoughtsTokenCount": 30, "totalTokenCount": 100},
        "modelVersion": "gemini-2.5-flash", "responseId": "abc"
    })
}

const PATH: &str = "/v1beta/models/gemini-2.5-flash:generateContent";

async fn provider(server: &MockServer) -> Gemini {
    Gemini::new(CANARY)
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap()
}

#[tokio::test]
async fn sends_the_response_schema_and_the_key_in_a_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(header("x-goog-api-key", CANARY))
        .and(query_param_is_missing("key"))
        .and(body_partial_json(json!({
            "systemInstruction": {"parts": [{"text": "You are a trading analyst."}]},
            "generationConfig": {
                "temperature": 0.0, "maxOutputTokens": 200, "responseMimeType": "application/json",
                "responseSchema": {"type": "OBJECT", "properties": {"action": {"type": "STRING", "enum": ["BUY", "SELL", "HOLD"]}, "confidence": {"type": "NUMBER"}}}
            }
        })))
        .respond_with(json(200, generated(VALID, "STOP")))
        .expect(1)
        .mount(&server)
        .await;
    let out = ask(&provider(&server).await, request()).await.unwrap();
    assert_eq!(out.value, valid());
    assert_eq!(
        (
            out.response.usage.input_tokens,
            out.response.usage.output_tokens
        ),
        (50, 50),
        "thoughts are billed as output"
    );
    let sent: serde_json::Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(
        sent["contents"],
        json!([{"role": "user", "parts": [{"text": "BTC is at 45000. Signal?"}]}])
    );
    let schema = &sent["generationConfig"]["responseSchema"];
    assert!(
        schema.get("additionalProperties").is_none()
            && schema.get("$defs").is_none()
            && schema.get("$schema").is_none()
    );
}

#[tokio::test]
async fn safety_blocks_and_max_tokens_are_typed() {
    let server = MockServer::start().await;
    Mock::given(body_string_contains("unsafe"))
        .respond_with(json(200, json!({"candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]}]})))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("blocked"))
        .respond_with(json(200, json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 5}})))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("long"))
        .respond_with(json(200, generated("{\"action\": \"BU", "MAX_TOKENS")))
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let err = ask(&p, Request::chat("s", "unsafe")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::ContentFilter { ref reason, .. } if reason == "SAFETY"),
        "{err:?}"
    );
    let err = ask(&p, Request::chat("s", "blocked")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::ContentFilter { ref reason, .. } if reason.contains("PROHIBITED_CONTENT")),
        "{err:?}"
    );
    let err = ask(&p, Request::chat("s", "long")).await.unwrap_err();
    assert!(matches!(err, LlmError::Truncated { .. }), "{err:?}");
}

#[tokio::test]
async fn quota_bad_keys_and_stalls_are_typed() {
    let server = MockServer::start().await;
    Mock::given(body_string_contains("quota"))
        .respond_with(json(429, json!({"error": {"code": 429, "message": "You exceeded your current quota", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "22s"}]}})))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("badkey"))
        .respond_with(json(400, json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}})))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("unavailable"))
        .respond_with(json(503, json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}})))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("slow"))
        .respond_with(json(200, generated(VALID, "STOP")).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let p = provider(&server).await.with_timeout(STALL_TIMEOUT);
    let err = p.complete(&Request::chat("s", "quota")).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(22)));
    let err = p.complete(&Request::chat("s", "badkey")).await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    let err = p
        .complete(&Request::chat("s", "unavailable"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::Server { status: 503, .. }),
        "{err:?}"
    );
    let err = p.complete(&Request::chat("s", "slow")).await.unwrap_err();
    assert!(matches!(err, LlmError::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn the_key_check_lists_models() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1beta/models"))
        .and(header("x-goog-api-key", CANARY))
        .respond_with(json(
            200,
            json!({"models": [{"name": "models/gemini-2.5-flash"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    provider(&server).await.check_key().await.unwrap();
}

/// Gemini 2.5 bills its thinking against `maxOutputTokens`, so an agent's answer limit could be
/// spent thinking, with no answer (`MAX_TOKENS`, no text). Flash models are asked not to
/// think; Pro, which always thinks, gets a thinking budget of its own on top of the answer's
/// limit. Other models are sent the limit as it is.
#[tokio::test]
async fn gemini_2_5_thinking_leaves_the_answer_its_limit() {
    for (model, thinking, max_output) in [
        ("gemini-2.5-flash", Some(0), 1_200),
        ("gemini-2.5-flash-lite", Some(0), 1_200),
        ("gemini-2.5-pro", Some(1_024), 2_224),
        ("gemini-2.0-flash", None, 1_200),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("/v1beta/models/{model}:generateContent")))
            .respond_with(json(200, generated(VALID, "STOP")))
            .mount(&server)
            .await;
        let p = provider(&server).await.with_model(model);
        ask(&p, request().max_tokens(1_200)).await.unwrap();
        let sent: serde_json::Value = server.received_requests().await.unwrap()[0]
            .body_json()
            .unwrap();
        let config = &sent["generationConfig"];
        assert_eq!(config["maxOutputTokens"], max_output, "{model}: {config}");
        match thinking {
            Some(budget) => assert_eq!(
                config["thinkingConfig"]["thinkingBudget"], budget,
                "{model}: {config}"
            ),
            None => assert!(config.get("thinkingConfig").is_none(), "{model}: {config}"),
        }
    }
}
