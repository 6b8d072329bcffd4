#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(all(feature = "openai", feature = "anthropic"))]
//! The chain over real HTTP: OpenAI primary down then back, Anthropic backup; the breaker
//! opens, half-opens and closes.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use tradegraph_llm::anthropic::Anthropic;
use tradegraph_llm::fallback::{BreakerPolicy, BreakerState};
use tradegraph_llm::openai::OpenAi;
use tradegraph_llm::Llm;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

#[tokio::test]
async fn the_primary_goes_down_the_backup_answers_and_the_primary_comes_back() {
    let openai = MockServer::start().await;
    Mock::given(path("/v1/chat/completions"))
        .respond_with(json(
            500,
            json!({"error": {"message": "The server had an error", "type": "server_error"}}),
        ))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&openai)
        .await;
    Mock::given(path("/v1/chat/completions"))
        .respond_with(json(200, json!({
            "model": "gpt-4.1-mini", "choices": [{"index": 0, "message": {"role": "assistant", "content": VALID}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5}
        })))
        .with_priority(2)
        .mount(&openai)
        .await;
    let anthropic = MockServer::start().await;
    Mock::given(path("/v1/messages"))
        .respond_with(json(200, json!({
            "model": "claude-haiku-4-5", "content": [{"type": "tool_use", "id": "t", "name": "Signal", "input": serde_json::from_str::<serde_json::Value>(VALID).unwrap()}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 5}
        })))
        .mount(&anthropic)
        .await;
    let llm = Llm::builder()
        .provider(
            OpenAi::new(CANARY)
                .unwrap()
                .with_base_url(&format!("{}/v1", openai.uri()))
                .unwrap(),
        )
        .provider(
            Anthropic::new(CANARY)
                .unwrap()
                .with_base_url(&anthropic.uri())
                .unwrap(),
        )
        .breaker(BreakerPolicy {
            failure_threshold: 2,
            open_for: Duration::from_millis(200),
            max_open_for: Duration::from_secs(1),
        })
        .build()
        .unwrap();
    let mut answered = Vec::new();
    for _ in 0..3 {
        answered.push(
            llm.structured::<Signal>(request())
                .await
                .unwrap()
                .response
                .provider,
        );
    }
    assert_eq!(answered, ["anthropic", "anthropic", "anthropic"]);
    assert_eq!(
        openai.received_requests().await.unwrap().len(),
        2,
        "open: the third call skipped the primary"
    );
    assert_eq!(llm.health()[0].breaker, BreakerState::Open);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        llm.structured::<Signal>(request())
            .await
            .unwrap()
            .response
            .provider,
        "openai",
        "the half-open probe succeeds"
    );
    assert_eq!(llm.health()[0].breaker, BreakerState::Closed);
    assert_eq!(
        llm.structured::<Signal>(request())
            .await
            .unwrap()
            .response
            .provider,
        "openai"
    );
    assert_eq!(anthropic.received_requests().await.unwrap().len(), 3);
}
