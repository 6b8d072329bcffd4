//! The rules, the cool-down and the webhooks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::rule::{self, Rule, Signal};
use super::sink::{webhook, Sink, WebhookSink};
use super::*;
use crate::engine::{
    AlertEvent, AlertKind, BotEvent, CheckState, DecisionEvent, FeedState, HealthChange, Severity,
    Trading,
};
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tradegraph_core::backoff::Backoff;
use tradegraph_core::risk::{RiskReason, VolatilityTrigger};
use tradegraph_core::Timestamp;
use tradegraph_llm::budget::BudgetWindow;
use tradegraph_llm::fallback::LlmEvent;
use tradegraph_llm::Secret;
use tradegraph_store::StoreEvent;

const T0: i64 = 1_704_103_200;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_secs(T0 + secs)
}

/// A clock the test sets: the wall clock and the monotonic one move together unless a test
/// sets the wall clock alone.
struct ManualClock {
    wall: Mutex<i64>,
    mono: Mutex<i64>,
    start: std::time::Instant,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self {
            wall: Mutex::new(0),
            mono: Mutex::new(0),
            start: std::time::Instant::now(),
        }
    }
}

impl ManualClock {
    fn set(&self, secs: i64) {
        *self.wall.lock().unwrap() = secs;
        *self.mono.lock().unwrap() = secs;
    }

    /// Sets the wall clock alone (someone set the system's time).
    fn set_wall(&self, secs: i64) {
        *self.wall.lock().unwrap() = secs;
    }

    /// Moves the monotonic clock alone.
    fn set_mono(&self, secs: i64) {
        *self.mono.lock().unwrap() = secs;
    }
}

impl AlertClock for ManualClock {
    fn now(&self) -> Timestamp {
        at(*self.wall.lock().unwrap())
    }

    fn instant(&self) -> std::time::Instant {
        let secs = u64::try_from(*self.mono.lock().unwrap()).unwrap();
        self.start + Duration::from_secs(secs)
    }
}

fn signals(rule: &mut dyn Rule, input: &Input<'_>) -> Vec<Signal> {
    let mut out = Vec::new();
    rule.observe(input, at(0), &mut out);
    out
}

fn raised(out: &[Signal]) -> Vec<(AlertKind, String, Severity)> {
    out.iter()
        .filter_map(|s| match s {
            Signal::Raise(a) => Some((a.kind, a.key.clone(), a.severity)),
            Signal::Resolve(_) => None,
        })
        .collect()
}

fn resolved(out: &[Signal]) -> Vec<String> {
    out.iter()
        .filter_map(|s| match s {
            Signal::Resolve(a) => Some(a.key.clone()),
            Signal::Raise(_) => None,
        })
        .collect()
}

fn health(check: &str, state: CheckState) -> BotEvent {
    BotEvent::Health(HealthChange {
        check: crate::engine::CheckId::from_name(check).expect("a check's name"),
        state,
        message: "connection refused".into(),
        at: at(0),
    })
}

fn decision(risk: Vec<RiskReason>) -> BotEvent {
    BotEvent::Decision(DecisionEvent {
        decision_id: "BTCUSDT-1".into(),
        seq: 1,
        at: at(0),
        action: Some("BUY".into()),
        confidence: Some(0.8),
        verdict: None,
        reasons: risk.iter().map(ToString::to_string).collect(),
        risk,
        refused: None,
        orders: 0,
        gate: None,
    })
}

#[test]
fn health_changes_raise_by_check_and_recover() {
    let mut rule = rule::HealthRule;
    for (check, kind, severity) in [
        ("redis", AlertKind::StoreDown, Severity::Critical),
        ("mongodb", AlertKind::StoreDown, Severity::Critical),
        ("feed", AlertKind::FeedStale, Severity::Warning),
        ("llm", AlertKind::ApiFailures, Severity::Warning),
        ("broker", AlertKind::ApiFailures, Severity::Warning),
    ] {
        let out = signals(&mut rule, &Input::Bot(&health(check, CheckState::Failing)));
        assert_eq!(raised(&out), [(kind, format!("{kind}:{check}"), severity)]);
        let out = signals(&mut rule, &Input::Bot(&health(check, CheckState::Ok)));
        assert_eq!(
            (raised(&out).len(), resolved(&out)),
            (0, vec![format!("{kind}:{check}")])
        );
    }
    for quiet in [
        health("redis", CheckState::Degraded),
        health("engine", CheckState::Failing),
        BotEvent::KillSwitch {
            engaged: true,
            at: at(0),
        },
    ] {
        assert!(
            signals(&mut rule, &Input::Bot(&quiet)).is_empty(),
            "{quiet:?}"
        );
    }
    let stale = BotEvent::Feed {
        state: FeedState::Stale,
        detail: None,
        at: at(0),
    };
    assert_eq!(
        raised(&signals(&mut rule, &Input::Bot(&stale)))[0].0,
        AlertKind::FeedStale
    );
}

#[test]
fn the_guards_typed_reasons_raise_and_active_trading_resolves() {
    let mut rule = rule::RiskRule;
    let breaker = RiskReason::CircuitBreaker {
        trigger: VolatilityTrigger::BarRange,
        value: 4.0,
        limit: 3.0,
        until: at(900),
    };
    let daily = RiskReason::DailyLossLimit {
        loss_pct: Decimal::from(3),
        limit_pct: Decimal::from(2),
    };
    let size = RiskReason::PositionLimitReached {
        exposure_pct: Decimal::from(10),
        max_pct: Decimal::from(10),
    };
    let open = RiskReason::MaxOpenPositions { open: 1, max: 1 };
    let out = signals(
        &mut rule,
        &Input::Bot(&decision(vec![breaker, daily, size, open])),
    );
    let kinds: Vec<_> = raised(&out)
        .into_iter()
        .map(|(k, key, _)| (k, key))
        .collect();
    assert_eq!(
        kinds,
        [
            (AlertKind::CircuitBreaker, "circuit_breaker".to_owned()),
            (AlertKind::DailyLossLimit, "daily_loss_limit".to_owned()),
            (AlertKind::PositionLimit, "position_limit:size".to_owned()),
            (
                AlertKind::PositionLimit,
                "position_limit:open_positions".to_owned()
            ),
        ]
    );
    let calm = decision(vec![
        RiskReason::KillSwitch,
        RiskReason::CircuitBreakerCooldown { until: at(900) },
        RiskReason::PositionCapped {
            allowed: tradegraph_core::Money::from(100),
            max_pct: Decimal::from(10),
        },
    ]);
    assert!(
        signals(&mut rule, &Input::Bot(&calm)).is_empty(),
        "no alert for these (a cap is the guard working)"
    );
    let active = BotEvent::TradingState {
        state: Trading::Active,
        reason: None,
        at: at(0),
    };
    assert_eq!(
        resolved(&signals(&mut rule, &Input::Bot(&active))),
        ["circuit_breaker", "daily_loss_limit"]
    );
    let halted = BotEvent::TradingState {
        state: Trading::Halted,
        reason: Some("daily loss".into()),
        at: at(0),
    };
    assert!(
        signals(&mut rule, &Input::Bot(&halted)).is_empty(),
        "raised from the typed reason, not the text"
    );
}

#[test]
fn store_and_model_events_raise_only_what_the_checks_do_not_see() {
    let mut store = rule::StoreRule;
    let down = StoreEvent::Unavailable {
        backend: "redis",
        operation: "put_tick",
        error: "refused".into(),
    };
    let back = StoreEvent::Recovered {
        backend: "redis",
        outage: Duration::from_secs(5),
        replayed: 3,
    };
    for event in [&down, &back] {
        assert!(
            signals(&mut store, &Input::Store(event)).is_empty(),
            "whether redis answers is the health check's fact: {event:?}"
        );
    }
    let spilling = StoreEvent::Spilling {
        path: "/tmp/spill.jsonl".into(),
    };
    assert_eq!(
        raised(&signals(&mut store, &Input::Store(&spilling))),
        [(
            AlertKind::StoreDown,
            "store_down:spill".into(),
            Severity::Critical
        )]
    );

    let mut llm = rule::LlmRule;
    for provider_event in [
        LlmEvent::ProviderDisabled {
            provider: "openai".into(),
            status: 401,
        },
        LlmEvent::CircuitHalfOpen {
            provider: "openai".into(),
        },
    ] {
        assert!(
            signals(&mut llm, &Input::Llm(&provider_event)).is_empty(),
            "whether the providers answer is the llm check's fact: {provider_event:?}"
        );
    }
    for window in [BudgetWindow::Run, BudgetWindow::Day] {
        let budget = LlmEvent::BudgetExceeded {
            window,
            what: "cost 1 of 1".into(),
        };
        assert_eq!(
            raised(&signals(&mut llm, &Input::Llm(&budget)))[0].1,
            "api_failures:llm_budget",
            "{window}"
        );
    }
    let cycle = LlmEvent::BudgetExceeded {
        window: BudgetWindow::Cycle,
        what: "2 calls of 2".into(),
    };
    assert!(
        signals(&mut llm, &Input::Llm(&cycle)).is_empty(),
        "a cycle's cap is not an incident"
    );
    assert!(
        signals(&mut llm, &Input::Store(&down)).is_empty(),
        "only its own input"
    );
}

#[test]
fn a_refused_key_raises_one_alert_not_two() {
    let mut alerter = Alerter::new(
        rule::standard(&AlertsConfig::default()),
        Duration::from_secs(900),
        Arc::new(ManualClock::default()),
    );
    let disabled = LlmEvent::ProviderDisabled {
        provider: "openai".into(),
        status: 401,
    };
    let mut keys: Vec<String> = alerter
        .observe(&Input::Llm(&disabled))
        .into_iter()
        .map(|a| a.key)
        .collect();
    keys.extend(
        alerter
            .observe(&Input::Bot(&health("llm", CheckState::Failing)))
            .into_iter()
            .map(|a| a.key),
    );
    assert_eq!(keys, ["api_failures:llm"]);
}

#[test]
fn sampled_figures_raise_beyond_their_limits_only() {
    let config = AlertsConfig {
        max_memory_mb: 100,
        max_errors_per_minute: 5,
        min_win_rate: 0.4,
        min_sharpe: 0.5,
        max_drawdown_pct: 10.0,
        ..AlertsConfig::default()
    };
    let mut rules = rule::Threshold::standard(&config);
    let bad = Sample {
        memory_mb: Some(150.0),
        errors_per_minute: Some(6.0),
        win_rate: Some(0.3),
        sharpe: Some(0.1),
        drawdown_pct: Some(12.0),
    };
    let good = Sample {
        memory_mb: Some(50.0),
        errors_per_minute: Some(5.0),
        win_rate: Some(0.4),
        sharpe: Some(0.5),
        drawdown_pct: Some(10.0),
    };
    let mut kinds = Vec::new();
    for rule in &mut rules {
        let out = signals(rule, &Input::Sample(&bad));
        kinds.extend(raised(&out).into_iter().map(|(k, _, _)| k));
        let out = signals(rule, &Input::Sample(&good));
        assert!(raised(&out).is_empty(), "at the limit is fine");
        assert!(
            signals(rule, &Input::Sample(&Sample::default())).is_empty(),
            "not measured"
        );
    }
    assert_eq!(
        kinds,
        [
            AlertKind::Memory,
            AlertKind::ErrorRate,
            AlertKind::WinRateFloor,
            AlertKind::SharpeFloor,
            AlertKind::Drawdown
        ]
    );
}

#[test]
fn the_same_key_goes_out_once_per_cooldown_recovery_or_not() {
    let clock = Arc::new(ManualClock::default());
    let mut alerter = Alerter::new(
        rule::standard(&AlertsConfig::default()),
        Duration::from_secs(900),
        clock.clone(),
    );
    let redis_down = health("redis", CheckState::Failing);
    let mongo_down = health("mongodb", CheckState::Failing);
    let keys = |alerts: Vec<AlertEvent>| {
        alerts
            .into_iter()
            .map(|a| (a.key, a.recovered))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(alerter.observe(&Input::Bot(&redis_down))),
        [("store_down:redis".to_owned(), false)]
    );
    clock.set(60);
    assert!(
        alerter.observe(&Input::Bot(&redis_down)).is_empty(),
        "within the cool-down"
    );
    assert_eq!(
        keys(alerter.observe(&Input::Bot(&mongo_down))),
        [("store_down:mongodb".to_owned(), false)],
        "another key is not held"
    );
    clock.set(899);
    assert!(alerter.observe(&Input::Bot(&redis_down)).is_empty());
    clock.set(900);
    assert_eq!(
        alerter.observe(&Input::Bot(&redis_down)).len(),
        1,
        "the cool-down is over"
    );
    clock.set(910);
    let recovered = alerter.observe(&Input::Bot(&health("redis", CheckState::Ok)));
    assert_eq!(
        keys(recovered.clone()),
        [("store_down:redis".to_owned(), true)]
    );
    assert_eq!(recovered[0].severity, Severity::Info);
    assert!(
        alerter
            .observe(&Input::Bot(&health("redis", CheckState::Ok)))
            .is_empty(),
        "one recovery"
    );
    clock.set(911);
    assert!(
        alerter.observe(&Input::Bot(&redis_down)).is_empty(),
        "a recovery does not restart the cool-down: raised at 900, held until 1800"
    );
    clock.set(1799);
    assert!(alerter
        .observe(&Input::Sample(&Sample::default()))
        .is_empty());
    clock.set(1800);
    assert_eq!(
        keys(alerter.observe(&Input::Sample(&Sample::default()))),
        [("store_down:redis".to_owned(), false)],
        "the failure held back since 911 goes out once the cool-down is over (the checker \
         sends a failure once, not again)"
    );
    assert!(
        alerter
            .observe(&Input::Bot(&health("feed", CheckState::Ok)))
            .is_empty(),
        "no recovery of what was never raised"
    );
}

#[test]
fn a_failure_back_within_the_cooldown_goes_out_once_the_cooldown_is_over() {
    let clock = Arc::new(ManualClock::default());
    let mut alerter = Alerter::new(
        rule::standard(&AlertsConfig::default()),
        Duration::from_secs(900),
        clock.clone(),
    );
    let mut sent = Vec::new();
    let mut observe = |secs: i64, event: Option<BotEvent>| {
        clock.set(secs);
        let out = match &event {
            Some(event) => alerter.observe(&Input::Bot(event)),
            None => alerter.observe(&Input::Sample(&Sample::default())),
        };
        sent.extend(out.into_iter().map(|a| (secs, a.key, a.recovered)));
    };
    // Redis fails, recovers, fails again within the cool-down and stays down; MongoDB fails,
    // recovers, fails and recovers again within it: only Redis is down when the cool-down ends.
    observe(0, Some(health("redis", CheckState::Failing)));
    observe(0, Some(health("mongodb", CheckState::Failing)));
    observe(10, Some(health("redis", CheckState::Ok)));
    observe(10, Some(health("mongodb", CheckState::Ok)));
    observe(20, Some(health("redis", CheckState::Failing)));
    observe(20, Some(health("mongodb", CheckState::Failing)));
    observe(30, Some(health("mongodb", CheckState::Ok)));
    // The sample ticks, every 10 s for an hour.
    for secs in (40..3600).step_by(10) {
        observe(secs, None);
    }
    let redis = |secs: i64, recovered: bool| (secs, "store_down:redis".to_owned(), recovered);
    let mongo = |secs: i64, recovered: bool| (secs, "store_down:mongodb".to_owned(), recovered);
    assert_eq!(
        sent,
        [
            redis(0, false),
            mongo(0, false),
            redis(10, true),
            mongo(10, true),
            redis(900, false)
        ],
        "the second Redis failure goes out once, when the cool-down is over"
    );
}

#[test]
fn a_wall_clock_set_back_does_not_stretch_the_cooldown() {
    let clock = Arc::new(ManualClock::default());
    let mut alerter = Alerter::new(
        rule::standard(&AlertsConfig::default()),
        Duration::from_secs(900),
        clock.clone(),
    );
    clock.set(1000);
    assert_eq!(
        alerter
            .observe(&Input::Bot(&health("redis", CheckState::Failing)))
            .len(),
        1
    );
    assert_eq!(
        alerter
            .observe(&Input::Bot(&health("redis", CheckState::Ok)))
            .len(),
        1
    );
    // The system's time is set back an hour; 900 s pass on the monotonic clock.
    clock.set_wall(-3600);
    clock.set_mono(1900);
    let out = alerter.observe(&Input::Bot(&health("redis", CheckState::Failing)));
    assert_eq!(
        out.iter()
            .map(|a| (a.key.as_str(), a.at))
            .collect::<Vec<_>>(),
        [("store_down:redis", at(-3600))],
        "the cool-down is over by the monotonic clock; the alert carries the wall time"
    );
}

#[test]
fn a_flapping_figure_sends_one_alert_and_one_recovery_per_cooldown() {
    let clock = Arc::new(ManualClock::default());
    let config = AlertsConfig {
        max_memory_mb: 100,
        ..AlertsConfig::default()
    };
    let mut alerter = Alerter::new(
        rule::standard(&config),
        Duration::from_secs(900),
        clock.clone(),
    );
    let memory = |mb: f64| Sample {
        memory_mb: Some(mb),
        ..Sample::default()
    };
    let mut sent = Vec::new();
    // Beyond the limit, back within, beyond again: every 10 s for an hour.
    for i in 0..360 {
        clock.set(i * 10);
        let mb = if i % 2 == 0 { 150.0 } else { 50.0 };
        for alert in alerter.observe(&Input::Sample(&memory(mb))) {
            sent.push((i * 10, alert.recovered));
        }
    }
    assert_eq!(
        sent,
        [
            (0, false),
            (10, true),
            (900, false),
            (910, true),
            (1800, false),
            (1810, true),
            (2700, false),
            (2710, true)
        ],
        "one alert (and its recovery) per cool-down"
    );
}

/// A sink that takes its time, recording what it delivered.
struct Slow(Arc<Mutex<Vec<String>>>);

#[async_trait::async_trait]
impl Sink for Slow {
    fn name(&self) -> String {
        "slow".into()
    }
    async fn deliver(&self, alert: &AlertEvent) -> Result<(), AlertError> {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.0.lock().unwrap().push(alert.key.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_flush_waits_for_the_alert_in_flight() {
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let queue = sink::SinkQueue::start(Arc::new(Slow(delivered.clone())));
    queue.offer(&alert());
    // Let the sink's task take the alert: the queue is then empty, the alert in flight.
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    queue
        .flush(tokio::time::Instant::now() + Duration::from_secs(30))
        .await;
    assert_eq!(*delivered.lock().unwrap(), ["store_down:redis"]);
}

#[test]
fn severities_parse_by_their_names() {
    for severity in [Severity::Info, Severity::Warning, Severity::Critical] {
        assert_eq!(Severity::parse(severity.as_str()), Some(severity));
    }
    assert_eq!(Severity::parse("Critical"), None);
}

#[tokio::test]
async fn an_engine_stopped_on_an_error_is_stored_before_the_service_stops() {
    let stores = tradegraph_store::Stores::memory();
    let sources = AlertSources {
        hub: crate::service::EventHub::start(16),
        stores: stores.clone(),
        llm: None,
        instrument: tradegraph_core::Instrument::btc_usdt(),
    };
    let clock = Arc::new(ManualClock::default());
    let service = AlertService::start_with(&AlertsConfig::default(), sources, clock).unwrap();
    service.engine_stopped("the broker refused: HTTP 500").await;
    service.stop(Duration::from_secs(30)).await;
    // Stopped: the store's alert log has it, under the id the stream and the list carry.
    let query = tradegraph_store::Query::new(tradegraph_core::Symbol::from("BTCUSDT")).limit(10);
    let stored = stores.alert_log.alerts(&query).await.unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        (stored[0].kind.as_str(), stored[0].severity.as_str()),
        ("engine_stopped", "critical")
    );
    assert!(stored[0].message.contains("HTTP 500"), "{:?}", stored[0]);
    let recent = service.recent().newest(10);
    assert_eq!(recent.len(), 1);
    assert_eq!(
        recent[0].alert_id.as_deref(),
        Some(stored[0].alert_id.as_str())
    );
    service.shutdown().await;
}

#[tokio::test]
async fn the_engines_own_alert_reaches_the_event_stream_once() {
    let hub = crate::service::EventHub::start(64);
    let sources = AlertSources {
        hub: hub.clone(),
        stores: tradegraph_store::Stores::memory(),
        llm: None,
        instrument: tradegraph_core::Instrument::btc_usdt(),
    };
    let clock = Arc::new(ManualClock::default());
    let service = AlertService::start_with(&AlertsConfig::default(), sources, clock).unwrap();
    // The engine publishes its alert (the session past the holiday list) on the hub.
    let holiday = AlertEvent::new(
        AlertKind::HolidayList,
        "2027",
        Severity::Warning,
        "past the holiday list",
        at(0),
    );
    let _ = hub.sender().send(BotEvent::Alert(holiday));
    let mut alerts = Vec::new();
    for _ in 0..500 {
        alerts = hub
            .since(Some(0))
            .backlog
            .into_iter()
            .filter(|e| e.kind == "alert")
            .map(|e| serde_json::from_str::<serde_json::Value>(&e.json).unwrap())
            .collect();
        if !alerts.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Stopped: every sink delivered; nothing more can come. A marker published after it is
    // recorded after everything the sinks published.
    service.stop(Duration::from_secs(30)).await;
    hub.publish(BotEvent::KillSwitch {
        engaged: true,
        at: at(1),
    });
    for _ in 0..500 {
        if hub
            .since(Some(0))
            .backlog
            .iter()
            .any(|e| e.kind == "kill_switch")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let streamed: Vec<serde_json::Value> = hub
        .since(Some(0))
        .backlog
        .into_iter()
        .filter(|e| e.kind == "alert")
        .map(|e| serde_json::from_str(&e.json).unwrap())
        .collect();
    assert_eq!(streamed.len(), 1, "{streamed:?}");
    assert_eq!(streamed, alerts);
    assert_eq!(streamed[0]["key"], "holiday_list:2027");
    assert!(streamed[0]["alert_id"].as_str().is_some(), "{streamed:?}");
    service.shutdown().await;
}

// --- webhooks, against a local HTTP server ---

/// What the local receiver got: (path, body).
type Received = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

/// A receiver on loopback answering each POST with the next status of `statuses` (then 200).
async fn receiver(statuses: Vec<u16>) -> (String, Received) {
    use axum::extract::State;
    use axum::http::{StatusCode, Uri};
    let got: Received = Arc::default();
    let left = Arc::new(Mutex::new(statuses.into_iter()));
    let state = (got.clone(), left);
    let app = axum::Router::new()
        .fallback(
            |State((got, left)): State<(Received, Arc<Mutex<std::vec::IntoIter<u16>>>)>,
             uri: Uri,
             axum::Json(body): axum::Json<serde_json::Value>| async move {
                got.lock().unwrap().push((uri.path().to_owned(), body));
                let status = left.lock().unwrap().next().unwrap_or(200);
                StatusCode::from_u16(status).unwrap()
            },
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, got)
}

fn alert() -> AlertEvent {
    AlertEvent::new(
        AlertKind::StoreDown,
        "redis",
        Severity::Critical,
        "redis does not answer: start <redis> & retry",
        at(0),
    )
}

fn sink(url: &str, format: WebhookFormat, chat_id: Option<&str>) -> WebhookSink {
    let config = WebhookConfig {
        url: Secret::new(url),
        format,
        chat_id: chat_id.map(Into::into),
    };
    WebhookSink::new(1, config, "BTCUSDT".into())
        .unwrap()
        .with_backoff(Backoff::new(
            Duration::from_millis(5),
            Duration::from_millis(20),
        ))
}

#[tokio::test]
async fn webhooks_receive_the_documented_bodies() {
    let (base, got) = receiver(Vec::new()).await;
    let token = "bot123456:AAE-secret-token-0123456789";
    sink(&format!("{base}/json-hook"), WebhookFormat::Json, None)
        .deliver(&alert())
        .await
        .unwrap();
    sink(
        &format!("{base}/services/T0/B0/slack-secret-path"),
        WebhookFormat::Slack,
        None,
    )
    .deliver(&alert())
    .await
    .unwrap();
    sink(
        &format!("{base}/{token}/sendMessage"),
        WebhookFormat::Telegram,
        Some("-1001234567890"),
    )
    .deliver(&alert())
    .await
    .unwrap();
    let got = got.lock().unwrap().clone();
    let at = "2024-01-01T10:00:00Z";
    assert_eq!(
        got[0],
        (
            "/json-hook".to_owned(),
            serde_json::json!({
                "instrument": "BTCUSDT", "kind": "store_down", "key": "store_down:redis",
                "severity": "critical", "message": "redis does not answer: start <redis> & retry",
                "recovered": false, "at": at,
            })
        )
    );
    assert_eq!(
        got[1].1,
        serde_json::json!({
            // Slack reads the notification text as mrkdwn too (`<!channel>` would ping):
            // escaped like the block
            "text": "[CRITICAL] BTCUSDT store_down:redis: redis does not answer: start &lt;redis&gt; &amp; retry",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn",
                "text": format!("*[CRITICAL] BTCUSDT store_down:redis*\nredis does not answer: start &lt;redis&gt; &amp; retry\n_{at}_")}}],
        })
    );
    assert_eq!(
        got[2],
        (
            format!("/{token}/sendMessage"),
            serde_json::json!({
                "chat_id": "-1001234567890",
                "text": format!("<b>[CRITICAL] BTCUSDT store_down:redis</b>\nredis does not answer: start &lt;redis&gt; &amp; retry\n<i>{at}</i>"),
                "parse_mode": "HTML",
            })
        )
    );
    let recovery = webhook::body(
        WebhookFormat::Slack,
        &"BTCUSDT".into(),
        &alert().recovery("redis answers", at_0()),
        None,
    );
    assert!(recovery["text"]
        .as_str()
        .unwrap()
        .starts_with("[RECOVERED] BTCUSDT store_down:redis"));
}

fn at_0() -> Timestamp {
    at(0)
}

/// A log writer into a buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// A receiver at its rate limit for `limited` after the first request: 429 with
/// `Retry-After: 1` in `header` form, or Telegram's `parameters.retry_after` in the body only.
async fn rate_limited_receiver(limited: Duration, header: bool) -> (String, Received) {
    use axum::extract::State;
    use axum::http::{StatusCode, Uri};
    use axum::response::IntoResponse;
    let got: Received = Arc::default();
    let first: Arc<Mutex<Option<std::time::Instant>>> = Arc::default();
    let app = axum::Router::new()
        .fallback(
            move |State((got, first)): State<(
                Received,
                Arc<Mutex<Option<std::time::Instant>>>,
            )>,
                  uri: Uri,
                  axum::Json(body): axum::Json<serde_json::Value>| async move {
                got.lock().unwrap().push((uri.path().to_owned(), body));
                let since = first
                    .lock()
                    .unwrap()
                    .get_or_insert_with(std::time::Instant::now)
                    .elapsed();
                if since >= limited {
                    return StatusCode::OK.into_response();
                }
                let refusal = serde_json::json!({
                    "ok": false,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1}
                });
                if header {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "1")],
                        axum::Json(refusal),
                    )
                        .into_response()
                } else {
                    (StatusCode::TOO_MANY_REQUESTS, axum::Json(refusal)).into_response()
                }
            },
        )
        .with_state((got.clone(), first));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, got)
}

/// A receiver at its rate limit (Slack, Telegram shared by several bots) says when to come
/// back: the webhook waits that long before its next attempt (however short its own backoff),
/// so the alert gets through once the limit lifts instead of spending every attempt at once.
#[test]
fn a_rate_limited_webhook_waits_as_long_as_the_receiver_asks() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // the header (any receiver), and Telegram's body
        for (header, format, chat) in [
            (true, WebhookFormat::Slack, None),
            (false, WebhookFormat::Telegram, Some("1")),
        ] {
            let (base, got) = rate_limited_receiver(Duration::from_millis(1_500), header).await;
            sink(&format!("{base}/hook"), format, chat)
                .deliver(&alert())
                .await
                .unwrap();
            let asked = got.lock().unwrap().len();
            assert!((2..=3).contains(&asked), "{format:?}: {asked} attempts");
        }
    });
}

/// A critical alert (the engine stopped) queued behind others for a webhook that hangs is
/// delivered first, within the stop's deadline: it does not wait for the alerts before it.
#[test]
fn a_critical_alert_goes_ahead_of_those_queued_for_a_hanging_webhook() {
    use axum::extract::State;
    use axum::http::StatusCode;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let got: Received = Arc::default();
        // the first request hangs (a receiver in trouble); the others are answered
        let app =
            axum::Router::new()
                .fallback(
                    |State(got): State<Received>,
                     axum::Json(body): axum::Json<serde_json::Value>| async move {
                        let first = {
                            let mut got = got.lock().unwrap();
                            got.push((String::new(), body));
                            got.len() == 1
                        };
                        if first {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                        }
                        StatusCode::OK
                    },
                )
                .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let queue = sink::SinkQueue::start(Arc::new(sink(&base, WebhookFormat::Json, None)));
        let warning = |about: &str| {
            AlertEvent::new(
                AlertKind::FeedStale,
                about,
                Severity::Warning,
                "quiet",
                at(0),
            )
        };
        queue.offer(&warning("first"));
        // the first is in flight, hanging
        while got.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        queue.offer(&warning("second"));
        queue.offer(&AlertEvent::new(
            AlertKind::EngineStopped,
            "engine",
            Severity::Critical,
            "the bot stopped: the state store refused",
            at(1),
        ));
        queue
            .close(tokio::time::Instant::now() + Duration::from_secs(3))
            .await;
        let kinds: Vec<String> = got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| body["kind"].as_str().unwrap_or_default().to_owned())
            .collect();
        // the hanging one, then the critical one (the second warning waits behind the first)
        assert_eq!(kinds, ["feed_stale", "engine_stopped"]);
    });
}

#[test]
fn a_failing_webhook_is_retried_and_never_shows_its_url() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(log.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let secret = "hook-secret-0123456789abcdef";
        // 500 then 200: retried, delivered.
        let (base, got) = receiver(vec![500]).await;
        sink(&format!("{base}/{secret}"), WebhookFormat::Json, None)
            .deliver(&alert())
            .await
            .unwrap();
        assert_eq!(got.lock().unwrap().len(), 2, "the 500 was retried once");

        // Always 500: every attempt made, then an error without the URL.
        let (base, got) = receiver(vec![500; 10]).await;
        let url = format!("{base}/{secret}");
        let e = sink(&url, WebhookFormat::Slack, None)
            .deliver(&alert())
            .await
            .unwrap_err();
        assert_eq!(got.lock().unwrap().len(), webhook::ATTEMPTS as usize);
        let text = format!("{e} {e:?}");
        assert!(
            text.contains("HTTP 500") && text.contains("webhook 1 (slack)"),
            "{text}"
        );
        assert!(!text.contains(secret) && !text.contains(&base), "{text}");

        // Nobody listening: a connection error, without the URL either; through the queue, logged.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dead = format!("http://{}/{secret}", closed.local_addr().unwrap());
        drop(closed);
        let queue =
            sink::SinkQueue::start(Arc::new(sink(&dead, WebhookFormat::Telegram, Some("1"))));
        queue.offer(&alert());
        queue
            .close(tokio::time::Instant::now() + Duration::from_secs(30))
            .await;

        // 3xx: not followed.
        let (base, got) = receiver(vec![302]).await;
        let e = sink(&format!("{base}/{secret}"), WebhookFormat::Json, None)
            .deliver(&alert())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("redirects are not followed"), "{e}");
        assert_eq!(got.lock().unwrap().len(), 1, "a redirect is not retried");
        let config = WebhookConfig {
            url: Secret::new(url),
            format: WebhookFormat::Json,
            chat_id: None,
        };
        assert!(!format!("{config:?}").contains(secret));
    });
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("alerts: not delivered"),
        "the failure is logged: {text}"
    );
    assert!(text.contains("retrying"), "{text}");
    assert!(
        !text.contains("hook-secret"),
        "the URL never reaches the log: {text}"
    );
}

/// A closed trade of `run` in the trade log, closed at `closed` seconds.
async fn closed_trade(
    stores: &tradegraph_store::Stores,
    run: &tradegraph_store::RunId,
    id: &str,
    pnl: i64,
    closed: i64,
) {
    use tradegraph_store::{TradeRecord, TradeStatus};
    let mut trade = TradeRecord::new(
        id,
        tradegraph_core::Symbol::from("BTCUSDT"),
        tradegraph_core::Side::Buy,
        at(0),
        "45000".parse().unwrap(),
        "0.01".parse().unwrap(),
    );
    trade.run_id = run.clone();
    trade.status = TradeStatus::Closed;
    trade.exit_timestamp = Some(at(closed));
    trade.realized_pnl = Some(Decimal::from(pnl));
    stores.trades.record_trade(&trade).await.unwrap();
}

#[tokio::test]
async fn a_trade_in_the_seed_and_in_the_events_counts_once() {
    let stores = tradegraph_store::Stores::memory();
    let run = tradegraph_store::RunId::from_text("bot");
    for (id, pnl) in [("t1", 5), ("t2", -1)] {
        closed_trade(&stores, &run, id, pnl, 60).await;
    }
    let mut window = WinWindow::new(3);
    window
        .seed(
            stores.trades.as_ref(),
            &tradegraph_core::Symbol::from("BTCUSDT"),
            &run,
        )
        .await;
    // The engine closed t2 while the seed was read: its event was buffered, and comes now.
    window.close("t2", Decimal::from(-1));
    assert_eq!(
        window.rate(),
        None,
        "t2 counted once: two trades, not three"
    );
    window.close("t3", Decimal::from(-1));
    assert_eq!(window.rate(), Some(1.0 / 3.0));
}

/// The win rate is the bot's own: a backtest's trades (of the same days, with the same trade
/// ids) in the same trade log are not its trades, and a trade the bot closed before the seed
/// stays the newest.
#[tokio::test]
async fn the_win_rate_is_seeded_from_the_bots_own_run_only() {
    let stores = tradegraph_store::Stores::memory();
    let (bot, backtest) = (
        tradegraph_store::RunId::from_text("bot"),
        tradegraph_store::RunId::from_text("backtest"),
    );
    for (i, id) in ["t1", "t2", "t3", "t4"].into_iter().enumerate() {
        closed_trade(&stores, &backtest, id, -1, 60 + i as i64).await;
    }
    closed_trade(&stores, &bot, "t1", 5, 60).await;
    closed_trade(&stores, &bot, "t2", 7, 61).await;
    let mut window = WinWindow::new(3);
    // the engine closed t5 (a loss) before the window was read
    window.close("t5", Decimal::from(-2));
    window
        .seed(
            stores.trades.as_ref(),
            &tradegraph_core::Symbol::from("BTCUSDT"),
            &bot,
        )
        .await;
    assert_eq!(window.rate(), Some(2.0 / 3.0), "t1 and t2 won, t5 lost");
    // the newest stays t5: one more loss pushes t1 out
    window.close("t6", Decimal::from(-1));
    assert_eq!(window.rate(), Some(1.0 / 3.0));
    // a trade id of the backtest closed now by the bot counts
    window.close("t3", Decimal::from(4));
    assert_eq!(
        window.rate(),
        Some(1.0 / 3.0),
        "t2 out: t5 and t6 lost, t3 won"
    );
}

#[test]
fn chat_bodies_clip_a_long_message_within_the_services_limits() {
    // Slack refuses a section over 3000 characters, Telegram a text over 4096.
    let at = Timestamp::from_secs(T0);
    for message in ["é<&>".repeat(2000), "x".repeat(10_000)] {
        let alert = AlertEvent::new(
            AlertKind::StoreDown,
            "redis",
            Severity::Critical,
            message,
            at,
        );
        let slack = webhook::body(WebhookFormat::Slack, &"BTCUSDT".into(), &alert, None);
        let section = slack["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            section.chars().count() <= 3000,
            "{}",
            section.chars().count()
        );
        assert!(section.contains('…'), "marked as clipped");
        assert!(slack["text"].as_str().unwrap().chars().count() <= 3000);
        let telegram = webhook::body(
            WebhookFormat::Telegram,
            &"BTCUSDT".into(),
            &alert,
            Some("1"),
        );
        let text = telegram["text"].as_str().unwrap();
        assert!(text.chars().count() <= 4096, "{}", text.chars().count());
        assert!(
            text.contains("…\n<i>"),
            "clipped before the time: {}",
            &text[text.len() - 40..]
        );
        assert!(
            !text.contains("&am…") && !text.contains("&a…"),
            "no entity cut in half"
        );
    }
    let short = alert();
    let slack = webhook::body(WebhookFormat::Slack, &"BTCUSDT".into(), &short, None);
    assert!(
        !slack["text"].as_str().unwrap().contains('…'),
        "a short message is whole"
    );
}

/// Critical alerts go each on its own: a critical whose webhook answers 429 and waits its
/// `Retry-After` holds up neither the next critical nor `engine_stopped`, which reach the
/// webhook within the stop's deadline (the second critical used to be delivered inside the
/// first's delivery, and a third waited for the second's whole retry cycle).
#[test]
fn critical_alerts_do_not_wait_for_one_another() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // The first two requests are told to come back in 30 s; the others are answered.
        let (got, base) = webhook_telling_the_first_to_wait(2).await;

        let queue = sink::SinkQueue::start(Arc::new(sink(&base, WebhookFormat::Json, None)));
        let critical = |kind: AlertKind, about: &str| {
            AlertEvent::new(kind, about, Severity::Critical, "down", at(0))
        };
        let arrived = |n: usize| {
            let got = got.clone();
            async move {
                while got.lock().unwrap().len() < n {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        };
        queue.offer(&critical(AlertKind::StoreDown, "mongodb"));
        arrived(1).await;
        queue.offer(&critical(AlertKind::StoreDown, "spill"));
        arrived(2).await;
        queue.offer(&critical(AlertKind::EngineStopped, "engine"));
        queue
            .close(tokio::time::Instant::now() + Duration::from_secs(3))
            .await;
        let kinds: Vec<String> = got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| body["kind"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert!(kinds.iter().any(|k| k == "engine_stopped"), "{kinds:?}");
    });
}

/// A flush waiting for a critical alert that is retrying holds up no critical alert offered
/// meanwhile: `engine_stopped` goes at once (the flush waited inline, and nothing else moved).
#[test]
fn a_flush_holds_up_no_critical_alert() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // The first request is told to come back in 30 s; the others are answered.
        let (got, base) = webhook_telling_the_first_to_wait(1).await;

        let queue = Arc::new(sink::SinkQueue::start(Arc::new(sink(
            &base,
            WebhookFormat::Json,
            None,
        ))));
        let critical = |kind: AlertKind, about: &str| {
            AlertEvent::new(kind, about, Severity::Critical, "down", at(0))
        };
        queue.offer(&critical(AlertKind::StoreDown, "mongodb"));
        while got.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let flushing = Arc::clone(&queue);
        let flush = tokio::spawn(async move {
            flushing
                .flush(tokio::time::Instant::now() + Duration::from_secs(60))
                .await;
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        queue.offer(&critical(AlertKind::EngineStopped, "engine"));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let kinds: Vec<String> = got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| body["kind"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert!(kinds.iter().any(|k| k == "engine_stopped"), "{kinds:?}");
        flush.abort();
    });
}

/// A webhook receiver on loopback that tells its first `waits` requests to come back in 30 s
/// (429, `Retry-After: 30`) and answers the others: what it got, and its URL.
async fn webhook_telling_the_first_to_wait(waits: usize) -> (Received, String) {
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let got: Received = Arc::default();
    let app =
        axum::Router::new()
            .fallback(
                move |State(got): State<Received>,
                      axum::Json(body): axum::Json<serde_json::Value>| async move {
                    let n = {
                        let mut got = got.lock().unwrap();
                        got.push((String::new(), body));
                        got.len()
                    };
                    if n <= waits {
                        (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "30")]).into_response()
                    } else {
                        StatusCode::OK.into_response()
                    }
                },
            )
            .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (got, base)
}
