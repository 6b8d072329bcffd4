use crate::node::Command;
use crate::state::{GraphState, NodeName};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The serialized format's version; stores refuse newer ones.
pub const FORMAT_VERSION: u32 = 1;

/// A checkpoint's id: sortable by creation time within a process, unique across processes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CheckpointId(pub String);

impl CheckpointId {
    /// A fresh id: milliseconds since the epoch, a process-wide counter and random bits.
    pub fn generate() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let random: u32 = rand::random();
        Self(format!("{millis:013x}-{count:08x}-{random:08x}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CheckpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A task waiting to run: a node, and the item for a map node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// The node.
    pub node: NodeName,
    /// The map node's item (`Some(Value::Null)` for an item that serializes to `null`, which is
    /// read back as such, not as no item).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::state::merge_support::present"
    )]
    pub item: Option<serde_json::Value>,
}

/// The output of a task that finished in a step that did not complete.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "U: Serialize",
    deserialize = "U: serde::de::DeserializeOwned"
))]
pub struct PendingWrite<U> {
    /// The task's index in the checkpoint's `next`.
    pub task: u32,
    /// The node.
    pub node: NodeName,
    /// What it returned.
    pub output: Command<U>,
}

/// Counters that let a resumed run continue exactly where it stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Supersteps run in this run.
    pub steps: u64,
    /// Times each node ran in this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_runs: Vec<(NodeName, u32)>,
    /// Rounds done in each declared loop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loop_rounds: Vec<(String, u32)>,
    /// Sources that arrived at each join not yet fired (keyed by the join's target).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub join_arrivals: Vec<(NodeName, Vec<NodeName>)>,
}

/// Why a run paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterruptKind {
    /// Before a node declared with `interrupt_before`.
    Before,
    /// After the step of a node declared with `interrupt_after`.
    After,
    /// A node returned [`Command::Interrupt`].
    Dynamic,
}

/// A pause, waiting for [`crate::CompiledGraph::resume`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interrupt {
    /// The node concerned.
    pub node: NodeName,
    /// Why.
    pub kind: InterruptKind,
    /// What a dynamic interrupt asks (a `null` payload is read back as `Some(Value::Null)`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::state::merge_support::present"
    )]
    pub payload: Option<serde_json::Value>,
    /// Which of the step's tasks asked, for a dynamic interrupt (its position in the step's
    /// `next`): the value given on resume is that task's answer only. A step in which several
    /// tasks ask pauses once per question, in task order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<u32>,
}

/// What produced a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointSource {
    /// The run's input.
    Input,
    /// A completed superstep.
    Step,
    /// A pause.
    Interrupt,
    /// An update given on resume.
    Update,
    /// A fork of another checkpoint.
    Fork,
}

/// The state and pending work of a thread at a superstep boundary.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "S: Serialize", deserialize = "S: GraphState"))]
pub struct Checkpoint<S: GraphState> {
    /// The format version ([`FORMAT_VERSION`] when written by this library).
    pub format: u32,
    /// This checkpoint.
    pub id: CheckpointId,
    /// The checkpoint it follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<CheckpointId>,
    /// The thread.
    pub thread_id: String,
    /// The run that wrote it.
    pub run_id: String,
    /// The graph's name.
    pub graph: String,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// What produced it.
    pub source: CheckpointSource,
    /// The state.
    pub state: S,
    /// The tasks of the next superstep; empty when the run has finished.
    pub next: Vec<TaskSpec>,
    /// Outputs of tasks of `next` that already finished.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_writes: Vec<PendingWrite<S::Update>>,
    /// Loop, join and step counters.
    #[serde(default)]
    pub progress: Progress,
    /// Set when the run paused here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupt: Option<Interrupt>,
}

impl<S: GraphState> Checkpoint<S> {
    /// True when the run had finished at this checkpoint.
    pub fn is_finished(&self) -> bool {
        self.next.is_empty() && self.interrupt.is_none()
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
