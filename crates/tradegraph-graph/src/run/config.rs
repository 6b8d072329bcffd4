use crate::checkpoint::{CheckpointId, Interrupt};
use crate::node::Extensions;
use std::any::Any;
use tokio_util::sync::CancellationToken;

/// Per-run settings.
///
/// ```
/// # use tradegraph_graph::RunConfig;
/// struct ApiKeyless; // any typed value the nodes need
/// let config = RunConfig::new().thread("btc-bot").max_steps(50).extension(ApiKeyless);
/// ```
#[derive(Debug, Clone, Default)]
pub struct RunConfig {
    pub(crate) thread_id: Option<String>,
    pub(crate) run_id: Option<String>,
    pub(crate) max_steps: Option<u64>,
    pub(crate) max_concurrency: Option<usize>,
    pub(crate) extensions: Extensions,
    pub(crate) cancel: Option<CancellationToken>,
    /// A parent graph's resume value, handed to a subgraph's fresh run.
    pub(crate) resume_value: Option<serde_json::Value>,
}

impl RunConfig {
    /// Defaults: a fresh thread id, the graph's limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// The thread whose checkpoints this run writes (and resumes read).
    #[must_use]
    pub fn thread(mut self, thread_id: impl Into<String>) -> Self {
        self.thread_id = Some(thread_id.into());
        self
    }

    /// The run's id (generated when unset).
    #[must_use]
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    /// Overrides the graph's step limit for this run.
    #[must_use]
    pub fn max_steps(mut self, steps: u64) -> Self {
        self.max_steps = Some(steps);
        self
    }

    /// Overrides the graph's concurrency limit for this run.
    #[must_use]
    pub fn max_concurrency(mut self, nodes: usize) -> Self {
        self.max_concurrency = Some(nodes.max(1));
        self
    }

    /// A typed value for the nodes ([`crate::NodeContext::extension`]).
    #[must_use]
    pub fn extension<T: Any + Send + Sync>(mut self, value: T) -> Self {
        self.extensions.insert(value);
        self
    }

    /// Cancelling `token` stops the run: running nodes are cancelled and the run fails with
    /// [`crate::GraphError::Cancelled`].
    #[must_use]
    pub fn cancellation(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// What to do when resuming a paused or crashed thread.
#[derive(Debug, Clone)]
pub struct Resume<U> {
    pub(crate) update: Option<U>,
    pub(crate) value: Option<serde_json::Value>,
}

impl<U> Default for Resume<U> {
    fn default() -> Self {
        Self {
            update: None,
            value: None,
        }
    }
}

impl<U> Resume<U> {
    /// Continue as is.
    pub fn new() -> Self {
        Self::default()
    }

    /// Merge `update` into the state first (a person overriding an order, say); it is written
    /// by `resume`.
    #[must_use]
    pub fn update(mut self, update: U) -> Self {
        self.update = Some(update);
        self
    }

    /// The answer to a dynamic interrupt, read by the node with
    /// [`crate::NodeContext::resume_value`].
    #[must_use]
    pub fn value(mut self, value: impl Into<serde_json::Value>) -> Self {
        self.value = Some(value.into());
        self
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// Every branch reached `end`.
    Finished,
    /// Paused; resume with [`crate::CompiledGraph::resume`].
    Interrupted(Interrupt),
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunOutput<S> {
    /// The state when the run finished or paused.
    pub state: S,
    /// Finished or paused.
    pub status: RunStatus,
    /// The run.
    pub run_id: String,
    /// The thread.
    pub thread_id: String,
    /// The newest checkpoint, when a checkpointer is set.
    pub checkpoint: Option<CheckpointId>,
    /// Supersteps run.
    pub steps: u64,
}

impl<S> RunOutput<S> {
    /// True when the run paused.
    pub fn is_interrupted(&self) -> bool {
        matches!(self.status, RunStatus::Interrupted(_))
    }

    /// The pause, if the run paused.
    pub fn interrupt(&self) -> Option<&Interrupt> {
        match &self.status {
            RunStatus::Interrupted(i) => Some(i),
            RunStatus::Finished => None,
        }
    }
}
