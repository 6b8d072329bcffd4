#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "anthropic")]
//! Anthropic messages against a local peer speaking the documented wire format.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use tradegraph_llm::anthropic::Anthropic;
use tradegraph_llm::{ErrorKind, LlmError, Provider, Request};
use wiremock::matchers::{body_partial_json, body_string_contains, header, method, path};
use wiremock::{Mock, MockServer};

fn message(content: serde_json::Value, stop: &str) -> serde_json::Value {
    json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001",
        "content": content, "stop_reason": stop, "stop_sequence": null,
        "usage": {"input_tokens": 400, "output_tokens": 60}
    })
}

fn tool_use(input: serde_json::Value) -> serde_json::Value {
    message(
        json!([{"type": "tool_use", "id": "toolu_01", "name": "Signal", "input": input}]),
        "tool_use",
    )
}

async fn provider(server: &MockServer) -> Anthropic {
    Anthropic::new(CANARY)
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap()
}

#[tokio::test]
async fn forces_the_tool_and_reads_the_tool_use_block() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", CANARY))
        .and(header("anthropic-version", "2023-06-01"))
        .and(header("content-type", "application/json"))
        .and(body_partial_json(json!({
            "model": "claude-haiku-4-5",
            "max_tokens": 200,
            "temperature": 0.0,
            "system": [{"type": "text", "text": "You are a trading analyst.",
                        "cache_control": {"type": "ephemeral"}}],
            "tool_choice": {"type": "tool", "name": "Signal"},
        })))
        .respond_with(json(200, tool_use(serde_json::from_str(VALID).unwrap())))
        .expect(1)
        .mount(&server)
        .await;
    let out = ask(&provider(&server).await, request()).await.unwrap();
    assert_eq!(out.value, valid());
    assert_eq!(out.response.usage.total(), 460);
    let sent: serde_json::Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(
        sent["messages"],
        json!([{"role": "user", "content": "BTC is at 45000. Signal?"}])
    );
    let tool = &sent["tools"][0];
    assert_eq!(tool["name"], "Signal");
    assert_eq!(tool["input_schema"]["type"], "object");
    assert!(tool["input_schema"].get("$defs").is_none(), "inlined");
}

#[tokio::test]
async fn a_schema_breaking_tool_input_is_repaired() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/messages"))
        .and(body_string_contains(
            "does not match the required JSON Schema",
        ))
        .respond_with(json(200, tool_use(serde_json::from_str(VALID).unwrap())))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/messages"))
        .respond_with(json(200, tool_use(serde_json::from_str(INVALID).unwrap())))
        .with_priority(2)
        .mount(&server)
        .await;
    let out = ask(&provider(&server).await, request()).await.unwrap();
    assert_eq!(out.repairs, 1);
    let second: serde_json::Value = server.received_requests().await.unwrap()[1]
        .body_json()
        .unwrap();
    let turns = second["messages"].as_array().unwrap();
    assert_eq!(
        turns.len(),
        3,
        "user, assistant (the invalid answer), user (the violations)"
    );
    assert_eq!(turns[1]["role"], "assistant");
}

#[tokio::test]
async fn overload_rate_limit_refusal_and_truncation_are_typed() {
    let server = MockServer::start().await;
    Mock::given(body_string_contains("busy"))
        .respond_with(json(529, json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("fast"))
        .respond_with(json(429, json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Number of request tokens has exceeded your per-minute rate limit"}})).insert_header("retry-after", "12"))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("refuse"))
        .respond_with(json(
            200,
            message(
                json!([{"type": "text", "text": "I can't help with that."}]),
                "refusal",
            ),
        ))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("cut"))
        .respond_with(json(
            200,
            message(
                json!([{"type": "tool_use", "id": "t", "name": "Signal", "input": {}}]),
                "max_tokens",
            ),
        ))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("down"))
        .respond_with(json(500, json!({"type": "error", "error": {"type": "api_error", "message": "Internal server error"}})))
        .mount(&server)
        .await;
    Mock::given(body_string_contains("badkey"))
        .respond_with(json(401, json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})))
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let err = p.complete(&Request::chat("s", "busy")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Overloaded { status: 529, .. }),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    let err = p.complete(&Request::chat("s", "fast")).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(12)));
    let err = ask(&p, Request::chat("s", "refuse")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Refusal { ref message, .. } if message.contains("can't help")),
        "{err:?}"
    );
    let err = ask(&p, Request::chat("s", "cut").max_tokens(10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LlmError::Truncated {
                max_tokens: Some(10),
                ..
            }
        ),
        "{err:?}"
    );
    let err = p.complete(&Request::chat("s", "down")).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Server { status: 500, .. }),
        "{err:?}"
    );
    let err = p.complete(&Request::chat("s", "badkey")).await.unwrap_err();
    assert!(err.is_auth());
}

#[tokio::test]
async fn a_stall_times_out_and_text_answers_are_read() {
    let server = MockServer::start().await;
    Mock::given(body_string_contains("slow"))
        .respond_with(
            json(
                200,
                message(json!([{"type": "text", "text": "late"}]), "end_turn"),
            )
            .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    Mock::given(body_string_contains("hello"))
        .respond_with(json(
            200,
            message(
                json!([{"type": "text", "text": "Hi "}, {"type": "text", "text": "there."}]),
                "end_turn",
            ),
        ))
        .mount(&server)
        .await;
    let p = provider(&server).await.with_timeout(STALL_TIMEOUT);
    let err = p.complete(&Request::chat("s", "slow")).await.unwrap_err();
    assert!(matches!(err, LlmError::Timeout { .. }), "{err:?}");
    assert_eq!(
        p.complete(&Request::chat("s", "hello"))
            .await
            .unwrap()
            .text(),
        "Hi there."
    );
}

#[tokio::test]
async fn the_key_check_lists_models() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(header("x-api-key", CANARY))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(json(
            200,
            json!({"data": [{"id": "claude-haiku-4-5", "type": "model"}], "has_more": false}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    provider(&server).await.check_key().await.unwrap();
}
