//! The conformance suite every [`Checkpointer`] backend must pass: call [`run_all`] from the
//! backend's tests with a factory for a fresh (or shared) store. Thread ids are unique per call,
//! so a persistent store may be reused between runs.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use tradegraph_graph::checkpoint::{conformance, MemoryCheckpointer};
//! conformance::run_all(|| MemoryCheckpointer::new()).await;
//! # }
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use super::{
    Checkpoint, CheckpointError, CheckpointId, CheckpointSource, Checkpointer, Interrupt,
    InterruptKind, PendingWrite, Progress, TaskSpec, FORMAT_VERSION,
};
use crate::{
    node_fn, Command, CompiledGraph, GraphError, GraphState, NodeError, NodeName, Resume,
    RunConfig, RunStatus, StateGraph, END, START,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// The state the suite checkpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, GraphState)]
pub struct SuiteState {
    pub label: String,
    #[reducer(append)]
    pub log: Vec<String>,
    #[reducer(merge)]
    pub scores: BTreeMap<String, f64>,
}

fn thread(name: &str) -> String {
    format!("conformance-{name}-{}", CheckpointId::generate())
}

fn checkpoint(
    thread_id: &str,
    parent: Option<CheckpointId>,
    label: &str,
) -> Checkpoint<SuiteState> {
    Checkpoint {
        format: FORMAT_VERSION,
        id: CheckpointId::generate(),
        parent,
        thread_id: thread_id.to_owned(),
        run_id: "run-1".into(),
        graph: "suite".into(),
        created_at_ms: 1_700_000_000_000,
        source: CheckpointSource::Step,
        state: SuiteState {
            label: label.into(),
            log: vec!["a".into(), "ü \"quoted\" \n".into()],
            scores: BTreeMap::from([("x".into(), 0.25)]),
        },
        next: vec![
            TaskSpec {
                node: "first".into(),
                item: None,
            },
            TaskSpec {
                node: "mapped".into(),
                item: Some(serde_json::json!({"k": [1, 2]})),
            },
        ],
        pending_writes: Vec::new(),
        progress: Progress {
            steps: 3,
            node_runs: vec![("first".into(), 2)],
            loop_rounds: vec![("debate".into(), 1)],
            join_arrivals: vec![("join".into(), vec!["first".into()])],
        },
        interrupt: None,
    }
}

fn write(task: u32, label: &str) -> PendingWrite<SuiteStateUpdate> {
    PendingWrite {
        task,
        node: NodeName::from("first"),
        output: Command::update(SuiteStateUpdate::default().log(vec![label.to_owned()])),
    }
}

/// A checkpoint comes back exactly as it was put.
pub async fn round_trip<C: Checkpointer<SuiteState>>(cp: &C) {
    let t = thread("round-trip");
    let mut original = checkpoint(&t, None, "one");
    original.interrupt = Some(Interrupt {
        node: "first".into(),
        kind: InterruptKind::Dynamic,
        payload: Some(serde_json::json!({"approve": "BUY 1 BTC"})),
        task: Some(1),
    });
    cp.put(original.clone()).await.unwrap();
    let got = cp
        .get(&t, &original.id)
        .await
        .unwrap()
        .expect("get returns the checkpoint");
    assert_eq!(got.id, original.id);
    assert_eq!(got.state, original.state);
    assert_eq!(got.next, original.next);
    assert_eq!(got.progress, original.progress);
    assert_eq!(got.interrupt, original.interrupt);
    assert_eq!(got.source, original.source);
    assert_eq!(got.format, FORMAT_VERSION);
    let latest = cp
        .latest(&t)
        .await
        .unwrap()
        .expect("latest returns the checkpoint");
    assert_eq!(latest.id, original.id);
}

/// `latest` is the newest; `history` is newest first and honours its limit.
pub async fn ordering_and_history<C: Checkpointer<SuiteState>>(cp: &C) {
    let t = thread("history");
    let mut parent = None;
    let mut ids = Vec::new();
    for i in 0..5 {
        let c = checkpoint(&t, parent.clone(), &format!("c{i}"));
        parent = Some(c.id.clone());
        ids.push(c.id.clone());
        cp.put(c).await.unwrap();
    }
    assert_eq!(cp.latest(&t).await.unwrap().unwrap().state.label, "c4");
    let history = cp.history(&t, 3).await.unwrap();
    let labels: Vec<_> = history.iter().map(|c| c.state.label.as_str()).collect();
    assert_eq!(labels, ["c4", "c3", "c2"]);
    assert_eq!(history[0].parent.as_ref(), Some(&ids[3]));
    assert_eq!(cp.history(&t, 100).await.unwrap().len(), 5);
    let middle = cp.get(&t, &ids[1]).await.unwrap().unwrap();
    assert_eq!(middle.state.label, "c1");
}

/// Pending writes attach to their checkpoint; a task's newer write replaces its older one.
pub async fn pending_writes<C: Checkpointer<SuiteState>>(cp: &C) {
    let t = thread("writes");
    let c = checkpoint(&t, None, "w");
    let id = c.id.clone();
    cp.put(c).await.unwrap();
    cp.put_writes(&t, &id, vec![write(0, "first try")])
        .await
        .unwrap();
    cp.put_writes(&t, &id, vec![write(1, "other task")])
        .await
        .unwrap();
    cp.put_writes(&t, &id, vec![write(0, "second try")])
        .await
        .unwrap();
    let got = cp.latest(&t).await.unwrap().unwrap();
    let mut writes: Vec<(u32, Vec<String>)> = got
        .pending_writes
        .iter()
        .map(|w| match &w.output {
            Command::Update { update, .. } => (w.task, update.log.clone().unwrap_or_default()),
            Command::Interrupt { .. } => (w.task, vec![]),
        })
        .collect();
    writes.sort();
    assert_eq!(
        writes,
        [
            (0, vec!["second try".to_owned()]),
            (1, vec!["other task".to_owned()])
        ]
    );
    let via_get = cp.get(&t, &id).await.unwrap().unwrap();
    assert_eq!(via_get.pending_writes.len(), 2);
    let missing = cp
        .put_writes(
            &t,
            &CheckpointId("no-such-checkpoint".into()),
            vec![write(0, "x")],
        )
        .await;
    assert!(
        matches!(missing, Err(CheckpointError::UnknownCheckpoint { .. })),
        "{missing:?}"
    );
}

/// Threads are isolated; deleting one leaves the others; unknown lookups are `None`.
pub async fn threads_and_delete<C: Checkpointer<SuiteState>>(cp: &C) {
    let (a, b) = (thread("a"), thread("b"));
    cp.put(checkpoint(&a, None, "in a")).await.unwrap();
    cp.put(checkpoint(&b, None, "in b")).await.unwrap();
    assert_eq!(cp.latest(&a).await.unwrap().unwrap().state.label, "in a");
    assert_eq!(cp.latest(&b).await.unwrap().unwrap().state.label, "in b");
    cp.delete_thread(&a).await.unwrap();
    assert!(cp.latest(&a).await.unwrap().is_none());
    assert!(cp.history(&a, 10).await.unwrap().is_empty());
    assert_eq!(cp.latest(&b).await.unwrap().unwrap().state.label, "in b");
    assert!(cp.latest(&thread("never")).await.unwrap().is_none());
    assert!(cp
        .get(&b, &CheckpointId("nope".into()))
        .await
        .unwrap()
        .is_none());
}

/// A graph: `fast` and `flaky` in parallel, then `after`. `flaky` fails while `fail` is set.
fn crash_graph(
    fast_runs: Arc<AtomicU32>,
    fail: Arc<std::sync::atomic::AtomicBool>,
) -> CompiledGraph<SuiteState> {
    let mut g = StateGraph::<SuiteState>::new("suite-crash");
    g.add_node(
        "fast",
        node_fn(move |_s: Arc<SuiteState>, _ctx| {
            let runs = fast_runs.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(Command::update(
                    SuiteStateUpdate::default().log(vec!["fast".into()]),
                ))
            }
        }),
    )
    .add_node(
        "flaky",
        node_fn(move |_s: Arc<SuiteState>, _ctx| {
            let fail = fail.clone();
            async move {
                // Finish after `fast`, so its write is saved before this fails.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                if fail.load(Ordering::SeqCst) {
                    Err(NodeError::failed("simulated crash"))
                } else {
                    Ok(Command::update(
                        SuiteStateUpdate::default().log(vec!["flaky".into()]),
                    ))
                }
            }
        }),
    )
    .add_node(
        "after",
        node_fn(|_s: Arc<SuiteState>, ctx| async move {
            if ctx.resume_value().is_none() {
                return Ok(Command::interrupt(
                    serde_json::json!({"question": "continue?"}),
                ));
            }
            Ok(Command::update(
                SuiteStateUpdate::default().log(vec!["after".into()]),
            ))
        }),
    )
    .add_fan_out(START, ["fast", "flaky"])
    .add_join(["fast", "flaky"], "after")
    .add_edge("after", END);
    g.compile().expect("suite graph compiles")
}

/// A run that failed mid-step resumes from the backend without re-running the node that had
/// finished; then a dynamic interrupt pauses it and a resume value completes it; then the
/// thread can be forked from its history.
pub async fn crash_resume_interrupt_fork(cp: Arc<dyn Checkpointer<SuiteState>>) {
    let t = thread("graph");
    let fast_runs = Arc::new(AtomicU32::new(0));
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let graph = crash_graph(fast_runs.clone(), fail.clone()).with_shared_checkpointer(cp.clone());

    let err = graph
        .invoke(SuiteState::default(), RunConfig::new().thread(&t))
        .await
        .expect_err("flaky fails");
    assert!(
        matches!(&err, GraphError::NodeFailed { node, .. } if node == "flaky"),
        "{err}"
    );
    assert_eq!(fast_runs.load(Ordering::SeqCst), 1);

    // A "new process": a fresh graph value over the same store.
    fail.store(false, Ordering::SeqCst);
    let graph = crash_graph(fast_runs.clone(), fail).with_shared_checkpointer(cp.clone());
    let paused = graph
        .resume(&t, Resume::new(), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(
        fast_runs.load(Ordering::SeqCst),
        1,
        "fast must not run again on resume"
    );
    let interrupt = paused.interrupt().expect("after pauses").clone();
    assert_eq!(interrupt.node, "after");
    assert_eq!(
        interrupt.payload,
        Some(serde_json::json!({"question": "continue?"}))
    );

    let done = graph
        .resume(&t, Resume::new().value(true), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Finished);
    assert_eq!(done.state.log, ["fast", "flaky", "after"]);

    let history = graph.history(&t, 100).await.unwrap();
    assert!(
        history.len() >= 4,
        "history has input, steps and interrupt: {}",
        history.len()
    );
    let paused_at = history
        .iter()
        .find(|c| c.interrupt.is_some())
        .expect("the interrupt checkpoint is in the history");
    let fork = thread("fork");
    graph
        .fork(
            &t,
            &paused_at.id,
            &fork,
            Some(SuiteStateUpdate::default().label("forked")),
        )
        .await
        .unwrap();
    let forked = graph
        .resume(&fork, Resume::new().value(true), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(forked.state.label, "forked");
    assert_eq!(forked.state.log, ["fast", "flaky", "after"]);
    assert_eq!(
        fast_runs.load(Ordering::SeqCst),
        1,
        "the fork resumes after the analysts"
    );
    // The original thread is untouched by the fork.
    assert_eq!(graph.state(&t).await.unwrap().unwrap().state.label, "");
}

/// Runs the whole suite; `make` is called once per test.
pub async fn run_all<C: Checkpointer<SuiteState>>(make: impl Fn() -> C) {
    round_trip(&make()).await;
    ordering_and_history(&make()).await;
    pending_writes(&make()).await;
    threads_and_delete(&make()).await;
    crash_resume_interrupt_fork(Arc::new(make())).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::MemoryCheckpointer;

    #[tokio::test]
    async fn memory_checkpointer_passes_the_suite() {
        run_all(MemoryCheckpointer::new).await;
    }

    #[tokio::test]
    async fn memory_retention_keeps_the_newest() {
        let cp = MemoryCheckpointer::keep_last(2);
        let t = thread("retention");
        for i in 0..4 {
            cp.put(checkpoint(&t, None, &format!("c{i}")))
                .await
                .unwrap();
        }
        let labels: Vec<_> = cp
            .history(&t, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.state.label)
            .collect();
        assert_eq!(labels, ["c3", "c2"]);
    }

    #[tokio::test]
    async fn memory_forgets_the_least_recently_written_thread() {
        let cp = MemoryCheckpointer::new().max_threads(2);
        cp.put(checkpoint("a", None, "a1")).await.unwrap();
        cp.put(checkpoint("b", None, "b1")).await.unwrap();
        cp.put(checkpoint("a", None, "a2")).await.unwrap();
        cp.put(checkpoint("c", None, "c1")).await.unwrap();
        assert!(
            cp.latest("b").await.unwrap().is_none(),
            "b was written least recently"
        );
        assert_eq!(cp.latest("a").await.unwrap().unwrap().state.label, "a2");
        assert_eq!(cp.latest("c").await.unwrap().unwrap().state.label, "c1");
    }

    #[test]
    fn codec_refuses_newer_formats() {
        let c = checkpoint("t", None, "x");
        let mut bytes = crate::checkpoint::codec::encode(&c).unwrap();
        let back: Checkpoint<SuiteState> = crate::checkpoint::codec::decode(&bytes).unwrap();
        assert_eq!(back.state, c.state);
        let text = String::from_utf8(std::mem::take(&mut bytes)).unwrap();
        let newer = text.replacen(&format!("\"format\":{FORMAT_VERSION}"), "\"format\":99", 1);
        let err = crate::checkpoint::codec::decode::<SuiteState>(newer.as_bytes()).unwrap_err();
        assert!(
            matches!(err, CheckpointError::UnsupportedFormat { found: 99, .. }),
            "{err}"
        );
        let garbage =
            crate::checkpoint::codec::decode::<SuiteState>(b"{\"format\":1,\"id\":\"x\"}")
                .unwrap_err();
        assert!(
            garbage
                .to_string()
                .contains("checkpoint x could not be decoded"),
            "{garbage}"
        );
    }
}
