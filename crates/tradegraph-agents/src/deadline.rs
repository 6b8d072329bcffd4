//! A deadline per decision cycle, shared out among the agents that ask a model.
//!
//! A cycle has a deadline (default [`DEFAULT_CYCLE_DEADLINE`], the specification's 30 s). When
//! an agent asks its model, it may wait for the time left divided by the model stages still
//! ahead on the graph's longest path, its own included ([`StagePlan`]): with the default graph,
//! the four analysts (in parallel), two debate rounds (both sides in parallel), the risk
//! manager, the portfolio manager and the learning agent are six stages, so an analyst waits
//! at most 5 s, and time an early stage did not use goes to the later ones. The share is
//! measured when the agent asks (after its prompt is rendered). A model that has not answered
//! in its share is dropped (the HTTP call is cancelled; `tradegraph-llm` charges it its worst
//! case, as the vendor may bill it) and the agent's rules answer instead; its report says why.
//! With a chain of several providers each attempt gets its part of the share, so a provider
//! that hangs is timed out and the next one asked ([`ReportModel::answer_within`]). The
//! learning agent, whose model words the lesson of a closed trade, is the last stage and gets
//! all that is left, so no model keeps a cycle past its deadline.
//!
//! [`ReportModel::answer_within`]: crate::model::ReportModel::answer_within
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tradegraph_agents::deadline::{CycleDeadline, StagePlan};
//! use tradegraph_agents::node::{registry, Brain, DEFAULT_GRAPH};
//! use tradegraph_agents::fixture;
//! use tradegraph_core::Instrument;
//!
//! let instrument = Instrument::btc_usdt();
//! let (desk, _) = fixture::paper_desk(&instrument, fixture::sample_cash(&instrument))?;
//! let graph = tradegraph_graph::yaml::load_str(
//!     DEFAULT_GRAPH, "trading.yaml", &registry(&Brain::rules_only()?, &desk))?;
//! let plan = StagePlan::for_yaml(graph.topology(), DEFAULT_GRAPH, "trading.yaml")?;
//! assert_eq!(plan.stages_left("technical", 1), 6);
//! assert_eq!(plan.stages_left("bull", 1), 5);
//! assert_eq!(plan.stages_left("bear", 2), 4);
//! assert_eq!(plan.stages_left("portfolio_manager", 1), 2);
//!
//! let deadline = CycleDeadline::starting_now(Duration::from_secs(30), Arc::new(plan));
//! let share = deadline.share("technical", 1);
//! assert!(share <= Duration::from_secs(5) && share > Duration::from_millis(4_900));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::AgentName;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tradegraph_graph::{EdgeKind, Topology, END};

/// The specification's bound on a decision cycle: 30 s.
pub const DEFAULT_CYCLE_DEADLINE: Duration = Duration::from_secs(30);

/// The most rounds of a loop a [`StagePlan`] plans for.
const MAX_PLANNED_ROUNDS: u32 = 64;

/// How many model stages lie ahead of each node on the graph's longest path, its own included:
/// a node counts as a stage when it asks a model, a declared loop counts its body once per
/// round left (a node inside it at round `r` of `n` has `n - r` more rounds ahead), nodes that
/// run in parallel count once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagePlan {
    /// Per node: the stages ahead of it; for a node inside a cycle, whose `round` is the loop's
    /// round, at each round from 1 (index 0 unused), else one figure.
    stages: HashMap<String, Vec<u32>>,
    /// The most stages ahead of any node (at least 1).
    most: u32,
}

impl StagePlan {
    /// The plan of `topology`, where `asks_model` says which nodes ask a model.
    pub fn new(topology: &Topology, asks_model: impl Fn(&str) -> bool) -> Self {
        let in_cycle: HashSet<&str> = topology
            .cycles
            .iter()
            .flat_map(|c| c.nodes.iter().map(String::as_str))
            .collect();
        Walk::new(topology, asks_model).plan(&in_cycle)
    }

    /// The plan of a graph declared in YAML (`source`, named `origin` in errors): the nodes
    /// that ask a model are those whose kind is an agent that does (all but execution).
    ///
    /// # Errors
    /// The file's syntax or shape problems, as [`tradegraph_graph::yaml::load_str`] reports
    /// them.
    pub fn for_yaml(
        topology: &Topology,
        source: &str,
        origin: &str,
    ) -> Result<Self, tradegraph_graph::yaml::YamlErrors> {
        let asking: HashSet<String> = tradegraph_graph::yaml::node_kinds(source, origin)?
            .into_iter()
            .filter(|(_, kind)| {
                kind.parse::<AgentName>()
                    .is_ok_and(|a| a != AgentName::Execution)
            })
            .map(|(name, _)| name)
            .collect();
        Ok(Self::new(topology, |node| asking.contains(node)))
    }

    /// The stages ahead of `node` in its `round` (the node's run count in this cycle, as
    /// [`NodeContext::round`](tradegraph_graph::NodeContext::round) gives it), its own
    /// included; at least 1. A node the plan does not know (inside a subgraph, say) is given
    /// the most stages of any node, so that it cannot take the time of the stages after it.
    pub fn stages_left(&self, node: &str, round: u32) -> u32 {
        let Some(by_round) = self.stages.get(node) else {
            return self.most;
        };
        let at = (round as usize).min(by_round.len() - 1);
        by_round[at].max(1)
    }
}

/// The longest path search behind [`StagePlan`], over (node, loop round) states.
struct Walk {
    names: Vec<String>,
    weight: Vec<u32>,
    /// Per node: its outgoing edges.
    out: Vec<Vec<Step>>,
    /// Per node: the loop it heads (index into `rounds`), if any.
    heads: Vec<Option<usize>>,
    /// Per loop: its most rounds.
    rounds: Vec<u32>,
    memo: HashMap<(usize, u32), u32>,
    on_path: HashSet<(usize, u32)>,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    /// To a node (or `None`: the end).
    To(Option<usize>),
    /// Back to a loop's head (loop index, head).
    Back(usize, usize),
    /// Out of a loop, to a node or the end.
    Exit(Option<usize>),
}

impl Walk {
    fn new(topology: &Topology, asks_model: impl Fn(&str) -> bool) -> Self {
        let names: Vec<String> = topology.nodes.iter().map(|n| n.name.clone()).collect();
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let loop_of: HashMap<&str, usize> = topology
            .loops
            .iter()
            .enumerate()
            .map(|(i, l)| (l.name.as_str(), i))
            .collect();
        let mut heads = vec![None; names.len()];
        for (i, l) in topology.loops.iter().enumerate() {
            if let Some(&h) = index.get(l.head.as_str()) {
                heads[h] = Some(i);
            }
        }
        let mut out = vec![Vec::new(); names.len()];
        for edge in &topology.edges {
            let Some(&from) = index.get(edge.from.as_str()) else {
                continue; // from `start`
            };
            let to = if edge.to == END {
                None
            } else {
                match index.get(edge.to.as_str()) {
                    Some(&to) => Some(to),
                    None => continue, // a target the topology does not name
                }
            };
            let step = match &edge.kind {
                EdgeKind::LoopBack { name } => match (loop_of.get(name.as_str()), to) {
                    (Some(&l), Some(head)) => Step::Back(l, head),
                    _ => continue,
                },
                EdgeKind::LoopExit { .. } => Step::Exit(to),
                _ => Step::To(to),
            };
            out[from].push(step);
        }
        Self {
            weight: names.iter().map(|n| u32::from(asks_model(n))).collect(),
            names,
            out,
            heads,
            // Beyond MAX_PLANNED_ROUNDS a loop is planned as that many rounds: the search is
            // as deep as the rounds, and a plan that long gives the same shares within a
            // fraction of a percent.
            rounds: topology
                .loops
                .iter()
                .map(|l| l.max_rounds.min(MAX_PLANNED_ROUNDS))
                .collect(),
            memo: HashMap::new(),
            on_path: HashSet::new(),
        }
    }

    /// The stages from `node` to the end, with `round` the round of the loop it is in (0:
    /// none).
    fn ahead(&mut self, node: usize, round: u32) -> u32 {
        if let Some(&known) = self.memo.get(&(node, round)) {
            return known;
        }
        // A cycle that is not a declared loop (a conditional edge back) is counted once.
        if !self.on_path.insert((node, round)) {
            return 0;
        }
        let mut best = 0;
        for step in self.out[node].clone() {
            let next = match step {
                Step::To(None) | Step::Exit(None) => 0,
                Step::To(Some(to)) => {
                    let r = if self.heads[to].is_some() { 1 } else { round };
                    self.ahead(to, r)
                }
                Step::Back(l, head) if round < self.rounds[l] => self.ahead(head, round + 1),
                Step::Back(..) => 0,
                Step::Exit(Some(to)) => {
                    let r = u32::from(self.heads[to].is_some());
                    self.ahead(to, r)
                }
            };
            best = best.max(next);
        }
        self.on_path.remove(&(node, round));
        let total = self.weight[node] + best;
        self.memo.insert((node, round), total);
        total
    }

    /// The plan, the nodes of `in_cycle` planned for each round of the longest loop.
    fn plan(mut self, in_cycle: &HashSet<&str>) -> StagePlan {
        let rounds = self.rounds.iter().copied().max().unwrap_or(0);
        let mut stages = HashMap::new();
        let mut most = 1;
        for node in 0..self.names.len() {
            let by_round: Vec<u32> = if rounds > 0 && in_cycle.contains(self.names[node].as_str()) {
                let mut by_round = vec![0];
                by_round.extend((1..=rounds).map(|r| self.ahead(node, r)));
                by_round
            } else {
                vec![self.ahead(node, 0)]
            };
            most = by_round.iter().copied().fold(most, u32::max);
            stages.insert(self.names[node].clone(), by_round);
        }
        StagePlan { stages, most }
    }
}

/// One cycle's deadline and the plan that shares it out; the engine puts it in each cycle's
/// [`RunConfig`](tradegraph_graph::RunConfig) as an extension, and the agents read it from
/// their [`NodeContext`](tradegraph_graph::NodeContext).
#[derive(Debug, Clone)]
pub struct CycleDeadline {
    at: Instant,
    total: Duration,
    plan: Arc<StagePlan>,
}

impl CycleDeadline {
    /// A deadline `total` from now, shared out by `plan`.
    pub fn starting_now(total: Duration, plan: Arc<StagePlan>) -> Self {
        let now = Instant::now();
        Self {
            at: now.checked_add(total).unwrap_or(now),
            total,
            plan,
        }
    }

    /// The whole cycle's deadline.
    pub fn total(&self) -> Duration {
        self.total
    }

    /// The time left until the deadline (zero once past).
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// How long `node` in its `round` may wait for its model: the time left divided by the
    /// stages ahead of it, its own included.
    pub fn share(&self, node: &str, round: u32) -> Duration {
        self.remaining() / self.plan.stages_left(node, round)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixture;
    use crate::node::{registry, Brain, DEFAULT_GRAPH};
    use tradegraph_core::Instrument;

    fn plan_of(source: &str) -> StagePlan {
        let instrument = Instrument::btc_usdt();
        let (desk, _) =
            fixture::paper_desk(&instrument, fixture::sample_cash(&instrument)).unwrap();
        let kinds = registry(&Brain::rules_only().unwrap(), &desk);
        let graph = tradegraph_graph::yaml::load_str(source, "g.yaml", &kinds).unwrap();
        StagePlan::for_yaml(graph.topology(), source, "g.yaml").unwrap()
    }

    #[test]
    fn the_default_graph_has_six_stages_and_the_debate_counts_once_per_round_left() {
        let plan = plan_of(DEFAULT_GRAPH);
        for analyst in ["technical", "fundamental", "sentiment", "macro"] {
            assert_eq!(plan.stages_left(analyst, 1), 6, "{analyst}");
        }
        // Both sides speak at once: one stage a round.
        for side in ["bull", "bear"] {
            assert_eq!(plan.stages_left(side, 1), 5, "{side}");
            assert_eq!(plan.stages_left(side, 2), 4, "{side}");
            // A round past the plan's is counted as its last.
            assert_eq!(plan.stages_left(side, 9), 4, "{side}");
        }
        assert_eq!(plan.stages_left("risk_manager", 1), 3);
        assert_eq!(plan.stages_left("portfolio_manager", 1), 2);
        assert_eq!(plan.stages_left("learning", 1), 1);
        // Nodes that ask no model after which only the lesson is left, and unknown nodes.
        assert_eq!(plan.stages_left("risk_guard", 1), 1);
        assert_eq!(
            plan.stages_left("no_such_node", 1),
            6,
            "the most: it takes no one's time"
        );
    }

    #[test]
    fn more_rounds_or_none_change_the_plan_and_a_sequential_debate_counts_each_side() {
        let three = plan_of(&DEFAULT_GRAPH.replace("max_rounds: 2", "max_rounds: 3"));
        assert_eq!(three.stages_left("technical", 1), 7);
        assert_eq!(three.stages_left("bull", 1), 6);
        assert_eq!(three.stages_left("bear", 3), 4);
        // A loop of a million rounds is planned as 64 (no deep search, no huge table).
        let long = plan_of(&DEFAULT_GRAPH.replace("max_rounds: 2", "max_rounds: 1000000"));
        assert_eq!(long.stages_left("technical", 1), 64 + 4);
        assert_eq!(long.stages_left("bull", 500_000), 4);
        let no_debate = plan_of(include_str!("../../../graphs/trading-no-debate.yaml"));
        assert_eq!(no_debate.stages_left("technical", 1), 4);
        // The old shape, bull then bear: two stages a round.
        let sequential = plan_of(
            &DEFAULT_GRAPH
                .replace(
                    "  - { from: debate_round, to: [bull, bear] }\n  - { join: [bull, bear], to: debate_round_end }",
                    "  - { from: debate_round, to: bull }\n  - { from: bull, to: bear }\n  - { from: bear, to: debate_round_end }",
                ),
        );
        assert_eq!(sequential.stages_left("technical", 1), 8);
        assert_eq!(sequential.stages_left("bull", 1), 7);
        assert_eq!(sequential.stages_left("bear", 1), 6);
        assert_eq!(sequential.stages_left("bear", 2), 4);
    }

    #[test]
    fn a_share_is_the_time_left_over_the_stages_ahead_and_nothing_once_past() {
        let plan = Arc::new(plan_of(DEFAULT_GRAPH));
        let deadline = CycleDeadline::starting_now(Duration::from_secs(60), plan.clone());
        let analyst = deadline.share("technical", 1);
        let manager = deadline.share("portfolio_manager", 1);
        assert!(analyst <= Duration::from_secs(10) && analyst > Duration::from_millis(9_900));
        assert!(manager <= Duration::from_secs(30) && manager > Duration::from_millis(29_900));
        let past = CycleDeadline::starting_now(Duration::ZERO, plan);
        assert_eq!(past.share("learning", 1), Duration::ZERO);
        assert_eq!(past.remaining(), Duration::ZERO);
    }
}
