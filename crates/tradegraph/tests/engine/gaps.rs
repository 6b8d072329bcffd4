//! A worker's engine across a gap in its jobs: the minutes missing from them are a gap the
//! ingesting process saw (its feed was down), not quiet minutes (those it filled itself), so
//! the engine invents none, and its decision candle is built from what the jobs carry.

use super::support::*;
use tradegraph::engine::Mode;
use tradegraph_core::{RiskLimits, Timeframe, Timestamp};
use tradegraph_store::Stores;

/// Minute bars from 14:00 with the minutes 14:13 to 14:20 missing (a feed down), 10 apart.
fn gapped(name: &str) -> std::path::PathBuf {
    let start: Timestamp = "2025-01-06T14:00:00Z".parse().unwrap();
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for minute in (0..13).chain(21..45) {
        let ts = start.add_millis(minute * 60_000);
        let price = 100.0 + minute as f64;
        csv += &format!(
            "{ts},{price:.2},{:.2},{:.2},{price:.2},10\n",
            price + 0.5,
            price - 0.5
        );
    }
    let path = std::env::temp_dir().join(format!(
        "tradegraph-engine-{}-{name}.csv",
        std::process::id()
    ));
    std::fs::write(&path, csv).unwrap();
    path
}

#[tokio::test]
async fn a_workers_engine_invents_no_minute_across_a_gap_in_its_jobs() {
    let data = gapped("gaps");
    let stores = Stores::memory();
    let mut config = config(
        btc_as(&unique("GAPS")),
        ScriptedPm::cycles(vec![]),
        RiskLimits::default(),
        stores.clone(),
        Mode::Backtest,
    );
    tradegraph::workers::configure_for_jobs(&mut config, "2025-01-06T14:00:00Z".parse().unwrap());
    let engine = start(config, &data).await;
    let run = finish(engine, stores).await;
    std::fs::remove_file(data).unwrap();
    let last = run.cycles.last().expect("cycles ran");
    let minutes = &last.market.candles[&Timeframe::M1];
    let flat: Vec<_> = minutes.iter().filter(|c| c.volume.is_zero()).collect();
    assert!(flat.is_empty(), "minutes invented: {flat:?}");
    let quarter: Timestamp = "2025-01-06T14:15:00Z".parse().unwrap();
    let m15 = last.market.candles[&Timeframe::M15]
        .iter()
        .find(|c| c.open_time == quarter)
        .expect("the 14:15 quarter");
    // Built from 14:21 to 14:29: its open is 14:21's, not the last price before the gap.
    assert_eq!(m15.open.to_string(), "121.00", "{m15:?}");
    assert_eq!(m15.low.to_string(), "120.50", "{m15:?}");
}
