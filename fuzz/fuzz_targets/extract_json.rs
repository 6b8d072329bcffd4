//! Any model answer given to `extract_json`: a value only when a piece of the visible text
//! parses to it, otherwise an error saying why; never a panic, and time linear in the length
//! (run with `-timeout=` to bound it). The same checks run as the property test
//! `crates/tradegraph-llm/tests/extract_json_properties.rs`.
#![no_main]

#[path = "../../crates/tradegraph-llm/tests/fuzz_harness/extract_json.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = harness::check(text);
    }
});
