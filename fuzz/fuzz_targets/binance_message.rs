//! Any bytes given to the Binance frame decoder: an event, a reply or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradegraph_core::Timestamp;
use tradegraph_market::feed::binance::Decoder;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let decoder = Decoder::new("BTCUSDT");
        let _ = decoder.decode(text, Timestamp::EPOCH);
    }
});
