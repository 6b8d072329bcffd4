//! Any text given to the Kite REST and order-update readers: an order or trade with its ids
//! and exact numbers, or an error naming the missing or bad field (a list's item by
//! position); an error envelope read as written; never a panic. The same checks run as the
//! property test `crates/tradegraph-broker/tests/kite_venue_json_properties.rs`.
#![no_main]

#[path = "../../crates/tradegraph-broker/tests/fuzz_harness/kite_venue_json.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        harness::check(text);
    }
});
