#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "openai")]
//! The run budget holds exactly at its cap when callers run in parallel (issue 12, item 12).

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use tradegraph_llm::budget::{BudgetWindow, RunBudget};
use tradegraph_llm::openai::OpenAi;
use tradegraph_llm::{Llm, LlmError};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

/// A local OpenAI peer answering every completion after `delay`, and a provider on it.
async fn peer(delay: Duration) -> (MockServer, OpenAi) {
    let server = MockServer::start().await;
    let answer = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000,
        "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": VALID, "refusal": null}, "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}
    });
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(json(200, answer).set_delay(delay))
        .mount(&server)
        .await;
    let provider = OpenAi::new(CANARY)
        .unwrap()
        .with_base_url(&format!("{}/v1", server.uri()))
        .unwrap();
    (server, provider)
}

#[tokio::test]
async fn budget_checked_before_and_charged_after_overshoots_with_parallel_calls() {
    let (server, provider) = peer(Duration::from_millis(200)).await;
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
            matches!(err, LlmError::BudgetExceeded { what, .. } if what.starts_with("5 calls of 5")),
            "{err:?}"
        );
    }
    assert_eq!(llm.accounting().run.calls, 5);
    // The slots of refused calls were given back: the run is exactly at its cap.
    let err = llm.structured::<Signal>(request()).await.unwrap_err();
    assert!(matches!(err, LlmError::BudgetExceeded { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
}

#[tokio::test]
async fn a_cycles_budget_and_a_days_budget_hold_exactly_with_four_callers_in_parallel() {
    let (server, provider) = peer(Duration::from_millis(100)).await;
    let llm = Llm::builder()
        .provider(provider)
        .cycle_budget(RunBudget::default().max_calls(2))
        .day_budget(RunBudget::default().max_calls(3))
        .build()
        .unwrap();
    // Four analysts at once, three cycles: two days.
    let mut answered = Vec::new();
    for day in [19_800, 19_800, 19_801] {
        llm.begin_cycle(day);
        let calls = (0..4).map(|_| llm.structured::<Signal>(request()));
        let results = futures::future::join_all(calls).await;
        answered.push(results.iter().filter(|r| r.is_ok()).count());
        for err in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                matches!(err, LlmError::BudgetExceeded { window, .. }
                    if *window == BudgetWindow::Cycle || *window == BudgetWindow::Day),
                "{err:?}"
            );
        }
    }
    // The cycle's cap, then the day's remainder, then a new day's cycle.
    assert_eq!(answered, [2, 1, 2]);
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
    let books = llm.accounting();
    assert_eq!(
        (books.run.calls, books.day.calls, books.cycle.calls),
        (5, 2, 2)
    );
}

#[tokio::test]
async fn a_call_given_up_in_flight_is_charged_its_worst_case_and_counts() {
    let (server, provider) = peer(Duration::from_secs(30)).await;
    let llm = Llm::builder()
        .provider(provider)
        .budget(RunBudget::default().max_calls(1))
        .build()
        .unwrap();
    let mut events = llm.subscribe();
    // The caller gives up (a cycle's deadline) while the request is at the server.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        llm.structured::<Signal>(request()),
    )
    .await;
    assert!(gave_up.is_err(), "the call was still in flight");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let books = llm.accounting();
    assert_eq!(books.run.calls, 1, "the vendor may bill it: it counts");
    // Its worst case: the prompt's estimate and the answer limit (200 tokens).
    assert_eq!(books.run.usage.output_tokens, 200);
    assert!(books.run.usage.input_tokens > 0);
    let reported = std::iter::from_fn(|| events.try_recv().ok())
        .any(|e| matches!(e, tradegraph_llm::fallback::LlmEvent::CallFailed { usage, kind: tradegraph_llm::ErrorKind::Timeout, .. } if usage == books.run.usage));
    assert!(reported, "reported like a call, so the usage book agrees");
    let err = llm.structured::<Signal>(request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            LlmError::BudgetExceeded {
                window: BudgetWindow::Run,
                ..
            }
        ),
        "{err:?}"
    );
}
