//! Stand-ins for names the registry does not know: they let the whole graph still be checked
//! (by `check_str`, which knows no kinds, and after a load error, so that every problem is
//! reported in one pass). They are never run.

use crate::node::{Command, MapNode, Node, NodeContext, NodeResult};
use crate::router::{Condition, Route, Router};
use crate::state::GraphState;
use async_trait::async_trait;
use std::sync::Arc;

/// A node that does nothing.
pub(crate) struct NoopNode;

#[async_trait]
impl<S: GraphState> Node<S> for NoopNode {
    async fn run(&self, _state: Arc<S>, _ctx: NodeContext) -> NodeResult<S> {
        Ok(Command::empty())
    }
}

/// A map node over any JSON item that does nothing.
pub(crate) struct NoopMap;

#[async_trait]
impl<S: GraphState> MapNode<S> for NoopMap {
    type Item = serde_json::Value;

    async fn run(
        &self,
        _state: Arc<S>,
        _item: serde_json::Value,
        _ctx: NodeContext,
    ) -> NodeResult<S> {
        Ok(Command::empty())
    }
}

/// A router that always picks its edge's first target.
pub(crate) struct FirstTarget(pub(crate) Option<String>);

impl<S> Router<S> for FirstTarget {
    fn route(&self, _state: &S) -> Route {
        self.0.clone().map_or(Route::End, Route::from)
    }
}

/// A condition that never holds.
pub(crate) struct Never;

impl<S> Condition<S> for Never {
    fn holds(&self, _state: &S) -> bool {
        false
    }
}
