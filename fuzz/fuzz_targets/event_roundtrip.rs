//! Any bytes read as recording lines (JSON market events, and through the replay parser): an
//! event that comes out is written and read back unchanged, and the replay parser reads its
//! line back as the event; an error otherwise, never a panic. The same checks run as the
//! property test `crates/tradegraph-market/tests/event_roundtrip_properties.rs`.
#![no_main]

#[path = "../../crates/tradegraph-market/tests/fuzz_harness/event_roundtrip.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harness::check_bytes(data);
});
