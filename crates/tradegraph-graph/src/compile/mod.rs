//! Compiling a declared graph: every check, then the frozen [`CompiledGraph`].

mod analysis;
pub(crate) mod graph;
mod resolve;
mod topology;

pub use topology::{CycleInfo, EdgeInfo, EdgeKind, LoopInfo, NodeInfo, Topology};

use crate::builder::decl::Declarations;
use crate::checkpoint::Checkpointer;
use crate::error::{BuildError, BuildErrors};
use crate::state::GraphState;
use graph::Graph;
use std::sync::Arc;

/// A checked graph, ready to run. Cheap to clone; runs share it.
pub struct CompiledGraph<S: GraphState> {
    pub(crate) graph: Arc<Graph<S>>,
    pub(crate) checkpointer: Option<Arc<dyn Checkpointer<S>>>,
}

impl<S: GraphState> Clone for CompiledGraph<S> {
    fn clone(&self) -> Self {
        Self {
            graph: self.graph.clone(),
            checkpointer: self.checkpointer.clone(),
        }
    }
}

impl<S: GraphState> std::fmt::Debug for CompiledGraph<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledGraph")
            .field("name", &self.graph.name)
            .field("nodes", &self.graph.nodes.len())
            .field("checkpointer", &self.checkpointer.is_some())
            .finish()
    }
}

impl<S: GraphState> CompiledGraph<S> {
    /// Saves a checkpoint after every superstep to `checkpointer`, enabling resume, interrupts,
    /// history and forks.
    #[must_use]
    pub fn with_checkpointer(self, checkpointer: impl Checkpointer<S>) -> Self {
        self.with_shared_checkpointer(Arc::new(checkpointer))
    }

    /// Like [`with_checkpointer`](Self::with_checkpointer), for a checkpointer shared with others.
    #[must_use]
    pub fn with_shared_checkpointer(mut self, checkpointer: Arc<dyn Checkpointer<S>>) -> Self {
        self.checkpointer = Some(checkpointer);
        self
    }

    /// The graph's name.
    pub fn name(&self) -> &str {
        &self.graph.name
    }

    /// What the graph looks like.
    pub fn topology(&self) -> &Topology {
        &self.graph.topology
    }

    /// The names of its nodes, in declaration order.
    pub fn node_names(&self) -> impl Iterator<Item = &str> {
        self.graph.nodes.iter().map(|n| n.name.as_str())
    }
}

pub(crate) fn compile<S: GraphState>(
    mut decls: Declarations<S>,
) -> Result<CompiledGraph<S>, BuildErrors> {
    let mut errors = Vec::new();
    if decls.limits.max_steps == 0 {
        errors.push(BuildError::InvalidLimit {
            reason: "max_steps must be at least 1".into(),
        });
    }
    if decls.limits.default_loop_limit == 0 || decls.limits.loop_limits.iter().any(|(_, l)| *l == 0)
    {
        errors.push(BuildError::InvalidLimit {
            reason: "loop limits must be at least 1".into(),
        });
    }
    // Resolving takes the declared loops; the topology shows them as declared.
    let loops: Vec<LoopInfo> = decls
        .loops
        .iter()
        .map(|l| LoopInfo {
            name: l.name.clone(),
            head: l.head.clone(),
            tail: l.tail.clone(),
            exit: l.exit.clone(),
            max_rounds: l.max_rounds,
        })
        .collect();
    let mut resolved = resolve::resolve(&mut decls, &mut errors);
    if !errors.is_empty() {
        return Err(BuildErrors(errors));
    }
    let cycles = analysis::analyse(&mut resolved, &decls.limits, &mut errors);
    if !errors.is_empty() {
        return Err(BuildErrors(errors));
    }
    let topology = Topology {
        name: decls.name.clone(),
        nodes: decls
            .nodes
            .iter()
            .map(|n| NodeInfo {
                name: n.name.clone(),
                map: n.imp.is_map(),
                timeout_ms: n
                    .options
                    .timeout
                    .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
                retry: n.options.retry.as_ref().map(|r| r.describe()),
                routes: n.options.routes.clone(),
                output_schema: n.imp.output_schema(),
            })
            .collect(),
        edges: resolved.edges,
        cycles,
        loops,
        interrupt_before: decls.interrupt_before.clone(),
        interrupt_after: decls.interrupt_after.clone(),
        limits: decls.limits.clone(),
    };
    let meters = crate::metrics::GraphMeters::new(
        &decls.name,
        resolved.nodes.iter().map(|n| n.name.clone()).collect(),
    );
    Ok(CompiledGraph {
        graph: Arc::new(Graph {
            meters,
            name: decls.name,
            nodes: resolved.nodes,
            index: resolved.index,
            entry: resolved.entry,
            joins: resolved.joins,
            loops: resolved.loops,
            limits: decls.limits,
            topology,
        }),
        checkpointer: None,
    })
}
