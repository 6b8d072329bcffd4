//! Where things are declared in a YAML graph, for pointing [`BuildError`]s at a line.

use super::error::Problem;
use super::located::Pos;
use crate::error::BuildError;
use std::collections::{HashMap, HashSet};

/// Positions of the declarations and references of a YAML graph.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceIndex {
    /// The graph's `name` value: the fallback position.
    pub(crate) root: Pos,
    pub(crate) edges: Pos,
    pub(crate) limits: Option<Pos>,
    /// Node declarations (name, position of the name), in file order.
    pub(crate) nodes: Vec<(String, Pos)>,
    /// Every other mention of a node name, in file order.
    pub(crate) refs: Vec<(String, Pos)>,
    /// Conditional edges: (from, router name, position).
    pub(crate) routers: Vec<(String, String, Pos)>,
    /// Send edges: (from, send name, to, position).
    pub(crate) sends: Vec<(String, String, String, Pos)>,
    /// Joins: (target, position).
    pub(crate) joins: Vec<(String, Pos)>,
    /// Loops: (name, position).
    pub(crate) loops: Vec<(String, Pos)>,
    /// Keys of `limits.loop_limits`: (head, position).
    pub(crate) loop_limits: Vec<(String, Pos)>,
}

/// What failed to load and was stood in for or left out (unknown kind, bad config, unknown
/// send, malformed edge): compile errors that only these cause are not reported, since the
/// real problem already is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Suspects {
    pub(crate) nodes: HashSet<String>,
    pub(crate) sends: HashSet<String>,
    /// An edge (or a case of a field route) was left out: reachability is unreliable.
    pub(crate) edges_dropped: bool,
}

impl Suspects {
    /// True when `error` is a consequence of a stand-in (the real problem is reported already).
    pub(crate) fn explain(&self, error: &BuildError) -> bool {
        match error {
            BuildError::SendItemType { name, to, .. } => {
                self.sends.contains(name) || self.nodes.contains(to)
            }
            BuildError::SendTargetNotMap { name, to, .. } => {
                self.sends.contains(name) || self.nodes.contains(to)
            }
            BuildError::MapNodeWithoutItem { node, .. } => self.nodes.contains(node),
            BuildError::NoEntry
            | BuildError::Unreachable { .. }
            | BuildError::CannotReachEnd { .. }
            | BuildError::CycleWithoutExit { .. }
            | BuildError::NoRouteTargets { .. } => self.edges_dropped,
            _ => false,
        }
    }
}

impl SourceIndex {
    /// Turns compile errors into positioned problems: the place the culprit is declared, or, for
    /// an unknown node, the place it is mentioned. Keeps each error's own message.
    pub(crate) fn locate(&self, errors: Vec<BuildError>, suspects: &Suspects) -> Vec<Problem> {
        let mut seen: HashMap<(u8, String), usize> = HashMap::new();
        let mut nth = |tag: u8, key: &str| {
            let n = seen.entry((tag, key.to_owned())).or_insert(0);
            *n += 1;
            *n - 1
        };
        errors
            .into_iter()
            .filter(|e| !suspects.explain(e))
            .map(|error| {
                let pos = match &error {
                    BuildError::DuplicateNode { node } => {
                        // the first declaration is fine; the n-th error is about the (n+1)-th
                        let k = nth(0, node) + 1;
                        self.nth_decl(node, k)
                    }
                    BuildError::ReservedName { node } => self.nth_decl(node, nth(1, node)),
                    BuildError::UnknownNode { node, .. } => {
                        let k = nth(2, node);
                        let refs = || self.refs.iter().map(|(n, p)| (n.as_str(), *p));
                        nth_of(refs(), node, k).or_else(|| nth_of(refs(), node, 0))
                    }
                    BuildError::NoRouteTargets { from, router }
                    | BuildError::DuplicateRouteLabel { from, router, .. } => self
                        .routers
                        .iter()
                        .find(|(f, r, _)| f == from && r == router)
                        .map(|(_, _, p)| *p),
                    BuildError::SendTargetNotMap { from, name, .. } => self
                        .sends
                        .iter()
                        .find(|(f, n, _, _)| f == from && n == name)
                        .map(|(.., p)| *p),
                    BuildError::SendItemType { name, to, .. } => self
                        .sends
                        .iter()
                        .find(|(_, n, t, _)| n == name && t == to)
                        .map(|(.., p)| *p),
                    BuildError::InvalidJoin { target, .. } => {
                        let k = nth(3, target);
                        nth_of(self.joins.iter().map(|(n, p)| (n.as_str(), *p)), target, k).or_else(
                            || {
                                self.joins
                                    .iter()
                                    .find(|(n, _)| n == target)
                                    .map(|(_, p)| *p)
                            },
                        )
                    }
                    BuildError::InvalidLoop { name, .. } => {
                        self.loops.iter().find(|(n, _)| n == name).map(|(_, p)| *p)
                    }
                    BuildError::InvalidLimit { reason } => self
                        .loop_limits
                        .iter()
                        .find(|(head, _)| reason.contains(&format!("`{head}`")))
                        .map(|(_, p)| *p)
                        .or(self.limits),
                    BuildError::NoEntry => Some(self.edges),
                    _ => None,
                };
                let pos = pos
                    .or_else(|| error.culprit().and_then(|c| self.decl_or_loop(c)))
                    .unwrap_or(self.root);
                Problem::new(pos, error.to_string())
            })
            .collect()
    }

    fn nth_decl(&self, name: &str, k: usize) -> Option<Pos> {
        nth_of(self.nodes.iter().map(|(n, p)| (n.as_str(), *p)), name, k)
            .or_else(|| self.decl_or_loop(name))
    }

    fn decl_or_loop(&self, name: &str) -> Option<Pos> {
        self.nodes
            .iter()
            .chain(&self.loops)
            .find(|(n, _)| n == name)
            .map(|(_, p)| *p)
    }
}

/// The position of the `k`-th (from 0) entry named `name`.
fn nth_of<'a>(entries: impl Iterator<Item = (&'a str, Pos)>, name: &str, k: usize) -> Option<Pos> {
    entries.filter(|(n, _)| *n == name).nth(k).map(|(_, p)| p)
}
