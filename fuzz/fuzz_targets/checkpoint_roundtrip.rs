//! Any bytes decoded as a graph checkpoint (`checkpoint::codec`, a trading-shaped state): a
//! checkpoint that comes out encodes and decodes to itself, pending writes included, floats bit
//! for bit; an error otherwise, never a panic. The same checks run as the property test
//! `crates/tradegraph-graph/tests/checkpoint_properties.rs`.
#![no_main]

#[path = "../../crates/tradegraph-graph/tests/fuzz_harness/checkpoint_roundtrip.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harness::check_bytes(data);
});
