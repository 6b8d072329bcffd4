//! Resolves declared names to node indices, checking each declaration on its own.

use super::graph::{CompiledJoin, CompiledLoop, CompiledNode, Target, Transition};
use super::topology::{EdgeInfo, EdgeKind};
use crate::builder::decl::{Declarations, EdgeDecl};
use crate::builder::{END, START};
use crate::error::BuildError;
use crate::node::NodeImpl;
use crate::state::{GraphState, NodeName};
use std::collections::{HashMap, HashSet};

pub(crate) struct Resolved<S: GraphState> {
    pub(crate) nodes: Vec<CompiledNode<S>>,
    pub(crate) index: HashMap<String, usize>,
    pub(crate) entry: Vec<Transition<S>>,
    pub(crate) joins: Vec<CompiledJoin>,
    pub(crate) loops: Vec<CompiledLoop<S>>,
    pub(crate) edges: Vec<EdgeInfo>,
}

struct Resolver<'a, S: GraphState> {
    index: &'a HashMap<String, usize>,
    imps: &'a [NodeImpl<S>],
    errors: &'a mut Vec<BuildError>,
}

impl<S: GraphState> Resolver<'_, S> {
    /// A target of a routing construct: a node (not a map node) or END.
    fn target(&mut self, name: &str, referenced_by: impl Fn() -> String) -> Option<Target> {
        if name == END {
            return Some(Target::End);
        }
        match self.index.get(name) {
            Some(&i) if self.imps[i].is_map() => {
                self.errors.push(BuildError::MapNodeWithoutItem {
                    node: name.to_owned(),
                    referenced_by: referenced_by(),
                });
                None
            }
            Some(&i) => Some(Target::Node(i)),
            None => {
                self.unknown(name, referenced_by());
                None
            }
        }
    }

    /// A node that must exist (map nodes allowed).
    fn node(&mut self, name: &str, referenced_by: impl Fn() -> String) -> Option<usize> {
        let found = self.index.get(name).copied();
        if found.is_none() {
            self.unknown(name, referenced_by());
        }
        found
    }

    fn unknown(&mut self, name: &str, referenced_by: String) {
        self.errors.push(BuildError::UnknownNode {
            node: name.to_owned(),
            referenced_by,
        });
    }
}

pub(crate) fn resolve<S: GraphState>(
    decls: &mut Declarations<S>,
    errors: &mut Vec<BuildError>,
) -> Resolved<S> {
    let mut index = HashMap::new();
    for (i, node) in decls.nodes.iter().enumerate() {
        if node.name == START || node.name == END {
            errors.push(BuildError::ReservedName {
                node: node.name.clone(),
            });
        } else if index.insert(node.name.clone(), i).is_some() {
            errors.push(BuildError::DuplicateNode {
                node: node.name.clone(),
            });
        }
    }
    let imps: Vec<NodeImpl<S>> = decls.nodes.iter().map(|n| n.imp.clone()).collect();
    let mut r = Resolver {
        index: &index,
        imps: &imps,
        errors,
    };
    let mut edges = Vec::new();
    let mut nodes: Vec<CompiledNode<S>> = decls
        .nodes
        .iter()
        .map(|decl| CompiledNode {
            name: NodeName::from(decl.name.as_str()),
            imp: decl.imp.clone(),
            timeout: decl.options.timeout,
            retry: decl.options.retry.clone(),
            routes: Vec::new(),
            out: Vec::new(),
            joins: Vec::new(),
            loop_tail: None,
            guard: None,
            interrupt_before: false,
            interrupt_after: false,
        })
        .collect();

    // goto routes
    for (i, decl) in decls.nodes.iter().enumerate() {
        for route in &decl.options.routes {
            if let Some(t) = r.target(route, || format!("goto route of `{}`", decl.name)) {
                nodes[i].routes.push((route.clone(), t));
                edges.push(EdgeInfo {
                    from: decl.name.clone(),
                    to: route.clone(),
                    kind: EdgeKind::Goto,
                });
            }
        }
    }

    // edges
    let mut entry = Vec::new();
    for edge in std::mem::take(&mut decls.edges) {
        let from_name = edge.from().to_owned();
        let from = if from_name == START {
            None
        } else {
            match r.node(&from_name, || "an edge".to_owned()) {
                Some(i) => Some(i),
                None => continue,
            }
        };
        let transition = match edge {
            EdgeDecl::Static { to, .. } => {
                let Some(t) = r.target(&to, || format!("the edge from `{from_name}`")) else {
                    continue;
                };
                edges.push(EdgeInfo {
                    from: from_name.clone(),
                    to,
                    kind: EdgeKind::Static,
                });
                Transition::Static(t)
            }
            EdgeDecl::Conditional {
                name,
                router,
                targets,
                ..
            } => {
                if targets.is_empty() {
                    r.errors.push(BuildError::NoRouteTargets {
                        from: from_name.clone(),
                        router: name.clone(),
                    });
                }
                let mut labels = HashSet::new();
                let mut resolved = Vec::new();
                for target in targets {
                    if !labels.insert(target.label.clone()) {
                        r.errors.push(BuildError::DuplicateRouteLabel {
                            from: from_name.clone(),
                            router: name.clone(),
                            label: target.label.clone(),
                        });
                    }
                    let by = || format!("router `{name}` after `{from_name}`");
                    if let Some(t) = r.target(&target.node, by) {
                        edges.push(EdgeInfo {
                            from: from_name.clone(),
                            to: target.node.clone(),
                            kind: EdgeKind::Route {
                                router: name.clone(),
                                label: target.label.clone(),
                            },
                        });
                        resolved.push((target.label, t));
                    }
                }
                Transition::Router {
                    name,
                    router,
                    targets: resolved,
                }
            }
            EdgeDecl::Send {
                name,
                to,
                items,
                item_type,
                item_type_name,
                ..
            } => {
                let Some(to_index) = r.node(&to, || format!("send edge `{name}`")) else {
                    continue;
                };
                match &imps[to_index] {
                    NodeImpl::Map {
                        item_type: expected,
                        item_type_name: expected_name,
                        ..
                    } => {
                        if *expected != item_type {
                            r.errors.push(BuildError::SendItemType {
                                name: name.clone(),
                                to: to.clone(),
                                produced: item_type_name.to_owned(),
                                expected: (*expected_name).to_owned(),
                            });
                        }
                    }
                    NodeImpl::Plain(_) => r.errors.push(BuildError::SendTargetNotMap {
                        from: from_name.clone(),
                        name: name.clone(),
                        to: to.clone(),
                    }),
                }
                edges.push(EdgeInfo {
                    from: from_name.clone(),
                    to,
                    kind: EdgeKind::Send { name: name.clone() },
                });
                Transition::Send {
                    name,
                    to: to_index,
                    items,
                }
            }
        };
        match from {
            None => entry.push(transition),
            Some(i) => nodes[i].out.push(transition),
        }
    }

    // joins
    let mut joins = Vec::new();
    let mut join_targets = HashSet::new();
    for join in &decls.joins {
        let target_name = &join.target;
        let by = || format!("the join into `{target_name}`");
        if !join_targets.insert(target_name.as_str()) {
            // a run's progress keeps a join's arrivals by its target
            r.errors.push(BuildError::InvalidJoin {
                target: target_name.clone(),
                reason: "another join already leads to it; list every source in one join".into(),
            });
        }
        let target = match r.target(target_name, by) {
            Some(Target::Node(t)) => Some(t),
            Some(Target::End) => {
                r.errors.push(BuildError::InvalidJoin {
                    target: target_name.clone(),
                    reason: "a join must lead to a node, not `end`".into(),
                });
                None
            }
            None => None,
        };
        let mut seen = HashSet::new();
        let mut sources = Vec::new();
        for source in &join.sources {
            if !seen.insert(source.as_str()) {
                r.errors.push(BuildError::InvalidJoin {
                    target: target_name.clone(),
                    reason: format!("source `{source}` is listed twice"),
                });
            }
            if let Some(s) = r.node(source, by) {
                sources.push(s);
            }
        }
        if join.sources.len() < 2 || join.sources.len() > 64 {
            r.errors.push(BuildError::InvalidJoin {
                target: target_name.clone(),
                reason: format!(
                    "it has {} sources; a join takes 2 to 64",
                    join.sources.len()
                ),
            });
            continue;
        }
        let Some(target) = target else { continue };
        if sources.len() != join.sources.len() {
            continue;
        }
        let j = joins.len();
        for (bit, &s) in sources.iter().enumerate() {
            nodes[s].joins.push((j, 1u64 << bit));
            edges.push(EdgeInfo {
                from: nodes[s].name.to_string(),
                to: target_name.clone(),
                kind: EdgeKind::Join,
            });
        }
        let all = if sources.len() == 64 {
            u64::MAX
        } else {
            (1u64 << sources.len()) - 1
        };
        joins.push(CompiledJoin {
            target,
            sources,
            all,
            reach: Vec::new(),
        });
    }

    // loops
    let mut loops = Vec::new();
    let mut loop_names = HashSet::new();
    for spec in std::mem::take(&mut decls.loops) {
        let name = spec.name.clone();
        let by = || format!("loop `{name}`");
        if !loop_names.insert(name.clone()) {
            r.errors.push(BuildError::InvalidLoop {
                name: name.clone(),
                reason: "another loop has the same name".into(),
            });
        }
        if spec.max_rounds == 0 {
            r.errors.push(BuildError::InvalidLoop {
                name: name.clone(),
                reason: "max_rounds must be at least 1".into(),
            });
        }
        let head = r.target(&spec.head, by);
        let tail = r.node(&spec.tail, by);
        let exit = r.target(&spec.exit, by);
        let (Some(Target::Node(head)), Some(tail), Some(exit)) = (head, tail, exit) else {
            if head == Some(Target::End) {
                r.errors.push(BuildError::InvalidLoop {
                    name,
                    reason: "its head cannot be `end`".into(),
                });
            }
            continue;
        };
        let tail_node = &mut nodes[tail];
        if !tail_node.out.is_empty()
            || !tail_node.routes.is_empty()
            || tail_node.loop_tail.is_some()
        {
            r.errors.push(BuildError::InvalidLoop {
                name: name.clone(),
                reason: format!(
                    "its tail `{}` already has edges or goto routes; the loop decides where the tail goes",
                    spec.tail
                ),
            });
            continue;
        }
        tail_node.loop_tail = Some(loops.len());
        edges.push(EdgeInfo {
            from: spec.tail.clone(),
            to: spec.head.clone(),
            kind: EdgeKind::LoopBack { name: name.clone() },
        });
        edges.push(EdgeInfo {
            from: spec.tail.clone(),
            to: spec.exit.clone(),
            kind: EdgeKind::LoopExit { name: name.clone() },
        });
        loops.push(CompiledLoop {
            name,
            head,
            exit,
            max_rounds: spec.max_rounds,
            condition: spec.condition,
        });
    }

    // interrupts
    for (list, before) in [
        (&decls.interrupt_before, true),
        (&decls.interrupt_after, false),
    ] {
        for name in list {
            let by = || format!("interrupt_{}", if before { "before" } else { "after" });
            if let Some(i) = r.node(name, by) {
                if before {
                    nodes[i].interrupt_before = true;
                } else {
                    nodes[i].interrupt_after = true;
                }
            }
        }
    }

    edges.sort();
    edges.dedup();
    Resolved {
        nodes,
        index,
        entry,
        joins,
        loops,
        edges,
    }
}
