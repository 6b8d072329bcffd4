//! Any `OLLAMA_HOST` value given to `tradegraph_llm::config::ollama_host`: a base URL with a
//! scheme, a host and a port that reads back as itself, or an error naming the variable; never
//! a panic. The same checks run as the property test
//! `crates/tradegraph-llm/tests/ollama_host_properties.rs`.
#![no_main]

#[path = "../../crates/tradegraph-llm/tests/fuzz_harness/ollama_host.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = harness::check(text);
    }
});
