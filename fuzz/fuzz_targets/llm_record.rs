//! Any bytes as an LLM record file (`tradegraph backtest --replay FILE`): it opens to replay,
//! with the lines it cannot read reported, or is refused with a reason; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradegraph_llm::record::RecordBook;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("tg-fuzz-record-{}.jsonl", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    match RecordBook::replay(&path) {
        Ok(book) => {
            for skipped in book.skipped() {
                assert!(skipped.line >= 1 && !skipped.reason.is_empty());
            }
            let _ = book.fingerprint();
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
