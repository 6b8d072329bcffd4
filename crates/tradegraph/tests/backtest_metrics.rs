//! The backtest metrics against empyrical's own values on committed golden series
//! (`tests/fixtures/metrics/*.json`, made by `golden.py` with empyrical-reloaded), and the
//! baselines on the bundled data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tradegraph::agents::model::LlmModel;
use tradegraph::agents::node::Brain;
use tradegraph::backtest::metrics::{
    baselines, buy_and_hold, compute, run_period, Annualization, Basis, Metrics, Period,
    RULE_MODE_IS_THE_RUN,
};
use tradegraph::core::{Instrument, Timestamp};
use tradegraph::engine::{BotConfig, EquityPoint, Mode};
use tradegraph::llm::config::{LlmConfig, ProviderConfig, ProviderKind};

const SERIES: [&str; 4] = ["random_walk", "flat_stretch", "gains_only", "deep_drawdown"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics")
}

fn golden(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn points(doc: &Value) -> Vec<EquityPoint> {
    doc["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| EquityPoint {
            ts: Timestamp::from_millis(p["ts"].as_i64().unwrap()),
            equity: p["equity"].as_str().unwrap().parse().unwrap(),
            drawdown_pct: 0.0,
        })
        .collect()
}

/// Equal to 1e-9, relative when the value is above 1 in size; `None` is empyrical's NaN.
fn check(name: &str, metric: &str, ours: Option<f64>, theirs: &Value) {
    match (ours, theirs.as_f64()) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{name}: {metric} is {a}, empyrical says {b}"
        ),
        (a, _) => panic!("{name}: {metric} is {a:?}, empyrical says {theirs}"),
    }
}

fn metrics_of(doc: &Value) -> Metrics {
    let instrument: Instrument = match doc["instrument"].as_str().unwrap() {
        "btc_usdt" => Instrument::btc_usdt(),
        "nifty_50" => Instrument::nifty_50(),
        other => panic!("unknown instrument {other}"),
    };
    let curve = points(doc);
    let year = Annualization::of_curve(&instrument.session, &curve);
    compute(&curve, &[], &[], year)
}

#[test]
fn every_metric_equals_empyricals_on_the_golden_series() {
    for name in SERIES {
        let doc = golden(name);
        let m = metrics_of(&doc);
        let want = &doc["expected"];
        assert_eq!(
            m.annualization.periods_per_year,
            doc["periods_per_year"].as_f64().unwrap(),
            "{name}: the annualization derived from the curve is the one empyrical was given"
        );
        assert_eq!(
            m.annualization.interval_millis,
            doc["interval_millis"].as_i64().unwrap()
        );
        assert_eq!(m.points as usize, doc["points"].as_array().unwrap().len());
        assert_eq!(m.returns, m.points - 1);
        check(name, "total_return", m.total_return, &want["total_return"]);
        check(
            name,
            "annual_return",
            m.annual_return,
            &want["annual_return"],
        );
        check(
            name,
            "annual_volatility",
            m.annual_volatility,
            &want["annual_volatility"],
        );
        check(name, "sharpe", m.sharpe, &want["sharpe"]);
        check(name, "sortino", m.sortino, &want["sortino"]);
        check(
            name,
            "downside_risk",
            m.downside_risk,
            &want["downside_risk"],
        );
        check(name, "calmar", m.calmar, &want["calmar"]);
        check(name, "max_drawdown", m.max_drawdown, &want["max_drawdown"]);
        assert_eq!(
            m.max_drawdown_bars,
            want["max_drawdown_bars"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            m.max_drawdown_millis,
            want["max_drawdown_millis"].as_i64().unwrap(),
            "{name}"
        );
        let json = serde_json::to_string(&m).unwrap();
        assert!(
            !json.contains("NaN") && !json.contains("inf"),
            "{name}: {json}"
        );
    }
}

#[test]
fn the_golden_series_cover_the_cases_they_are_named_for() {
    let flat = metrics_of(&golden("flat_stretch"));
    assert_eq!(
        flat.annualization.basis,
        Basis::Session {
            days: 252,
            minutes: 375
        }
    );
    let gains = metrics_of(&golden("gains_only"));
    assert_eq!(gains.max_drawdown, Some(0.0));
    assert_eq!(
        (gains.sortino, gains.calmar),
        (None, None),
        "empyrical: inf and NaN"
    );
    let deep = metrics_of(&golden("deep_drawdown"));
    assert!(deep.max_drawdown.unwrap() < -0.5);
    assert!(deep.underwater_at_end);
    let walk = metrics_of(&golden("random_walk"));
    assert!(walk.sharpe.is_some() && walk.sortino.is_some() && walk.calmar.is_some());
    assert_eq!(walk.suspicious(), None, "over a year of data");
}

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/btcusdt-1m.csv")
}

fn rules_config() -> BotConfig {
    BotConfig::new(
        Instrument::btc_usdt(),
        Brain::rules_only().unwrap(),
        Decimal::from(100_000),
        Mode::Backtest,
    )
}

/// The last close of the bundled file.
fn last_close() -> Decimal {
    let text = std::fs::read_to_string(bundled()).unwrap();
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    last.split(',').nth(4).unwrap().parse().unwrap()
}

#[tokio::test]
async fn buy_and_hold_puts_the_cash_in_at_the_first_decision_and_holds_it() {
    let config = rules_config();
    let hold = buy_and_hold(&config, &bundled(), Period::default())
        .await
        .unwrap();
    let entry = hold.entry.clone().expect("it bought");
    let m = &hold.metrics;
    // The first decision is at the first 15-minute close: 00:15 of the file's first day.
    let first = m.start.unwrap();
    assert!(
        entry.at.millis() >= first.millis() + 13 * 60_000,
        "{entry:?} vs {first}"
    );
    assert!(
        entry.at.millis() <= first.millis() + 16 * 60_000,
        "{entry:?} vs {first}"
    );
    // All the cash less the reserve, and exactly the broker's books at the end.
    let cost = entry.quantity * entry.price + entry.fee;
    assert!(
        cost <= config.cash && cost >= config.cash * Decimal::new(99, 2),
        "{cost}"
    );
    let end = config.cash - cost + entry.quantity * last_close();
    assert_eq!(m.end_equity, Some(end));
    assert_eq!(m.fees_paid, entry.fee);
    assert_eq!(m.trades, 0, "held, never closed");
    let exposure = m.exposure.unwrap();
    assert!(exposure > 0.99 && exposure < 1.0, "{exposure}");
    assert!((m.turnover.unwrap() - 1.0).abs() < 0.1, "{:?}", m.turnover);
    assert_eq!(m.points, 4_320, "a point per bar");
    assert_eq!(m.annualization.periods_per_year, 525_600.0);
    // A period: the same buy at the period's first decision, fewer points.
    let from: Timestamp = "2024-12-03T00:00:00Z".parse().unwrap();
    let half = buy_and_hold(
        &config,
        &bundled(),
        Period {
            from: Some(from),
            to: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        half.metrics.points,
        4_320 - 24 * 60,
        "the file's first day left out"
    );
    assert!(half.entry.unwrap().at > from);
}

/// A CSV of one-minute bars from 2024-03-04 00:00 UTC.
fn bars_file(name: &str, bars: &[(f64, f64, f64, f64)]) -> PathBuf {
    let start: Timestamp = "2024-03-04T00:00:00Z".parse().unwrap();
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for (i, (o, h, l, c)) in bars.iter().enumerate() {
        let ts = start.add_millis(i as i64 * 60_000).millis();
        csv.push_str(&format!("{ts},{o},{h},{l},{c},10\n"));
    }
    let path = std::env::temp_dir().join(format!(
        "tradegraph-metrics-{name}-{}.csv",
        std::process::id()
    ));
    std::fs::write(&path, csv).unwrap();
    path
}

#[tokio::test]
async fn buy_and_hold_buys_even_when_the_next_open_gaps_past_its_reserve() {
    // Flat at 100 to the first decision (the 00:15 close), then a bar that opens 1% higher:
    // all the cash less 0.5% at 100 is more than the cash at 101, so the broker cancels that
    // buy at the fill; buy-and-hold must retry with a larger reserve, not stay in cash.
    let mut bars = vec![(100.0, 100.0, 100.0, 100.0); 15];
    bars.push((101.0, 101.5, 100.8, 101.2));
    bars.extend(vec![(101.2, 101.2, 101.2, 101.2); 20]);
    let data = bars_file("gap-hold", &bars);
    let config = rules_config();
    let hold = buy_and_hold(&config, &data, Period::default())
        .await
        .unwrap();
    std::fs::remove_file(&data).ok();
    let entry = hold.entry.clone().expect("it bought after the gap");
    assert!(entry.price >= Decimal::from(101), "{entry:?}");
    let cost = entry.quantity * entry.price + entry.fee;
    assert!(
        cost <= config.cash && cost >= config.cash * Decimal::new(95, 2),
        "{cost}"
    );
    assert_eq!(hold.metrics.trades, 0);
    assert!(
        hold.metrics.exposure.unwrap() > 0.4,
        "{:?}",
        hold.metrics.exposure
    );
}

#[tokio::test]
async fn a_run_in_rule_mode_is_not_run_twice() {
    let b = baselines(&rules_config(), &bundled(), Period::default())
        .await
        .unwrap();
    assert_eq!(b.rule_mode, None);
    assert_eq!(b.rule_mode_note.as_deref(), Some(RULE_MODE_IS_THE_RUN));
    assert!(b.buy_and_hold_entry.is_some());
    let json = serde_json::to_string(&b).unwrap();
    assert!(!json.contains("NaN"), "{json}");
}

#[tokio::test]
async fn a_run_with_a_model_gets_the_graph_in_rule_mode_as_its_baseline() {
    // A model that is never asked: the baselines never call it (nothing listens there).
    let mut provider = ProviderConfig::new(ProviderKind::Openai);
    provider.api_key = Some("sk-test-not-a-real-key".into());
    provider.base_url = Some("http://127.0.0.1:9/v1".into());
    provider.model = Some("gpt-test".into());
    let llm = LlmConfig {
        providers: vec![provider],
        ..LlmConfig::default()
    }
    .build()
    .await
    .unwrap();
    let mut with_model = rules_config();
    with_model.brain = Brain::rules_only()
        .unwrap()
        .with_model(Arc::new(LlmModel::new(llm)));
    let period = Period {
        from: None,
        to: Some("2024-12-03T00:00:00Z".parse().unwrap()),
    };
    let b = baselines(&with_model, &bundled(), period).await.unwrap();
    let rule = b.rule_mode.expect("a rule-mode run");
    assert_eq!(b.rule_mode_note, None);
    // The same as a run of the rule-mode graph itself over that period.
    let direct = run_period(rules_config(), &bundled(), period, |_| {})
        .await
        .unwrap();
    assert!(direct.cycles > 0);
    assert_eq!(rule, Metrics::of_run(&direct, &Instrument::btc_usdt()));
    assert_eq!(rule.points, 24 * 60, "one day of bars");
}
