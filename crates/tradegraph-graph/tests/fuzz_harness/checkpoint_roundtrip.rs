//! Graph checkpoints through their serialized form (`checkpoint::codec`): a checkpoint encoded
//! and decoded is the checkpoint it was, and bytes from anywhere decode to a checkpoint or give
//! an error, never a panic.
//!
//! Shared by the property test `tests/checkpoint_properties.rs` and the cargo-fuzz target
//! `fuzz/fuzz_targets/checkpoint_roundtrip.rs` (which includes this file by path). A violated
//! property panics with what was violated.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tradegraph_graph::checkpoint::{codec, Checkpoint, CheckpointError, PendingWrite};
use tradegraph_graph::GraphState;

/// A state shaped like a trading graph's: text, an optional decision, a confidence, appended
/// notes, merged scores, a counter and free-form JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, GraphState)]
#[graph_state(update_derive(PartialEq))]
pub struct Desk {
    pub symbol: String,
    pub action: Option<String>,
    pub confidence: f64,
    #[reducer(append)]
    pub notes: Vec<String>,
    #[reducer(merge)]
    pub scores: BTreeMap<String, f64>,
    pub round: u32,
    pub report: serde_json::Value,
}

/// Decodes `bytes`; a checkpoint that comes out must survive another round trip.
pub fn check_bytes(bytes: &[u8]) -> Option<Checkpoint<Desk>> {
    match codec::decode::<Desk>(bytes) {
        Ok(checkpoint) => {
            check_value(&checkpoint);
            Some(checkpoint)
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    CheckpointError::Decode { .. } | CheckpointError::UnsupportedFormat { .. }
                ),
                "decoding gave {e:?}"
            );
            assert!(!e.to_string().is_empty());
            None
        }
    }
}

/// Encodes `checkpoint`, decodes it again and checks that nothing changed, field by field,
/// and that its encoding is stable.
pub fn check_value(checkpoint: &Checkpoint<Desk>) {
    let bytes = codec::encode(checkpoint).expect("a checkpoint of this state always encodes");
    let back = codec::decode::<Desk>(&bytes).unwrap_or_else(|e| {
        panic!(
            "an encoded checkpoint does not decode: {e}: {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    assert_same(checkpoint, &back);
    let again = codec::encode(&back).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&bytes),
        "the encoding changed on a second round trip"
    );
    let writes = codec::encode_writes(&checkpoint.pending_writes).unwrap();
    let writes_back = codec::decode_writes::<DeskUpdate>(&writes).unwrap();
    assert_writes(&checkpoint.pending_writes, &writes_back);
}

fn assert_same(a: &Checkpoint<Desk>, b: &Checkpoint<Desk>) {
    assert_eq!(a.format, b.format);
    assert_eq!(a.id, b.id);
    assert_eq!(a.parent, b.parent);
    assert_eq!(a.thread_id, b.thread_id);
    assert_eq!(a.run_id, b.run_id);
    assert_eq!(a.graph, b.graph);
    assert_eq!(a.created_at_ms, b.created_at_ms);
    assert_eq!(a.source, b.source);
    assert_same_state(&a.state, &b.state);
    assert_eq!(a.next, b.next);
    assert_writes(&a.pending_writes, &b.pending_writes);
    assert_eq!(a.progress, b.progress);
    assert_eq!(a.interrupt, b.interrupt);
}

/// Equal, floats bit for bit.
fn assert_same_state(a: &Desk, b: &Desk) {
    assert_eq!(
        a.confidence.to_bits(),
        b.confidence.to_bits(),
        "confidence {} came back as {}",
        a.confidence,
        b.confidence
    );
    for ((ka, va), (kb, vb)) in a.scores.iter().zip(&b.scores) {
        assert_eq!(ka, kb);
        assert_eq!(
            va.to_bits(),
            vb.to_bits(),
            "score {ka}: {va} came back as {vb}"
        );
    }
    assert_eq!(a, b, "the state changed");
}

fn assert_writes(a: &[PendingWrite<DeskUpdate>], b: &[PendingWrite<DeskUpdate>]) {
    assert_eq!(a.len(), b.len(), "pending writes lost or added");
    for (x, y) in a.iter().zip(b) {
        assert_eq!((x.task, &x.node), (y.task, &y.node));
        let (x, y) = (
            serde_json::to_string(&x.output).unwrap(),
            serde_json::to_string(&y.output).unwrap(),
        );
        assert_eq!(x, y, "a pending write changed");
    }
}
