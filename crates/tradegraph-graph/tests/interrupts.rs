//! Pausing, resuming with a person's update, and resuming after a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{counted, decide, flaky, visit, Flow, FlowUpdate};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use tradegraph_graph::checkpoint::InterruptKind;
use tradegraph_graph::{
    node_fn, Command, CompiledGraph, GraphError, MemoryCheckpointer, NodeError, Resume, RunConfig,
    RunStatus, StateGraph, END, START,
};

fn order_flow(executed: Arc<AtomicU32>) -> StateGraph<Flow> {
    let mut g = StateGraph::<Flow>::new("orders");
    g.add_node("pm", decide("BUY"))
        .add_node("execution", counted("execution", executed))
        .add_node("learning", visit("learning"))
        .add_edge(START, "pm")
        .add_conditional_edges(
            "pm",
            "act",
            |s: &Flow| {
                if s.decision == "HOLD" {
                    "learning"
                } else {
                    "execution"
                }
            },
            ["execution", "learning"],
        )
        .add_edge("execution", "learning")
        .add_edge("learning", END);
    g
}

fn with_memory(g: StateGraph<Flow>) -> CompiledGraph<Flow> {
    g.compile()
        .unwrap()
        .with_checkpointer(MemoryCheckpointer::new())
}

#[tokio::test]
async fn interrupt_before_then_a_person_overrides_the_decision() {
    let executed = Arc::new(AtomicU32::new(0));
    let mut g = order_flow(executed.clone());
    g.interrupt_before(["execution"]);
    let graph = with_memory(g);
    let paused = graph
        .invoke(Flow::default(), RunConfig::new().thread("t1"))
        .await
        .unwrap();
    let interrupt = paused.interrupt().expect("paused before execution");
    assert_eq!(
        (interrupt.node.as_str(), interrupt.kind),
        ("execution", InterruptKind::Before)
    );
    assert_eq!(paused.state.decision, "BUY");
    assert_eq!(
        executed.load(Ordering::SeqCst),
        0,
        "nothing executed before approval"
    );

    // Approved as is: execution runs exactly once, then learning.
    let done = graph
        .resume("t1", Resume::new(), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Finished);
    assert_eq!(done.state.visited, ["execution", "learning"]);
    assert_eq!(executed.load(Ordering::SeqCst), 1);

    // A second thread where the person changes the decision while paused.
    graph
        .invoke(Flow::default(), RunConfig::new().thread("t2"))
        .await
        .unwrap();
    let overridden = graph
        .resume(
            "t2",
            Resume::new().update(FlowUpdate::default().decision("HOLD")),
            RunConfig::new(),
        )
        .await
        .unwrap();
    // The update lands; the already-scheduled task still runs (the route was taken before).
    assert_eq!(overridden.state.decision, "HOLD");
    assert_eq!(executed.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn interrupt_after_pauses_once_the_step_is_merged() {
    let executed = Arc::new(AtomicU32::new(0));
    let mut g = order_flow(executed.clone());
    g.interrupt_after(["pm"]);
    let graph = with_memory(g);
    let paused = graph
        .invoke(Flow::default(), RunConfig::new().thread("t"))
        .await
        .unwrap();
    assert_eq!(paused.interrupt().unwrap().kind, InterruptKind::After);
    assert_eq!(paused.state.decision, "BUY");
    // Change the decision: routing was already decided in the step that paused.
    let done = graph
        .resume(
            "t",
            Resume::new().update(FlowUpdate::default().visited(vec!["reviewed".into()])),
            RunConfig::new(),
        )
        .await
        .unwrap();
    assert_eq!(done.state.visited, ["reviewed", "execution", "learning"]);
}

#[tokio::test]
async fn a_dynamic_interrupt_asks_and_the_node_reads_the_answer() {
    let mut g = StateGraph::<Flow>::new("approve");
    g.add_node(
        "approve",
        node_fn(|_s: Arc<Flow>, ctx| async move {
            match ctx.resume_value() {
                None => Ok(Command::interrupt(
                    serde_json::json!({"order": "BUY 0.1 BTC"}),
                )),
                Some(answer) => Ok(Command::update(
                    FlowUpdate::default().decision(answer.as_str().unwrap_or("?").to_owned()),
                )),
            }
        }),
    )
    .add_node("audit", visit("audit"))
    .add_fan_out(START, ["approve", "audit"])
    .add_edge("approve", END)
    .add_edge("audit", END);
    let graph = with_memory(g);
    let paused = graph
        .invoke(Flow::default(), RunConfig::new().thread("t"))
        .await
        .unwrap();
    let interrupt = paused.interrupt().unwrap();
    assert_eq!(interrupt.kind, InterruptKind::Dynamic);
    assert_eq!(
        interrupt.payload,
        Some(serde_json::json!({"order": "BUY 0.1 BTC"}))
    );
    let saved = graph.state("t").await.unwrap().unwrap();
    assert_eq!(saved.pending_writes.len(), 1, "the sibling's write is kept");
    let done = graph
        .resume("t", Resume::new().value("approved"), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(done.state.decision, "approved");
    assert_eq!(
        done.state.visited,
        ["audit"],
        "the sibling did not run twice"
    );
}

#[tokio::test]
async fn resume_after_failure_does_not_rerun_finished_siblings() {
    let analyst_runs = Arc::new(AtomicU32::new(0));
    let flaky_runs = Arc::new(AtomicU32::new(0));
    let build = || {
        let mut g = StateGraph::<Flow>::new("crash");
        g.add_node("analyst", counted("analyst", analyst_runs.clone()))
            .add_node(
                "flaky",
                flaky(flaky_runs.clone(), 1, NodeError::failed("provider down")),
            )
            .add_node("after", visit("after"))
            .add_fan_out(START, ["analyst", "flaky"])
            .add_join(["analyst", "flaky"], "after")
            .add_edge("after", END);
        g
    };
    let store = Arc::new(MemoryCheckpointer::<Flow>::new());
    let graph = build()
        .compile()
        .unwrap()
        .with_shared_checkpointer(store.clone());
    let err = graph
        .invoke(Flow::default(), RunConfig::new().thread("t"))
        .await
        .unwrap_err();
    assert!(matches!(&err, GraphError::NodeFailed { node, .. } if node == "flaky"));
    // Whether the analyst finished before the failure depends on scheduling; record it.
    let analyst_done = analyst_runs.load(Ordering::SeqCst);
    let graph = build().compile().unwrap().with_shared_checkpointer(store);
    let done = graph
        .resume("t", Resume::new(), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(done.state.visited, ["analyst", "flaky", "after"]);
    assert_eq!(analyst_runs.load(Ordering::SeqCst), analyst_done.max(1));
    assert_eq!(flaky_runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn resume_without_checkpointer_or_checkpoint_is_a_clear_error() {
    let g = order_flow(Arc::new(AtomicU32::new(0))).compile().unwrap();
    let err = g
        .resume("t", Resume::new(), RunConfig::new())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("resume needs a checkpointer"),
        "{err}"
    );
    let g = with_memory(order_flow(Arc::new(AtomicU32::new(0))));
    let err = g
        .resume("nobody", Resume::new(), RunConfig::new())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("thread `nobody` has no checkpoint"),
        "{err}"
    );
}

#[tokio::test]
async fn a_finished_thread_resumes_to_its_final_state() {
    let g = with_memory(order_flow(Arc::new(AtomicU32::new(0))));
    let out = g
        .invoke(Flow::default(), RunConfig::new().thread("t"))
        .await
        .unwrap();
    let again = g
        .resume("t", Resume::new(), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(again.state, out.state);
    assert_eq!(again.status, RunStatus::Finished);
    let history = g.history("t", 100).await.unwrap();
    assert_eq!(history.len(), 4, "input + 3 steps");
    assert!(history[0].is_finished());
    assert_eq!(history[0].parent.as_ref(), Some(&history[1].id));
}

/// A node that asks `name`'s question until it is answered, then records the answer and the
/// round it ran in.
fn approver(name: &'static str) -> impl tradegraph_graph::Node<Flow> {
    node_fn(move |_s: Arc<Flow>, ctx| async move {
        match ctx.resume_value() {
            None => Ok(Command::interrupt(serde_json::json!({ "order": name }))),
            Some(answer) => Ok(Command::update(FlowUpdate::default().visited(vec![
                format!(
                    "{name}:{}:round {}",
                    answer.as_str().unwrap_or("?"),
                    ctx.round()
                ),
            ]))),
        }
    })
}

/// Two approvals asked in one superstep are asked one at a time: the answer to the first
/// question (the one shown) answers only it, and the second is asked next.
#[tokio::test]
async fn two_questions_in_one_step_get_an_answer_each() {
    let mut g = StateGraph::<Flow>::new("two approvals");
    g.add_node("approve_a", approver("a"))
        .add_node("approve_b", approver("b"))
        .add_fan_out(START, ["approve_a", "approve_b"])
        .add_edge("approve_a", END)
        .add_edge("approve_b", END);
    let graph = with_memory(g);
    let first = graph
        .invoke(Flow::default(), RunConfig::new().thread("t"))
        .await
        .unwrap();
    let asked = first.interrupt().expect("a question");
    assert_eq!(asked.node.as_str(), "approve_a");
    assert_eq!(asked.payload, Some(serde_json::json!({"order": "a"})));
    let second = graph
        .resume("t", Resume::new().value("yes"), RunConfig::new())
        .await
        .unwrap();
    let asked = second.interrupt().expect("the second question is asked");
    assert_eq!(asked.node.as_str(), "approve_b");
    assert_eq!(asked.payload, Some(serde_json::json!({"order": "b"})));
    assert!(
        second.state.visited.is_empty(),
        "{:?}",
        second.state.visited
    );
    let done = graph
        .resume("t", Resume::new().value("no"), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Finished);
    assert_eq!(done.state.visited, ["a:yes:round 1", "b:no:round 1"]);
}

/// A node paused before it runs (`interrupt_before`) that then asks a question: the answer
/// reaches it, and it is not paused before again; its round counts it once.
#[tokio::test]
async fn a_question_asked_after_a_pause_before_is_answered_once() {
    let mut g = StateGraph::<Flow>::new("approve after review");
    g.add_node("approve", approver("x"))
        .add_edge(START, "approve")
        .add_edge("approve", END);
    g.interrupt_before(["approve"]);
    let graph = with_memory(g);
    let paused = graph
        .invoke(Flow::default(), RunConfig::new().thread("t"))
        .await
        .unwrap();
    assert_eq!(paused.interrupt().unwrap().kind, InterruptKind::Before);
    let asked = graph
        .resume("t", Resume::new(), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(asked.interrupt().unwrap().kind, InterruptKind::Dynamic);
    let done = graph
        .resume("t", Resume::new().value("yes"), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Finished, "{:?}", done.status);
    assert_eq!(done.state.visited, ["x:yes:round 1"]);
}

/// A cycle whose head asks every round runs its rounds up to its limit, each counted once.
#[tokio::test]
async fn a_head_that_asks_every_round_runs_its_limit() {
    let mut g = StateGraph::<Flow>::new("rounds");
    g.add_node("review", approver("r"))
        .add_edge(START, "review")
        .add_conditional_edges(
            "review",
            "again",
            |s: &Flow| if s.visited.len() < 3 { "review" } else { END },
            ["review", END],
        )
        .loop_limit("review", 3);
    let graph = with_memory(g);
    let mut out = graph
        .invoke(Flow::default(), RunConfig::new().thread("t"))
        .await
        .unwrap();
    let mut answers = 0;
    while out.is_interrupted() {
        answers += 1;
        assert!(answers <= 3, "asked more than its rounds");
        out = graph
            .resume("t", Resume::new().value("ok"), RunConfig::new())
            .await
            .unwrap();
    }
    assert_eq!(
        out.state.visited,
        ["r:ok:round 1", "r:ok:round 2", "r:ok:round 3"]
    );
}

/// Checkpoints in memory whose first write of a pause fails (a store outage, or the process
/// dying at that moment).
struct PauseLost {
    inner: MemoryCheckpointer<Flow>,
    failed: std::sync::atomic::AtomicBool,
}

#[tradegraph_graph::async_trait]
impl tradegraph_graph::Checkpointer<Flow> for PauseLost {
    async fn put(
        &self,
        checkpoint: tradegraph_graph::Checkpoint<Flow>,
    ) -> Result<(), tradegraph_graph::checkpoint::CheckpointError> {
        if checkpoint.source == tradegraph_graph::checkpoint::CheckpointSource::Interrupt
            && !self.failed.swap(true, Ordering::SeqCst)
        {
            return Err(tradegraph_graph::checkpoint::CheckpointError::Backend {
                backend: "test",
                operation: "put",
                message: "the store went away".into(),
            });
        }
        self.inner.put(checkpoint).await
    }

    async fn put_writes(
        &self,
        thread_id: &str,
        id: &tradegraph_graph::CheckpointId,
        writes: Vec<tradegraph_graph::checkpoint::PendingWrite<FlowUpdate>>,
    ) -> Result<(), tradegraph_graph::checkpoint::CheckpointError> {
        self.inner.put_writes(thread_id, id, writes).await
    }

    async fn latest(
        &self,
        thread_id: &str,
    ) -> Result<
        Option<tradegraph_graph::Checkpoint<Flow>>,
        tradegraph_graph::checkpoint::CheckpointError,
    > {
        self.inner.latest(thread_id).await
    }

    async fn get(
        &self,
        thread_id: &str,
        id: &tradegraph_graph::CheckpointId,
    ) -> Result<
        Option<tradegraph_graph::Checkpoint<Flow>>,
        tradegraph_graph::checkpoint::CheckpointError,
    > {
        self.inner.get(thread_id, id).await
    }

    async fn history(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<
        Vec<tradegraph_graph::Checkpoint<Flow>>,
        tradegraph_graph::checkpoint::CheckpointError,
    > {
        self.inner.history(thread_id, limit).await
    }

    async fn delete_thread(
        &self,
        thread_id: &str,
    ) -> Result<(), tradegraph_graph::checkpoint::CheckpointError> {
        self.inner.delete_thread(thread_id).await
    }
}

/// A pause after a step that could not be saved is not skipped on resume: the step and its
/// pause are one checkpoint, so the run resumes from the step before and pauses again.
#[tokio::test]
async fn a_pause_after_a_step_that_was_not_saved_holds_on_resume() {
    let executed = Arc::new(AtomicU32::new(0));
    let mut g = order_flow(executed.clone());
    g.interrupt_after(["pm"]);
    let graph = g.compile().unwrap().with_checkpointer(PauseLost {
        inner: MemoryCheckpointer::new(),
        failed: std::sync::atomic::AtomicBool::new(false),
    });
    let failed = graph
        .invoke(Flow::default(), RunConfig::new().thread("t"))
        .await;
    assert!(failed.is_err(), "{failed:?}");
    let resumed = graph
        .resume("t", Resume::new(), RunConfig::new())
        .await
        .unwrap();
    assert_eq!(
        resumed.interrupt().map(|i| i.kind),
        Some(InterruptKind::After),
        "{:?}",
        resumed.status
    );
    assert_eq!(executed.load(Ordering::SeqCst), 0, "nothing executed");
}
