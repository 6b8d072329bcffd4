//! Any bytes read as write-behind spill lines (versioned records, and bare records from before
//! versions): a record that comes out is written and read back unchanged on one line; an
//! error otherwise, never a panic. The same checks run as the property test
//! `crates/tradegraph-store/tests/record_properties.rs`.
#![no_main]

#[path = "../../crates/tradegraph-store/tests/fuzz_harness/record_roundtrip.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harness::check_bytes(data);
});
