//! The whole bot on scenarios built to trigger each risk rule: the YAML graph runs on replayed
//! bars, the portfolio manager's decisions are scripted per cycle (every other agent runs its
//! rules), and the test checks decisions, verdicts, orders, exits and P&L.

use super::support::*;
use rust_decimal::Decimal;
use std::path::PathBuf;
use tradegraph_core::risk::{RiskLimits, VerdictStatus};
use tradegraph_core::{Instrument, Side, Timeframe, Timestamp};
use tradegraph_store::{Query, Stores, StoresConfig, TradeStatus};

#[tokio::test]
async fn a_stop_loss_is_hit() {
    // Flat at 100; bought at 00:15 with a stop at 98; at 00:20 the price falls through it.
    let mut bars = flat(100.0, 20);
    bars.push((100.0, 100.0, 97.0, 97.5));
    bars.extend(flat(97.5, 24));
    let data = bars_file("stop", "2024-03-04T00:00:00Z", &bars);
    let run = run(
        Instrument::btc_usdt(),
        data,
        vec![buy(5.0, 98.0, Some(110.0), None)],
        RiskLimits::default(),
    )
    .await;

    assert_eq!(run.cycles[0].orders.len(), 1, "{:?}", run.cycles[0].verdict);
    // Decided at the 00:15 close, the market order fills at the next bar's open (00:15-00:16:
    // 100, plus 2 bp of slippage), not at the close that decided.
    assert!(
        run.cycles[0].fills.is_empty(),
        "nothing fills at the deciding close"
    );
    let entry: Vec<_> = run
        .summary
        .fills
        .iter()
        .filter(|f| f.side == Side::Buy)
        .collect();
    assert_eq!(entry.len(), 1, "the market order filled at the next open");
    let next: Timestamp = "2024-03-04T00:15:00Z".parse().unwrap();
    assert!(
        next <= entry[0].ts && entry[0].ts < next.add_millis(60_000),
        "{}",
        entry[0].ts
    );
    assert_eq!(entry[0].price, Decimal::new(10002, 2));
    let exits = sells(&run);
    assert_eq!(exits.len(), 1);
    // Within the 00:20 bar (a bar's fills are stamped at its last millisecond).
    let bar: Timestamp = "2024-03-04T00:20:00Z".parse().unwrap();
    assert!(
        bar <= exits[0].0 && exits[0].0 < bar.add_millis(60_000),
        "{}",
        exits[0].0
    );
    assert!(
        (exits[0].1 - 98.0).abs() < 0.05,
        "the stop fills at its price (less slippage): {}",
        exits[0].1
    );
    assert!(flat_at_end(&run));
    assert!(run.summary.pnl() < Decimal::ZERO);
    assert_eq!(run.summary.trades, 1, "the learner judged the closed trade");
    check_trade_log(&run, "BTCUSDT", 1).await;
}

#[tokio::test]
async fn every_equity_point_carries_the_engines_drawdown_from_its_peak_since_start() {
    // Bought at 100 with a stop at 98; the price falls to 97.5: equity falls from its peak.
    let mut bars = flat(100.0, 20);
    bars.push((100.0, 100.0, 97.0, 97.5));
    bars.extend(flat(97.5, 24));
    let data = bars_file("drawdown", "2024-03-04T00:00:00Z", &bars);
    let run = run(
        Instrument::btc_usdt(),
        data,
        vec![buy(5.0, 98.0, Some(110.0), None)],
        RiskLimits::default(),
    )
    .await;
    let points = &run.summary.equity;
    assert!(!points.is_empty());
    let mut peak = Decimal::ZERO;
    for p in points {
        peak = peak.max(p.equity);
        let expected = 100.0 * tradegraph::telemetry::drawdown(p.equity, peak);
        assert!(
            (p.drawdown_pct - expected).abs() < 1e-9,
            "{p:?}, peak {peak}"
        );
    }
    let last = points.last().unwrap();
    assert!(last.drawdown_pct > 0.0, "the loss is a drawdown: {last:?}");
    let worst = points.iter().map(|p| p.drawdown_pct).fold(0.0, f64::max);
    assert!(
        (worst - run.summary.max_drawdown_pct()).abs() < 1e-6,
        "{worst}"
    );
}

#[tokio::test]
async fn a_take_profit_is_hit() {
    let mut bars = flat(100.0, 20);
    bars.push((100.0, 104.0, 100.0, 103.5));
    bars.extend(flat(103.5, 24));
    let data = bars_file("tp", "2024-03-04T00:00:00Z", &bars);
    let run = run(
        Instrument::btc_usdt(),
        data,
        vec![buy(5.0, 97.0, Some(103.0), None)],
        RiskLimits::default(),
    )
    .await;
    let exits = sells(&run);
    assert_eq!(exits.len(), 1, "{exits:?}");
    assert!((exits[0].1 - 103.0).abs() < 0.05, "{}", exits[0].1);
    assert!(run.summary.pnl() > Decimal::ZERO);
    assert!(flat_at_end(&run));
    check_trade_log(&run, "BTCUSDT", 1).await;
}

#[tokio::test]
async fn a_trailing_stop_follows_the_high() {
    // Bought at 100 with a 2% trail (2.00); the price climbs to 110, then falls back to 107.
    let mut bars = flat(100.0, 15);
    let mut price = 100.0;
    for _ in 0..10 {
        bars.push((price, price + 1.0, price, price + 1.0));
        price += 1.0;
    }
    bars.push((110.0, 110.0, 107.0, 107.5));
    bars.extend(flat(107.5, 19));
    let data = bars_file("trail", "2024-03-04T00:00:00Z", &bars);
    let run = run(
        Instrument::btc_usdt(),
        data,
        vec![buy(5.0, 95.0, None, Some(2.0))],
        RiskLimits::default(),
    )
    .await;
    let exits = sells(&run);
    assert_eq!(exits.len(), 1, "{exits:?}");
    assert!(
        (exits[0].1 - 108.0).abs() < 0.1,
        "two below the 110 high: {}",
        exits[0].1
    );
    assert!(run.summary.pnl() > Decimal::ZERO);
    check_trade_log(&run, "BTCUSDT", 1).await;
}

#[tokio::test]
async fn the_daily_loss_limit_halts_new_entries() {
    let mut bars = flat(100.0, 20);
    bars.push((100.0, 100.0, 97.0, 97.5));
    bars.extend(flat(97.5, 24));
    let data = bars_file("daily", "2024-03-04T00:00:00Z", &bars);
    let limits = RiskLimits {
        max_daily_loss_pct: Decimal::new(1, 1),
        ..RiskLimits::default()
    };
    let decisions = vec![buy(5.0, 98.0, None, None), buy(5.0, 95.0, None, None)];
    let run = run(Instrument::btc_usdt(), data, decisions, limits).await;
    let second = run.cycles[1].verdict.as_ref().unwrap();
    assert_eq!(second.status, VerdictStatus::Rejected);
    let reasons: Vec<String> = second
        .findings
        .iter()
        .map(|f| f.reason.to_string())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("daily loss")),
        "{reasons:?}"
    );
    assert!(run.cycles[1].orders.is_empty(), "no order after the halt");
    check_trade_log(&run, "BTCUSDT", 1).await;
}

/// The daily loss limit holds between decisions: at an hourly cadence a position that loses
/// past the limit at 01:05 and recovers before the 02:00 decision is closed within the minute,
/// the day halted (saved, shown), not carried on because the decision saw the recovery.
#[tokio::test]
async fn the_daily_loss_limit_closes_the_position_between_decisions() {
    // Flat at 100 to 01:05 (bought at the 01:00 decision); 95.5 (4.5% down, above the stop at
    // 95) to 01:30; back at 100 to 02:30.
    let mut bars = flat(100.0, 65);
    bars.extend(flat(95.5, 25));
    bars.extend(flat(100.0, 60));
    let symbol = unique("DL");
    let data = bars_file(&symbol, "2024-03-04T00:00:00Z", &bars);
    let limits = RiskLimits {
        max_position_pct: Decimal::from(50),
        ..RiskLimits::default()
    };
    let stores = Stores::memory();
    let mut config = config(
        btc_as(&symbol),
        ScriptedPm::at(&[
            (
                "2024-03-04T01:00:00Z",
                buy(50.0, 95.0, Some(120.0), None).unwrap(),
            ),
            (
                "2024-03-04T02:00:00Z",
                buy(50.0, 95.0, Some(120.0), None).unwrap(),
            ),
        ]),
        limits,
        stores.clone(),
        tradegraph::engine::Mode::Service,
    );
    config.decision_every = Timeframe::H1;
    let (events, mut heard) = tokio::sync::broadcast::channel(16_384);
    config.events = Some(events);
    let engine = start(config, &data).await;
    let run = finish(engine, stores.clone()).await;
    std::fs::remove_file(data).unwrap();
    // Alerted and shown halted when it was reached, before the 02:00 decision.
    let mut alerted = None;
    let mut halted = false;
    while let Ok(event) = heard.try_recv() {
        match event {
            tradegraph::engine::BotEvent::Alert(alert)
                if alert.kind == tradegraph::engine::AlertKind::DailyLossLimit =>
            {
                alerted.get_or_insert(alert);
            }
            tradegraph::engine::BotEvent::TradingState { state, .. } => {
                halted |= state == tradegraph::engine::Trading::Halted;
            }
            _ => {}
        }
    }
    let alerted = alerted.expect("the daily loss limit was alerted");
    assert_eq!(alerted.severity, tradegraph::engine::Severity::Critical);
    assert!(halted, "the bot was shown halted");

    assert_eq!(
        run.summary.closed_trades.len(),
        1,
        "{:?}",
        run.summary.fills
    );
    let trade = &run.summary.closed_trades[0];
    let (fell, decided): (Timestamp, Timestamp) = (
        "2024-03-04T01:05:00Z".parse().unwrap(),
        "2024-03-04T01:10:00Z".parse().unwrap(),
    );
    assert!(
        trade.closed_at > fell && trade.closed_at < decided,
        "closed at {} (the loss passed the limit at 01:05)",
        trade.closed_at
    );
    assert_eq!(trade.exit_price.round_dp(0), Decimal::from(95));
    assert!(flat_at_end(&run));
    let guard = stores
        .state
        .load(&tradegraph_store::StateKey::new(
            symbol.as_str(),
            tradegraph_store::StatePart::Guard,
        ))
        .await
        .unwrap()
        .expect("the guard's halt is saved")
        .body;
    assert_eq!(guard["halted_day"], "2024-03-04T00:00:00Z", "{guard}");
    // The 02:00 decision to buy again is refused: the day is halted.
    let last = run.cycles.last().unwrap().verdict.as_ref().unwrap();
    assert_eq!(last.status, VerdictStatus::Rejected, "{last:?}");
    assert!(
        last.findings
            .iter()
            .any(|f| f.reason.to_string().contains("daily loss")),
        "{last:?}"
    );
}

#[tokio::test]
async fn the_volatility_circuit_breaker_blocks_entries() {
    let mut bars = flat(100.0, 10);
    bars.push((100.0, 104.0, 96.0, 100.0)); // an 8% bar inside the first 15-minute candle
    bars.extend(flat(100.0, 34));
    let data = bars_file("breaker", "2024-03-04T00:00:00Z", &bars);
    let run = run(
        Instrument::btc_usdt(),
        data,
        vec![buy(5.0, 98.0, None, None)],
        RiskLimits::default(),
    )
    .await;
    let first = run.cycles[0].verdict.as_ref().unwrap();
    assert_eq!(first.status, VerdictStatus::Rejected);
    assert!(
        first
            .findings
            .iter()
            .any(|f| f.reason.to_string().contains("circuit breaker")),
        "{:?}",
        first.findings
    );
    assert!(run.summary.fills.is_empty());
    check_trade_log(&run, "BTCUSDT", 0).await;
}

#[tokio::test]
async fn indian_positions_are_squared_off_before_the_close() {
    // One NSE session (09:15-15:30 IST = 03:45-10:00 UTC), flat at 50,000; bought at 14:45.
    let bars = flat(50_000.0, 375);
    let data = bars_file("squareoff", "2025-02-03T03:45:00Z", &bars);
    let mut decisions = vec![None; 21];
    decisions.push(buy(3.0, 49_000.0, None, None)); // the cycle at 14:45 IST
    let run = run(
        Instrument::bank_nifty(),
        data,
        decisions,
        RiskLimits::default(),
    )
    .await;
    let entry = &run.cycles[21];
    assert_eq!(entry.as_of, "2025-02-03T14:45:00+05:30".parse().unwrap());
    assert_eq!(entry.orders.len(), 1, "{:?}", entry.verdict);
    let exits = sells(&run);
    assert_eq!(exits.len(), 1, "{exits:?}");
    let (at, _) = exits[0];
    // The guard closes at the 15:15 decision (filled at the end of the 15:14 bar); the paper
    // broker's own square-off at 15:20 is the backstop.
    let from: Timestamp = "2025-02-03T15:14:00+05:30".parse().unwrap();
    let to: Timestamp = "2025-02-03T15:21:00+05:30".parse().unwrap();
    assert!(from <= at && at < to, "closed before the close: {at}");
    let square_off = &run.cycles[23];
    assert_eq!(
        square_off.as_of,
        "2025-02-03T15:15:00+05:30".parse().unwrap()
    );
    let verdict = square_off.verdict.as_ref().unwrap();
    assert!(verdict.is_forced_close(), "{:?}", verdict.findings);
    assert!(verdict
        .findings
        .iter()
        .any(|f| f.reason.to_string().contains("square-off")));
    assert_eq!(square_off.orders.len(), 1, "execution sent the close");
    assert!(flat_at_end(&run));
    check_trade_log(&run, "BANKNIFTY", 1).await;
}

fn stop_loss_bars(name: &str) -> PathBuf {
    let mut bars = flat(100.0, 20);
    bars.push((100.0, 100.0, 97.0, 97.5));
    bars.extend(flat(97.5, 24));
    bars_file(name, "2024-03-04T00:00:00Z", &bars)
}

async fn check_persisted(stores: &Stores, run: &Run, symbol: &str) {
    stores.flush().await.unwrap();
    let query = Query::new(symbol);
    let decisions = stores.decisions.decisions(&query).await.unwrap();
    assert_eq!(decisions.len(), run.cycles.len(), "one document per cycle");
    let first = &decisions[0];
    for agent in [
        "technical",
        "fundamental",
        "sentiment",
        "macro",
        "bull",
        "bear",
        "risk_manager",
        "portfolio_manager",
    ] {
        assert!(
            first.agent_decisions.contains_key(agent),
            "{agent} in agent_decisions"
        );
    }
    assert_eq!(first.action.as_deref(), Some("BUY"));
    let trades = stores.trades.trades(&query).await.unwrap();
    assert_eq!(trades.len(), 1, "{trades:?}");
    let trade = &trades[0];
    assert_eq!(trade.status, TradeStatus::Closed);
    let exit: f64 = trade.exit_price.unwrap().try_into().unwrap();
    assert!((exit - 98.0).abs() < 0.05, "{exit}");
    assert!(trade.realized_pnl.unwrap() < Decimal::ZERO);
    assert_eq!(
        trade.realized_pnl.unwrap(),
        run.summary.pnl(),
        "the trade's P&L is the run's"
    );
    let minutes = stores.history.candles(&query, Timeframe::M1).await.unwrap();
    assert_eq!(minutes.len(), 45);
    let quarters = stores
        .history
        .candles(&query, Timeframe::M15)
        .await
        .unwrap();
    assert_eq!(quarters.len(), 3);
    let lessons = stores
        .lessons
        .recent_lessons(&symbol.into(), Some("learning"), 10)
        .await
        .unwrap();
    assert_eq!(
        lessons.len(),
        1,
        "the learner's lesson on the stopped-out trade"
    );
    assert!(lessons[0].text.contains("lost"), "{}", lessons[0].text);
    // The learner's figures are the record's typed fields, not extra ones.
    assert_eq!(
        lessons[0].trade_id.as_deref(),
        Some(trade.trade_id.as_str())
    );
    assert!(lessons[0].situation.is_some(), "{:?}", lessons[0]);
    assert!(
        lessons[0].return_pct.is_some_and(|r| r < 0.0),
        "{:?}",
        lessons[0]
    );
    assert!(lessons[0].extra.is_empty(), "{:?}", lessons[0].extra);
    let latest = stores
        .hot
        .latest_price(&symbol.into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.price, Decimal::new(975, 1));
}

#[tokio::test]
async fn decisions_trades_and_candles_reach_the_stores() {
    let stores = Stores::memory();
    let data = stop_loss_bars("persist");
    let decisions = vec![buy(5.0, 98.0, Some(110.0), None)];
    let run = run_with(
        Instrument::btc_usdt(),
        data,
        decisions,
        RiskLimits::default(),
        stores.clone(),
    )
    .await;
    check_persisted(&stores, &run, "BTCUSDT").await;
}

/// Redis and MongoDB from scripts/services.sh (or REDIS_URL / MONGODB_URI): two bots share them
/// without colliding. Skipped with a message when the servers are not running, unless
/// TRADEGRAPH_REQUIRE_SERVICES=1 (the test command), which makes that a failure.
#[tokio::test]
async fn two_bots_share_real_redis_and_mongodb() {
    let Some((redis, mongo)) = services() else {
        return;
    };
    let database = format!("bots_{}", std::process::id());
    let spill = std::env::temp_dir().join(format!("tradegraph-bots-{}", std::process::id()));
    let connect = |name: &str| {
        Stores::connect(
            StoresConfig::new()
                .redis(Some(redis.clone()))
                .mongodb(Some(mongo.clone()), database.clone())
                .spill_path(spill.join(format!("{name}.jsonl"))),
        )
    };
    let (btc_stores, eth_stores) = (connect("btc").await.unwrap(), connect("eth").await.unwrap());
    let mut eth = Instrument::btc_usdt();
    eth.symbol = "ETHUSDT".into();
    let decisions = || vec![buy(5.0, 98.0, Some(110.0), None)];
    let (btc_run, eth_run) = tokio::join!(
        run_with(
            Instrument::btc_usdt(),
            stop_loss_bars("shared-btc"),
            decisions(),
            RiskLimits::default(),
            btc_stores.clone()
        ),
        run_with(
            eth,
            stop_loss_bars("shared-eth"),
            decisions(),
            RiskLimits::default(),
            eth_stores.clone()
        ),
    );
    check_persisted(&btc_stores, &btc_run, "BTCUSDT").await;
    check_persisted(&eth_stores, &eth_run, "ETHUSDT").await;
    btc_stores.shutdown().await;
    eth_stores.shutdown().await;
    let _ = std::fs::remove_dir_all(spill);
}
