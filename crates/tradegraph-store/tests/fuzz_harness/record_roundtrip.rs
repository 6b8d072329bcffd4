//! Queued write-behind records through the spill file's line format (a `Versioned` record as
//! JSON, one per line; lines from before versions existed are a bare `Record`): a record
//! written and read back is the record it was, and a line from anywhere reads as a record or
//! gives an error, never a panic.
//!
//! Shared by the property test `tests/record_properties.rs` and the cargo-fuzz target
//! `fuzz/fuzz_targets/record_roundtrip.rs` (which includes this file by path). A violated
//! property panics with what was violated.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use tradegraph_store::behind::Versioned;
use tradegraph_store::Record;

/// Reads every line of `bytes` as a spilled record (versioned, and as a bare record); the
/// records that come out must survive another round trip. Returns how many did.
pub fn check_bytes(bytes: &[u8]) -> usize {
    let mut read = 0;
    for line in bytes.split(|&b| b == b'\n') {
        match serde_json::from_slice::<Versioned>(line) {
            Ok(versioned) => {
                check_value(&versioned);
                read += 1;
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        if let Ok(record) = serde_json::from_slice::<Record>(line) {
            check_value(&record);
            let unstamped = serde_json::from_slice::<serde_json::Value>(line)
                .is_ok_and(|v| v.get("version").is_none());
            if unstamped {
                // A line from before versions: read as version 0, older than any stamped one.
                let versioned: Versioned = serde_json::from_slice(line)
                    .unwrap_or_else(|e| panic!("a record from before versions is refused: {e}"));
                assert_eq!(versioned.version, 0);
                assert_eq!(versioned.record, record);
            }
        }
    }
    read
}

/// Writes `record` as a spill line, reads it back and checks that nothing changed and that the
/// line is stable.
pub fn check_value<R: Serialize + DeserializeOwned + PartialEq + Debug>(record: &R) {
    let line = serde_json::to_vec(record).expect("a record always encodes");
    assert!(
        !line.contains(&b'\n'),
        "a spill line with a line break in it: {}",
        String::from_utf8_lossy(&line)
    );
    let back: R = serde_json::from_slice(&line).unwrap_or_else(|e| {
        panic!(
            "a spilled record does not read back: {e}: {}",
            String::from_utf8_lossy(&line)
        )
    });
    assert_eq!(
        &back,
        record,
        "the record changed: {}",
        String::from_utf8_lossy(&line)
    );
    let again = serde_json::to_vec(&back).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&line),
        "the line changed on a second round trip"
    );
}
