use crate::builder::Limits;
use serde::Serialize;

/// What a compiled graph looks like: the basis of pictures, and equal for a YAML graph and the
/// builder code that declares the same graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Topology {
    /// The graph's name.
    pub name: String,
    /// Nodes in declaration order (which is also the merge order of a step's updates).
    pub nodes: Vec<NodeInfo>,
    /// Every edge, sorted.
    pub edges: Vec<EdgeInfo>,
    /// Cycles, with their head and run limit.
    pub cycles: Vec<CycleInfo>,
    /// Declared loops, in declaration order.
    pub loops: Vec<LoopInfo>,
    /// Nodes paused before.
    pub interrupt_before: Vec<String>,
    /// Nodes paused after.
    pub interrupt_after: Vec<String>,
    /// Run limits.
    pub limits: Limits,
}

/// A node as declared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeInfo {
    /// Its name.
    pub name: String,
    /// True for a map node (run per item of a send edge).
    pub map: bool,
    /// Per-attempt timeout in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Retry policy description.
    pub retry: Option<String>,
    /// Declared `goto` targets.
    pub routes: Vec<String>,
    /// Declared output schema.
    pub output_schema: Option<serde_json::Value>,
}

/// How an edge is taken.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EdgeKind {
    /// Always.
    Static,
    /// When the router returns `label`.
    Route {
        /// The router.
        router: String,
        /// The label.
        label: String,
    },
    /// When the node returns `goto` to it.
    Goto,
    /// Once per item.
    Send {
        /// The send edge.
        name: String,
    },
    /// Into a join.
    Join,
    /// A declared loop going round again.
    LoopBack {
        /// The loop.
        name: String,
    },
    /// A declared loop ending.
    LoopExit {
        /// The loop.
        name: String,
    },
}

/// An edge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EdgeInfo {
    /// Source node (or `start`).
    pub from: String,
    /// Target node (or `end`).
    pub to: String,
    /// How it is taken.
    pub kind: EdgeKind,
}

/// A cycle in the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CycleInfo {
    /// The node whose runs are counted against the limit.
    pub head: String,
    /// The nodes of the cycle, in declaration order.
    pub nodes: Vec<String>,
    /// Runs of `head` allowed per run.
    pub limit: u32,
}

/// A declared loop ([`Loop`](crate::Loop)): from `head` to `tail`, at most `max_rounds` rounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoopInfo {
    /// The loop's name.
    pub name: String,
    /// The node each round starts at.
    pub head: String,
    /// The node each round ends at.
    pub tail: String,
    /// Where the run goes when the loop ends.
    pub exit: String,
    /// The most rounds.
    pub max_rounds: u32,
}
