//! The write-behind spill reader on any file: whatever a previous run (or a crash, a full disk,
//! a stray editor) left in the spill file and its `.offset` file, starting a `WriteBehind` on
//! it writes back, in order and exactly once, every whole record line from where the offset
//! says (or from the start, when the offset is not a line boundary of the file), keeps every
//! whole line that is not a record in `.rejected`, drops only a torn last line, and leaves the
//! file empty or committed to its end, with no offset pointing past it. Never a panic.
//!
//! Shared by the property test `tests/spill_properties.rs` and the cargo-fuzz target
//! `fuzz/fuzz_targets/spill_reader.rs` (which includes this file by path). A violated property
//! panics with what was violated. Files go under the system's temporary directory (`TMPDIR`).
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tradegraph_store::behind::{Rejected, Versioned};
use tradegraph_store::{RecordSink, StoreError, WriteBehind, WriteBehindConfig};

/// A sink that is always up and keeps what it is given, in order.
#[derive(Default)]
pub struct Keeper {
    /// Every record written, in order.
    pub records: Mutex<Vec<Versioned>>,
}

#[async_trait]
impl RecordSink for Keeper {
    async fn write_records(&self, records: &[Versioned]) -> Result<Rejected, StoreError> {
        self.records.lock().unwrap().extend_from_slice(records);
        Ok(Vec::new())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// What a spill file and its offset say must be written back.
#[derive(Debug, PartialEq)]
pub struct Expected {
    /// The records, in order.
    pub records: Vec<Versioned>,
    /// Whole lines that are neither blank nor a record.
    pub bad_lines: usize,
}

/// The model: whole lines from the offset when it ends a whole line (else from the start),
/// blank lines skipped, the others read as records or counted as bad.
pub fn expected(contents: &[u8], offset: Option<&[u8]>) -> Expected {
    let whole = contents
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let stored: u64 = offset
        .and_then(|o| std::str::from_utf8(o).ok())
        .and_then(|o| o.trim().parse().ok())
        .unwrap_or(0);
    let start = usize::try_from(stored)
        .ok()
        .filter(|&s| s == 0 || (s <= whole && contents[s - 1] == b'\n'))
        .unwrap_or(0);
    let mut records = Vec::new();
    let mut bad_lines = 0;
    let lines = contents[start..whole].split(|&b| b == b'\n');
    for line in lines.take(
        contents[start..whole]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    ) {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Versioned>(line) {
            Ok(record) => records.push(record),
            Err(_) => bad_lines += 1,
        }
    }
    Expected { records, bad_lines }
}

/// Writes `contents` (and `offset`, when given) as a spill file left by a previous run, starts
/// a `WriteBehind` on it with an always-up sink, waits for the write-back and checks it.
pub fn check(contents: &[u8], offset: Option<&[u8]>) -> Expected {
    let dir = Scratch::new();
    let path = dir.0.join("spill.jsonl");
    std::fs::write(&path, contents).unwrap();
    if let Some(offset) = offset {
        std::fs::write(suffixed(&path, ".offset"), offset).unwrap();
    }
    let want = expected(contents, offset);
    let sink = Arc::new(Keeper::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = WriteBehindConfig::new(path.clone())
            .batch_size(3)
            .retry_interval(Duration::from_millis(1))
            .timeout(Duration::from_secs(10));
        let wb = WriteBehind::start(sink.clone(), config)
            .await
            .unwrap_or_else(|e| panic!("a spill file left by a previous run does not open: {e}"));
        let mut waited = 0;
        while wb.spilled() > 0 || sink.records.lock().unwrap().len() < want.records.len() {
            assert!(
                waited < 10_000,
                "not written back after 10 s: {} left, {} of {} records written",
                wb.spilled(),
                sink.records.lock().unwrap().len(),
                want.records.len()
            );
            wb.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
            waited += 1;
        }
        wb.shutdown().await;
    });
    let written = sink.records.lock().unwrap().clone();
    assert_eq!(
        written.len(),
        want.records.len(),
        "records written back: {written:?}, expected {:?}",
        want.records
    );
    for (i, (got, expected)) in written.iter().zip(&want.records).enumerate() {
        assert!(
            same(got, expected),
            "record {i} written back as {got:?}, expected {expected:?}"
        );
    }
    let rejected = std::fs::read(suffixed(&path, ".rejected")).unwrap_or_default();
    let kept = rejected.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(kept, want.bad_lines, "lines kept as rejected");
    // Written back means emptied, or (when a previous run had already written everything)
    // committed up to the end.
    let len = std::fs::metadata(&path).unwrap().len();
    // Read as the reader reads it: text that is not a number means 0.
    let offset = std::fs::read_to_string(suffixed(&path, ".offset"))
        .ok()
        .map(|o| o.trim().parse::<u64>().unwrap_or(0));
    if let Some(offset) = offset {
        assert!(offset <= len, "an offset {offset} past the end {len}");
    }
    assert!(
        len == 0 || offset == Some(len),
        "{len} bytes left in the spill file, committed up to {offset:?}"
    );
    want
}

/// Equal, as JSON (a record read twice from the same line compares equal that way even where
/// a float's `==` would not).
fn same(a: &Versioned, b: &Versioned) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A fresh directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tradegraph-spill-fuzz-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
