//! Checking a graph file's structure without its registry (for the `tradegraph graph check`
//! command and editors' tooling).

use super::declare::{declare, Declared, Mode};
use super::error::{finish, YamlErrors};
use super::load::{parse, read};
use super::registry::Registry;
use crate::compile::Topology;
use crate::state::{FieldSpec, GraphState, MergeError, StateUpdate, Write};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// What a valid graph file declares.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphSummary {
    /// The graph's name.
    pub name: String,
    /// Nodes declared.
    pub nodes: usize,
    /// Edges of the compiled graph, as drawn (static, routes, gotos, sends, joins, loops).
    pub edges: usize,
    /// Joins declared.
    pub joins: usize,
    /// Loops declared.
    pub loops: usize,
    /// The node kinds used, sorted, each once.
    pub kinds: Vec<String>,
    /// The compiled graph's shape (for [`crate::render`]).
    pub topology: Topology,
}

impl fmt::Display for GraphSummary {
    /// `graph `research`, 6 nodes, 9 edges, 1 join, 0 loops`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        write!(
            f,
            "graph `{}`, {}, {}, {}, {}",
            self.name,
            plural(self.nodes, "node"),
            plural(self.edges, "edge"),
            plural(self.joins, "join"),
            plural(self.loops, "loop"),
        )
    }
}

/// Checks the syntax, shape and topology of the graph in `source` without knowing its kinds:
/// every kind stands for a node that does nothing (a map node when a `send` edge targets it),
/// every router picks its first target, every condition is false and every send produces no
/// items. All compile checks run (unknown or unreachable nodes, nodes that cannot reach `end`,
/// cycles without exit, bad joins and loops, ...).
///
/// Kinds, node configs, router, condition and send names and route fields are checked only by
/// [`load_str`](super::load_str) with the real [`Registry`] and state.
///
/// # Errors
/// Every problem found, each at its `origin:line:column`.
///
/// ```
/// let source = "name: tiny\nnodes:\n  - { name: a, kind: anything }\nedges:\n  - { from: start, to: a }\n  - { from: a, to: end }\n";
/// let summary = tradegraph_graph::yaml::check_str(source, "tiny.yaml").unwrap();
/// assert_eq!(summary.to_string(), "graph `tiny`, 1 node, 2 edges, 0 joins, 0 loops");
///
/// let errors = tradegraph_graph::yaml::check_str(&source.replace("to: end", "to: b"), "tiny.yaml").unwrap_err();
/// assert_eq!(errors.to_string(), "tiny.yaml:6:20: the edge from `a` refers to node `b`, which is not declared");
/// ```
pub fn check_str(source: &str, origin: &str) -> Result<GraphSummary, YamlErrors> {
    let spec = parse(source, origin)?;
    let registry = Registry::<CheckState>::new();
    let Declared {
        graph,
        mut problems,
        index,
        suspects,
    } = declare(&spec, &registry, Mode::Permissive);
    let compiled = match graph.compile() {
        Ok(compiled) if problems.is_empty() => compiled,
        Ok(_) => return Err(finish(origin, problems)),
        Err(errors) => {
            problems.extend(index.locate(errors.0, &suspects));
            return Err(finish(origin, problems));
        }
    };
    let mut kinds: Vec<String> = spec
        .nodes
        .value
        .iter()
        .map(|n| n.kind.value.clone())
        .collect();
    kinds.sort();
    kinds.dedup();
    let topology = compiled.topology().clone();
    Ok(GraphSummary {
        name: topology.name.clone(),
        nodes: topology.nodes.len(),
        edges: topology.edges.len(),
        joins: spec
            .edges
            .value
            .iter()
            .filter(|e| e.value.join.is_some())
            .count(),
        loops: spec.loops.len(),
        kinds,
        topology,
    })
}

/// Like [`check_str`], reading the file at `path`.
///
/// # Errors
/// As [`check_str`]; a file that cannot be read is one error without a position.
pub fn check_file(path: impl AsRef<Path>) -> Result<GraphSummary, YamlErrors> {
    let (source, origin) = read(path.as_ref())?;
    check_str(&source, &origin)
}

/// The state of the graphs `check_str` builds: no fields, never run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct CheckState {}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct CheckUpdate {}

impl StateUpdate for CheckUpdate {
    fn is_empty(&self) -> bool {
        true
    }

    fn fields_set(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

impl GraphState for CheckState {
    type Update = CheckUpdate;

    fn fields() -> &'static [FieldSpec] {
        &[]
    }

    fn merge(&mut self, _writes: Vec<Write<CheckUpdate>>) -> Result<(), MergeError> {
        Ok(())
    }

    fn field_value(&self, _field: &str) -> Option<serde_json::Value> {
        None
    }
}
