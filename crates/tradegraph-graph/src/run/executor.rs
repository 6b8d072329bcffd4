//! The superstep loop: run a step's tasks concurrently, merge in task order, route, checkpoint.

use super::config::{RunConfig, RunOutput, RunStatus};
use super::task::{run_task, TaskInput, TaskOutcome};
use crate::checkpoint::{
    now_ms, Checkpoint, CheckpointId, CheckpointSource, Checkpointer, Interrupt, InterruptKind,
    PendingWrite, Progress, TaskSpec, FORMAT_VERSION,
};
use crate::compile::graph::Graph;
use crate::error::GraphError;
use crate::event::Event;
use crate::node::{Command, Emit, Extensions, NodeContext};
use crate::state::{GraphState, NodeName, Write};
use futures::stream::{FuturesUnordered, StreamExt};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Where events go; nothing is built when nobody streams.
pub(crate) struct Sink<S: GraphState>(Option<UnboundedSender<Event<S>>>);

impl<S: GraphState> Clone for Sink<S> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<S: GraphState> Sink<S> {
    pub(crate) fn new(tx: Option<UnboundedSender<Event<S>>>) -> Self {
        Self(tx)
    }

    pub(crate) fn send(&self, event: impl FnOnce() -> Event<S>) {
        if let Some(tx) = &self.0 {
            // The receiver is gone only when the caller dropped the stream, which also drops
            // (cancels) the run; nothing to report to anyone.
            let _ = tx.send(event());
        }
    }

    fn emitter(&self) -> Option<Emit> {
        let tx = self.0.clone()?;
        Some(Arc::new(move |node: &NodeName, step, payload| {
            let _ = tx.send(Event::Custom {
                node: node.clone(),
                step,
                payload,
            });
        }))
    }
}

/// A task of a superstep.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub(crate) node: usize,
    pub(crate) item: Option<serde_json::Value>,
}

pub(crate) struct Run<S: GraphState> {
    pub(crate) g: Arc<Graph<S>>,
    pub(crate) cp: Option<Arc<dyn Checkpointer<S>>>,
    pub(crate) sink: Sink<S>,
    emit: Option<Emit>,
    pub(crate) run_id: Arc<str>,
    pub(crate) thread_id: Arc<str>,
    /// The graph's metric handles, for the recorder in use when the run started.
    pub(crate) meters: Arc<crate::metrics::Meters>,
    pub(crate) cancel: CancellationToken,
    extensions: Arc<Extensions>,
    max_steps: u64,
    max_concurrency: usize,
    pub(crate) state: Arc<S>,
    pub(crate) next: Vec<Task>,
    pub(crate) steps: u64,
    pub(crate) node_runs: Vec<u32>,
    pub(crate) loop_rounds: Vec<u32>,
    pub(crate) join_arrived: Vec<u64>,
    pub(crate) checkpoint: Option<CheckpointId>,
    /// Outputs recovered from a checkpoint, aligned with `next`.
    pub(crate) pending: Vec<Option<Command<S::Update>>>,
    pub(crate) resume_value: Option<Arc<serde_json::Value>>,
    /// The task the resume value answers (the one that asked); every task when `None` (a
    /// pause before or after a step).
    pub(crate) resume_task: Option<usize>,
    pub(crate) skip_interrupt_before: bool,
}

impl<S: GraphState> Run<S> {
    pub(crate) fn new(
        g: Arc<Graph<S>>,
        cp: Option<Arc<dyn Checkpointer<S>>>,
        config: RunConfig,
        sink: Sink<S>,
        state: S,
    ) -> Self {
        let run_id: Arc<str> = Arc::from(config.run_id.unwrap_or_else(new_id));
        let thread_id: Arc<str> = Arc::from(config.thread_id.unwrap_or_else(|| run_id.to_string()));
        let n = g.nodes.len();
        Self {
            emit: sink.emitter(),
            sink,
            cp,
            run_id,
            thread_id,
            meters: g.meters.current(),
            cancel: config.cancel.unwrap_or_default(),
            extensions: Arc::new(config.extensions),
            max_steps: config.max_steps.unwrap_or(g.limits.max_steps),
            max_concurrency: config
                .max_concurrency
                .or(g.limits.max_concurrency)
                .unwrap_or(usize::MAX),
            state: Arc::new(state),
            next: Vec::new(),
            steps: 0,
            node_runs: vec![0; n],
            loop_rounds: vec![0; g.loops.len()],
            join_arrived: vec![0; g.joins.len()],
            checkpoint: None,
            pending: Vec::new(),
            resume_value: config.resume_value.map(Arc::new),
            resume_task: None,
            skip_interrupt_before: false,
            g,
        }
    }

    /// Runs supersteps until every branch ends, the run pauses, or something fails.
    pub(crate) async fn drive(mut self) -> Result<RunOutput<S>, GraphError> {
        loop {
            if self.next.is_empty() {
                return Ok(self.finish());
            }
            if self.cancel.is_cancelled() {
                return Err(GraphError::Cancelled);
            }
            if self.steps >= self.max_steps {
                return Err(GraphError::StepLimit {
                    limit: self.max_steps,
                });
            }
            if !std::mem::take(&mut self.skip_interrupt_before) {
                if let Some(task) = self
                    .next
                    .iter()
                    .find(|t| self.g.nodes[t.node].interrupt_before)
                {
                    let interrupt = Interrupt {
                        node: self.g.nodes[task.node].name.clone(),
                        kind: InterruptKind::Before,
                        payload: None,
                        task: None,
                    };
                    let pending = self.pending_writes();
                    return self.pause(interrupt, pending).await;
                }
            }
            self.count_runs()?;
            let outputs = self.execute_step().await?;
            let step = self.steps;

            if let Some(i) = outputs
                .iter()
                .position(|o| matches!(o, Some(Command::Interrupt { .. })))
            {
                let Some(Command::Interrupt { payload }) = &outputs[i] else {
                    unreachable!("position found an interrupt")
                };
                let interrupt = Interrupt {
                    node: self.g.nodes[self.next[i].node].name.clone(),
                    kind: InterruptKind::Dynamic,
                    payload: Some(payload.clone()),
                    task: Some(u32::try_from(i).unwrap_or(u32::MAX)),
                };
                // The step runs again on resume: its runs are counted then.
                self.uncount_runs();
                self.pending = outputs
                    .into_iter()
                    .map(|o| o.filter(|c| matches!(c, Command::Update { .. })))
                    .collect();
                let pending = self.pending_writes();
                return self.pause(interrupt, pending).await;
            }

            let tasks = std::mem::take(&mut self.next);
            let mut writes = Vec::with_capacity(tasks.len());
            let mut gotos = Vec::with_capacity(tasks.len());
            for (task, output) in tasks.iter().zip(outputs) {
                if let Some(Command::Update { update, goto }) = output {
                    writes.push(Write::new(self.g.nodes[task.node].name.clone(), *update));
                    gotos.push((task.node, goto));
                }
            }
            // Clones only if someone (a streamed event) still holds the snapshot; merge is atomic.
            Arc::make_mut(&mut self.state)
                .merge(writes)
                .map_err(|source| GraphError::Merge { step, source })?;

            self.next = self.schedule(&gotos)?;
            self.steps += 1;
            self.pending.clear();
            self.resume_value = None;
            self.resume_task = None;
            // A pause after the step is its checkpoint: one write, so that no crash or failed
            // write between two of them resumes past the pause.
            let after = tasks
                .iter()
                .find(|t| !self.next.is_empty() && self.g.nodes[t.node].interrupt_after)
                .map(|task| Interrupt {
                    node: self.g.nodes[task.node].name.clone(),
                    kind: InterruptKind::After,
                    payload: None,
                    task: None,
                });
            let checkpoint = match &after {
                Some(interrupt) => {
                    self.save(
                        CheckpointSource::Interrupt,
                        Some(interrupt.clone()),
                        Vec::new(),
                    )
                    .await?
                }
                None => self.save(CheckpointSource::Step, None, Vec::new()).await?,
            };
            let ran: Vec<NodeName> = tasks
                .iter()
                .map(|t| self.g.nodes[t.node].name.clone())
                .collect();
            self.sink.send(|| Event::StepCompleted {
                step,
                nodes: ran,
                state: self.state.clone(),
                checkpoint: checkpoint.clone(),
            });
            if let Some(interrupt) = after {
                return Ok(self.paused(interrupt, checkpoint));
            }
        }
    }

    /// Takes back what [`count_runs`](Self::count_runs) counted for this step (a step that
    /// paused runs again on resume).
    fn uncount_runs(&mut self) {
        let mut counted = vec![false; self.g.nodes.len()];
        for task in &self.next {
            if !std::mem::replace(&mut counted[task.node], true) {
                self.node_runs[task.node] = self.node_runs[task.node].saturating_sub(1);
            }
        }
    }

    /// Counts this step's node runs and enforces cycle limits.
    fn count_runs(&mut self) -> Result<(), GraphError> {
        let mut counted = vec![false; self.g.nodes.len()];
        for task in &self.next {
            if std::mem::replace(&mut counted[task.node], true) {
                continue;
            }
            let runs = self.node_runs[task.node] + 1;
            let node = &self.g.nodes[task.node];
            if let Some(limit) = node.guard {
                if runs > limit {
                    return Err(GraphError::LoopLimit {
                        head: node.name.clone(),
                        limit,
                    });
                }
            }
            self.node_runs[task.node] = runs;
        }
        Ok(())
    }

    /// Runs the step's tasks concurrently; outputs are aligned with `self.next`.
    async fn execute_step(&mut self) -> Result<Vec<Option<Command<S::Update>>>, GraphError> {
        let step = self.steps;
        let mut outputs = std::mem::take(&mut self.pending);
        outputs.resize(self.next.len(), None);
        for (task, output) in self.next.iter().zip(&outputs) {
            if let Some(Command::Update { update, .. }) = output {
                self.sink.send(|| Event::NodeFinished {
                    node: self.g.nodes[task.node].name.clone(),
                    step,
                    duration: std::time::Duration::ZERO,
                    update: Some((**update).clone()),
                    replayed: true,
                });
            }
        }
        let step_cancel = self.cancel.child_token();
        let mut waiting = (0..self.next.len())
            .filter(|&i| outputs[i].is_none())
            .collect::<Vec<_>>()
            .into_iter();
        let mut running = FuturesUnordered::new();
        for i in waiting.by_ref().take(self.max_concurrency) {
            running.push(run_task(self.task_input(i, &step_cancel)));
        }
        while let Some(TaskOutcome {
            index,
            duration,
            result,
        }) = running.next().await
        {
            let node = self.g.nodes[self.next[index].node].name.clone();
            match result {
                Ok(command) => {
                    if let (Some(cp), Some(id), Command::Update { .. }) =
                        (&self.cp, &self.checkpoint, &command)
                    {
                        let write = PendingWrite {
                            task: u32::try_from(index).unwrap_or(u32::MAX),
                            node: node.clone(),
                            output: command.clone(),
                        };
                        cp.put_writes(&self.thread_id, id, vec![write]).await?;
                    }
                    if let Some(meter) = self.meters.nodes.get(self.next[index].node) {
                        meter.duration.record(duration.as_secs_f64());
                    }
                    self.sink.send(|| Event::NodeFinished {
                        node,
                        step,
                        duration,
                        update: match &command {
                            Command::Update { update, .. } => Some((**update).clone()),
                            Command::Interrupt { .. } => None,
                        },
                        replayed: false,
                    });
                    outputs[index] = Some(command);
                    if let Some(i) = waiting.next() {
                        running.push(run_task(self.task_input(i, &step_cancel)));
                    }
                }
                Err((error, attempts)) => {
                    step_cancel.cancel();
                    drop(running);
                    if matches!(error, crate::node::NodeError::Cancelled)
                        && self.cancel.is_cancelled()
                    {
                        return Err(GraphError::Cancelled);
                    }
                    tracing::error!(node = %node, step, attempts, %error, "node failed");
                    if let Some(meter) = self.meters.nodes.get(self.next[index].node) {
                        meter.failures.increment(1);
                    }
                    self.sink.send(|| Event::NodeFailed {
                        node: node.clone(),
                        step,
                        attempts,
                        error: error.clone(),
                    });
                    return Err(GraphError::NodeFailed {
                        node,
                        step,
                        attempts,
                        source: error,
                    });
                }
            }
        }
        Ok(outputs)
    }

    fn task_input(&self, index: usize, cancel: &CancellationToken) -> TaskInput<S> {
        let task = &self.next[index];
        let node = &self.g.nodes[task.node];
        TaskInput {
            index,
            retries: self
                .meters
                .nodes
                .get(task.node)
                .map_or_else(metrics::Counter::noop, |m| m.retries.clone()),
            imp: node.imp.clone(),
            item: task.item.clone(),
            state: self.state.clone(),
            ctx: NodeContext {
                run_id: self.run_id.clone(),
                thread_id: self.thread_id.clone(),
                node: node.name.clone(),
                step: self.steps,
                attempt: 1,
                round: self.node_runs[task.node],
                cancel: cancel.clone(),
                extensions: self.extensions.clone(),
                emit: self.emit.clone(),
                resume: self
                    .resume_task
                    .is_none_or(|asked| asked == index)
                    .then(|| self.resume_value.clone())
                    .flatten(),
            },
            timeout: node.timeout,
            retry: node.retry.clone(),
            sink: self.sink.clone(),
        }
    }

    pub(crate) fn pending_writes(&self) -> Vec<PendingWrite<S::Update>> {
        self.pending
            .iter()
            .enumerate()
            .filter_map(|(i, output)| {
                output.as_ref().map(|command| PendingWrite {
                    task: u32::try_from(i).unwrap_or(u32::MAX),
                    node: self.g.nodes[self.next[i].node].name.clone(),
                    output: command.clone(),
                })
            })
            .collect()
    }

    async fn pause(
        mut self,
        interrupt: Interrupt,
        pending: Vec<PendingWrite<S::Update>>,
    ) -> Result<RunOutput<S>, GraphError> {
        let checkpoint = self
            .save(
                CheckpointSource::Interrupt,
                Some(interrupt.clone()),
                pending,
            )
            .await?;
        Ok(self.paused(interrupt, checkpoint))
    }

    /// The run, paused at `interrupt` (saved as `checkpoint`).
    fn paused(self, interrupt: Interrupt, checkpoint: Option<CheckpointId>) -> RunOutput<S> {
        tracing::info!(node = %interrupt.node, kind = ?interrupt.kind, "run paused");
        self.sink.send(|| Event::Interrupted {
            interrupt: interrupt.clone(),
            checkpoint: checkpoint.clone(),
        });
        self.output(RunStatus::Interrupted(interrupt))
    }

    fn finish(self) -> RunOutput<S> {
        self.sink.send(|| Event::Finished {
            state: self.state.clone(),
        });
        self.output(RunStatus::Finished)
    }

    fn output(self, status: RunStatus) -> RunOutput<S> {
        RunOutput {
            state: Arc::try_unwrap(self.state).unwrap_or_else(|shared| (*shared).clone()),
            status,
            run_id: self.run_id.to_string(),
            thread_id: self.thread_id.to_string(),
            checkpoint: self.checkpoint,
            steps: self.steps,
        }
    }

    /// Saves a checkpoint of the current state and `next`, when a checkpointer is set.
    pub(crate) async fn save(
        &mut self,
        source: CheckpointSource,
        interrupt: Option<Interrupt>,
        pending_writes: Vec<PendingWrite<S::Update>>,
    ) -> Result<Option<CheckpointId>, GraphError> {
        let Some(cp) = &self.cp else {
            return Ok(None);
        };
        let id = CheckpointId::generate();
        let checkpoint = Checkpoint {
            format: FORMAT_VERSION,
            id: id.clone(),
            parent: self.checkpoint.take(),
            thread_id: self.thread_id.to_string(),
            run_id: self.run_id.to_string(),
            graph: self.g.name.clone(),
            created_at_ms: now_ms(),
            source,
            state: (*self.state).clone(),
            next: self
                .next
                .iter()
                .map(|t| TaskSpec {
                    node: self.g.nodes[t.node].name.clone(),
                    item: t.item.clone(),
                })
                .collect(),
            pending_writes,
            progress: self.progress(),
            interrupt,
        };
        cp.put(checkpoint).await?;
        self.checkpoint = Some(id.clone());
        Ok(Some(id))
    }

    fn progress(&self) -> Progress {
        let g = &self.g;
        Progress {
            steps: self.steps,
            node_runs: self
                .node_runs
                .iter()
                .enumerate()
                .filter(|(_, &n)| n > 0)
                .map(|(i, &n)| (g.nodes[i].name.clone(), n))
                .collect(),
            loop_rounds: self
                .loop_rounds
                .iter()
                .enumerate()
                .filter(|(_, &n)| n > 0)
                .map(|(i, &n)| (g.loops[i].name.clone(), n))
                .collect(),
            join_arrivals: self
                .join_arrived
                .iter()
                .enumerate()
                .filter(|(_, &mask)| mask != 0)
                .map(|(j, &mask)| {
                    let join = &g.joins[j];
                    let arrived = join
                        .sources
                        .iter()
                        .enumerate()
                        .filter(|(bit, _)| mask & (1 << bit) != 0)
                        .map(|(_, &s)| g.nodes[s].name.clone())
                        .collect();
                    (g.nodes[join.target].name.clone(), arrived)
                })
                .collect(),
        }
    }

    /// Schedules the first step from `start`'s edges.
    pub(crate) fn schedule_entry(&mut self) -> Result<(), GraphError> {
        self.next = self.schedule_from_start()?;
        Ok(())
    }
}

pub(crate) fn new_id() -> String {
    CheckpointId::generate().0
}
