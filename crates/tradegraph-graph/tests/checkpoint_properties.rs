//! Graph checkpoints through their serialized form (issue 12, "beyond the list"): any
//! checkpoint, pending writes included, encodes and decodes to itself (floats bit for bit, an
//! update that clears an optional field still clearing it), and any bytes decode to a
//! checkpoint or give an error (see `fuzz_harness/checkpoint_roundtrip.rs`, which the
//! cargo-fuzz target `checkpoint_roundtrip` runs too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "fuzz_harness/checkpoint_roundtrip.rs"]
mod harness;

use harness::{Desk, DeskUpdate};
use proptest::prelude::*;
use serde_json::Value;
use tradegraph_graph::checkpoint::{
    codec, Checkpoint, CheckpointId, CheckpointSource, Interrupt, InterruptKind, PendingWrite,
    Progress, TaskSpec, FORMAT_VERSION,
};
use tradegraph_graph::{Command, Goto};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-z_]{1,12}", 1 => any::<String>()]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        0.0f64..=1.0,
        Just(-0.0),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        float().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn desk() -> impl Strategy<Value = Desk> {
    (
        (text(), prop::option::of(text()), float(), 0u32..10),
        prop::collection::vec(text(), 0..4),
        prop::collection::btree_map(text(), float(), 0..4),
        json(),
    )
        .prop_map(
            |((symbol, action, confidence, round), notes, scores, report)| Desk {
                symbol,
                action,
                confidence,
                notes,
                scores,
                round,
                report,
            },
        )
}

/// An update setting some fields; `action` may be set to nothing (`Some(None)`: clear it), and
/// `report` to a JSON `null` (`Some(Value::Null)`).
fn update() -> impl Strategy<Value = DeskUpdate> {
    (
        prop::option::of(text()),
        prop::option::of(prop::option::of(text())),
        prop::option::of(float()),
        prop::option::of(prop::collection::vec(text(), 0..3)),
        prop::option::of(0u32..10),
        prop::option::of(prop::collection::btree_map(text(), float(), 0..3)),
        prop::option::of(json()),
    )
        .prop_map(
            |(symbol, action, confidence, notes, round, scores, report)| DeskUpdate {
                symbol,
                action,
                confidence,
                notes,
                round,
                scores,
                report,
            },
        )
}

fn command() -> impl Strategy<Value = Command<DeskUpdate>> {
    prop_oneof![
        3 => (update(), prop::option::of(prop_oneof![
            Just(Goto::End),
            prop::collection::vec(text(), 1..3)
                .prop_map(|nodes| Goto::Nodes(nodes.into_iter().map(Into::into).collect())),
        ]))
            .prop_map(|(update, goto)| Command::Update {
                update: Box::new(update),
                goto
            }),
        1 => json().prop_map(|payload| Command::Interrupt { payload }),
    ]
}

fn checkpoint() -> impl Strategy<Value = Checkpoint<Desk>> {
    (
        (
            text(),
            prop::option::of(text()),
            text(),
            text(),
            any::<u64>(),
        ),
        (
            desk(),
            prop::collection::vec((text(), prop::option::of(json())), 0..4),
        ),
        prop::collection::vec((any::<u32>(), text(), command()), 0..4),
        (
            any::<u64>(),
            prop::collection::vec((text(), any::<u32>()), 0..3),
        ),
        prop::option::of((
            text(),
            0u8..3,
            prop::option::of(json()),
            prop::option::of(any::<u32>()),
        )),
        0u8..5,
    )
        .prop_map(
            |(
                (id, parent, thread, run, created),
                (state, next),
                writes,
                (steps, runs),
                interrupt,
                source,
            )| {
                Checkpoint {
                    format: FORMAT_VERSION,
                    id: CheckpointId(id),
                    parent: parent.map(CheckpointId),
                    thread_id: thread,
                    run_id: run,
                    graph: "trading".into(),
                    created_at_ms: created,
                    source: [
                        CheckpointSource::Input,
                        CheckpointSource::Step,
                        CheckpointSource::Interrupt,
                        CheckpointSource::Update,
                        CheckpointSource::Fork,
                    ][usize::from(source)],
                    state,
                    next: next
                        .into_iter()
                        .map(|(node, item)| TaskSpec {
                            node: node.into(),
                            item,
                        })
                        .collect(),
                    pending_writes: writes
                        .into_iter()
                        .map(|(task, node, output)| PendingWrite {
                            task,
                            node: node.into(),
                            output,
                        })
                        .collect(),
                    progress: Progress {
                        steps,
                        node_runs: runs.into_iter().map(|(n, c)| (n.into(), c)).collect(),
                        loop_rounds: Vec::new(),
                        join_arrivals: Vec::new(),
                    },
                    interrupt: interrupt.map(|(node, kind, payload, task)| Interrupt {
                        node: node.into(),
                        kind: [
                            InterruptKind::Before,
                            InterruptKind::After,
                            InterruptKind::Dynamic,
                        ][usize::from(kind)],
                        payload,
                        task,
                    }),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn checkpoints_survive_their_encoding(checkpoint in checkpoint()) {
        harness::check_value(&checkpoint);
    }

    #[test]
    fn any_bytes_decode_or_give_an_error(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        checkpoint().prop_map(|c| codec::encode(&c).unwrap()),
        (checkpoint(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(c, at, byte)| {
            let mut bytes = codec::encode(&c).unwrap();
            let i = at.index(bytes.len());
            bytes[i] = byte;
            bytes
        }),
        json().prop_map(|v| v.to_string().into_bytes()),
    ]) {
        harness::check_bytes(&bytes);
    }
}

/// A node's update that clears an optional field (`Some(None)`, written `null`) is still a
/// clearing update after a checkpoint's pending writes are read back; it used to come back as
/// "leave it alone", so a resumed run kept the value the node had cleared.
#[test]
fn a_pending_write_that_clears_an_optional_field_survives_a_checkpoint() {
    let clear = DeskUpdate {
        action: Some(None),
        ..DeskUpdate::default()
    };
    let writes = vec![PendingWrite {
        task: 0,
        node: "portfolio".into(),
        output: Command::update(clear),
    }];
    let bytes = codec::encode_writes(&writes).unwrap();
    let back = codec::decode_writes::<DeskUpdate>(&bytes).unwrap();
    let Command::Update { update, .. } = &back[0].output else {
        panic!("not an update: {back:?}");
    };
    assert_eq!(
        update.action,
        Some(None),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    // An absent field still leaves the value alone.
    let none: DeskUpdate = serde_json::from_str("{}").unwrap();
    assert_eq!(none.action, None);
}

/// A pending map task whose item serializes to `null` (a `None` item, a unit) keeps its item
/// through a checkpoint; it used to come back with no item at all, and the resumed run failed
/// with "map node was scheduled without an item". A dynamic interrupt's `null` payload likewise
/// stays a payload.
#[test]
fn a_null_map_item_and_a_null_interrupt_payload_survive_a_checkpoint() {
    let checkpoint = Checkpoint {
        format: FORMAT_VERSION,
        id: CheckpointId("c1".into()),
        parent: None,
        thread_id: "t".into(),
        run_id: "r".into(),
        graph: "trading".into(),
        created_at_ms: 0,
        source: CheckpointSource::Interrupt,
        state: Desk::default(),
        next: vec![TaskSpec {
            node: "fan_out".into(),
            item: Some(Value::Null),
        }],
        pending_writes: Vec::new(),
        progress: Progress::default(),
        interrupt: Some(Interrupt {
            node: "approve".into(),
            kind: InterruptKind::Dynamic,
            payload: Some(Value::Null),
            task: Some(0),
        }),
    };
    let back = codec::decode::<Desk>(&codec::encode(&checkpoint).unwrap()).unwrap();
    assert_eq!(back.next[0].item, Some(Value::Null));
    assert_eq!(back.interrupt.unwrap().payload, Some(Value::Null));
}
