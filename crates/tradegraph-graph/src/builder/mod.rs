//! [`StateGraph`]: declare nodes and edges, then [`StateGraph::compile`].

pub(crate) mod decl;
mod looping;
mod options;

pub use looping::Loop;
pub use options::NodeOptions;

use crate::compile::{compile, CompiledGraph};
use crate::error::BuildErrors;
use crate::node::{MapNode, Node, NodeImpl};
use crate::router::{Condition, RouteTarget, Router};
use crate::state::GraphState;
use decl::{Declarations, EdgeDecl, JoinDecl, NodeDecl};
use serde::Serialize;
use std::any::TypeId;
use std::sync::Arc;

/// The virtual node every run starts from.
pub const START: &str = "start";
/// The virtual node a branch ends at.
pub const END: &str = "end";

/// Run limits that guard against runaway graphs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Supersteps allowed in one run ([`crate::GraphError::StepLimit`] past it).
    pub max_steps: u64,
    /// Times the head of a cycle may run in one run, unless set per head
    /// ([`crate::GraphError::LoopLimit`] past it).
    pub default_loop_limit: u32,
    /// Per-head overrides of `default_loop_limit`.
    pub loop_limits: Vec<(String, u32)>,
    /// Nodes running at once within a superstep; `None` is unlimited.
    pub max_concurrency: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_steps: 100,
            default_loop_limit: 25,
            loop_limits: Vec::new(),
            max_concurrency: None,
        }
    }
}

/// Declares a graph over state `S`.
///
/// ```
/// use std::sync::Arc;
/// use tradegraph_graph::{node_fn, Command, GraphState, StateGraph, END, START};
/// # use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Debug, Default, Serialize, Deserialize, GraphState)]
/// struct Count { #[reducer(append)] seen: Vec<String> }
///
/// fn visit(name: &'static str) -> impl tradegraph_graph::Node<Count> {
///     node_fn(move |_s: Arc<Count>, _ctx| async move {
///         Ok(Command::update(CountUpdate::default().seen(vec![name.to_string()])))
///     })
/// }
///
/// let mut graph = StateGraph::<Count>::new("fan");
/// graph
///     .add_node("a", visit("a"))
///     .add_node("b", visit("b"))
///     .add_node("c", visit("c"))
///     .add_fan_out(START, ["a", "b"])
///     .add_join(["a", "b"], "c")
///     .add_edge("c", END);
/// let compiled = graph.compile().unwrap();
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// let out = rt.block_on(compiled.invoke(Count::default(), Default::default())).unwrap();
/// assert_eq!(out.state.seen, ["a", "b", "c"]);
/// ```
pub struct StateGraph<S: GraphState> {
    decls: Declarations<S>,
}

impl<S: GraphState> StateGraph<S> {
    /// An empty graph called `name` (the name appears in traces and pictures).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            decls: Declarations {
                name: name.into(),
                nodes: Vec::new(),
                edges: Vec::new(),
                joins: Vec::new(),
                loops: Vec::new(),
                interrupt_before: Vec::new(),
                interrupt_after: Vec::new(),
                limits: Limits::default(),
            },
        }
    }

    /// Adds a node with default options.
    pub fn add_node(&mut self, name: impl Into<String>, node: impl Node<S>) -> &mut Self {
        self.add_node_with(name, node, NodeOptions::new())
    }

    /// Adds a node with a timeout, retry policy or `goto` routes.
    pub fn add_node_with(
        &mut self,
        name: impl Into<String>,
        node: impl Node<S>,
        options: NodeOptions,
    ) -> &mut Self {
        self.add_node_arc(name, Arc::new(node), options)
    }

    /// Adds a node that is already shared (registries hand these out).
    pub fn add_node_arc(
        &mut self,
        name: impl Into<String>,
        node: Arc<dyn Node<S>>,
        options: NodeOptions,
    ) -> &mut Self {
        self.decls.nodes.push(NodeDecl {
            name: name.into(),
            imp: NodeImpl::Plain(node),
            options,
        });
        self
    }

    /// Adds a map node: it runs once per item that an [`add_send`](Self::add_send) edge produces.
    pub fn add_map_node<M: MapNode<S>>(
        &mut self,
        name: impl Into<String>,
        node: M,
        options: NodeOptions,
    ) -> &mut Self {
        self.decls.nodes.push(NodeDecl {
            name: name.into(),
            imp: NodeImpl::map(node),
            options,
        });
        self
    }

    /// After `from` runs, `to` runs in the next superstep. `from` may be [`START`], `to` [`END`].
    pub fn add_edge(&mut self, from: impl Into<String>, to: impl Into<String>) -> &mut Self {
        self.decls.edges.push(EdgeDecl::Static {
            from: from.into(),
            to: to.into(),
        });
        self
    }

    /// After `from` runs, every node of `to` runs, in parallel.
    pub fn add_fan_out<I, N>(&mut self, from: impl Into<String>, to: I) -> &mut Self
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        let from = from.into();
        for target in to {
            self.add_edge(from.clone(), target);
        }
        self
    }

    /// A barrier: `target` runs once every source that was started has arrived. A source that can
    /// no longer start is reported as skipped in [`crate::Event::JoinFired`] instead of
    /// blocking the join forever.
    pub fn add_join<I, N>(&mut self, sources: I, target: impl Into<String>) -> &mut Self
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        self.decls.joins.push(JoinDecl {
            sources: sources.into_iter().map(Into::into).collect(),
            target: target.into(),
        });
        self
    }

    /// After `from` runs, `router` picks among `targets` (labels it returns, each leading to a
    /// node). Returning an undeclared label fails the run with an error naming both.
    pub fn add_conditional_edges<I, T>(
        &mut self,
        from: impl Into<String>,
        name: impl Into<String>,
        router: impl Router<S>,
        targets: I,
    ) -> &mut Self
    where
        I: IntoIterator<Item = T>,
        T: Into<RouteTarget>,
    {
        self.decls.edges.push(EdgeDecl::Conditional {
            from: from.into(),
            name: name.into(),
            router: Arc::new(router),
            targets: targets.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// Dynamic fan-out (LangGraph's `Send`): after `from` runs, the map node `to` runs once per
    /// item that `items` returns, all in parallel, each with its own item.
    pub fn add_send<I, F>(
        &mut self,
        from: impl Into<String>,
        name: impl Into<String>,
        to: impl Into<String>,
        items: F,
    ) -> &mut Self
    where
        I: Serialize + 'static,
        F: Fn(&S) -> Vec<I> + Send + Sync + 'static,
    {
        let items = move |state: &S| {
            items(state)
                .iter()
                .map(|item| serde_json::to_value(item).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()
        };
        self.decls.edges.push(EdgeDecl::Send {
            from: from.into(),
            name: name.into(),
            to: to.into(),
            items: Arc::new(items),
            item_type: TypeId::of::<I>(),
            item_type_name: std::any::type_name::<I>(),
        });
        self
    }

    /// Declares a loop (see [`Loop`]); its tail's routing is the loop.
    pub fn add_loop(&mut self, spec: Loop<S>) -> &mut Self {
        self.decls.loops.push(spec);
        self
    }

    /// Convenience for a loop that goes round while `condition` holds.
    pub fn add_loop_while(
        &mut self,
        spec: Loop<S>,
        name: impl Into<String>,
        condition: impl Condition<S>,
    ) -> &mut Self {
        self.add_loop(spec.while_(name, condition))
    }

    /// Pause before these nodes run (for a person to approve); resume continues with them.
    pub fn interrupt_before<I, N>(&mut self, nodes: I) -> &mut Self
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        self.decls
            .interrupt_before
            .extend(nodes.into_iter().map(Into::into));
        self
    }

    /// Pause after the superstep in which these nodes ran.
    pub fn interrupt_after<I, N>(&mut self, nodes: I) -> &mut Self
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        self.decls
            .interrupt_after
            .extend(nodes.into_iter().map(Into::into));
        self
    }

    /// Supersteps allowed per run (default 100).
    pub fn max_steps(&mut self, steps: u64) -> &mut Self {
        self.decls.limits.max_steps = steps;
        self
    }

    /// Times a cycle's head may run per run, for every cycle without its own limit (default 25).
    pub fn default_loop_limit(&mut self, rounds: u32) -> &mut Self {
        self.decls.limits.default_loop_limit = rounds;
        self
    }

    /// Times the cycle headed by `head` may run per run.
    pub fn loop_limit(&mut self, head: impl Into<String>, rounds: u32) -> &mut Self {
        self.decls.limits.loop_limits.push((head.into(), rounds));
        self
    }

    /// Nodes running at once within a superstep (default unlimited).
    pub fn max_concurrency(&mut self, nodes: usize) -> &mut Self {
        self.decls.limits.max_concurrency = Some(nodes.max(1));
        self
    }

    /// Checks the graph and freezes it for running.
    ///
    /// # Errors
    /// Every problem found, each naming its culprit: duplicate or unknown nodes, nodes unreachable
    /// from [`START`] or unable to reach [`END`], cycles without a conditional exit, bad routes,
    /// joins, loops and sends.
    pub fn compile(self) -> Result<CompiledGraph<S>, BuildErrors> {
        compile(self.decls)
    }
}
