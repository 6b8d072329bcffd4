//! Any bytes served by a local peer as the response of Finnhub's and EODHD's news endpoints:
//! items that keep what the sources promise, or an error naming the source; never a panic. The
//! same checks run as the property test
//! `crates/tradegraph-market/tests/news_json_properties.rs`.
#![no_main]

#[path = "../../crates/tradegraph-market/tests/fuzz_harness/news_json.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static NEWS: OnceLock<harness::News> = OnceLock::new();
    NEWS.get_or_init(harness::News::new).check(data);
});
