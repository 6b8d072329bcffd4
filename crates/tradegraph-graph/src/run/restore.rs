//! Rebuilding a run from a checkpoint.

use super::config::{Resume, RunConfig};
use super::executor::{Run, Sink, Task};
use crate::checkpoint::{Checkpoint, CheckpointSource, InterruptKind};
use crate::compile::graph::Graph;
use crate::compile::CompiledGraph;
use crate::error::GraphError;
use crate::node::Command;
use crate::state::{GraphState, Write};
use std::sync::Arc;

impl<S: GraphState> Run<S> {
    /// A run continuing `checkpoint`, with `resume` applied.
    pub(crate) async fn restore(
        graph: &CompiledGraph<S>,
        mut config: RunConfig,
        sink: Sink<S>,
        checkpoint: Checkpoint<S>,
        resume: Resume<S::Update>,
    ) -> Result<Self, GraphError> {
        let g = graph.graph.clone();
        config.thread_id = Some(checkpoint.thread_id.clone());
        if config.run_id.is_none() {
            config.run_id = Some(checkpoint.run_id.clone());
        }
        let (thread, checkpoint_id) = (checkpoint.thread_id.clone(), checkpoint.id.to_string());
        let mismatch = |node: &str| GraphError::CheckpointMismatch {
            thread: thread.clone(),
            checkpoint: checkpoint_id.clone(),
            node: node.to_owned(),
        };
        let lookup =
            |g: &Graph<S>, node: &str| g.index.get(node).copied().ok_or_else(|| mismatch(node));

        let next = checkpoint
            .next
            .iter()
            .map(|t| {
                Ok(Task {
                    node: lookup(&g, t.node.as_str())?,
                    item: t.item.clone(),
                })
            })
            .collect::<Result<Vec<_>, GraphError>>()?;
        let mut pending: Vec<Option<Command<S::Update>>> = vec![None; next.len()];
        for write in &checkpoint.pending_writes {
            let slot = usize::try_from(write.task)
                .ok()
                .and_then(|i| pending.get_mut(i));
            if let Some(slot) = slot {
                *slot = Some(write.output.clone());
            }
        }

        let mut run = Run::new(
            g.clone(),
            graph.checkpointer.clone(),
            config,
            sink,
            checkpoint.state,
        );
        run.next = next;
        run.pending = pending;
        run.checkpoint = Some(checkpoint.id);
        run.steps = checkpoint.progress.steps;
        for (node, runs) in &checkpoint.progress.node_runs {
            run.node_runs[lookup(&g, node.as_str())?] = *runs;
        }
        for (name, rounds) in &checkpoint.progress.loop_rounds {
            let l = g
                .loops
                .iter()
                .position(|l| &l.name == name)
                .ok_or_else(|| mismatch(name))?;
            run.loop_rounds[l] = *rounds;
        }
        for (target, arrived) in &checkpoint.progress.join_arrivals {
            let t = lookup(&g, target.as_str())?;
            let j = g
                .joins
                .iter()
                .position(|j| j.target == t)
                .ok_or_else(|| mismatch(target.as_str()))?;
            for source in arrived {
                let s = lookup(&g, source.as_str())?;
                if let Some(bit) = g.joins[j].sources.iter().position(|&x| x == s) {
                    run.join_arrived[j] |= 1 << bit;
                }
            }
        }
        if let Some(interrupt) = &checkpoint.interrupt {
            // A step paused before it ran, or by one of its tasks, has passed its pause before.
            run.skip_interrupt_before = matches!(
                interrupt.kind,
                InterruptKind::Before | InterruptKind::Dynamic
            );
            if interrupt.kind == InterruptKind::Dynamic {
                run.resume_task = interrupt.task.and_then(|t| usize::try_from(t).ok());
            }
        }
        run.resume_value = resume.value.map(Arc::new);
        if let Some(update) = resume.update {
            Arc::make_mut(&mut run.state)
                .merge(vec![Write::new("resume", update)])
                .map_err(|source| GraphError::Merge {
                    step: run.steps,
                    source,
                })?;
            let pending = run.pending_writes();
            run.save(
                CheckpointSource::Update,
                checkpoint.interrupt.clone(),
                pending,
            )
            .await?;
        }
        Ok(run)
    }
}
