//! The crate's errors: [`BuildError`] when a graph is declared wrong, [`GraphError`] when a run
//! fails.

use crate::checkpoint::CheckpointError;
use crate::node::NodeError;
use crate::state::{MergeError, NodeName};
use std::fmt;

/// One problem found when compiling a graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// Two nodes share a name.
    #[error("node `{node}` is declared twice")]
    DuplicateNode {
        /// The name.
        node: String,
    },
    /// A node uses a reserved name.
    #[error("`{node}` is reserved for the graph's virtual {node} node; rename the node")]
    ReservedName {
        /// The name.
        node: String,
    },
    /// Something refers to a node that does not exist.
    #[error("{referenced_by} refers to node `{node}`, which is not declared")]
    UnknownNode {
        /// The missing node.
        node: String,
        /// What refers to it.
        referenced_by: String,
    },
    /// Nothing leaves `start`.
    #[error("nothing leaves `start`: add an edge from START to the first node")]
    NoEntry,
    /// A node can never run.
    #[error("node `{node}` is unreachable from `start`")]
    Unreachable {
        /// The node.
        node: String,
    },
    /// A node has no path to `end`.
    #[error("node `{node}` can never reach `end`: give it an edge (possibly to END)")]
    CannotReachEnd {
        /// The node.
        node: String,
    },
    /// A cycle that only static edges continue: it would run until a limit stops it.
    #[error("cycle {} has no conditional exit: add a conditional edge, a goto route or a declared loop that leaves it", fmt_cycle(.cycle))]
    CycleWithoutExit {
        /// The nodes of the cycle.
        cycle: Vec<String>,
    },
    /// A conditional edge with no targets.
    #[error("router `{router}` after `{from}` declares no targets")]
    NoRouteTargets {
        /// The node the edge leaves.
        from: String,
        /// The router.
        router: String,
    },
    /// A conditional edge declares one label twice.
    #[error("router `{router}` after `{from}` declares label `{label}` twice")]
    DuplicateRouteLabel {
        /// The node the edge leaves.
        from: String,
        /// The router.
        router: String,
        /// The label.
        label: String,
    },
    /// A send edge targets a node that is not a map node.
    #[error("send edge `{name}` from `{from}` targets `{to}`, which is not a map node")]
    SendTargetNotMap {
        /// The node the edge leaves.
        from: String,
        /// The edge.
        name: String,
        /// The target.
        to: String,
    },
    /// A send edge's items are not the map node's item type.
    #[error("send edge `{name}` produces `{produced}` but map node `{to}` takes `{expected}`")]
    SendItemType {
        /// The edge.
        name: String,
        /// The map node.
        to: String,
        /// What the edge produces.
        produced: String,
        /// What the node takes.
        expected: String,
    },
    /// A map node reached by something other than a send edge would run without an item.
    #[error(
        "map node `{node}` is the target of {referenced_by}; map nodes run only from send edges"
    )]
    MapNodeWithoutItem {
        /// The map node.
        node: String,
        /// What targets it.
        referenced_by: String,
    },
    /// A join with fewer than two sources, repeated sources, or more than 64.
    #[error("join into `{target}` is invalid: {reason}")]
    InvalidJoin {
        /// The join's target.
        target: String,
        /// Why.
        reason: String,
    },
    /// A declared loop is invalid.
    #[error("loop `{name}` is invalid: {reason}")]
    InvalidLoop {
        /// The loop.
        name: String,
        /// Why.
        reason: String,
    },
    /// A graph with static interrupts used as a subgraph.
    #[error("graph `{graph}` declares static interrupts and cannot be a subgraph; use dynamic interrupts (Command::interrupt) inside subgraphs")]
    StaticInterruptInSubgraph {
        /// The child graph.
        graph: String,
    },
    /// An invalid limit (zero steps or rounds).
    #[error("invalid limit: {reason}")]
    InvalidLimit {
        /// Why.
        reason: String,
    },
}

fn fmt_cycle(cycle: &[String]) -> String {
    let mut text = cycle.join(" -> ");
    if let Some(first) = cycle.first() {
        text.push_str(" -> ");
        text.push_str(first);
    }
    text
}

impl BuildError {
    /// The node (or loop) the error is about, for pointing at it in a source file.
    pub fn culprit(&self) -> Option<&str> {
        match self {
            Self::DuplicateNode { node }
            | Self::ReservedName { node }
            | Self::UnknownNode { node, .. }
            | Self::Unreachable { node }
            | Self::CannotReachEnd { node }
            | Self::MapNodeWithoutItem { node, .. } => Some(node),
            Self::CycleWithoutExit { cycle } => cycle.first().map(String::as_str),
            Self::NoRouteTargets { from, .. }
            | Self::DuplicateRouteLabel { from, .. }
            | Self::SendTargetNotMap { from, .. } => Some(from),
            Self::SendItemType { to, .. } => Some(to),
            Self::InvalidJoin { target, .. } => Some(target),
            Self::InvalidLoop { name, .. } => Some(name),
            Self::StaticInterruptInSubgraph { graph } => Some(graph),
            Self::NoEntry | Self::InvalidLimit { .. } => None,
        }
    }
}

/// Every problem found when compiling a graph (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildErrors(pub Vec<BuildError>);

impl fmt::Display for BuildErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the graph is invalid ({n} problem{})",
            if n == 1 { "" } else { "s" }
        )?;
        for error in &self.0 {
            write!(f, "\n  - {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildErrors {}

/// A run failed.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// A node failed after its retries; its siblings were cancelled, and the writes of siblings
    /// that had finished are kept for resume.
    #[error("node `{node}` failed at step {step} after {attempts} attempt(s): {source}")]
    NodeFailed {
        /// The node.
        node: NodeName,
        /// The superstep.
        step: u64,
        /// Attempts made.
        attempts: u32,
        /// Why.
        source: NodeError,
    },
    /// The step's updates conflict.
    #[error("step {step}: {source}")]
    Merge {
        /// The superstep.
        step: u64,
        /// The conflict, naming both writers and the field.
        source: MergeError,
    },
    /// The run took more supersteps than allowed.
    #[error("the run reached its limit of {limit} supersteps; raise `max_steps` if the graph really needs more, or check its routing for a runaway cycle")]
    StepLimit {
        /// The limit.
        limit: u64,
    },
    /// A cycle went round more times than allowed.
    #[error("cycle headed by `{head}` ran {limit} times, its limit; it is not converging (raise `loop_limit` for `{head}` if it should run longer)")]
    LoopLimit {
        /// The cycle's head node.
        head: NodeName,
        /// The limit.
        limit: u32,
    },
    /// A node asked to go somewhere it did not declare.
    #[error("node `{node}` returned goto `{target}`, which is not among its declared routes {declared:?}")]
    UndeclaredGoto {
        /// The node.
        node: NodeName,
        /// Where it wanted to go.
        target: String,
        /// Its declared routes.
        declared: Vec<String>,
    },
    /// A router returned a label its edge did not declare.
    #[error("router `{router}` after `{from}` returned `{label}`, which is not among its declared targets {declared:?}")]
    UndeclaredRoute {
        /// The node the edge leaves.
        from: NodeName,
        /// The router.
        router: String,
        /// The label returned.
        label: String,
        /// The labels declared.
        declared: Vec<String>,
    },
    /// A send edge could not produce its items.
    #[error("send edge `{name}` after `{from}` failed to produce items: {message}")]
    SendItems {
        /// The node the edge leaves.
        from: NodeName,
        /// The edge.
        name: String,
        /// Why.
        message: String,
    },
    /// A checkpoint names a node this graph does not have (the graph changed since).
    #[error("checkpoint {checkpoint} of thread `{thread}` refers to node `{node}`, which this graph does not have")]
    CheckpointMismatch {
        /// The thread.
        thread: String,
        /// The checkpoint.
        checkpoint: String,
        /// The node.
        node: String,
    },
    /// Resume, fork or history without a checkpointer.
    #[error("{operation} needs a checkpointer: compile the graph and call `with_checkpointer`")]
    NoCheckpointer {
        /// What was attempted.
        operation: &'static str,
    },
    /// Nothing to resume from.
    #[error("thread `{thread}` has no checkpoint{}", .checkpoint.as_ref().map(|c| format!(" {c}")).unwrap_or_default())]
    NoCheckpoint {
        /// The thread.
        thread: String,
        /// The checkpoint asked for, if one was.
        checkpoint: Option<String>,
    },
    /// The checkpointer failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The caller cancelled the run.
    #[error("the run was cancelled")]
    Cancelled,
}
