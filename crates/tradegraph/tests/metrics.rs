//! `/metrics` end to end: the Prometheus recorder installed, real work through the library
//! crates (a graph run with a retry and a failure, paper orders and a fill, a replayed file, a
//! chain of LLM providers against a local OpenAI-format server with a fail-over, the
//! write-behind queue, the engine's figures), then the rendered text read by a strict reader of
//! the exposition format: every series is of a defined metric, with its type and labels, and
//! the counters moved by exactly what the work did. The Grafana dashboard is checked against
//! the same definitions.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "metrics/prometheus.rs"]
mod prometheus;

use prometheus::{parse, Family};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tradegraph::engine::Trading;
use tradegraph::telemetry;
use tradegraph_broker::{Broker, PaperBroker, PaperConfig};
use tradegraph_core::order::{ClientOrderId, DecisionId, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::position::Account;
use tradegraph_core::risk::{Action, Effect, Finding, RiskReason, Verdict, VerdictStatus};
use tradegraph_core::{Currency, Instrument, Tick, Timestamp};
use tradegraph_graph::retry::{ExponentialBackoff, Jitter};
use tradegraph_graph::{
    node_fn, Command, GraphState, NodeError, NodeOptions, RunConfig, StateGraph, END, START,
};
use tradegraph_llm::budget::{Price, PriceTable};
use tradegraph_llm::config::{LlmConfig, ProviderConfig, ProviderKind};
use tradegraph_llm::Request;
use tradegraph_store::behind::{Record, RecordSink, Rejected, Versioned};
use tradegraph_store::{DecisionRecord, StoreError, WriteBehind, WriteBehindConfig};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

type Families = BTreeMap<String, Family>;

/// The sum of the samples named `sample` whose labels include `labels`.
fn value(families: &Families, sample: &str, labels: &[(&str, &str)]) -> f64 {
    families
        .values()
        .flat_map(|f| &f.samples)
        .filter(|s| s.name == sample)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

fn scrape() -> Families {
    parse(&telemetry::render()).unwrap_or_else(|e| panic!("/metrics is not Prometheus text: {e}"))
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, GraphState)]
struct Desk {
    #[reducer(append)]
    notes: Vec<String>,
}

/// A graph of two nodes: `flaky` fails once and succeeds on its retry; `broken` (when asked)
/// fails for good.
async fn run_graphs() {
    let attempts = Arc::new(AtomicU32::new(0));
    let mut g = StateGraph::<Desk>::new("metrics-test");
    let seen = attempts.clone();
    g.add_node_with(
        "flaky",
        node_fn(move |_s: Arc<Desk>, _ctx| {
            let seen = seen.clone();
            async move {
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Err(NodeError::transient("first attempt fails"));
                }
                Ok(Command::update(
                    DeskUpdate::default().notes(vec!["ok".into()]),
                ))
            }
        }),
        NodeOptions::new().retry(
            ExponentialBackoff::new(3)
                .initial(Duration::from_millis(1))
                .jitter(Jitter::None),
        ),
    )
    .add_node(
        "steady",
        node_fn(|_s: Arc<Desk>, _ctx| async move {
            Ok(Command::update(
                DeskUpdate::default().notes(vec!["steady".into()]),
            ))
        }),
    )
    .add_edge(START, "flaky")
    .add_edge("flaky", "steady")
    .add_edge("steady", END);
    let graph = g.compile().unwrap();
    graph
        .invoke(Desk::default(), RunConfig::new())
        .await
        .unwrap();

    let mut g = StateGraph::<Desk>::new("metrics-test-broken");
    g.add_node(
        "broken",
        node_fn(|_s: Arc<Desk>, _ctx| async move {
            Err::<Command<DeskUpdate>, _>(NodeError::failed("always"))
        }),
    )
    .add_edge(START, "broken")
    .add_edge("broken", END);
    let graph = g.compile().unwrap();
    assert!(graph
        .invoke(Desk::default(), RunConfig::new())
        .await
        .is_err());
}

/// A market buy that fills, and one the broker refuses (off the lot grid).
async fn trade_on_paper() {
    let btc = Instrument::btc_usdt();
    let broker = PaperBroker::new(PaperConfig::new(btc.clone(), Decimal::from(10_000))).unwrap();
    broker
        .on_tick(
            &btc.symbol,
            &Tick::new(
                Timestamp::from_secs(1_700_000_000),
                Decimal::from(40_000),
                Decimal::ONE,
            ),
        )
        .unwrap();
    let buy = OrderRequest::market(
        ClientOrderId::new("metrics-buy").unwrap(),
        btc.symbol.clone(),
        OrderSide::Buy,
        Decimal::new(1, 2),
    );
    assert_eq!(
        broker.submit(buy).await.unwrap().status,
        OrderStatus::Filled
    );
    let off_grid = OrderRequest::market(
        ClientOrderId::new("metrics-odd").unwrap(),
        btc.symbol.clone(),
        OrderSide::Sell,
        Decimal::new(1, 12),
    );
    assert!(broker.submit(off_grid).await.unwrap().is_rejected());
}

/// A JSONL recording of three ticks and one line that is not JSON.
async fn replay_a_file() {
    use futures::StreamExt;
    let dir = std::env::temp_dir().join(format!("tradegraph-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ticks.jsonl");
    let tick = |s: u32| {
        format!(
            r#"{{"type":"tick","symbol":"METRICSUSD","ts":"2024-01-01T10:00:0{s}Z","price":"100.5","volume":"1"}}"#
        )
    };
    std::fs::write(
        &path,
        [tick(1), "not json".into(), tick(2), tick(3)].join("\n"),
    )
    .unwrap();
    let replay = tradegraph_market::feed::replay::Replay::new(
        tradegraph_market::feed::replay::ReplayConfig::new(&path, "METRICSUSD"),
    )
    .unwrap();
    let events: Vec<_> = replay.stream().collect().await;
    assert_eq!(events.len(), 4, "{events:?}");
}

/// Two providers: the first at a closed port (fails over), the second a local server in
/// OpenAI's format that bills 900 tokens in and 60 out, priced at 1 and 2 dollars per million.
async fn ask_models() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("chat/completions$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_733_000_000, "model": "gpt-test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Bullish."},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960}
        })))
        .mount(&server)
        .await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let provider = |name: &str, url: String| {
        let mut p = ProviderConfig::new(ProviderKind::Openai);
        p.name = Some(name.into());
        p.api_key = Some("sk-test-not-a-real-key".into());
        p.base_url = Some(url);
        p.model = Some("gpt-test".into());
        p.timeout = Some(Duration::from_secs(5));
        p
    };
    let mut prices = PriceTable::new();
    prices.insert("gpt-test", Price::new(Decimal::ONE, Decimal::from(2)));
    let config = LlmConfig {
        providers: vec![
            provider("down", format!("http://127.0.0.1:{closed_port}/v1")),
            provider("local", format!("{}/v1", server.uri())),
        ],
        prices,
        ..LlmConfig::default()
    };
    let llm = config.build().await.unwrap();
    let answer = llm
        .complete(&Request::chat("You are the technical analyst.", "BTC?").agent("technical"))
        .await
        .unwrap();
    assert_eq!(answer.provider, "local");
}

/// A sink that takes everything, and one that is always away.
struct Sink {
    up: bool,
}

#[async_trait::async_trait]
impl RecordSink for Sink {
    async fn write_records(&self, _records: &[Versioned]) -> Result<Rejected, StoreError> {
        if self.up {
            Ok(Vec::new())
        } else {
            Err(StoreError::Closed)
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        if self.up {
            Ok(())
        } else {
            Err(StoreError::Closed)
        }
    }
}

/// Three records through the write-behind queue to a sink that is up, two to one that is away
/// (they spill).
async fn write_behind() {
    let dir = std::env::temp_dir().join(format!("tradegraph-metrics-spill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let record = |s: i64| {
        Record::Decision(DecisionRecord::new(
            "METRICSUSD".into(),
            Timestamp::from_secs(1_700_000_000 + s),
        ))
    };
    for (up, n) in [(true, 3), (false, 2)] {
        let config = WriteBehindConfig::new(dir.join(format!("spill-{up}.jsonl")))
            .retry_interval(Duration::from_secs(60))
            .timeout(Duration::from_secs(5));
        let queue = WriteBehind::start(Arc::new(Sink { up }), config)
            .await
            .unwrap();
        for i in 0..n {
            queue.submit(record(i)).await.unwrap();
        }
        queue.flush().await.unwrap();
        assert_eq!(queue.spilled(), if up { 0 } else { n as u64 });
        queue.shutdown().await;
    }
}

/// The engine's side: a cycle of the rule-mode fixture, a failed cycle, the account and the
/// trading state.
fn engine_figures() {
    let mut state = tradegraph_agents::fixture::state(&Instrument::btc_usdt()).unwrap();
    let kill_switch = Finding {
        effect: Effect::Rejected,
        reason: RiskReason::KillSwitch,
    };
    state.verdict = Some(Verdict {
        decision_id: DecisionId::new("metrics-1"),
        symbol: state.instrument.symbol.clone(),
        at: state.as_of,
        action: Action::Buy,
        status: VerdictStatus::Rejected,
        intent: None,
        findings: vec![kill_switch.clone()],
    });
    state.refusal = Some(kill_switch);
    telemetry::record_cycle("METRICSUSD", &state, Duration::from_millis(4));
    telemetry::record_cycle_failure("METRICSUSD", Duration::from_millis(2));
    let mut account = Account::flat(Currency::Usdt, Decimal::from(9_000), Timestamp::EPOCH);
    account.realized_pnl = Decimal::new(-1_250, 1);
    telemetry::record_account("METRICSUSD", &account, Decimal::from(10_000));
    telemetry::record_trading_status("METRICSUSD", Trading::Reducing, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_move_as_the_bot_works() {
    telemetry::install().unwrap();
    telemetry::install().expect("installing again is harmless");
    let before = scrape();

    run_graphs().await;
    trade_on_paper().await;
    replay_a_file().await;
    ask_models().await;
    write_behind().await;
    engine_figures();

    let text = telemetry::render();
    let after = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let moved = |sample: &str, labels: &[(&str, &str)]| {
        value(&after, sample, labels) - value(&before, sample, labels)
    };

    // Every family is a defined metric with its type, and carries only its labels.
    let defined: BTreeMap<&str, (&str, &[&str])> = telemetry::catalogue()
        .map(|(name, kind, labels)| (*name, (*kind, *labels)))
        .collect();
    for (name, family) in &after {
        let (kind, labels) = defined
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} is not a defined metric"));
        assert_eq!(family.kind, *kind, "{name}");
        assert!(
            family.help.is_some(),
            "{name} has no HELP (describe() not called?)"
        );
        for sample in &family.samples {
            let keys: BTreeSet<&str> = sample.labels.keys().map(String::as_str).collect();
            let mut expected: BTreeSet<&str> = labels.iter().copied().collect();
            if sample.name.ends_with("_bucket") {
                expected.insert("le");
            }
            assert_eq!(keys, expected, "{name}: labels of {sample:?}");
        }
    }

    // The graph: three node tasks answered, one retry, one failure, two runs.
    let graph = ("graph", "metrics-test");
    let count = "tradegraph_graph_node_duration_seconds_count";
    assert_eq!(moved(count, &[graph, ("node", "flaky")]), 1.0);
    assert_eq!(moved(count, &[graph, ("node", "steady")]), 1.0);
    assert_eq!(
        moved(
            "tradegraph_graph_node_retries_total",
            &[graph, ("node", "flaky")]
        ),
        1.0
    );
    let broken = [("graph", "metrics-test-broken"), ("node", "broken")];
    assert_eq!(moved("tradegraph_graph_node_failures_total", &broken), 1.0);
    let runs = "tradegraph_graph_run_duration_seconds_count";
    assert_eq!(moved(runs, &[graph, ("status", "finished")]), 1.0);
    assert_eq!(
        moved(
            runs,
            &[("graph", "metrics-test-broken"), ("status", "failed")]
        ),
        1.0
    );

    // The paper broker: the buy opened and filled (taker), the odd lot was refused.
    let orders = "tradegraph_broker_orders_total";
    let buy = [("broker", "paper"), ("side", "buy"), ("kind", "market")];
    assert_eq!(
        moved(orders, &[buy[0], buy[1], buy[2], ("status", "open")]),
        1.0
    );
    assert_eq!(
        moved(orders, &[buy[0], buy[1], buy[2], ("status", "filled")]),
        1.0
    );
    assert_eq!(
        moved(orders, &[("side", "sell"), ("status", "rejected")]),
        1.0
    );
    assert_eq!(
        moved(
            "tradegraph_broker_fills_total",
            &[("side", "buy"), ("liquidity", "taker")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "tradegraph_broker_refusals_total",
            &[("reason", "lot_size")]
        ),
        1.0
    );

    // The replayed file: three ticks, the last at 10:00:03, one malformed line.
    let feed = [("feed", "replay"), ("symbol", "METRICSUSD")];
    assert_eq!(moved("tradegraph_feed_events_total", &feed), 3.0);
    assert_eq!(
        value(
            &after,
            "tradegraph_feed_last_event_timestamp_seconds",
            &feed
        ),
        1_704_103_203.0
    );
    assert_eq!(
        moved("tradegraph_feed_malformed_total", &[("feed", "replay")]),
        1.0
    );

    // The chain: `down` unreachable and failed over, `local` answered and billed.
    let local = [
        ("provider", "local"),
        ("model", "gpt-test"),
        ("agent", "technical"),
    ];
    let requests = "tradegraph_llm_requests_total";
    assert_eq!(
        moved(requests, &[local[0], local[1], local[2], ("outcome", "ok")]),
        1.0
    );
    assert_eq!(
        moved(
            requests,
            &[("provider", "down"), ("outcome", "unreachable")]
        ),
        1.0
    );
    let tokens = "tradegraph_llm_tokens_total";
    assert_eq!(
        moved(tokens, &[local[0], local[2], ("type", "input")]),
        900.0
    );
    assert_eq!(
        moved(tokens, &[local[0], local[2], ("type", "output")]),
        60.0
    );
    let cost = moved("tradegraph_llm_request_cost_dollars_sum", &local);
    assert!((cost - 0.00102).abs() < 1e-12, "cost {cost}"); // 900 × $1/M + 60 × $2/M
    assert_eq!(
        moved(
            "tradegraph_llm_fallbacks_total",
            &[
                ("provider", "down"),
                ("agent", "technical"),
                ("kind", "unreachable")
            ]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "tradegraph_llm_request_duration_seconds_count",
            &[("provider", "local"), ("agent", "technical")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "tradegraph_llm_breaker_state",
            &[("provider", "local"), ("state", "closed")]
        ),
        1.0
    );

    // The write-behind queue: three written, one failed batch, two spilled and waiting.
    assert_eq!(
        moved("tradegraph_store_write_behind_written_records_total", &[]),
        3.0
    );
    assert_eq!(
        moved("tradegraph_store_write_behind_write_errors_total", &[]),
        1.0
    );
    assert_eq!(
        value(&after, "tradegraph_store_write_behind_spilled_records", &[]),
        2.0
    );
    let events = "tradegraph_store_events_total";
    assert_eq!(
        moved(events, &[("backend", "mongodb"), ("event", "unavailable")]),
        1.0
    );
    assert_eq!(
        moved(events, &[("backend", "mongodb"), ("event", "spilling")]),
        1.0
    );

    // The engine.
    let btc = ("instrument", "METRICSUSD");
    let cycles = "tradegraph_engine_cycle_duration_seconds_count";
    assert_eq!(moved(cycles, &[btc, ("outcome", "ok")]), 1.0);
    assert_eq!(moved(cycles, &[btc, ("outcome", "failed")]), 1.0);
    assert_eq!(moved("tradegraph_engine_decisions_total", &[btc]), 1.0);
    assert_eq!(
        moved(
            "tradegraph_engine_verdicts_total",
            &[btc, ("status", "rejected")]
        ),
        1.0
    );
    let refusals = "tradegraph_engine_risk_refusals_total";
    for stage in ["guard", "execution"] {
        assert_eq!(
            moved(refusals, &[btc, ("stage", stage), ("rule", "kill_switch")]),
            1.0
        );
    }
    let reports = moved(
        "tradegraph_engine_agent_reports_total",
        &[btc, ("mode", "rules")],
    );
    assert!(
        reports >= 6.0,
        "every agent of the fixture reports in rule mode: {reports}"
    );
    assert_eq!(
        value(
            &after,
            "tradegraph_engine_equity",
            &[btc, ("currency", "USDT")]
        ),
        9_000.0
    );
    assert_eq!(
        value(
            &after,
            "tradegraph_engine_realized_pnl",
            &[btc, ("currency", "USDT")]
        ),
        -125.0
    );
    assert_eq!(
        value(&after, "tradegraph_engine_drawdown_ratio", &[btc]),
        0.1
    );
    assert_eq!(
        value(
            &after,
            "tradegraph_engine_trading_state",
            &[btc, ("state", "reducing")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "tradegraph_engine_trading_state",
            &[btc, ("state", "active")]
        ),
        0.0
    );
    assert_eq!(
        value(&after, "tradegraph_engine_kill_switch_engaged", &[btc]),
        1.0
    );
}

/// Every `tradegraph_*` name in `text`, with histogram sample suffixes taken off.
fn referenced_metrics(text: &str, histograms: &BTreeSet<&str>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("tradegraph_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|b| histograms.contains(b)))
            .unwrap_or(name);
        names.insert(base.to_owned());
        rest = &tail[end..];
    }
    names
}

#[test]
fn the_grafana_dashboard_uses_only_defined_metrics() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../grafana/tradegraph.json");
    let text = std::fs::read_to_string(path).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let inputs = dashboard["__inputs"].as_array().unwrap();
    assert!(inputs
        .iter()
        .any(|i| i["name"] == "DS_PROMETHEUS" && i["pluginId"] == "prometheus"));

    let defined: BTreeSet<&str> = telemetry::catalogue().map(|(n, _, _)| *n).collect();
    let histograms: BTreeSet<&str> = telemetry::catalogue()
        .filter(|(_, kind, _)| *kind == "histogram")
        .map(|(n, _, _)| *n)
        .collect();
    let mut exprs = String::new();
    let mut panels = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        if panel["type"] == "row" {
            continue;
        }
        panels += 1;
        assert_eq!(
            panel["datasource"]["uid"], "${DS_PROMETHEUS}",
            "{}",
            panel["title"]
        );
        let targets = panel["targets"]
            .as_array()
            .unwrap_or_else(|| panic!("{} has no query", panel["title"]));
        for target in targets {
            exprs.push_str(target["expr"].as_str().unwrap());
            exprs.push('\n');
        }
    }
    let used = referenced_metrics(&text, &histograms);
    let unknown: Vec<_> = used
        .iter()
        .filter(|n| !defined.contains(n.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "the dashboard uses undefined metrics: {unknown:?}"
    );
    // What the issue asks the dashboard to show.
    for needed in [
        "tradegraph_engine_cycle_duration_seconds",
        "tradegraph_graph_node_duration_seconds",
        "tradegraph_llm_requests_total",
        "tradegraph_llm_tokens_total",
        "tradegraph_llm_request_cost_dollars",
        "tradegraph_llm_fallbacks_total",
        "tradegraph_feed_last_event_timestamp_seconds",
        "tradegraph_feed_reconnects_total",
        "tradegraph_broker_orders_total",
        "tradegraph_engine_risk_refusals_total",
        "tradegraph_engine_realized_pnl",
        "tradegraph_engine_unrealized_pnl",
        "tradegraph_engine_drawdown_ratio",
        "tradegraph_engine_trading_state",
    ] {
        assert!(
            referenced_metrics(&exprs, &histograms).contains(needed),
            "no panel queries {needed}"
        );
    }
    assert!(panels >= 12, "{panels} panels");
}

/// The newest event's time never goes back: an exchange's closed kline (stamped with its
/// minute's start) after a later trade leaves the gauge at the trade; the kline's end counts
/// when it is the newest.
#[tokio::test]
async fn the_last_event_gauge_never_goes_back() {
    use futures::StreamExt;
    use tradegraph_market::MarketEvent;
    telemetry::install().unwrap();
    let at = |s: &str| s.parse::<Timestamp>().unwrap();
    let trade = MarketEvent::Trade {
        symbol: "GAUGEUSD".into(),
        trade: tradegraph_core::Trade::new(
            at("2024-01-01T10:01:00.500Z"),
            Decimal::from(100),
            Decimal::ONE,
            tradegraph_core::Side::Buy,
            1,
        ),
    };
    let kline = |minute: &str| MarketEvent::Candle {
        symbol: "GAUGEUSD".into(),
        candle: tradegraph_core::Candle::opening(
            at(minute),
            tradegraph_core::Timeframe::M1,
            Decimal::from(100),
            Decimal::ONE,
        ),
        closed: true,
    };
    let feed = [("feed", "replay"), ("symbol", "GAUGEUSD")];
    let gauge = || {
        value(
            &scrape(),
            "tradegraph_feed_last_event_timestamp_seconds",
            &feed,
        )
    };
    let mut metered = tradegraph_market::metrics::metered(
        "replay",
        futures::stream::iter([
            trade,
            kline("2024-01-01T10:00:00Z"),
            kline("2024-01-01T10:01:00Z"),
        ]),
    );
    metered.next().await.unwrap();
    assert_eq!(gauge(), 1_704_103_260.5);
    metered.next().await.unwrap();
    assert_eq!(
        gauge(),
        1_704_103_260.5,
        "the 10:00 kline is older than the trade"
    );
    metered.next().await.unwrap();
    assert_eq!(
        gauge(),
        1_704_103_320.0,
        "the 10:01 kline is known at 10:02"
    );
}
