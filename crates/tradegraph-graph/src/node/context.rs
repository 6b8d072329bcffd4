use crate::state::NodeName;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Typed values a caller hands to every node of a run (API clients, settings), looked up by type.
#[derive(Clone, Default)]
pub struct Extensions {
    map: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Extensions {
    /// Adds `value`, replacing any earlier value of the same type.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        self.map.insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The value of type `T`, if one was given.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.map
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions")
            .field("len", &self.map.len())
            .finish()
    }
}

/// Sends a node's custom events to the run's event stream.
pub(crate) type Emit = Arc<dyn Fn(&NodeName, u64, serde_json::Value) + Send + Sync>;

/// What a node knows about the run it is part of.
#[derive(Clone)]
pub struct NodeContext {
    pub(crate) run_id: Arc<str>,
    pub(crate) thread_id: Arc<str>,
    pub(crate) node: NodeName,
    pub(crate) step: u64,
    pub(crate) attempt: u32,
    pub(crate) round: u32,
    pub(crate) cancel: CancellationToken,
    pub(crate) extensions: Arc<Extensions>,
    pub(crate) emit: Option<Emit>,
    pub(crate) resume: Option<Arc<serde_json::Value>>,
}

impl NodeContext {
    /// The id of this run.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The thread (conversation, bot) this run belongs to; checkpoints are kept per thread.
    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// This node's name.
    pub fn node(&self) -> &NodeName {
        &self.node
    }

    /// The superstep, counted from 0 over the thread's whole history.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The attempt, from 1; above 1 when the retry policy retries.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// How many times this node has run in this run, this time included (from 1): the round
    /// of a debate loop, for instance.
    pub fn round(&self) -> u32 {
        self.round
    }

    /// Cancelled when a sibling fails or the caller cancels the run; long work should watch it.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// A typed value the caller put in the run's configuration.
    pub fn extension<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }

    /// The value given on resume after this node interrupted the run; `None` on a first run.
    /// When several tasks of a step ask, the run pauses on the first one's question and its
    /// answer reaches that task only; the others ask again, one pause each, in task order.
    /// After a pause before or after a step, the value given reaches every task of the step.
    pub fn resume_value(&self) -> Option<&serde_json::Value> {
        self.resume.as_deref()
    }

    /// Sends a custom event to whoever streams the run (progress, partial results).
    pub fn emit(&self, payload: impl serde::Serialize) {
        if let Some(emit) = &self.emit {
            let value = serde_json::to_value(payload).unwrap_or_else(|e| {
                serde_json::Value::String(format!("event not serializable: {e}"))
            });
            emit(&self.node, self.step, value);
        }
    }

    /// A context for calling a node directly, outside a graph (tests, benchmarks).
    pub fn detached(node: impl Into<NodeName>) -> Self {
        Self {
            run_id: Arc::from("detached"),
            thread_id: Arc::from("detached"),
            node: node.into(),
            step: 0,
            attempt: 1,
            round: 1,
            cancel: CancellationToken::new(),
            extensions: Arc::new(Extensions::default()),
            emit: None,
            resume: None,
        }
    }
}

impl fmt::Debug for NodeContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeContext")
            .field("run_id", &self.run_id)
            .field("thread_id", &self.thread_id)
            .field("node", &self.node)
            .field("step", &self.step)
            .field("attempt", &self.attempt)
            .field("round", &self.round)
            .finish_non_exhaustive()
    }
}
