#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Tokens and cost per call, per provider and per run; the run budget; health as data.

mod common;

use common::*;
use rust_decimal::Decimal;
use tradegraph_llm::budget::{Price, PriceTable, RunBudget};
use tradegraph_llm::health::prometheus;
use tradegraph_llm::{Llm, LlmError, ScriptedProvider};

fn prices() -> PriceTable {
    let mut t = PriceTable::new();
    // $2 per million in, $8 per million out.
    t.insert("p/m", Price::new(Decimal::new(2, 0), Decimal::new(8, 0)));
    t
}

#[tokio::test]
async fn each_call_costs_exactly_and_the_run_adds_up() {
    // ScriptedProvider answers use 10 input and 5 output tokens.
    let llm = Llm::builder()
        .provider(ScriptedProvider::new("p", "m").text(INVALID).text(VALID))
        .provider(ScriptedProvider::new("free", "local").text(VALID))
        .prices(prices())
        .build()
        .unwrap();
    let out = llm.structured::<Signal>(request()).await.unwrap();
    // Two turns (one repair): 20 in, 10 out -> 20*2/1e6 + 10*8/1e6 = 0.00012
    assert_eq!(out.response.usage.total(), 30);
    assert_eq!(out.response.cost, Some(Decimal::new(12, 5)));
    let acc = llm.accounting();
    assert_eq!(acc.run.cost, Decimal::new(12, 5));
    assert_eq!(acc.providers["p"].usage.total(), 30);
    assert_eq!(acc.run.unpriced_calls, 0);
}

#[tokio::test]
async fn a_cost_budget_stops_before_the_next_call() {
    let p = ScriptedProvider::new("p", "m").text(VALID);
    let llm = Llm::builder()
        .provider(p.clone())
        .prices(prices())
        .budget(RunBudget::default().max_cost(Decimal::new(1, 4)))
        .build()
        .unwrap();
    for _ in 0..2 {
        llm.structured::<Signal>(request()).await.unwrap(); // 0.00006 each
    }
    let err = llm.structured::<Signal>(request()).await.unwrap_err();
    assert!(
        matches!(err, LlmError::BudgetExceeded { ref what, .. } if what == "cost 0.00012 of 0.0001"),
        "{err:?}"
    );
    assert_eq!(p.requests().len(), 2);
}

#[tokio::test]
async fn health_is_data_and_prometheus_text() {
    let llm = Llm::builder()
        .provider(
            ScriptedProvider::new("p", "m")
                .error(LlmError::Server {
                    provider: "p".into(),
                    status: 503,
                    message: "x".into(),
                })
                .text(VALID),
        )
        .build()
        .unwrap();
    let _ = llm.complete(&request()).await;
    llm.complete(&request()).await.unwrap();
    let h = &llm.health()[0];
    assert_eq!((h.calls, h.successes, h.failed()), (2, 1, 1));
    assert_eq!(h.latency.count, 1);
    let json = serde_json::to_value(h).unwrap();
    assert_eq!(json["failures"]["server_error"], 1);
    assert_eq!(json["breaker"], "closed");
    let text = prometheus(&llm.health());
    assert!(
        text.contains("tradegraph_llm_calls_total{provider=\"p\"} 2"),
        "{text}"
    );
    assert!(text.contains("tradegraph_llm_failures_total{provider=\"p\",kind=\"server_error\"} 1"));
    assert!(text.contains("tradegraph_llm_latency_seconds_count{provider=\"p\"} 1"));
}

/// A repair turn is another call the vendor bills: it passes the budget before it is sent,
/// as a new call does. Two invalid answers then a valid one, under a cap the first two turns
/// reach: the third turn is not sent.
#[tokio::test]
async fn a_repair_turn_is_not_sent_once_the_budget_is_spent() {
    let p = ScriptedProvider::new("p", "m")
        .text(INVALID)
        .text(INVALID)
        .text(VALID);
    let llm = Llm::builder()
        .provider(p.clone())
        .prices(prices())
        .budget(RunBudget::default().max_cost(Decimal::new(1, 4)))
        .build()
        .unwrap();
    let err = llm.structured::<Signal>(request()).await.unwrap_err();
    assert!(
        matches!(err, LlmError::BudgetExceeded { ref what, .. } if what.starts_with("cost 0.00012 of 0.0001")),
        "{err:?}"
    );
    assert_eq!(p.requests().len(), 2, "the third turn was not sent");
    // What the two turns spent is booked (0.00006 each), nothing reserved is left over.
    let acc = llm.accounting();
    assert_eq!((acc.run.calls, acc.run.cost), (1, Decimal::new(12, 5)));
    // The next call is refused by the budget too, before anything is sent.
    assert!(matches!(
        llm.structured::<Signal>(request()).await,
        Err(LlmError::BudgetExceeded { .. })
    ));
    assert_eq!(p.requests().len(), 2);
}

/// A repair turn is another turn of the same call, not a new call: the call that fills a calls
/// cap is still repaired (the cap counted its own slot against its repair).
#[tokio::test]
async fn the_call_that_fills_a_calls_cap_is_still_repaired() {
    let p = ScriptedProvider::new("p", "m").text(INVALID).text(VALID);
    let llm = Llm::builder()
        .provider(p.clone())
        .prices(prices())
        .budget(RunBudget::default().max_calls(1))
        .build()
        .unwrap();
    let out = llm.structured::<Signal>(request()).await.unwrap();
    assert_eq!((out.repairs, p.requests().len()), (1, 2));
    assert_eq!(llm.accounting().run.calls, 1);
}

/// A half-open probe whose repair turn the budget refuses leaves the breaker closed (the
/// provider answered): the provider is asked again once a new cycle's budget allows (it
/// stayed "probing" for good, passed over as open for the life of the process).
#[tokio::test]
async fn a_probe_whose_repair_the_budget_refuses_does_not_shut_the_provider_out() {
    use tradegraph_llm::fallback::BreakerPolicy;
    let p = ScriptedProvider::new("p", "m")
        .error(LlmError::Server {
            provider: "p".into(),
            status: 503,
            message: "down".into(),
        })
        .text(INVALID)
        .text(VALID);
    let llm = Llm::builder()
        .provider(p.clone())
        .prices(prices())
        .breaker(BreakerPolicy {
            failure_threshold: 1,
            open_for: std::time::Duration::from_millis(10),
            max_open_for: std::time::Duration::from_millis(10),
        })
        // One turn's spend (0.00006) fills the cycle's budget: the repair is refused.
        .cycle_budget(RunBudget::default().max_cost(Decimal::new(5, 5)))
        .build()
        .unwrap();
    llm.begin_cycle(1);
    assert!(llm.structured::<Signal>(request()).await.is_err(), "503");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // The probe answers invalid JSON; its repair turn is refused by the cycle's budget.
    assert!(matches!(
        llm.structured::<Signal>(request()).await,
        Err(LlmError::BudgetExceeded { .. })
    ));
    llm.begin_cycle(2);
    let asked = p.requests().len();
    let out = llm.structured::<Signal>(request()).await;
    assert!(out.is_ok(), "{out:?}");
    assert_eq!(p.requests().len(), asked + 1);
}

/// A repair turn cut at the token limit is billed though its usage is unknown: it is charged
/// its own worst case (the repair prompt carries the broken answer), not the first turn's.
#[tokio::test]
async fn a_repair_turn_billed_unknown_is_charged_its_own_worst_case() {
    let p = ScriptedProvider::new("p", "m")
        .text(INVALID)
        .error(LlmError::Truncated {
            provider: "p".into(),
            max_tokens: Some(200),
        });
    let llm = Llm::builder()
        .provider(p.clone())
        .prices(prices())
        .build()
        .unwrap();
    assert!(llm.structured::<Signal>(request()).await.is_err());
    let asked = p.requests();
    assert_eq!(asked.len(), 2);
    assert!(asked[1].estimated_tokens() > asked[0].estimated_tokens());
    // The first turn's 15 tokens, then the repair turn's worst case.
    assert_eq!(
        llm.accounting().run.usage.total(),
        15 + asked[1].estimated_tokens()
    );
}
