//! Any bytes given to the YAML graph checker: an error or a summary, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = std::str::from_utf8(data) {
        let _ = tradegraph_graph::yaml::check_str(source, "fuzz.yaml");
    }
});
