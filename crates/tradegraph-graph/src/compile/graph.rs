//! The compiled graph as the executor walks it: names resolved to indices.

use super::Topology;
use crate::builder::decl::ItemsFn;
use crate::builder::Limits;
use crate::node::NodeImpl;
use crate::retry::RetryPolicy;
use crate::router::{Condition, Router};
use crate::state::{GraphState, NodeName};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Node(usize),
    End,
}

pub(crate) enum Transition<S> {
    Static(Target),
    Router {
        name: String,
        router: Arc<dyn Router<S>>,
        targets: Vec<(String, Target)>,
    },
    Send {
        name: String,
        to: usize,
        items: ItemsFn<S>,
    },
}

pub(crate) struct CompiledNode<S: GraphState> {
    pub(crate) name: NodeName,
    pub(crate) imp: NodeImpl<S>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<Arc<dyn RetryPolicy>>,
    /// Declared `goto` targets, by name.
    pub(crate) routes: Vec<(String, Target)>,
    pub(crate) out: Vec<Transition<S>>,
    /// Joins this node is a source of, with its bit in each.
    pub(crate) joins: Vec<(usize, u64)>,
    /// The declared loop this node is the tail of.
    pub(crate) loop_tail: Option<usize>,
    /// The run limit when this node heads a cycle.
    pub(crate) guard: Option<u32>,
    pub(crate) interrupt_before: bool,
    pub(crate) interrupt_after: bool,
}

pub(crate) struct CompiledJoin {
    pub(crate) target: usize,
    pub(crate) sources: Vec<usize>,
    pub(crate) all: u64,
    /// Per node: the sources it can still lead to without passing through the target.
    pub(crate) reach: Vec<u64>,
}

pub(crate) struct CompiledLoop<S> {
    pub(crate) name: String,
    pub(crate) head: usize,
    pub(crate) exit: Target,
    pub(crate) max_rounds: u32,
    pub(crate) condition: Option<(String, Arc<dyn Condition<S>>)>,
}

pub(crate) struct Graph<S: GraphState> {
    pub(crate) name: String,
    pub(crate) nodes: Vec<CompiledNode<S>>,
    pub(crate) index: HashMap<String, usize>,
    pub(crate) entry: Vec<Transition<S>>,
    pub(crate) joins: Vec<CompiledJoin>,
    pub(crate) loops: Vec<CompiledLoop<S>>,
    pub(crate) limits: Limits,
    pub(crate) topology: Topology,
    /// Metric handles, registered with the recorder in use.
    pub(crate) meters: crate::metrics::GraphMeters,
}
