//! Running a compiled graph: invoke, stream, resume, fork, inspect.

mod config;
pub(crate) mod executor;
mod restore;
mod schedule;
mod stream;
mod task;

pub use config::{Resume, RunConfig, RunOutput, RunStatus};
pub use stream::RunStream;

use crate::checkpoint::{Checkpoint, CheckpointId, CheckpointSource, Checkpointer};
use crate::compile::CompiledGraph;
use crate::error::GraphError;
use crate::event::Event;
use crate::state::{GraphState, Write};
use executor::{Run, Sink};
use futures::FutureExt;
use std::sync::Arc;
use tracing::Instrument;

impl<S: GraphState> CompiledGraph<S> {
    /// Runs the graph from `input` to the end (or a pause) and returns the final state.
    ///
    /// # Errors
    /// [`GraphError`] naming the failing node, the conflicting writers, or the limit reached.
    pub async fn invoke(&self, input: S, config: RunConfig) -> Result<RunOutput<S>, GraphError> {
        self.start(input, config, Sink::new(None)).await
    }

    /// Runs the graph from `input`, yielding its events as they happen.
    pub fn stream(&self, input: S, config: RunConfig) -> RunStream<S> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let sink = Sink::new(Some(tx));
        let graph = self.clone();
        RunStream::new(
            async move { graph.start(input, config, sink).await }.boxed(),
            rx,
        )
    }

    /// Continues thread `thread_id` from its newest checkpoint: after a pause, a failure or a
    /// crash. Tasks whose writes were saved are not run again.
    ///
    /// # Errors
    /// [`GraphError::NoCheckpointer`], [`GraphError::NoCheckpoint`], or any run error.
    pub async fn resume(
        &self,
        thread_id: &str,
        resume: Resume<S::Update>,
        config: RunConfig,
    ) -> Result<RunOutput<S>, GraphError> {
        self.continue_thread(thread_id, resume, config, Sink::new(None))
            .await
    }

    /// [`resume`](Self::resume), yielding events.
    pub fn stream_resume(
        &self,
        thread_id: &str,
        resume: Resume<S::Update>,
        config: RunConfig,
    ) -> RunStream<S> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let sink = Sink::new(Some(tx));
        let graph = self.clone();
        let thread = thread_id.to_owned();
        RunStream::new(
            async move { graph.continue_thread(&thread, resume, config, sink).await }.boxed(),
            rx,
        )
    }

    /// Copies checkpoint `id` of `thread_id` into `new_thread` (optionally changing the state),
    /// so that [`resume`](Self::resume) on `new_thread` runs an alternative future from there.
    ///
    /// # Errors
    /// [`GraphError::NoCheckpointer`], [`GraphError::NoCheckpoint`] or a merge conflict.
    pub async fn fork(
        &self,
        thread_id: &str,
        id: &CheckpointId,
        new_thread: &str,
        update: Option<S::Update>,
    ) -> Result<CheckpointId, GraphError> {
        let cp = self.checkpointer("fork")?;
        let mut checkpoint =
            cp.get(thread_id, id)
                .await?
                .ok_or_else(|| GraphError::NoCheckpoint {
                    thread: thread_id.to_owned(),
                    checkpoint: Some(id.to_string()),
                })?;
        if let Some(update) = update {
            checkpoint
                .state
                .merge(vec![Write::new("fork", update)])
                .map_err(|source| GraphError::Merge {
                    step: checkpoint.progress.steps,
                    source,
                })?;
        }
        let new_id = CheckpointId::generate();
        checkpoint.parent = Some(checkpoint.id);
        checkpoint.id = new_id.clone();
        checkpoint.thread_id = new_thread.to_owned();
        checkpoint.source = CheckpointSource::Fork;
        checkpoint.pending_writes.clear();
        checkpoint.created_at_ms = crate::checkpoint::now_ms();
        cp.put(checkpoint).await?;
        Ok(new_id)
    }

    /// The newest checkpoint of a thread.
    ///
    /// # Errors
    /// [`GraphError::NoCheckpointer`] or a backend error.
    pub async fn state(&self, thread_id: &str) -> Result<Option<Checkpoint<S>>, GraphError> {
        Ok(self.checkpointer("state")?.latest(thread_id).await?)
    }

    /// A thread's checkpoints, newest first.
    ///
    /// # Errors
    /// [`GraphError::NoCheckpointer`] or a backend error.
    pub async fn history(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Checkpoint<S>>, GraphError> {
        Ok(self
            .checkpointer("history")?
            .history(thread_id, limit)
            .await?)
    }

    fn checkpointer(
        &self,
        operation: &'static str,
    ) -> Result<&Arc<dyn Checkpointer<S>>, GraphError> {
        self.checkpointer
            .as_ref()
            .ok_or(GraphError::NoCheckpointer { operation })
    }

    async fn start(
        &self,
        input: S,
        config: RunConfig,
        sink: Sink<S>,
    ) -> Result<RunOutput<S>, GraphError> {
        let started = std::time::Instant::now();
        let mut run = Run::new(
            self.graph.clone(),
            self.checkpointer.clone(),
            config,
            sink.clone(),
            input,
        );
        let span = tracing::info_span!("graph.run", graph = %self.graph.name, run_id = %run.run_id, thread_id = %run.thread_id);
        let result = async {
            run.sink.send(|| Event::RunStarted {
                run_id: run.run_id.to_string(),
                thread_id: run.thread_id.to_string(),
                resumed: false,
            });
            run.schedule_entry()?;
            run.save(CheckpointSource::Input, None, Vec::new()).await?;
            run.drive().await
        }
        .instrument(span)
        .await;
        report_failure(&sink, &result);
        record_run(&self.graph.meters, &result, started);
        result
    }

    async fn continue_thread(
        &self,
        thread_id: &str,
        resume: Resume<S::Update>,
        config: RunConfig,
        sink: Sink<S>,
    ) -> Result<RunOutput<S>, GraphError> {
        let started = std::time::Instant::now();
        let result = async {
            let cp = self.checkpointer("resume")?;
            let checkpoint = cp.latest(thread_id).await?.ok_or_else(|| GraphError::NoCheckpoint {
                thread: thread_id.to_owned(),
                checkpoint: None,
            })?;
            let run = Run::restore(self, config, sink.clone(), checkpoint, resume).await?;
            let span = tracing::info_span!("graph.run", graph = %self.graph.name, run_id = %run.run_id, thread_id = %run.thread_id, resumed = true);
            run.sink.send(|| Event::RunStarted {
                run_id: run.run_id.to_string(),
                thread_id: run.thread_id.to_string(),
                resumed: true,
            });
            run.drive().instrument(span).await
        }
        .await;
        report_failure(&sink, &result);
        record_run(&self.graph.meters, &result, started);
        result
    }
}

fn record_run<S: GraphState>(
    meters: &crate::metrics::GraphMeters,
    result: &Result<RunOutput<S>, GraphError>,
    started: std::time::Instant,
) {
    use crate::metrics::RunEnd;
    let end = match result {
        Ok(out) if matches!(out.status, RunStatus::Finished) => RunEnd::Finished,
        Ok(_) => RunEnd::Interrupted,
        Err(GraphError::Cancelled) => RunEnd::Cancelled,
        Err(_) => RunEnd::Failed,
    };
    meters.current().run_ended(end, started.elapsed());
}

fn report_failure<S: GraphState>(sink: &Sink<S>, result: &Result<RunOutput<S>, GraphError>) {
    if let Err(error) = result {
        sink.send(|| Event::Failed {
            error: error.to_string(),
        });
    }
}
