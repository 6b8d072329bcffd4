//! Turns a parsed graph file into builder calls, in the order a person writes them: nodes in
//! file order, then edges (and joins) in file order, then loops, interrupts and limits. So a
//! YAML graph compiles to the same [`crate::Topology`] as the equivalent builder code.

use super::error::Problem;
use super::locate::{SourceIndex, Suspects};
use super::located::{Located, Pos};
use super::registry::{NodeProblem, Registry};
use super::spec::{GraphSpec, JitterSpec, LimitsSpec, LoopSpec, NodeSpec, RetryOnSpec, RetrySpec};
use super::standin::{Never, NoopMap, NoopNode};
use crate::builder::{Loop, NodeOptions, StateGraph, END};
use crate::retry::{ExponentialBackoff, Jitter, RetryOn};
use crate::state::GraphState;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// Whether unknown names are errors (a real registry) or silently stood in for (a structure
/// check without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Strict,
    Permissive,
}

/// The builder calls made, and what went wrong on the way.
pub(crate) struct Declared<S: GraphState> {
    pub(crate) graph: StateGraph<S>,
    pub(crate) problems: Vec<Problem>,
    pub(crate) index: SourceIndex,
    pub(crate) suspects: Suspects,
}

pub(crate) struct Declarer<'r, S: GraphState> {
    pub(super) registry: &'r Registry<S>,
    pub(super) mode: Mode,
    pub(super) graph: StateGraph<S>,
    pub(super) problems: Vec<Problem>,
    pub(super) index: SourceIndex,
    pub(super) suspects: Suspects,
    send_targets: HashSet<String>,
}

/// Declares `spec` on a new [`StateGraph`].
pub(crate) fn declare<S: GraphState>(
    spec: &GraphSpec,
    registry: &Registry<S>,
    mode: Mode,
) -> Declared<S> {
    let send_targets = spec
        .edges
        .value
        .iter()
        .filter(|e| e.value.send.is_some())
        .filter_map(|e| e.value.to.as_ref())
        .flat_map(Located::items)
        .map(|name| name.value)
        .collect();
    let mut d = Declarer {
        registry,
        mode,
        graph: StateGraph::new(spec.name.value.clone()),
        problems: Vec::new(),
        index: SourceIndex {
            root: spec.name.pos,
            edges: spec.edges.pos,
            limits: spec.limits.as_ref().map(|l| l.pos),
            ..SourceIndex::default()
        },
        suspects: Suspects::default(),
        send_targets,
    };
    for node in &spec.nodes.value {
        d.node(node);
    }
    for edge in &spec.edges.value {
        d.edge(edge);
    }
    for spec in &spec.loops {
        d.add_loop(spec);
    }
    if let Some(interrupts) = &spec.interrupts {
        d.refer_all(&interrupts.before);
        d.refer_all(&interrupts.after);
        d.graph
            .interrupt_before(interrupts.before.iter().map(|n| n.value.clone()));
        d.graph
            .interrupt_after(interrupts.after.iter().map(|n| n.value.clone()));
    }
    if let Some(limits) = &spec.limits {
        d.limits(&limits.value);
    }
    d.index.refs.sort_by_key(|(_, pos)| *pos);
    Declared {
        graph: d.graph,
        problems: d.problems,
        index: d.index,
        suspects: d.suspects,
    }
}

impl<S: GraphState> Declarer<'_, S> {
    pub(super) fn problem(&mut self, pos: Pos, message: impl Into<String>) {
        self.problems.push(Problem::new(pos, message));
    }

    /// Records a mention of a node name (for locating "unknown node" errors).
    pub(super) fn refer(&mut self, name: &Located<String>) {
        self.index.refs.push((name.value.clone(), name.pos));
    }

    pub(super) fn refer_all(&mut self, names: &[Located<String>]) {
        for name in names {
            self.refer(name);
        }
    }

    fn node(&mut self, spec: &NodeSpec) {
        let name = spec.name.as_str();
        self.index.nodes.push((name.to_owned(), spec.name.pos));
        let options = self.options(spec);
        let kind = spec.kind.as_str();
        let config_pos = spec.config.as_ref().map_or(spec.kind.pos, |c| c.pos);
        let config = match &spec.config {
            Some(c) if !c.value.is_null() => c.value.clone(),
            _ => serde_json::Value::Object(serde_json::Map::new()),
        };
        let problem =
            match self
                .registry
                .add_node(&mut self.graph, kind, name, config, options.clone())
            {
                Some(Ok(())) => return,
                Some(Err(NodeProblem::Config(message))) => Some((
                    config_pos,
                    format!("node `{name}` (kind `{kind}`): invalid config: {message}"),
                )),
                Some(Err(NodeProblem::Factory(message))) => Some((
                    config_pos,
                    format!("node `{name}` (kind `{kind}`) rejected its config: {message}"),
                )),
                None if self.mode == Mode::Permissive => None,
                None => Some((
                    spec.kind.pos,
                    format!(
                        "unknown kind `{kind}` (node `{name}`); {}",
                        listing("kinds", self.registry.kinds(), "Registry::node")
                    ),
                )),
            };
        if let Some((pos, message)) = problem {
            self.problem(pos, message);
            self.suspects.nodes.insert(name.to_owned());
        }
        // a stand-in, so the rest of the graph is still checked
        if self.send_targets.contains(name) {
            self.graph.add_map_node(name, NoopMap, options);
        } else {
            self.graph.add_node_arc(name, Arc::new(NoopNode), options);
        }
    }

    fn options(&mut self, spec: &NodeSpec) -> NodeOptions {
        let mut options = NodeOptions::new().kind(spec.kind.value.clone());
        if let Some(timeout) = &spec.timeout_ms {
            if timeout.value == 0 {
                self.problem(timeout.pos, "timeout_ms must be at least 1");
            }
            options = options.timeout(Duration::from_millis(timeout.value));
        }
        if let Some(retry) = &spec.retry {
            options = options.retry(self.retry(&retry.value));
        }
        if let Some(routes) = &spec.routes {
            self.refer_all(routes);
            options = options.routes(routes.iter().map(|r| r.value.clone()));
        }
        options
    }

    fn retry(&mut self, spec: &RetrySpec) -> ExponentialBackoff {
        if spec.max_attempts.value == 0 {
            self.problem(
                spec.max_attempts.pos,
                "max_attempts must be at least 1 (1 means no retry)",
            );
        }
        let mut policy = ExponentialBackoff::new(spec.max_attempts.value);
        if let Some(ms) = spec.initial_ms {
            policy = policy.initial(Duration::from_millis(ms));
        }
        if let Some(ms) = spec.max_ms {
            policy = policy.max(Duration::from_millis(ms));
        }
        if let Some(multiplier) = &spec.multiplier {
            if !(multiplier.value.is_finite() && multiplier.value >= 1.0) {
                self.problem(multiplier.pos, "multiplier must be a number of at least 1");
            }
            policy = policy.multiplier(multiplier.value);
        }
        if let Some(jitter) = spec.jitter {
            policy = policy.jitter(match jitter {
                JitterSpec::Full => Jitter::Full,
                JitterSpec::None => Jitter::None,
            });
        }
        if let Some(retry_on) = spec.retry_on {
            policy = policy.retry_on(match retry_on {
                RetryOnSpec::Transient => RetryOn::Transient,
                RetryOnSpec::AnyButCancelled => RetryOn::AnyButCancelled,
                RetryOnSpec::TransientOrInvalidOutput => RetryOn::TransientOrInvalidOutput,
            });
        }
        policy
    }

    fn add_loop(&mut self, spec: &LoopSpec) {
        self.index
            .loops
            .push((spec.name.value.clone(), spec.name.pos));
        self.refer(&spec.head);
        self.refer(&spec.tail);
        let mut declared = Loop::new(
            spec.name.value.clone(),
            spec.head.value.clone(),
            spec.tail.value.clone(),
        )
        .max_rounds(spec.max_rounds.value);
        if let Some(exit) = &spec.exit {
            self.refer(exit);
            declared = declared.exit(exit.value.clone());
        } else {
            declared = declared.exit(END);
        }
        if let Some(condition) = &spec.while_ {
            let name = condition.value.clone();
            match (self.registry.shared_condition(&name), self.mode) {
                (Some(found), _) => declared = declared.while_(name, found),
                (None, Mode::Permissive) => declared = declared.while_(name, Never),
                (None, Mode::Strict) => {
                    let message = format!(
                        "unknown condition `{name}` (loop `{}`); {}",
                        spec.name.value,
                        listing(
                            "conditions",
                            self.registry.conditions(),
                            "Registry::condition"
                        )
                    );
                    self.problem(condition.pos, message);
                }
            }
        }
        self.graph.add_loop(declared);
    }

    fn limits(&mut self, limits: &LimitsSpec) {
        if let Some(steps) = limits.max_steps {
            self.graph.max_steps(steps);
        }
        if let Some(rounds) = limits.default_loop_limit {
            self.graph.default_loop_limit(rounds);
        }
        for (head, rounds) in limits.loop_limits.iter().flat_map(|m| &m.0) {
            self.index.loop_limits.push((head.value.clone(), head.pos));
            self.graph.loop_limit(head.value.clone(), *rounds);
        }
        if let Some(nodes) = &limits.max_concurrency {
            if nodes.value == 0 {
                self.problem(
                    nodes.pos,
                    "max_concurrency must be at least 1 (leave it out for no limit)",
                );
            }
            self.graph.max_concurrency(nodes.value);
        }
    }
}

/// "registered kinds: a, b (register one with `Registry::node`)".
pub(super) fn listing<'a>(what: &str, names: impl Iterator<Item = &'a str>, how: &str) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        format!("no {what} are registered (register one with `{how}`)")
    } else {
        format!(
            "registered {what}: {} (register more with `{how}`)",
            names.join(", ")
        )
    }
}
