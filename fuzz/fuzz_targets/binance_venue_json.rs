//! Any text given to the Binance REST parsers: `parse_exchange_info` reads a symbol's rules
//! exactly as written or says what is wrong, an error body is read as written and classified;
//! never a panic. The first byte picks the symbol asked for. The same checks run as the
//! property test `crates/tradegraph-broker/tests/binance_venue_json_properties.rs`.
#![no_main]

#[path = "../../crates/tradegraph-broker/tests/fuzz_harness/binance_venue_json.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let symbol = ["BTCUSDT", "btcusdt", "ETHUSDT", ""][usize::from(pick % 4)];
    if let Ok(text) = std::str::from_utf8(rest) {
        harness::check(text, symbol);
    }
});
