//! What a streamed run reports, as it happens.

use crate::checkpoint::{CheckpointId, Interrupt};
use crate::node::NodeError;
use crate::state::{GraphState, NodeName};
use std::sync::Arc;
use std::time::Duration;

/// Why a declared loop stopped going round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopExitReason {
    /// Its `max_rounds` were done.
    MaxRounds,
    /// Its `while` condition no longer held.
    Condition,
}

/// One event of a run. `NodeStarted`/`NodeFinished` arrive as nodes run (so their order within a
/// step varies); everything else is deterministic.
#[derive(Debug, Clone)]
pub enum Event<S: GraphState> {
    /// The run began (or resumed).
    RunStarted {
        /// The run.
        run_id: String,
        /// The thread.
        thread_id: String,
        /// True when resuming from a checkpoint.
        resumed: bool,
    },
    /// A node attempt began.
    NodeStarted {
        /// The node.
        node: NodeName,
        /// The superstep.
        step: u64,
        /// The attempt, from 1.
        attempt: u32,
    },
    /// A node attempt failed and will be retried.
    NodeRetrying {
        /// The node.
        node: NodeName,
        /// The superstep.
        step: u64,
        /// The attempt that failed.
        attempt: u32,
        /// Why.
        error: NodeError,
        /// The wait before the next attempt.
        delay: Duration,
    },
    /// A node finished.
    NodeFinished {
        /// The node.
        node: NodeName,
        /// The superstep.
        step: u64,
        /// From its first attempt's start to its end, retries included.
        duration: Duration,
        /// Its update (`None` when it interrupted the run).
        update: Option<S::Update>,
        /// True when the output was recovered from a checkpoint instead of running the node.
        replayed: bool,
    },
    /// A node failed for good.
    NodeFailed {
        /// The node.
        node: NodeName,
        /// The superstep.
        step: u64,
        /// Attempts made.
        attempts: u32,
        /// Why.
        error: NodeError,
    },
    /// A join fired.
    JoinFired {
        /// The join's target.
        target: NodeName,
        /// Sources that arrived.
        arrived: Vec<NodeName>,
        /// Sources that never started and no longer can: the join did not wait for them.
        skipped: Vec<NodeName>,
    },
    /// A declared loop ended.
    LoopExited {
        /// The loop.
        name: String,
        /// Rounds done.
        rounds: u32,
        /// Why it ended.
        reason: LoopExitReason,
    },
    /// A superstep's updates were merged.
    StepCompleted {
        /// The superstep.
        step: u64,
        /// The nodes that ran, in task order.
        nodes: Vec<NodeName>,
        /// The state after the merge.
        state: Arc<S>,
        /// The checkpoint saved, if a checkpointer is set.
        checkpoint: Option<CheckpointId>,
    },
    /// A node's own event ([`crate::NodeContext::emit`]), or an event of a subgraph run inside it.
    Custom {
        /// The node (for a subgraph, `parent/child`).
        node: NodeName,
        /// The superstep of the node that emitted it (for a subgraph, the parent's step).
        step: u64,
        /// The payload.
        payload: serde_json::Value,
    },
    /// The run paused.
    Interrupted {
        /// Why and where.
        interrupt: Interrupt,
        /// The checkpoint to resume from.
        checkpoint: Option<CheckpointId>,
    },
    /// The run finished.
    Finished {
        /// The final state.
        state: Arc<S>,
    },
    /// The run failed.
    Failed {
        /// The error, as text.
        error: String,
    },
}
