//! The account gauges follow the account as the broker reads it each minute, not the account
//! a decision cycle started from.

use super::support::*;
use tradegraph::engine::Mode;
use tradegraph_core::risk::RiskLimits;
use tradegraph_store::Stores;

/// The 00:15 cycle buys, its entry fills at 00:16, and no cycle comes after: the gauges show
/// the position (they showed the flat account the cycle started from until the next cycle).
#[cfg(feature = "service")]
#[tokio::test]
async fn the_account_gauges_show_the_position_the_last_cycle_opened() {
    tradegraph::telemetry::install().unwrap();
    let symbol = unique("GA");
    let file = bars_file(&symbol, "2024-03-04T00:00:00Z", &flat(100.0, 20));
    let pm = ScriptedPm::at(&[(
        "2024-03-04T00:15:00Z",
        buy(5.0, 98.0, Some(120.0), None).unwrap(),
    )]);
    let stores = Stores::memory();
    let config = config(
        btc_as(&symbol),
        pm,
        RiskLimits::default(),
        stores.clone(),
        Mode::Service,
    );
    let run = finish(start(config, &file).await, stores).await;
    std::fs::remove_file(&file).unwrap();
    assert!(!run.broker_fills.is_empty(), "the entry filled");
    let instrument = format!("instrument=\"{symbol}\"");
    let gauge = |name: &str| {
        tradegraph::telemetry::render()
            .lines()
            .find(|l| l.starts_with(&format!("{name}{{")) && l.contains(&instrument))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    assert_eq!(
        gauge("tradegraph_engine_open_positions"),
        Some(1.0),
        "{}",
        tradegraph::telemetry::render()
    );
}
