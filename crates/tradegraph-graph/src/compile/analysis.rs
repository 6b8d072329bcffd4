//! Whole-graph checks with petgraph: reachability, dead ends, cycles and their exits, and the
//! reachability tables the executor uses to fire joins.

use super::graph::{CompiledNode, Target, Transition};
use super::resolve::Resolved;
use super::topology::CycleInfo;
use crate::builder::Limits;
use crate::error::BuildError;
use crate::state::GraphState;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Bfs, Dfs, NodeFiltered, Reversed};

struct Shape {
    graph: DiGraph<(), ()>,
    start: NodeIndex,
    end: NodeIndex,
}

fn shape<S: GraphState>(r: &Resolved<S>) -> Shape {
    let n = r.nodes.len();
    let mut graph = DiGraph::with_capacity(n + 2, n * 2);
    for _ in 0..n + 2 {
        graph.add_node(());
    }
    let start = NodeIndex::new(n);
    let end = NodeIndex::new(n + 1);
    let idx = |t: Target| match t {
        Target::Node(i) => NodeIndex::new(i),
        Target::End => end,
    };
    let mut add_transitions = |from: NodeIndex, out: &[Transition<S>]| {
        for t in out {
            match t {
                Transition::Static(target) => {
                    graph.update_edge(from, idx(*target), ());
                }
                Transition::Router { targets, .. } => {
                    for (_, target) in targets {
                        graph.update_edge(from, idx(*target), ());
                    }
                }
                Transition::Send { to, .. } => {
                    graph.update_edge(from, NodeIndex::new(*to), ());
                }
            }
        }
    };
    add_transitions(start, &r.entry);
    for (i, node) in r.nodes.iter().enumerate() {
        add_transitions(NodeIndex::new(i), &node.out);
    }
    for (i, node) in r.nodes.iter().enumerate() {
        for (_, target) in &node.routes {
            graph.update_edge(NodeIndex::new(i), idx(*target), ());
        }
    }
    for join in &r.joins {
        for &s in &join.sources {
            graph.update_edge(NodeIndex::new(s), NodeIndex::new(join.target), ());
        }
    }
    for (i, node) in r.nodes.iter().enumerate() {
        if let Some(l) = node.loop_tail {
            let spec = &r.loops[l];
            graph.update_edge(NodeIndex::new(i), NodeIndex::new(spec.head), ());
            graph.update_edge(NodeIndex::new(i), idx(spec.exit), ());
        }
    }
    Shape { graph, start, end }
}

/// True when a node can choose to stop going round: a router, goto routes, a declared loop's
/// tail, or a send edge (which may produce no items).
fn has_conditional_exit<S: GraphState>(node: &CompiledNode<S>) -> bool {
    node.loop_tail.is_some()
        || !node.routes.is_empty()
        || node
            .out
            .iter()
            .any(|t| matches!(t, Transition::Router { .. } | Transition::Send { .. }))
}

pub(crate) fn analyse<S: GraphState>(
    r: &mut Resolved<S>,
    limits: &Limits,
    errors: &mut Vec<BuildError>,
) -> Vec<CycleInfo> {
    let n = r.nodes.len();
    let Shape { graph, start, end } = shape(r);
    if r.entry.is_empty() {
        errors.push(BuildError::NoEntry);
        return Vec::new();
    }

    // reachable from start, in BFS order (the order picks each cycle's head)
    let mut order = vec![usize::MAX; n + 2];
    let mut bfs = Bfs::new(&graph, start);
    let mut rank = 0;
    while let Some(v) = bfs.next(&graph) {
        order[v.index()] = rank;
        rank += 1;
    }
    for (i, node) in r.nodes.iter().enumerate() {
        if order[i] == usize::MAX {
            errors.push(BuildError::Unreachable {
                node: node.name.to_string(),
            });
        }
    }

    // can reach end
    let reversed = Reversed(&graph);
    let mut reaches_end = vec![false; n + 2];
    let mut dfs = Dfs::new(reversed, end);
    while let Some(v) = dfs.next(reversed) {
        reaches_end[v.index()] = true;
    }
    for (i, node) in r.nodes.iter().enumerate() {
        if order[i] != usize::MAX && !reaches_end[i] {
            errors.push(BuildError::CannotReachEnd {
                node: node.name.to_string(),
            });
        }
    }

    // cycles
    let mut cycles = Vec::new();
    for scc in tarjan_scc(&graph) {
        let cyclic = scc.len() > 1 || graph.contains_edge(scc[0], scc[0]);
        if !cyclic {
            continue;
        }
        let mut members: Vec<usize> = scc.iter().map(|v| v.index()).filter(|&i| i < n).collect();
        members.sort_unstable();
        let names: Vec<String> = members
            .iter()
            .map(|&i| r.nodes[i].name.to_string())
            .collect();
        if !members.iter().any(|&i| has_conditional_exit(&r.nodes[i])) {
            errors.push(BuildError::CycleWithoutExit { cycle: names });
            continue;
        }
        let Some(&head) = members.iter().min_by_key(|&&i| (order[i], i)) else {
            continue;
        };
        let declared_rounds = r
            .loops
            .iter()
            .filter(|l| members.contains(&l.head))
            .map(|l| l.max_rounds)
            .max()
            .unwrap_or(0);
        let head_name = r.nodes[head].name.to_string();
        let limit = limits
            .loop_limits
            .iter()
            .rev()
            .find(|(h, _)| *h == head_name)
            .map_or(limits.default_loop_limit.max(declared_rounds), |(_, l)| *l);
        r.nodes[head].guard = Some(limit);
        cycles.push(CycleInfo {
            head: head_name,
            nodes: names,
            limit,
        });
    }
    cycles.sort_by(|a, b| a.head.cmp(&b.head));
    for (head, _) in &limits.loop_limits {
        if !cycles.iter().any(|c| &c.head == head) {
            let heads: Vec<&str> = cycles.iter().map(|c| c.head.as_str()).collect();
            errors.push(BuildError::InvalidLimit {
                reason: format!(
                    "loop_limit names `{head}`, which heads no cycle (cycle heads: {heads:?})"
                ),
            });
        }
    }

    // join reachability: which sources each node can still lead to, avoiding the target
    for join in &mut r.joins {
        let target = NodeIndex::new(join.target);
        let filtered = NodeFiltered::from_fn(&graph, |v| v != target);
        let mut reach = vec![0u64; n];
        for (u, mask) in reach.iter_mut().enumerate() {
            if u == join.target {
                continue;
            }
            let mut dfs = Dfs::new(&filtered, NodeIndex::new(u));
            while let Some(v) = dfs.next(&filtered) {
                if let Some(bit) = join.sources.iter().position(|&s| s == v.index()) {
                    *mask |= 1u64 << bit;
                }
            }
        }
        join.reach = reach;
    }
    cycles
}
