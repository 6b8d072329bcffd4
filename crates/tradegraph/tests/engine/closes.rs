//! Every kind of close ends one trade record `Closed` with the P&L the broker's fills give (the
//! stop, the target, the trailing stop, the daily-loss halt and the NSE square-off are in
//! `scenarios.rs`; these are the ones a decision or an operator causes), and more than the
//! learner's 500 lessons are all saved.

use super::support::*;
use rust_decimal::Decimal;
use tradegraph::engine::Mode;
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::Side;
use tradegraph_store::{Query, Stores};

/// Flat at 100, then rising a little: bought at 00:15, still open at 00:30.
fn rising_bars(name: &str) -> std::path::PathBuf {
    let mut bars = flat(100.0, 15);
    for i in 0..30 {
        let p = 100.0 + 0.05 * f64::from(i);
        bars.push((p, p + 0.05, p, p + 0.05));
    }
    bars_file(name, "2024-03-04T00:00:00Z", &bars)
}

async fn exits_after(
    decisions: Vec<Option<serde_json::Value>>,
    name: &str,
    limits: RiskLimits,
) -> Run {
    run(Instrument::btc_usdt(), rising_bars(name), decisions, limits).await
}

use tradegraph_core::Instrument;

#[tokio::test]
async fn a_close_decision_closes_the_trade() {
    let run = exits_after(
        vec![buy(5.0, 95.0, Some(120.0), None), close()],
        "close",
        RiskLimits::default(),
    )
    .await;
    assert_eq!(run.cycles[1].orders.len(), 1, "{:?}", run.cycles[1].verdict);
    assert_eq!(run.cycles[1].orders[0].request.side, Side::Sell);
    assert!(flat_at_end(&run));
    check_trade_log(&run, "BTCUSDT", 1).await;
    assert!(
        run.summary.realized_pnl > Decimal::ZERO,
        "closed higher than bought"
    );
}

#[tokio::test]
async fn an_opposite_signal_closes_rather_than_reverses() {
    let run = exits_after(
        vec![buy(5.0, 95.0, Some(120.0), None), sell(5.0, 110.0)],
        "opposite",
        RiskLimits::default(),
    )
    .await;
    assert_eq!(run.cycles[1].orders.len(), 1, "{:?}", run.cycles[1].verdict);
    assert!(flat_at_end(&run), "closed, not reversed");
    check_trade_log(&run, "BTCUSDT", 1).await;
}

#[tokio::test]
async fn the_daily_loss_halt_forces_a_close() {
    // Bought 5% with a wide stop (filled at the next bar's open, 99); the price falls 3% more
    // (0.15% of equity) in the minute before the next decision, past a 0.1% daily limit: the
    // decision's guard closes the position (earlier, each minute's check would: see
    // `scenarios.rs`).
    let mut bars = flat(100.0, 15);
    bars.extend(flat(99.0, 14));
    bars.extend(flat(96.0, 16));
    let data = bars_file("daily-close", "2024-03-04T00:00:00Z", &bars);
    let limits = RiskLimits {
        max_daily_loss_pct: Decimal::new(1, 1),
        ..RiskLimits::default()
    };
    let run = run(
        Instrument::btc_usdt(),
        data,
        vec![buy(5.0, 90.0, None, None)],
        limits,
    )
    .await;
    let forced = &run.cycles[1];
    let verdict = forced.verdict.as_ref().unwrap();
    assert!(verdict.is_forced_close(), "{:?}", verdict.findings);
    assert!(verdict
        .findings
        .iter()
        .any(|f| f.reason.to_string().contains("daily loss")));
    assert_eq!(forced.orders.len(), 1);
    assert!(flat_at_end(&run));
    check_trade_log(&run, "BTCUSDT", 1).await;
    assert!(run.summary.realized_pnl < Decimal::ZERO);
}

#[tokio::test]
async fn the_kill_switch_forces_a_close() {
    let stores = Stores::memory();
    let config = config(
        Instrument::btc_usdt(),
        ScriptedPm::cycles(vec![
            buy(5.0, 95.0, Some(120.0), None),
            buy(5.0, 95.0, Some(120.0), None),
        ]),
        RiskLimits::default(),
        stores.clone(),
        Mode::Backtest,
    );
    let data = rising_bars("kill");
    let engine = start(config, &data).await;
    let switch = engine.kill_switch().clone();
    let cycles = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = cycles.clone();
    let summary = Box::pin(engine.run(std::future::pending(), move |s| {
        // an operator pulls the switch after the entry
        switch.engage();
        sink.lock().unwrap().push(s.clone());
    }))
    .await
    .unwrap();
    std::fs::remove_file(data).unwrap();
    let cycles: Vec<_> = cycles.lock().unwrap().clone();
    let run = Run {
        broker_fills: summary.fills.clone(),
        summary,
        cycles,
        stores,
    };
    assert_eq!(run.cycles[0].orders.len(), 1, "entered");
    let second = run.cycles[1].verdict.as_ref().unwrap();
    assert!(second.is_forced_close(), "{:?}", second.findings);
    assert!(
        second
            .findings
            .iter()
            .any(|f| f.reason.to_string().contains("kill switch")),
        "{:?}",
        second.findings
    );
    assert!(flat_at_end(&run));
    check_trade_log(&run, "BTCUSDT", 1).await;
}

/// The guard's forced close (the kill switch engaged) is not sent while an earlier close of the
/// position still works at the broker: two full-size closes would over-sell where the venue has
/// no reduce-only.
#[tokio::test]
async fn a_forced_close_waits_while_an_earlier_close_still_works() {
    use tradegraph_broker::Broker;
    use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide};
    let stores = Stores::memory();
    let instrument = btc_as(&unique("FC"));
    let symbol = instrument.symbol.clone();
    let config = config(
        instrument,
        ScriptedPm::cycles(Vec::new()),
        RiskLimits::default(),
        stores.clone(),
        Mode::Backtest,
    );
    let broker = tradegraph::engine::paper_broker(&config).unwrap();
    broker
        .on_tick(
            &symbol,
            &tradegraph_core::Tick::new(
                tradegraph_core::Timestamp::EPOCH,
                Decimal::from(100),
                Decimal::ONE,
            ),
        )
        .unwrap();
    let id = |s: &str| ClientOrderId::new(s).unwrap();
    let entry = OrderRequest::market(id("fc-entry"), symbol.clone(), OrderSide::Buy, Decimal::ONE);
    broker.submit(entry).await.unwrap();
    // A backtest's market order fills at the next price: the next tick.
    broker
        .on_tick(
            &symbol,
            &tradegraph_core::Tick::new(
                tradegraph_core::Timestamp::from_millis(1),
                Decimal::from(100),
                Decimal::ONE,
            ),
        )
        .unwrap();
    assert_eq!(
        broker.positions().await.unwrap().len(),
        1,
        "the entry filled"
    );
    // A close of the whole position, still working (a limit far above the market).
    let close = OrderRequest::limit(
        id("fc-close"),
        symbol.clone(),
        OrderSide::Sell,
        Decimal::ONE,
        Decimal::from(1_000),
    )
    .reduce_only();
    assert!(!broker.submit(close).await.unwrap().status.is_terminal());
    let data = bars_file(
        &format!("{symbol}-forced"),
        "2024-03-04T00:00:00Z",
        &flat(100.0, 20),
    );
    let engine = start_on(config, &data, broker).await;
    engine.kill_switch().engage();
    let run = finish(engine, stores).await;
    std::fs::remove_file(&data).ok();
    let forced = run
        .cycles
        .iter()
        .find(|c| c.verdict.as_ref().is_some_and(|v| v.is_forced_close()))
        .expect("the guard forces a close");
    assert!(
        forced.orders.is_empty(),
        "no second close: {:?}",
        forced.orders
    );
    let sells: Vec<_> = run
        .broker_fills
        .iter()
        .filter(|f| f.side == Side::Sell)
        .collect();
    assert!(
        sells.is_empty(),
        "nothing sold while the close works: {sells:?}"
    );
}

/// The portfolio manager (scripted), the guard, execution and learning.
const LEAN_GRAPH: &str = r#"
name: lean
nodes:
  - { name: portfolio_manager, kind: portfolio_manager }
  - { name: risk_guard, kind: risk_guard }
  - { name: execution, kind: execution }
  - { name: learning, kind: learning }
edges:
  - { from: start, to: portfolio_manager }
  - { from: portfolio_manager, to: risk_guard }
  - from: risk_guard
    field: verdict
    pointer: /intent
    cases:
      - { truthy: true, to: execution }
    default: learning
  - { from: execution, to: learning }
  - { from: learning, to: end }
"#;

#[tokio::test]
async fn more_than_500_lessons_are_all_saved() {
    // A decision every minute: BUY, CLOSE, BUY, CLOSE, ... 520 round trips, then a few HOLDs so
    // the learner judges the last one.
    let trips = 520;
    let mut bars = flat(100.0, 16);
    for i in 0..(2 * trips + 4) {
        let p = 100.0 + if i % 4 < 2 { 0.05 } else { -0.05 };
        bars.push((p, p, p, p));
    }
    let data = bars_file("lessons", "2024-03-04T00:00:00Z", &bars);
    let mut decisions = Vec::new();
    for _ in 0..trips {
        decisions.push(buy(2.0, 90.0, None, None));
        decisions.push(close());
    }
    let stores = Stores::memory();
    // fees and slippage of 520 round trips add up past the 2% daily loss limit: lift it
    let limits = RiskLimits {
        max_daily_loss_pct: Decimal::from(20),
        ..RiskLimits::default()
    };
    let mut config = config(
        Instrument::btc_usdt(),
        ScriptedPm::cycles(decisions),
        limits,
        stores.clone(),
        Mode::Backtest,
    );
    config.decision_every = tradegraph_core::Timeframe::M1;
    // the decision, the guard, execution and learning only: what this test is about, fast
    config.graph_yaml = LEAN_GRAPH.into();
    let engine = start(config, &data).await;
    let run = finish(engine, stores.clone()).await;
    std::fs::remove_file(data).unwrap();
    let refused: Vec<String> = run
        .cycles
        .iter()
        .filter_map(|c| c.verdict.as_ref())
        .filter(|v| v.intent.is_none() && v.action != tradegraph_core::risk::Action::Hold)
        .flat_map(|v| v.findings.iter().map(|f| format!("{} {}", v.at, f.reason)))
        .take(5)
        .collect();
    assert_eq!(
        run.summary.trades, trips as u64,
        "every round trip is a trade: {refused:?}"
    );
    let lessons = stores
        .lessons
        .recent_lessons(&"BTCUSDT".into(), Some("learning"), 10_000)
        .await
        .unwrap();
    assert_eq!(
        lessons.len(),
        trips,
        "every lesson saved, past the learner's 500"
    );
    assert_eq!(run.summary.lessons, trips as u64);
    assert_eq!(
        run.summary.lessons_kept, 500,
        "the learner keeps 500 for retrieval"
    );
    let log = stores.trades.trades(&Query::new("BTCUSDT")).await.unwrap();
    assert_eq!(log.len(), trips);
}
