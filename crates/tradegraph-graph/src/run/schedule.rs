//! Routing at the step boundary: which tasks run next, from the merged state.

use super::executor::{Run, Task};
use crate::compile::graph::{Graph, Target, Transition};
use crate::error::GraphError;
use crate::event::{Event, LoopExitReason};
use crate::node::Goto;
use crate::state::{GraphState, NodeName};

/// The next step's tasks as they are found: plain nodes deduplicated, items kept in order.
struct NextTasks {
    plain: Vec<bool>,
    items: Vec<Task>,
}

impl NextTasks {
    fn new(nodes: usize) -> Self {
        Self {
            plain: vec![false; nodes],
            items: Vec::new(),
        }
    }

    fn add(&mut self, target: Target) {
        if let Target::Node(i) = target {
            self.plain[i] = true;
        }
    }

    fn scheduled(&self) -> impl Iterator<Item = usize> + '_ {
        self.plain
            .iter()
            .enumerate()
            .filter(|(_, &on)| on)
            .map(|(i, _)| i)
            .chain(self.items.iter().map(|t| t.node))
    }

    /// Tasks in node declaration order; a map node's items in the order they were produced.
    fn into_tasks(self) -> Vec<Task> {
        let mut tasks: Vec<Task> = self
            .plain
            .iter()
            .enumerate()
            .filter(|(_, &on)| on)
            .map(|(node, _)| Task { node, item: None })
            .chain(self.items)
            .collect();
        tasks.sort_by_key(|t| t.node);
        tasks
    }
}

impl<S: GraphState> Run<S> {
    pub(crate) fn schedule_from_start(&mut self) -> Result<Vec<Task>, GraphError> {
        let g = self.g.clone();
        let mut next = NextTasks::new(g.nodes.len());
        let start = NodeName::new(crate::START);
        for transition in &g.entry {
            self.follow(&start, transition, &mut next)?;
        }
        Ok(next.into_tasks())
    }

    /// Routes every finished task (in task order), then fires the joins that are complete.
    pub(crate) fn schedule(
        &mut self,
        finished: &[(usize, Option<Goto>)],
    ) -> Result<Vec<Task>, GraphError> {
        let g = self.g.clone();
        let mut next = NextTasks::new(g.nodes.len());
        for (node_index, goto) in finished {
            let node = &g.nodes[*node_index];
            match goto {
                Some(Goto::End) => {}
                Some(Goto::Nodes(targets)) => {
                    for target in targets {
                        let declared = node.routes.iter().find(|(name, _)| name == target.as_str());
                        let Some((_, t)) = declared else {
                            return Err(GraphError::UndeclaredGoto {
                                node: node.name.clone(),
                                target: target.to_string(),
                                declared: node.routes.iter().map(|(n, _)| n.clone()).collect(),
                            });
                        };
                        next.add(*t);
                    }
                }
                None => {
                    if let Some(l) = node.loop_tail {
                        let target = self.loop_round(l);
                        next.add(target);
                    }
                    for transition in &node.out {
                        self.follow(&node.name, transition, &mut next)?;
                    }
                }
            }
            for &(join, bit) in &node.joins {
                self.join_arrived[join] |= bit;
            }
        }
        self.fire_joins(&mut next);
        Ok(next.into_tasks())
    }

    fn follow(
        &mut self,
        from: &NodeName,
        transition: &Transition<S>,
        next: &mut NextTasks,
    ) -> Result<(), GraphError> {
        match transition {
            Transition::Static(target) => next.add(*target),
            Transition::Router {
                name,
                router,
                targets,
            } => {
                let route = router.route(&self.state);
                for label in route.labels() {
                    let Some((_, target)) = targets.iter().find(|(l, _)| l == label) else {
                        return Err(GraphError::UndeclaredRoute {
                            from: from.clone(),
                            router: name.clone(),
                            label: label.to_string(),
                            declared: targets.iter().map(|(l, _)| l.clone()).collect(),
                        });
                    };
                    next.add(*target);
                }
            }
            Transition::Send { name, to, items } => {
                let items = items(&self.state).map_err(|message| GraphError::SendItems {
                    from: from.clone(),
                    name: name.clone(),
                    message,
                })?;
                next.items.extend(items.into_iter().map(|item| Task {
                    node: *to,
                    item: Some(item),
                }));
            }
        }
        Ok(())
    }

    /// A declared loop's tail finished a round: go round again or leave.
    fn loop_round(&mut self, l: usize) -> Target {
        let spec = &self.g.loops[l];
        self.loop_rounds[l] += 1;
        let rounds = self.loop_rounds[l];
        let reason = if rounds >= spec.max_rounds {
            Some(LoopExitReason::MaxRounds)
        } else if spec
            .condition
            .as_ref()
            .is_some_and(|(_, c)| !c.holds(&self.state))
        {
            Some(LoopExitReason::Condition)
        } else {
            None
        };
        match reason {
            None => Target::Node(spec.head),
            Some(reason) => {
                self.loop_rounds[l] = 0;
                tracing::debug!(r#loop = %spec.name, rounds, ?reason, "loop exited");
                self.sink.send(|| Event::LoopExited {
                    name: spec.name.clone(),
                    rounds,
                    reason,
                });
                spec.exit
            }
        }
    }

    /// Fires every join whose missing sources can no longer start: none is reachable from a
    /// task scheduled next, nor from the target of another join some of whose sources arrived
    /// (it fires later, whatever the order the joins were declared in). Joins that only wait
    /// for each other (in a cycle) fire once nothing else is scheduled.
    fn fire_joins(&mut self, next: &mut NextTasks) {
        let g = self.g.clone();
        let mut fired = true;
        while fired {
            fired = false;
            for j in 0..g.joins.len() {
                fired |= self.fire_join(&g, j, next, true);
            }
        }
        if next.scheduled().next().is_none() {
            for j in 0..g.joins.len() {
                self.fire_join(&g, j, next, false);
            }
        }
    }

    /// Fires join `j` when its missing sources can no longer start (counting the targets of
    /// the other joins with arrivals when `pending_joins`); whether it fired.
    fn fire_join(
        &mut self,
        g: &Graph<S>,
        j: usize,
        next: &mut NextTasks,
        pending_joins: bool,
    ) -> bool {
        let join = &g.joins[j];
        let arrived = self.join_arrived[j];
        if arrived == 0 {
            return false;
        }
        let mut still_possible = next
            .scheduled()
            .filter(|&n| n != join.target)
            .fold(0u64, |acc, n| acc | join.reach[n]);
        if pending_joins {
            for (k, other) in g.joins.iter().enumerate() {
                if k != j && self.join_arrived[k] != 0 && other.target != join.target {
                    still_possible |= join.reach[other.target];
                }
            }
        }
        if still_possible & !arrived != 0 {
            return false;
        }
        self.join_arrived[j] = 0;
        next.plain[join.target] = true;
        let names = |mask: u64| -> Vec<NodeName> {
            join.sources
                .iter()
                .enumerate()
                .filter(|(bit, _)| mask & (1 << bit) != 0)
                .map(|(_, &s)| g.nodes[s].name.clone())
                .collect()
        };
        let skipped_mask = join.all & !arrived;
        if skipped_mask != 0 {
            tracing::warn!(
                join = %g.nodes[join.target].name,
                skipped = ?names(skipped_mask),
                "join fired without sources that were never started"
            );
        }
        self.sink.send(|| Event::JoinFired {
            target: g.nodes[join.target].name.clone(),
            arrived: names(arrived),
            skipped: names(skipped_mask),
        });
        true
    }
}
