//! The checker with probes written here: concurrency, time limits, the rate limit of an
//! expensive probe, and exactly one event per change; and the `llm` probe on providers
//! written here.

use super::{Checker, HealthConfig, LlmProbe, Outcome, Probe};
use crate::engine::{BotEvent, CheckId, CheckState};
use crate::service::HealthBoard;
use async_trait::async_trait;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use tradegraph_llm::{Llm, LlmError, Provider, Request, Response};

fn config(timeout: Duration) -> HealthConfig {
    HealthConfig {
        every: Duration::from_secs(1),
        timeout,
        ..HealthConfig::default()
    }
}

/// Answers its script, one outcome a run (the last one over and over), and counts its runs.
struct Scripted {
    name: CheckId,
    script: Mutex<VecDeque<Outcome>>,
    runs: Arc<AtomicUsize>,
    every: Option<Duration>,
}

impl Scripted {
    fn new(name: CheckId, script: Vec<Outcome>) -> Self {
        Self {
            name,
            script: Mutex::new(script.into()),
            runs: Arc::new(AtomicUsize::new(0)),
            every: None,
        }
    }
}

#[async_trait]
impl Probe for Scripted {
    fn id(&self) -> CheckId {
        self.name
    }
    async fn check(&self) -> Outcome {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let mut script = self.script.lock().unwrap();
        if script.len() > 1 {
            script.pop_front().unwrap()
        } else {
            script.front().cloned().unwrap()
        }
    }
    fn every(&self) -> Option<Duration> {
        self.every
    }
}

/// Never answers.
struct Hung;

#[async_trait]
impl Probe for Hung {
    fn id(&self) -> CheckId {
        CheckId::Llm
    }
    async fn check(&self) -> Outcome {
        std::future::pending().await
    }
}

/// Answers once `peers` probes are running at the same time.
struct Together(CheckId, Arc<tokio::sync::Barrier>);

#[async_trait]
impl Probe for Together {
    fn id(&self) -> CheckId {
        self.0
    }
    async fn check(&self) -> Outcome {
        self.1.wait().await;
        Outcome::ok("met the others")
    }
}

fn health_events(rx: &mut broadcast::Receiver<BotEvent>) -> Vec<(CheckId, CheckState)> {
    let mut seen = Vec::new();
    while let Ok(event) = rx.try_recv() {
        match event {
            BotEvent::Health(change) => seen.push((change.check, change.state)),
            other => panic!("not a health event: {other:?}"),
        }
    }
    seen
}

#[tokio::test]
async fn one_event_per_change_and_none_while_the_state_stays() {
    use CheckState::{Degraded, Failing, Ok};
    let (tx, mut rx) = broadcast::channel(64);
    let board = HealthBoard::new();
    let flappy = Scripted::new(
        CheckId::Redis,
        vec![
            Outcome::ok("a"),
            Outcome::ok("b"),
            Outcome::failing("c"),
            Outcome::failing("d"),
            Outcome::degraded("e"),
            Outcome::ok("f"),
            Outcome::ok("g"),
        ],
    );
    let down = Scripted::new(CheckId::Mongodb, vec![Outcome::failing("refused")]);
    let mut checker = Checker::new(board.clone(), config(Duration::from_secs(5)))
        .probe(flappy)
        .probe(down)
        .publish_to(tx);
    let mut returned = Vec::new();
    for _ in 0..7 {
        returned.extend(
            checker
                .round()
                .await
                .into_iter()
                .map(|c| (c.check, c.state)),
        );
    }
    let published = health_events(&mut rx);
    // A first result counts only when not ok: `down` (mongodb) once, `flappy` (redis) not
    // for its first ok.
    let flappy: Vec<CheckState> = published
        .iter()
        .filter(|(c, _)| *c == CheckId::Redis)
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(flappy, [Failing, Degraded, Ok]);
    let down: Vec<&(CheckId, CheckState)> = published
        .iter()
        .filter(|(c, _)| *c == CheckId::Mongodb)
        .collect();
    assert_eq!(down, [&(CheckId::Mongodb, Failing)]);
    assert_eq!(returned, published);
    let on_board = board.checks();
    let flappy = on_board.iter().find(|c| c.name == CheckId::Redis).unwrap();
    assert_eq!((flappy.state, flappy.message.as_str()), (Ok, "g"));
}

#[tokio::test(start_paused = true)]
async fn a_probe_that_does_not_answer_in_time_is_failing_saying_so() {
    let board = HealthBoard::new();
    let mut checker = Checker::new(board.clone(), config(Duration::from_millis(50)))
        .probe(Hung)
        .probe(Scripted::new(CheckId::Redis, vec![Outcome::ok("fine")]));
    let changes = checker.round().await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (changes[0].check, changes[0].state),
        (CheckId::Llm, CheckState::Failing)
    );
    assert!(
        changes[0].message.contains("no answer within 50 ms"),
        "{}",
        changes[0].message
    );
    let quick = board
        .checks()
        .into_iter()
        .find(|c| c.name == CheckId::Redis);
    assert_eq!(quick.map(|c| c.state), Some(CheckState::Ok));
}

#[tokio::test]
async fn probes_run_at_the_same_time() {
    // Each answers only once both run: one after the other, both would time out.
    let met = Arc::new(tokio::sync::Barrier::new(2));
    let board = HealthBoard::new();
    let mut checker = Checker::new(board.clone(), config(Duration::from_secs(30)))
        .probe(Together(CheckId::Redis, Arc::clone(&met)))
        .probe(Together(CheckId::Mongodb, met));
    assert!(checker.round().await.is_empty());
    assert!(board.checks().iter().all(|c| c.state == CheckState::Ok));
}

#[tokio::test]
async fn an_expensive_probe_runs_at_most_as_often_as_it_allows_and_its_outcome_stands() {
    let mut expensive = Scripted::new(
        CheckId::Llm,
        vec![Outcome::failing("key rejected"), Outcome::ok("never seen")],
    );
    expensive.every = Some(Duration::from_secs(3600));
    let expensive_runs = Arc::clone(&expensive.runs);
    let cheap = Scripted::new(CheckId::Redis, vec![Outcome::ok("fine")]);
    let cheap_runs = Arc::clone(&cheap.runs);
    let board = HealthBoard::new();
    let mut checker = Checker::new(board.clone(), config(Duration::from_secs(5)))
        .probe(expensive)
        .probe(cheap);
    let mut changes = Vec::new();
    for _ in 0..4 {
        changes.extend(checker.round().await);
    }
    assert_eq!(expensive_runs.load(Ordering::SeqCst), 1);
    assert_eq!(cheap_runs.load(Ordering::SeqCst), 4);
    assert_eq!(changes.len(), 1, "{changes:?}");
    let expensive = board.checks().into_iter().find(|c| c.name == CheckId::Llm);
    assert_eq!(
        expensive.map(|c| (c.state, c.message)),
        Some((CheckState::Failing, "key rejected".to_owned()))
    );
}

#[tokio::test]
async fn the_checker_runs_rounds_until_stopped() {
    let probe = Scripted::new(CheckId::Redis, vec![Outcome::degraded("slow")]);
    let runs = Arc::clone(&probe.runs);
    let board = HealthBoard::new();
    let config = HealthConfig {
        every: Duration::from_millis(10),
        ..HealthConfig::default()
    };
    let task = Checker::new(board.clone(), config).probe(probe).start();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while runs.load(Ordering::SeqCst) < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "3 rounds not run within 30 s: {} runs",
            runs.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.stop().await;
    let stopped_at = runs.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(runs.load(Ordering::SeqCst), stopped_at);
    assert_eq!(board.checks()[0].state, CheckState::Degraded);
}

/// A provider whose key check answers `key` and counts its calls.
#[derive(Debug)]
struct Keyed {
    name: &'static str,
    key: fn(&str) -> Result<(), LlmError>,
    checks: Arc<AtomicUsize>,
}

#[async_trait]
impl Provider for Keyed {
    fn name(&self) -> &str {
        self.name
    }
    fn model(&self) -> &str {
        "m"
    }
    async fn complete(&self, _: &Request) -> Result<Response, LlmError> {
        Err(LlmError::Connect {
            provider: self.name.into(),
            message: "not used here".into(),
        })
    }
    async fn check_key(&self) -> Result<(), LlmError> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        (self.key)(self.name)
    }
}

fn good(_: &str) -> Result<(), LlmError> {
    Ok(())
}

fn rejected(provider: &str) -> Result<(), LlmError> {
    Err(LlmError::Unauthorized {
        provider: provider.into(),
        status: 401,
    })
}

fn keyed(name: &'static str, key: fn(&str) -> Result<(), LlmError>) -> (Keyed, Arc<AtomicUsize>) {
    let checks = Arc::new(AtomicUsize::new(0));
    let provider = Keyed {
        name,
        key,
        checks: Arc::clone(&checks),
    };
    (provider, checks)
}

#[tokio::test]
async fn llm_without_providers_is_rule_mode_and_ok() {
    let outcome = LlmProbe::new(None, Duration::from_secs(300)).check().await;
    assert_eq!(
        outcome,
        Outcome::ok("rule mode: no model providers configured")
    );
}

#[tokio::test]
async fn llm_key_check_is_rate_limited_and_a_rejected_key_fails_the_check() {
    let (bad, bad_checks) = keyed("primary", rejected);
    let (ok, ok_checks) = keyed("backup", good);
    let llm = Llm::builder().provider(bad).provider(ok).build().unwrap();
    let probe = LlmProbe::new(Some(llm), Duration::from_secs(3600));
    for _ in 0..3 {
        let outcome = probe.check().await;
        assert_eq!(outcome.state, CheckState::Degraded, "{outcome:?}");
        assert!(
            outcome.message.contains("primary (m): key check failed"),
            "{outcome:?}"
        );
    }
    assert_eq!(bad_checks.load(Ordering::SeqCst), 1);
    assert_eq!(ok_checks.load(Ordering::SeqCst), 1);

    let (only, _) = keyed("only", rejected);
    let llm = Llm::builder().provider(only).build().unwrap();
    let outcome = LlmProbe::new(Some(llm), Duration::from_secs(3600))
        .check()
        .await;
    assert_eq!(outcome.state, CheckState::Failing, "{outcome:?}");
    assert!(
        outcome.message.contains("every model provider is down"),
        "{outcome:?}"
    );

    let (fine, _) = keyed("fine", good);
    let llm = Llm::builder().provider(fine).build().unwrap();
    let outcome = LlmProbe::new(Some(llm), Duration::from_secs(3600))
        .check()
        .await;
    assert_eq!(outcome.state, CheckState::Ok, "{outcome:?}");
}

/// A local server in OpenAI's format whose models listing (the key check) answers after
/// `delay`.
async fn models_server(delay: Duration) -> wiremock::MockServer {
    use wiremock::matchers::{method, path_regex};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("GET"))
        .and(path_regex("/models$"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(
                    serde_json::json!({"object": "list", "data": [{"id": "m", "object": "model"}]}),
                )
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    server
}

fn compatible(name: &str, server: &wiremock::MockServer) -> tradegraph_llm::openai::OpenAi {
    let url = format!("{}/v1", server.uri());
    tradegraph_llm::openai::OpenAi::compatible(name, &url, Some("test-key".into())).unwrap()
}

#[tokio::test]
async fn a_slow_provider_is_unknown_alone_and_does_not_take_the_others_down() {
    let fast = models_server(Duration::ZERO).await;
    let slow = models_server(Duration::from_secs(600)).await;
    let llm = Llm::builder()
        .provider(compatible("fast", &fast))
        .provider(compatible("slow", &slow))
        .build()
        .unwrap();
    let probe =
        LlmProbe::new(Some(llm), Duration::from_secs(3600)).key_limit(Duration::from_secs(2));
    // The checker gives the probe more than the key limit: the results come in.
    let board = HealthBoard::new();
    let mut checker = Checker::new(board.clone(), config(Duration::from_secs(30))).probe(probe);
    checker.round().await;
    let llm = board
        .checks()
        .into_iter()
        .find(|c| c.name == CheckId::Llm)
        .unwrap();
    assert_eq!(llm.state, CheckState::Degraded, "{llm:?}");
    assert!(
        llm.message
            .contains("slow (default): key check did not answer within 2000 ms"),
        "{llm:?}"
    );
    assert!(
        llm.message.contains("fast (default): breaker closed"),
        "{llm:?}"
    );
    assert!(
        !llm.message.contains("fast (default): key check"),
        "{llm:?}"
    );
    // The next rounds (no key check due) keep each provider's result.
    checker.round().await;
    let again = board
        .checks()
        .into_iter()
        .find(|c| c.name == CheckId::Llm)
        .unwrap();
    assert_eq!((again.state, again.message), (llm.state, llm.message));
}

#[tokio::test]
async fn a_probe_dropped_at_the_checkers_limit_keeps_the_results_that_came_in() {
    let fast = models_server(Duration::ZERO).await;
    let slow = models_server(Duration::from_secs(600)).await;
    let llm = Llm::builder()
        .provider(compatible("fast", &fast))
        .provider(compatible("slow", &slow))
        .build()
        .unwrap();
    // The key limit is longer than the checker's: the probe is dropped with `slow` unanswered.
    let probe =
        LlmProbe::new(Some(llm), Duration::from_secs(3600)).key_limit(Duration::from_secs(600));
    let board = HealthBoard::new();
    let mut checker = Checker::new(board.clone(), config(Duration::from_secs(2))).probe(probe);
    checker.round().await;
    let dropped = board
        .checks()
        .into_iter()
        .find(|c| c.name == CheckId::Llm)
        .unwrap();
    assert_eq!(
        dropped.state,
        CheckState::Failing,
        "the checker's limit: {dropped:?}"
    );
    // The next round (no key check due) reads what came in: `fast` ok, `slow` unknown.
    checker.round().await;
    let llm = board
        .checks()
        .into_iter()
        .find(|c| c.name == CheckId::Llm)
        .unwrap();
    assert_eq!(llm.state, CheckState::Degraded, "{llm:?}");
    assert!(
        llm.message
            .contains("slow (default): no key check result yet"),
        "{llm:?}"
    );
    assert!(
        llm.message.contains("fast (default): breaker closed"),
        "{llm:?}"
    );
}

#[test]
fn a_huge_round_interval_does_not_overflow_the_broker_quiet_time() {
    let huge = HealthConfig {
        every: Duration::from_secs(u64::MAX),
        ..HealthConfig::default()
    };
    assert_eq!(huge.broker_quiet_after(), Duration::MAX);
}

/// A local server in OpenAI's format whose models listing (the key check) answers `status`.
async fn models_failing(status: u16) -> wiremock::MockServer {
    use wiremock::matchers::{method, path_regex};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("GET"))
        .and(path_regex("/models$"))
        .respond_with(
            wiremock::ResponseTemplate::new(status)
                .set_body_json(serde_json::json!({"error": {"message": "no"}})),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn only_a_rejected_key_is_down_other_key_check_errors_are_unknown() {
    // One provider: a server error (or a network blip) in its key check must not fail `llm`
    // (and `/readyz`) until the next check minutes later; a rejected key does.
    let blip = models_failing(500).await;
    let llm = Llm::builder()
        .provider(compatible("blip", &blip))
        .build()
        .unwrap();
    let outcome = LlmProbe::new(Some(llm), Duration::from_secs(3600))
        .check()
        .await;
    assert_eq!(outcome.state, CheckState::Degraded, "{outcome:?}");
    assert!(
        outcome
            .message
            .contains("blip (default): key check unknown"),
        "{outcome:?}"
    );

    let rejected = models_failing(401).await;
    let llm = Llm::builder()
        .provider(compatible("rejected", &rejected))
        .build()
        .unwrap();
    let outcome = LlmProbe::new(Some(llm), Duration::from_secs(3600))
        .check()
        .await;
    assert_eq!(outcome.state, CheckState::Failing, "{outcome:?}");
    assert!(
        outcome
            .message
            .contains("rejected (default): key check failed"),
        "{outcome:?}"
    );
}
