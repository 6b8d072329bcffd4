//! Loading a YAML graph with a [`Registry`]: to a [`CompiledGraph`], or to a [`YamlGraph`] that
//! can still be extended before compiling.

use super::declare::{declare, Declared, Mode};
use super::error::{finish, from_saphyr, Problem, YamlErrors};
use super::locate::{SourceIndex, Suspects};
use super::located::Pos;
use super::registry::Registry;
use super::spec::GraphSpec;
use crate::builder::StateGraph;
use crate::compile::CompiledGraph;
use crate::state::GraphState;
use std::fmt;
use std::path::Path;

/// Loads and compiles the graph declared in YAML `source`; `origin` names the source in errors
/// (normally its file name).
///
/// # Errors
/// Every problem found, each at its `origin:line:column`: YAML syntax, unknown or misspelt keys
/// (named), unknown kinds, routers, conditions and sends (with the registered ones listed),
/// configs a kind rejects (with the kind's message), and every compile check of
/// [`StateGraph::compile`] (unknown or unreachable nodes, cycles without exit, ...), pointed at
/// the declaration concerned.
///
/// ```
/// use std::sync::Arc;
/// use serde::{Deserialize, Serialize};
/// use tradegraph_graph::yaml::{self, NoConfig, Registry};
/// use tradegraph_graph::{node_fn, Command, GraphState, RunConfig};
///
/// #[derive(Clone, Debug, Default, Serialize, Deserialize, GraphState)]
/// struct Doc { #[reducer(append)] log: Vec<String>, approved: bool }
///
/// #[derive(Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct SayConfig { text: String }
///
/// let mut registry = Registry::<Doc>::new();
/// registry
///     .node("say", |config: SayConfig| {
///         Ok(node_fn(move |_doc: Arc<Doc>, _ctx| {
///             let line = config.text.clone();
///             async move { Ok(Command::update(DocUpdate::default().log(vec![line]))) }
///         }))
///     })
///     .node("approve", |_: NoConfig| {
///         Ok(node_fn(|_doc: Arc<Doc>, _ctx| async {
///             Ok(Command::update(DocUpdate::default().approved(true)))
///         }))
///     });
///
/// let source = r#"
/// name: review
/// nodes:
///   - { name: draft, kind: say, config: { text: drafted } }
///   - { name: check, kind: approve }
///   - { name: publish, kind: say, config: { text: published } }
/// edges:
///   - { from: start, to: draft }
///   - { from: draft, to: check }
///   - from: check
///     field: approved
///     cases: [ { truthy: true, to: publish } ]
///     default: draft
///   - { from: publish, to: end }
/// "#;
/// let graph = yaml::load_str(source, "review.yaml", &registry)?;
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// let out = graph.invoke(Doc::default(), RunConfig::new()).await?;
/// assert_eq!(out.state.log, ["drafted", "published"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
///
/// // errors point at the line and column, and name what is wrong
/// let typo = source.replace("kind: approve", "kind: aprove");
/// let errors = yaml::load_str(&typo, "review.yaml", &registry).unwrap_err();
/// assert_eq!(
///     errors.to_string(),
///     "review.yaml:5:26: unknown kind `aprove` (node `check`); registered kinds: approve, say \
///      (register more with `Registry::node`)"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_str<S: GraphState>(
    source: &str,
    origin: &str,
    registry: &Registry<S>,
) -> Result<CompiledGraph<S>, YamlErrors> {
    graph_from_str(source, origin, registry)?.compile()
}

/// Like [`load_str`], reading the file at `path` (which names it in errors).
///
/// # Errors
/// As [`load_str`]; a file that cannot be read is one error without a position.
pub fn load_file<S: GraphState>(
    path: impl AsRef<Path>,
    registry: &Registry<S>,
) -> Result<CompiledGraph<S>, YamlErrors> {
    graph_from_file(path, registry)?.compile()
}

/// Declares the graph in `source` without compiling it, so the caller can add nodes or edges
/// first; [`YamlGraph::compile`] still points errors at the file.
///
/// # Errors
/// As [`load_str`] when the file itself has problems (the graph is then also compiled, so that
/// all of them are reported at once).
pub fn graph_from_str<S: GraphState>(
    source: &str,
    origin: &str,
    registry: &Registry<S>,
) -> Result<YamlGraph<S>, YamlErrors> {
    let spec = parse(source, origin)?;
    let Declared {
        graph,
        problems,
        index,
        suspects,
    } = declare(&spec, registry, Mode::Strict);
    let yaml = YamlGraph {
        graph,
        index,
        suspects,
        origin: origin.to_owned(),
    };
    if problems.is_empty() {
        return Ok(yaml);
    }
    Err(yaml.failures(problems))
}

/// Like [`graph_from_str`], reading the file at `path`.
///
/// # Errors
/// As [`graph_from_str`]; a file that cannot be read is one error without a position.
pub fn graph_from_file<S: GraphState>(
    path: impl AsRef<Path>,
    registry: &Registry<S>,
) -> Result<YamlGraph<S>, YamlErrors> {
    let (source, origin) = read(path.as_ref())?;
    graph_from_str(&source, &origin, registry)
}

/// Each node of the graph in `source` with its kind, in file order: what a caller that treats
/// some kinds specially needs (the trading bot shares a cycle's deadline among the nodes whose
/// kinds ask a model).
///
/// ```
/// let source = "name: g\nnodes:\n  - { name: a, kind: analyst }\nedges:\n  - { from: start, to: a }\n  - { from: a, to: end }\n";
/// let kinds = tradegraph_graph::yaml::node_kinds(source, "g.yaml")?;
/// assert_eq!(kinds, [("a".to_owned(), "analyst".to_owned())]);
/// # Ok::<(), tradegraph_graph::yaml::YamlErrors>(())
/// ```
///
/// # Errors
/// As [`load_str`] for the file's syntax and shape (nothing else is checked).
pub fn node_kinds(source: &str, origin: &str) -> Result<Vec<(String, String)>, YamlErrors> {
    let spec = parse(source, origin)?;
    Ok(spec
        .nodes
        .value
        .into_iter()
        .map(|n| (n.name.value, n.kind.value))
        .collect())
}

/// Reads a graph file, naming it by its path.
pub(crate) fn read(path: &Path) -> Result<(String, String), YamlErrors> {
    let origin = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(source) => Ok((source, origin)),
        Err(e) => Err(YamlErrors::single(
            &origin,
            Pos::default(),
            format!("cannot read the graph file: {e}"),
        )),
    }
}

/// Parses the YAML into the format's types (syntax, shapes, unknown and duplicate keys).
pub(crate) fn parse(source: &str, origin: &str) -> Result<GraphSpec, YamlErrors> {
    serde_saphyr::from_str::<GraphSpec>(source)
        .map_err(|e| YamlErrors(vec![from_saphyr(&e).at(origin)]))
}

/// A graph declared from YAML, not compiled yet: add to it with [`graph_mut`](Self::graph_mut),
/// then [`compile`](Self::compile), whose errors point at the file.
pub struct YamlGraph<S: GraphState> {
    graph: StateGraph<S>,
    index: SourceIndex,
    suspects: Suspects,
    origin: String,
}

impl<S: GraphState> YamlGraph<S> {
    /// The builder, to add nodes, edges or limits before compiling.
    pub fn graph_mut(&mut self) -> &mut StateGraph<S> {
        &mut self.graph
    }

    /// The builder itself (errors of its `compile` then carry no file positions).
    pub fn into_graph(self) -> StateGraph<S> {
        self.graph
    }

    /// The name of the source, as given.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Compiles the graph.
    ///
    /// # Errors
    /// The compile checks' errors, each at the position of the declaration concerned (nodes
    /// added in Rust are reported at the graph's `name`).
    pub fn compile(self) -> Result<CompiledGraph<S>, YamlErrors> {
        self.graph
            .compile()
            .map_err(|errors| finish(&self.origin, self.index.locate(errors.0, &self.suspects)))
    }

    /// `problems` found while declaring, plus what compiling finds despite them.
    fn failures(self, mut problems: Vec<Problem>) -> YamlErrors {
        if let Err(errors) = self.graph.compile() {
            problems.extend(self.index.locate(errors.0, &self.suspects));
        }
        finish(&self.origin, problems)
    }
}

impl<S: GraphState> fmt::Debug for YamlGraph<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YamlGraph")
            .field("origin", &self.origin)
            .field("nodes", &self.index.nodes.len())
            .finish_non_exhaustive()
    }
}
