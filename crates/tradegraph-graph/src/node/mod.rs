//! Nodes: the units of work of a graph.

mod command;
mod context;
mod error;
mod structured;

pub use command::{Command, Goto};
pub(crate) use context::Emit;
pub use context::{Extensions, NodeContext};
pub use error::NodeError;
pub use structured::{StructuredNode, Validated};

use crate::state::GraphState;
use async_trait::async_trait;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::any::TypeId;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

/// What a node returns.
pub type NodeResult<S> = Result<Command<<S as GraphState>::Update>, NodeError>;

/// A node of a graph over state `S`: reads a snapshot of the state, returns a typed update.
///
/// ```
/// use std::sync::Arc;
/// use tradegraph_graph::{async_trait, Command, GraphState, Node, NodeContext, NodeResult};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Debug, Default, Serialize, Deserialize, GraphState)]
/// # struct Doc { text: String, words: usize }
///
/// struct CountWords;
///
/// #[async_trait]
/// impl Node<Doc> for CountWords {
///     async fn run(&self, state: Arc<Doc>, _ctx: NodeContext) -> NodeResult<Doc> {
///         Ok(Command::update(DocUpdate::default().words(state.text.split_whitespace().count())))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a node of a graph over `{S}`",
    label = "not a `Node<{S}>`",
    note = "implement `Node<{S}>` for it, or wrap an async closure with `tradegraph_graph::node_fn`"
)]
#[async_trait]
pub trait Node<S: GraphState>: Send + Sync + 'static {
    /// Runs the node once. All nodes of a superstep see the same snapshot.
    async fn run(&self, state: Arc<S>, ctx: NodeContext) -> NodeResult<S>;

    /// The JSON Schema this node's output is validated against, if it declares one.
    fn output_schema(&self) -> Option<serde_json::Value> {
        None
    }
}

/// A node that a dynamic fan-out ([`crate::StateGraph::add_send`]) runs once per item, each
/// run with its own item.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a map node of a graph over `{S}`",
    note = "implement `MapNode<{S}>` for it, or wrap an async closure with `tradegraph_graph::map_fn`"
)]
#[async_trait]
pub trait MapNode<S: GraphState>: Send + Sync + 'static {
    /// The per-run input. Serializable so that pending items survive in checkpoints.
    type Item: Serialize + DeserializeOwned + Send + 'static;

    /// Runs the node for one item.
    async fn run(&self, state: Arc<S>, item: Self::Item, ctx: NodeContext) -> NodeResult<S>;
}

/// Makes a node from an async closure.
///
/// ```
/// # use tradegraph_graph::{node_fn, Command, GraphState};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Debug, Default, Serialize, Deserialize, GraphState)]
/// # struct Doc { text: String }
/// let upper = node_fn(|s: std::sync::Arc<Doc>, _ctx| async move {
///     Ok(Command::update(DocUpdate::default().text(s.text.to_uppercase())))
/// });
/// ```
pub fn node_fn<S, F, Fut>(f: F) -> FnNode<F>
where
    S: GraphState,
    F: Fn(Arc<S>, NodeContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = NodeResult<S>> + Send + 'static,
{
    FnNode(f)
}

/// A node made from a closure by [`node_fn`].
#[derive(Clone)]
pub struct FnNode<F>(F);

#[async_trait]
impl<S, F, Fut> Node<S> for FnNode<F>
where
    S: GraphState,
    F: Fn(Arc<S>, NodeContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = NodeResult<S>> + Send + 'static,
{
    async fn run(&self, state: Arc<S>, ctx: NodeContext) -> NodeResult<S> {
        (self.0)(state, ctx).await
    }
}

/// Makes a map node from an async closure over one item.
pub fn map_fn<S, I, F, Fut>(f: F) -> MapFn<F, I>
where
    S: GraphState,
    I: Serialize + DeserializeOwned + Send + 'static,
    F: Fn(Arc<S>, I, NodeContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = NodeResult<S>> + Send + 'static,
{
    MapFn(f, PhantomData)
}

/// A map node made from a closure by [`map_fn`].
pub struct MapFn<F, I>(F, PhantomData<fn(I)>);

#[async_trait]
impl<S, I, F, Fut> MapNode<S> for MapFn<F, I>
where
    S: GraphState,
    I: Serialize + DeserializeOwned + Send + 'static,
    F: Fn(Arc<S>, I, NodeContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = NodeResult<S>> + Send + 'static,
{
    type Item = I;

    async fn run(&self, state: Arc<S>, item: I, ctx: NodeContext) -> NodeResult<S> {
        (self.0)(state, item, ctx).await
    }
}

/// A node of either shape, as the engine stores it.
pub(crate) enum NodeImpl<S: GraphState> {
    Plain(Arc<dyn Node<S>>),
    Map {
        node: Arc<dyn ErasedMap<S>>,
        item_type: TypeId,
        item_type_name: &'static str,
    },
}

impl<S: GraphState> Clone for NodeImpl<S> {
    fn clone(&self) -> Self {
        match self {
            Self::Plain(n) => Self::Plain(n.clone()),
            Self::Map {
                node,
                item_type,
                item_type_name,
            } => Self::Map {
                node: node.clone(),
                item_type: *item_type,
                item_type_name,
            },
        }
    }
}

impl<S: GraphState> NodeImpl<S> {
    pub(crate) fn map<M: MapNode<S>>(node: M) -> Self {
        Self::Map {
            node: Arc::new(MapAdapter(node)),
            item_type: TypeId::of::<M::Item>(),
            item_type_name: std::any::type_name::<M::Item>(),
        }
    }

    pub(crate) fn call(
        &self,
        state: Arc<S>,
        item: Option<&serde_json::Value>,
        ctx: NodeContext,
    ) -> BoxFuture<'static, NodeResult<S>> {
        match (self, item) {
            (Self::Plain(node), _) => {
                let node = node.clone();
                Box::pin(async move { node.run(state, ctx).await })
            }
            (Self::Map { node, .. }, Some(item)) => {
                let node = node.clone();
                let item = item.clone();
                Box::pin(async move { node.run_value(state, item, ctx).await })
            }
            (Self::Map { item_type_name, .. }, None) => {
                let message = format!(
                    "map node `{}` was scheduled without an item of type `{item_type_name}`",
                    ctx.node
                );
                Box::pin(async move { Err(NodeError::Failed(message)) })
            }
        }
    }

    pub(crate) fn output_schema(&self) -> Option<serde_json::Value> {
        match self {
            Self::Plain(node) => node.output_schema(),
            Self::Map { .. } => None,
        }
    }

    pub(crate) fn is_map(&self) -> bool {
        matches!(self, Self::Map { .. })
    }
}

#[async_trait]
pub(crate) trait ErasedMap<S: GraphState>: Send + Sync + 'static {
    async fn run_value(
        &self,
        state: Arc<S>,
        item: serde_json::Value,
        ctx: NodeContext,
    ) -> NodeResult<S>;
}

struct MapAdapter<M>(M);

#[async_trait]
impl<S: GraphState, M: MapNode<S>> ErasedMap<S> for MapAdapter<M> {
    async fn run_value(
        &self,
        state: Arc<S>,
        item: serde_json::Value,
        ctx: NodeContext,
    ) -> NodeResult<S> {
        let item: M::Item = serde_json::from_value(item).map_err(|e| {
            NodeError::Failed(format!(
                "map node `{}` got an item that is not a `{}`: {e}",
                ctx.node,
                std::any::type_name::<M::Item>()
            ))
        })?;
        self.0.run(state, item, ctx).await
    }
}
