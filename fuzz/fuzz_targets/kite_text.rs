//! Any text given to the Kite text-message parser: a message for a JSON object with a string
//! `type`, carrying its kind and its data as sent, or an error saying what is wrong; never a
//! panic. The same checks run as the property test
//! `crates/tradegraph-market/tests/kite_text_properties.rs`.
#![no_main]

#[path = "../../crates/tradegraph-market/tests/fuzz_harness/kite_text.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        harness::check(text);
    }
});
