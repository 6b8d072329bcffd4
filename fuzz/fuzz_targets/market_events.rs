//! Any bytes, read as a session of Binance frames, Kite messages, replay lines, orders and
//! clock moves: every parsed event goes into the candle aggregator and the paper broker
//! (`Broker::on_market`), and after every step the candles lie within their range, start their
//! bucket and rise in time, and the broker's cash, positions and orders are what its fills say.
//! The same harness runs as the property test
//! `crates/tradegraph-broker/tests/market_events_properties.rs`.
#![no_main]

#[path = "../../crates/tradegraph-broker/tests/fuzz_harness/market_events.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
