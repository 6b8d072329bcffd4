//! Replays the bundled sample data of each instrument through the aggregator and the indicators,
//! as the bots do, then runs a seeded synthetic hour of BTC trades through the aggregator and the
//! order-flow tracker, and prints what the agents would see.
//!
//! Run: `cargo run --release --example market_data` (no network, no keys).
#![allow(clippy::print_stdout)]

use futures::StreamExt;
use std::collections::BTreeMap;
use tradegraph_core::{Instrument, Timeframe};
use tradegraph_market::aggregate::CandleAggregator;
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::feed::synthetic::{SyntheticConfig, SyntheticGenerator};
use tradegraph_market::flow::OrderFlowTracker;
use tradegraph_market::indicators::{IndicatorConfig, IndicatorSet, IndicatorValues};
use tradegraph_market::{Clock, MarketError, SimulatedClock};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), MarketError> {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data");
    for (instrument, file) in [
        (Instrument::btc_usdt(), "btcusdt-1m.csv"),
        (Instrument::bank_nifty(), "banknifty-1m.csv"),
        (Instrument::nifty_50(), "nifty50-1m.csv"),
    ] {
        let clock = SimulatedClock::default();
        let replay = Replay::new(ReplayConfig {
            clock: clock.clone(),
            ..ReplayConfig::new(format!("{data}/{file}"), instrument.symbol.clone())
        })?;
        let stats = replay.stats();
        let mut events = replay.stream();
        let mut aggregator =
            CandleAggregator::new(instrument.symbol.clone(), instrument.session.clone());
        let mut indicators: BTreeMap<Timeframe, (IndicatorSet, IndicatorValues, usize)> =
            BTreeMap::new();
        let mut closed = Vec::new();
        while let Some(event) = events.next().await {
            aggregator.on_event(&event, &mut closed);
            for candle in closed.drain(..) {
                let entry = match indicators.entry(candle.timeframe) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => e.insert((
                        IndicatorSet::new(IndicatorConfig::default())?,
                        IndicatorValues::default(),
                        0,
                    )),
                };
                entry.1 = entry.0.update_candle(&candle);
                entry.2 += 1;
            }
        }
        aggregator.advance(clock.now(), &mut closed);
        println!(
            "{} ({file}): {} bars replayed, {} malformed, clock at {}",
            instrument.symbol,
            stats.events(),
            stats.malformed(),
            clock.now()
        );
        for (tf, (_, values, count)) in &indicators {
            let show = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.2}"));
            println!(
                "  {:>5}: {count:>5} candles  RSI {:>6}  MACD hist {:>8}  ATR {:>8}  ADX {:>6}",
                tf.key(),
                show(values.rsi),
                show(values.macd_hist),
                show(values.atr),
                show(values.adx),
            );
        }
        let agg = aggregator.stats();
        println!(
            "  aggregator: {} accepted, {} late, {} out of session, {} quiet minutes filled",
            agg.accepted, agg.late, agg.out_of_session, agg.filled_minutes,
        );
    }
    synthetic_hour()
}

/// One hour of seeded synthetic BTC trades: candles and order flow from the trades themselves.
fn synthetic_hour() -> Result<(), MarketError> {
    let btc = Instrument::btc_usdt();
    let config = SyntheticConfig::btc_usdt(7);
    let end = config.start.add_millis(3_600_000);
    let generator = SyntheticGenerator::new(config.with_end(end))?;
    let mut aggregator = CandleAggregator::new(btc.symbol.clone(), btc.session.clone());
    let mut flow = OrderFlowTracker::new(btc.session.clone());
    let (mut closed, mut events) = (Vec::new(), 0u64);
    for event in generator {
        events += 1;
        flow.on_event(&event);
        aggregator.on_event(&event, &mut closed);
    }
    aggregator.advance(end, &mut closed);
    let minutes = closed
        .iter()
        .filter(|c| c.timeframe == Timeframe::M1)
        .count();
    let f = flow.session();
    println!(
        "synthetic BTCUSDT hour (seed 7): {events} events, {minutes} one-minute candles, bought {} sold {} (delta {}), VWAP {}, book imbalance {}",
        f.buy_volume.round_dp(4),
        f.sell_volume.round_dp(4),
        f.cumulative_delta.round_dp(4),
        f.session_vwap.map_or("—".into(), |v| v.round_dp(2).to_string()),
        f.book_imbalance.map_or("—".into(), |v| format!("{v:+.3}")),
    );
    Ok(())
}
