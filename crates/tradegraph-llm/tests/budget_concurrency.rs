#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "openai")]
//! The run budget holds exactly at its cap when callers run in parallel (issue 12, item 12).

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use tradegraph_llm::budget::RunBudget;
use tradegraph_llm::openai::OpenAi;
use tradegraph_llm::{Llm, LlmError};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

#[tokio::test]
async fn budget_checked_before_and_charged_after_overshoots_with_parallel_calls() {
    let server = MockServer::start().await;
    let answer = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000,
        "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": VALID, "refusal": null}, "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}
    });
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(json(200, answer).set_delay(Duration::from_millis(200)))
        .mount(&server)
        .await;
    let provider = OpenAi::new(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/v1", server.uri()))
        .unwrap();
    let llm = Llm::builder()
        .provider(provider)
        .budget(RunBudget::default().max_calls(5))
        .build()
        .unwrap();

    let calls = (0..10).map(|_| llm.structured::<Signal>(request()));
    let results = futures::future::join_all(calls).await;

    let reached = server.received_requests().await.unwrap().len();
    assert_eq!(reached, 5, "requests that reached the server");
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 5, "answered calls");
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(err, LlmError::BudgetExceeded { what } if what.starts_with("5 calls of 5")),
            "{err:?}"
        );
    }
    assert_eq!(llm.accounting().run.calls, 5);
    // The slots of refused calls were given back: the run is exactly at its cap.
    let err = llm.structured::<Signal>(request()).await.unwrap_err();
    assert!(matches!(err, LlmError::BudgetExceeded { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
}
