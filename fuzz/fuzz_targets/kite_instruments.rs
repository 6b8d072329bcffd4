//! Any text given as Kite's instruments dump: only a header without Kite's columns fails;
//! every other record is an instrument that writes back and reads the same, or a bad row
//! naming the line it starts on; never a panic. The same checks run as the property test
//! `crates/tradegraph-market/tests/kite_instruments_properties.rs`.
#![no_main]

#[path = "../../crates/tradegraph-market/tests/fuzz_harness/kite_instruments.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        harness::check(text);
    }
});
