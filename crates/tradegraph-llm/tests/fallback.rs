#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The fallback chain: failover classes, disabled keys, circuit breakers, rate and concurrency
//! limits, selection and events.

mod common;

use common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tradegraph_llm::fallback::{BreakerPolicy, BreakerState, Limits, LlmEvent, Weighted};
use tradegraph_llm::{
    ErrorKind, Llm, LlmError, ProviderOptions, Repair, Request, ScriptedProvider,
};

fn overloaded(p: &str) -> LlmError {
    LlmError::Overloaded {
        provider: p.into(),
        status: 529,
    }
}

fn quick_breaker() -> BreakerPolicy {
    BreakerPolicy {
        failure_threshold: 2,
        open_for: Duration::from_millis(150),
        max_open_for: Duration::from_secs(1),
    }
}

/// Collects events through the callback.
fn recorder() -> (
    Arc<Mutex<Vec<LlmEvent>>>,
    impl Fn(&LlmEvent) + Send + Sync + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |e: &LlmEvent| {
        sink.lock().unwrap().push(e.clone())
    })
}

#[tokio::test]
async fn the_primary_down_the_backup_answers() {
    let primary = ScriptedProvider::new("primary", "m1").error(overloaded("primary"));
    let backup = ScriptedProvider::new("backup", "m2").text(VALID);
    let (events, cb) = recorder();
    let llm = Llm::builder()
        .provider(primary.clone())
        .provider(backup.clone())
        .on_event(cb)
        .build()
        .unwrap();
    let out = llm.structured::<Signal>(request()).await.unwrap();
    assert_eq!(
        (out.value, out.response.provider.as_str()),
        (valid(), "backup")
    );
    assert_eq!((primary.requests().len(), backup.requests().len()), (1, 1));
    let events = events.lock().unwrap();
    assert!(
        matches!(&events[0], LlmEvent::CallFailed { provider, kind: ErrorKind::Overloaded, .. } if provider == "primary"),
        "{events:?}"
    );
    let events = &events[1..];
    assert!(
        matches!(&events[0], LlmEvent::Failover { provider, kind: ErrorKind::Overloaded, .. } if provider == "primary"),
        "{events:?}"
    );
    assert!(
        matches!(&events[1], LlmEvent::Call { provider, cached: false, .. } if provider == "backup")
    );
    let health = llm.health();
    assert_eq!(
        (health[0].calls, health[0].failed(), health[1].successes),
        (1, 1, 1)
    );
    assert!(health[0].success_rate < 1.0);
}

#[tokio::test]
async fn a_bad_request_does_not_fail_over() {
    let primary = ScriptedProvider::new("primary", "m1").error(LlmError::BadRequest {
        provider: "primary".into(),
        status: 400,
        message: "unknown parameter".into(),
    });
    let backup = ScriptedProvider::new("backup", "m2").text(VALID);
    let llm = Llm::builder()
        .provider(primary)
        .provider(backup.clone())
        .build()
        .unwrap();
    let err = llm.structured::<Signal>(request()).await.unwrap_err();
    assert!(matches!(err, LlmError::BadRequest { .. }), "{err:?}");
    assert!(backup.requests().is_empty());
}

#[tokio::test]
async fn a_rejected_key_disables_the_provider_and_raises_an_alert() {
    let primary = ScriptedProvider::new("primary", "m1").error(LlmError::Unauthorized {
        provider: "primary".into(),
        status: 401,
    });
    let backup = ScriptedProvider::new("backup", "m2").text(VALID);
    let llm = Llm::builder()
        .provider(primary.clone())
        .provider(backup)
        .build()
        .unwrap();
    let mut alerts = llm.subscribe();
    llm.structured::<Signal>(request()).await.unwrap();
    llm.structured::<Signal>(request()).await.unwrap();
    assert_eq!(primary.requests().len(), 1, "never asked again");
    assert!(llm.health()[0].disabled);
    let mut disabled = 0;
    while let Ok(e) = alerts.try_recv() {
        if matches!(e, LlmEvent::ProviderDisabled { ref provider, status: 401 } if provider == "primary")
        {
            disabled += 1;
        }
    }
    assert_eq!(disabled, 1, "one alert");
}

#[tokio::test]
async fn the_breaker_opens_half_opens_and_closes_again() {
    let primary = ScriptedProvider::new("primary", "m1")
        .error(overloaded("primary"))
        .error(overloaded("primary"))
        .text(VALID);
    let backup = ScriptedProvider::new("backup", "m2").text(VALID);
    let (events, cb) = recorder();
    let llm = Llm::builder()
        .provider(primary.clone())
        .provider(backup.clone())
        .breaker(quick_breaker())
        .on_event(cb)
        .build()
        .unwrap();
    llm.structured::<Signal>(request()).await.unwrap();
    llm.structured::<Signal>(request()).await.unwrap();
    assert_eq!(llm.health()[0].breaker, BreakerState::Open);
    // Open: the primary is skipped without a call.
    llm.structured::<Signal>(request()).await.unwrap();
    assert_eq!(primary.requests().len(), 2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Half-open: one probe, it succeeds, the breaker closes.
    let out = llm.structured::<Signal>(request()).await.unwrap();
    assert_eq!(out.response.provider, "primary");
    assert_eq!(llm.health()[0].breaker, BreakerState::Closed);
    let kinds: Vec<&'static str> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            LlmEvent::CircuitOpened { .. } => Some("opened"),
            LlmEvent::CircuitHalfOpen { .. } => Some("half-open"),
            LlmEvent::CircuitClosed { .. } => Some("closed"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["opened", "half-open", "closed"]);
    assert_eq!(backup.requests().len(), 3);
}

#[tokio::test]
async fn a_failed_probe_reopens_the_breaker_for_longer() {
    let primary = ScriptedProvider::new("primary", "m1").error(overloaded("primary"));
    let backup = ScriptedProvider::new("backup", "m2").text(VALID);
    let (events, cb) = recorder();
    let llm = Llm::builder()
        .provider(primary.clone())
        .provider(backup)
        .breaker(quick_breaker())
        .on_event(cb)
        .build()
        .unwrap();
    llm.complete(&request()).await.unwrap();
    llm.complete(&request()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    llm.complete(&request()).await.unwrap();
    assert_eq!(primary.requests().len(), 3);
    let opens: Vec<Duration> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            LlmEvent::CircuitOpened { retry_in, .. } => Some(*retry_in),
            _ => None,
        })
        .collect();
    assert_eq!(
        opens,
        [Duration::from_millis(150), Duration::from_millis(300)]
    );
}

#[tokio::test]
async fn a_flapping_primary_never_fails_a_call() {
    let mut primary = ScriptedProvider::new("primary", "m1");
    for i in 0..12 {
        primary = if i % 2 == 0 {
            primary.error(LlmError::Server {
                provider: "primary".into(),
                status: 502,
                message: "bad gateway".into(),
            })
        } else {
            primary.text(VALID)
        };
    }
    let backup = ScriptedProvider::new("backup", "m2").text(VALID);
    let llm = Llm::builder()
        .provider(primary)
        .provider(backup)
        .breaker(BreakerPolicy {
            failure_threshold: 3,
            ..quick_breaker()
        })
        .build()
        .unwrap();
    for _ in 0..10 {
        llm.structured::<Signal>(request()).await.unwrap();
    }
    let h = llm.health();
    assert_eq!(
        h[0].breaker,
        BreakerState::Closed,
        "alternating failures never reach the threshold"
    );
    assert!(h[1].successes >= 4);
}

#[tokio::test]
async fn retry_after_keeps_the_provider_out_for_that_long() {
    let primary = ScriptedProvider::new("primary", "m1")
        .error(LlmError::RateLimited {
            provider: "primary".into(),
            retry_after: Some(Duration::from_millis(200)),
        })
        .text(VALID);
    let backup = ScriptedProvider::new("backup", "m2").text(VALID);
    let llm = Llm::builder()
        .provider(primary.clone())
        .provider(backup)
        .build()
        .unwrap();
    llm.complete(&request()).await.unwrap();
    llm.complete(&request()).await.unwrap();
    assert_eq!(primary.requests().len(), 1, "honoured Retry-After");
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(llm.complete(&request()).await.unwrap().provider, "primary");
}

#[tokio::test]
async fn output_still_invalid_after_repair_fails_over() {
    let primary = ScriptedProvider::new("primary", "m1").text(INVALID);
    let backup = ScriptedProvider::new("backup", "m2").text(VALID);
    let llm = Llm::builder()
        .provider(primary.clone())
        .provider(backup)
        .repair(Repair::new(1))
        .build()
        .unwrap();
    let out = llm.structured::<Signal>(request()).await.unwrap();
    assert_eq!(out.response.provider, "backup");
    assert_eq!(primary.requests().len(), 2, "first answer and one repair");
    // The repair turns' tokens are accounted.
    assert_eq!(llm.accounting().providers["primary"].usage.total(), 30);
}

#[tokio::test]
async fn everything_failing_lists_every_attempt() {
    let a = ScriptedProvider::new("a", "m").error(LlmError::Timeout {
        provider: "a".into(),
        after: Duration::from_secs(1),
    });
    let b = ScriptedProvider::new("b", "m").error(LlmError::Connect {
        provider: "b".into(),
        message: "connection refused".into(),
    });
    let llm = Llm::builder().provider(a).provider(b).build().unwrap();
    match llm.complete(&request()).await.unwrap_err() {
        LlmError::AllFailed { attempts } => {
            let who: Vec<_> = attempts
                .iter()
                .map(|a| (a.provider.as_str(), a.error.kind()))
                .collect();
            assert_eq!(
                who,
                [("a", ErrorKind::Timeout), ("b", ErrorKind::Unreachable)]
            );
        }
        other => panic!("{other:?}"),
    }
    let solo = Llm::builder()
        .provider(ScriptedProvider::new("solo", "m").error(overloaded("solo")))
        .build()
        .unwrap();
    assert!(
        matches!(
            solo.complete(&request()).await.unwrap_err(),
            LlmError::Overloaded { .. }
        ),
        "a chain of one returns its error"
    );
}

#[tokio::test]
async fn rate_limits_spread_calls_across_providers() {
    let primary = ScriptedProvider::new("primary", "m1").text(VALID);
    let backup = ScriptedProvider::new("backup", "m2").text(VALID);
    let llm = Llm::builder()
        .provider_with(
            primary.clone(),
            ProviderOptions {
                limits: Limits::new().requests_per_minute(2),
                ..Default::default()
            },
        )
        .provider(backup.clone())
        .build()
        .unwrap();
    for _ in 0..5 {
        llm.complete(&request()).await.unwrap();
    }
    assert_eq!((primary.requests().len(), backup.requests().len()), (2, 3));
}

#[tokio::test]
async fn concurrent_callers_spill_over_the_concurrency_limit() {
    let primary = ScriptedProvider::new("primary", "m1")
        .text(VALID)
        .delay(Duration::from_millis(100));
    let backup = ScriptedProvider::new("backup", "m2")
        .text(VALID)
        .delay(Duration::from_millis(100));
    let llm = Llm::builder()
        .provider_with(
            primary.clone(),
            ProviderOptions {
                limits: Limits::new().max_concurrency(1),
                ..Default::default()
            },
        )
        .provider_with(
            backup.clone(),
            ProviderOptions {
                limits: Limits::new().max_concurrency(1),
                ..Default::default()
            },
        )
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let calls = (0..4).map(|_| {
        let llm = llm.clone();
        async move { llm.complete(&request()).await.unwrap().provider }
    });
    let answered = futures::future::join_all(calls).await;
    assert_eq!(
        answered.iter().filter(|p| *p == "primary").count(),
        2,
        "{answered:?}"
    );
    assert_eq!(
        answered.iter().filter(|p| *p == "backup").count(),
        2,
        "{answered:?}"
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_millis(600),
        "queued, two at a time: {took:?}"
    );
}

#[tokio::test]
async fn weighted_selection_moves_load_to_the_healthy_provider() {
    let mut flaky = ScriptedProvider::new("flaky", "m1");
    for _ in 0..200 {
        flaky = flaky.error(LlmError::Server {
            provider: "flaky".into(),
            status: 500,
            message: "x".into(),
        });
    }
    let steady = ScriptedProvider::new("steady", "m2").text(VALID);
    let llm = Llm::builder()
        .provider(flaky.clone())
        .provider(steady.clone())
        .selection(Weighted::seeded(42))
        .breaker(BreakerPolicy {
            failure_threshold: 1000,
            ..BreakerPolicy::default()
        })
        .build()
        .unwrap();
    for _ in 0..100 {
        llm.complete(&request()).await.unwrap();
    }
    let asked_flaky = flaky.requests().len();
    assert!(
        asked_flaky < 40,
        "the failing provider is tried first less and less: {asked_flaky}"
    );
}

#[tokio::test]
async fn the_budget_stops_the_run_cleanly() {
    let p = ScriptedProvider::new("p", "m").text(VALID);
    let (events, cb) = recorder();
    let llm = Llm::builder()
        .provider(p.clone())
        .budget(tradegraph_llm::budget::RunBudget::default().max_tokens(30))
        .on_event(cb)
        .build()
        .unwrap();
    llm.complete(&request()).await.unwrap();
    llm.complete(&request()).await.unwrap();
    let err = llm.complete(&request()).await.unwrap_err();
    assert!(matches!(err, LlmError::BudgetExceeded { .. }), "{err:?}");
    assert_eq!(p.requests().len(), 2);
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, LlmEvent::BudgetExceeded { .. })));
    llm.new_run();
    llm.complete(&request()).await.unwrap();
}

#[tokio::test]
async fn duplicate_names_and_empty_chains_are_refused() {
    assert!(matches!(
        Llm::builder().build().unwrap_err(),
        LlmError::NoProviders
    ));
    let err = Llm::builder()
        .provider(ScriptedProvider::new("x", "m"))
        .provider(ScriptedProvider::new("x", "m"))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("two providers are named `x`"));
    let _ = Request::default();
}

#[tokio::test]
async fn a_rate_limited_chain_waits_for_the_refill_within_bounds() {
    let p = ScriptedProvider::new("p", "m").text(VALID);
    // 600 a minute: one every 100 ms.
    let llm = Llm::builder()
        .provider_with(
            p.clone(),
            ProviderOptions {
                limits: Limits::new().requests_per_minute(600),
                ..Default::default()
            },
        )
        .build()
        .unwrap();
    for _ in 0..600 {
        llm.complete(&request()).await.unwrap();
    }
    let started = std::time::Instant::now();
    llm.complete(&request()).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(60) && waited < Duration::from_millis(400),
        "{waited:?}"
    );

    let impatient = Llm::builder()
        .provider_with(
            ScriptedProvider::new("q", "m").text(VALID),
            ProviderOptions {
                limits: Limits::new().requests_per_minute(1),
                ..Default::default()
            },
        )
        .max_queue_wait(Duration::from_millis(50))
        .build()
        .unwrap();
    impatient.complete(&request()).await.unwrap();
    let err = impatient.complete(&request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            LlmError::RateLimited {
                retry_after: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
}

/// Waits and limits past what a clock or a semaphore holds (a configuration's `1e19` seconds,
/// a huge `max_concurrency`) are "practically forever", not a panic: the queue still waits
/// for the rate limit, the breaker still opens, the client still builds.
#[tokio::test(start_paused = true)]
async fn absurd_waits_and_limits_do_not_panic() {
    let queued = Llm::builder()
        .provider_with(
            ScriptedProvider::new("q", "m").text(VALID).text(VALID),
            ProviderOptions {
                limits: Limits::new()
                    .requests_per_minute(1)
                    .max_concurrency(usize::MAX),
                ..Default::default()
            },
        )
        .max_queue_wait(Duration::MAX)
        .build()
        .unwrap();
    queued.complete(&request()).await.unwrap();
    // Waits (in paused time) for the minute's bucket to refill.
    queued.complete(&request()).await.unwrap();

    let primary = ScriptedProvider::new("primary", "m1")
        .error(overloaded("primary"))
        .error(overloaded("primary"));
    let backup = ScriptedProvider::new("backup", "m2")
        .text(VALID)
        .text(VALID);
    let llm = Llm::builder()
        .provider(primary)
        .provider(backup)
        .breaker(BreakerPolicy {
            failure_threshold: 2,
            open_for: Duration::MAX,
            max_open_for: Duration::MAX,
        })
        .build()
        .unwrap();
    llm.complete(&request()).await.unwrap();
    llm.complete(&request()).await.unwrap();
    assert!(
        matches!(llm.health()[0].breaker, BreakerState::Open),
        "{:?}",
        llm.health()[0].breaker
    );
}
