//! What the builder records before `compile` checks and resolves it.

use super::Loop;
use crate::builder::NodeOptions;
use crate::node::NodeImpl;
use crate::router::{RouteTarget, Router};
use crate::state::GraphState;
use std::any::TypeId;
use std::sync::Arc;

pub(crate) type ItemsFn<S> =
    Arc<dyn Fn(&S) -> Result<Vec<serde_json::Value>, String> + Send + Sync>;

pub(crate) struct NodeDecl<S: GraphState> {
    pub(crate) name: String,
    pub(crate) imp: NodeImpl<S>,
    pub(crate) options: NodeOptions,
}

pub(crate) enum EdgeDecl<S> {
    Static {
        from: String,
        to: String,
    },
    Conditional {
        from: String,
        name: String,
        router: Arc<dyn Router<S>>,
        targets: Vec<RouteTarget>,
    },
    Send {
        from: String,
        name: String,
        to: String,
        items: ItemsFn<S>,
        item_type: TypeId,
        item_type_name: &'static str,
    },
}

impl<S> EdgeDecl<S> {
    pub(crate) fn from(&self) -> &str {
        match self {
            Self::Static { from, .. }
            | Self::Conditional { from, .. }
            | Self::Send { from, .. } => from,
        }
    }
}

pub(crate) struct JoinDecl {
    pub(crate) sources: Vec<String>,
    pub(crate) target: String,
}

pub(crate) struct Declarations<S: GraphState> {
    pub(crate) name: String,
    pub(crate) nodes: Vec<NodeDecl<S>>,
    pub(crate) edges: Vec<EdgeDecl<S>>,
    pub(crate) joins: Vec<JoinDecl>,
    pub(crate) loops: Vec<Loop<S>>,
    pub(crate) interrupt_before: Vec<String>,
    pub(crate) interrupt_after: Vec<String>,
    pub(crate) limits: super::Limits,
}
