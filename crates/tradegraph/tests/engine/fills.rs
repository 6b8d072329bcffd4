//! When the backtest's market orders fill: at the next bar's open by default, never at the
//! close that triggered the decision; at that close only when asked (`Immediate`).

use super::support::*;
use rust_decimal::Decimal;
use tradegraph::engine::{backtest, Mode};
use tradegraph_broker::paper::FillTiming;
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Instrument, Side, Timestamp};
use tradegraph_store::Stores;

/// Flat at 100 for 15 minutes (the decision at the 00:15 close), then a bar that opens at 101.
fn gap_bars(name: &str) -> std::path::PathBuf {
    let mut bars = flat(100.0, 15);
    bars.push((101.0, 101.5, 100.8, 101.2));
    bars.extend(flat(101.2, 20));
    bars_file(name, "2024-03-04T00:00:00Z", &bars)
}

/// The backtest's buy fills with `timing` (`None`: the default).
async fn entry_fills(name: &str, timing: Option<FillTiming>) -> Vec<(Timestamp, Decimal)> {
    let data = gap_bars(name);
    let mut config = config(
        btc_as(&unique(name)),
        ScriptedPm::cycles(vec![buy(5.0, 95.0, None, None)]),
        RiskLimits::default(),
        Stores::memory(),
        Mode::Backtest,
    );
    config.execution.fill_timing = timing;
    let mut decided = Vec::new();
    let summary = backtest(config, &data, |state| decided.push(state.as_of))
        .await
        .unwrap();
    std::fs::remove_file(&data).ok();
    let close: Timestamp = "2024-03-04T00:15:00Z".parse().unwrap();
    assert_eq!(
        decided.first(),
        Some(&close),
        "the first cycle decides at the 00:15 close"
    );
    summary
        .fills
        .iter()
        .filter(|f| f.side == Side::Buy)
        .map(|f| (f.ts, f.price))
        .collect()
}

#[tokio::test]
async fn a_decision_at_a_bars_close_fills_at_the_next_bars_open() {
    let fills = entry_fills("nextopen", None).await;
    assert_eq!(fills.len(), 1, "{fills:?}");
    let (ts, price) = fills[0];
    // At the 00:15 bar's open, stamped with its open time (the price and the time agree) ...
    let bar: Timestamp = "2024-03-04T00:15:00Z".parse().unwrap();
    assert_eq!(ts, bar);
    // ... at its open, 101, plus 2 bp of slippage (101.0202), rounded up to the 0.01 tick; not
    // at the 100 close that decided.
    assert_eq!(price, Decimal::new(10103, 2));
}

#[tokio::test]
async fn immediate_fills_at_the_deciding_close_only_when_asked() {
    let fills = entry_fills("immediate", Some(FillTiming::Immediate)).await;
    assert_eq!(fills.len(), 1, "{fills:?}");
    let (ts, price) = fills[0];
    // At the 00:14 bar's close, 100, plus 2 bp: 100.02.
    let bar: Timestamp = "2024-03-04T00:14:00Z".parse().unwrap();
    assert_eq!(ts, bar.add_millis(59_999));
    assert_eq!(price, Decimal::new(10002, 2));
}

/// `tradegraph run` on a file of bars (the service mode on a replay) fills at the next open as
/// the backtest does, not at the close that decided.
#[tokio::test]
async fn the_service_on_replayed_bars_fills_at_the_next_open() {
    let name = unique("run-nextopen");
    let data = gap_bars(&name);
    let stores = Stores::memory();
    let mut config = config(
        btc_as(&name),
        ScriptedPm::cycles(vec![buy(5.0, 95.0, None, None)]),
        RiskLimits::default(),
        stores.clone(),
        Mode::Service,
    );
    // What the configuration resolves for a replay feed (tests/config/paper.rs checks that).
    config.execution.replayed_bars = true;
    let engine = start(config, &data).await;
    let run = finish(engine, stores).await;
    std::fs::remove_file(&data).ok();
    let buys: Vec<(Timestamp, Decimal)> = run
        .summary
        .fills
        .iter()
        .filter(|f| f.side == Side::Buy)
        .map(|f| (f.ts, f.price))
        .collect();
    let open: Timestamp = "2024-03-04T00:15:00Z".parse().unwrap();
    // The 00:15 bar's open, 101, plus 2 bp rounded up to the tick: 101.03; not the 100 close.
    assert_eq!(buys, vec![(open, Decimal::new(10103, 2))]);
}

#[tokio::test]
async fn bank_nifty_fills_carry_zerodhas_charges_by_kind() {
    use tradegraph_core::order::ChargeKind;
    let data = bars_file(
        "nse-charges",
        "2024-03-04T04:00:00Z",
        &[flat(48_000.0, 15), flat(48_100.0, 20)].concat(),
    );
    let config = config(
        Instrument::bank_nifty(),
        ScriptedPm::cycles(vec![buy(5.0, 47_000.0, None, None)]),
        RiskLimits::default(),
        Stores::memory(),
        Mode::Backtest,
    );
    let summary = backtest(config, &data, |_| {}).await.unwrap();
    std::fs::remove_file(&data).ok();
    let entry = summary
        .fills
        .iter()
        .find(|f| f.side == Side::Buy)
        .expect("the entry filled");
    let kinds: Vec<ChargeKind> = entry.charges.iter().map(|c| c.kind).collect();
    // A buy: brokerage, exchange charges, SEBI fees, stamp duty and GST; no STT.
    for kind in [
        ChargeKind::Brokerage,
        ChargeKind::ExchangeTransaction,
        ChargeKind::SebiFee,
        ChargeKind::StampDuty,
        ChargeKind::Gst,
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert!(!kinds.contains(&ChargeKind::Stt), "no STT on a buy");
    let sum: Decimal = entry.charges.iter().map(|c| c.amount).sum();
    assert_eq!(sum, entry.fee);
}
