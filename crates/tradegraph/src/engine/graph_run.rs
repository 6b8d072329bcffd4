//! Running the decision graph for a cycle: streamed when anyone watches the bot's events (each
//! node's start and end becomes a [`BotEvent`]), invoked otherwise; operators' switches (the
//! kill switch, the pause) are carried out while it runs, other commands once it ends.

use super::control::{Deferral, Reply, DEFERRED};
use super::journal::Execution;
use super::observe::BotEvent;
use super::{Engine, EngineError};
use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use tradegraph_agents::deadline::CycleDeadline;
use tradegraph_agents::TradingState;
use tradegraph_graph::{Event, GraphError, Resume, RunConfig, RunOutput};
use tradegraph_market::{Clock, MarketEvent};

/// How a run begins.
pub(super) enum Start {
    /// A fresh cycle from this state.
    Fresh(Box<TradingState>),
    /// The paused run of this thread, resumed with this answer.
    Resume(serde_json::Value),
    /// The run of this thread cut short (its process died), continued from its newest
    /// checkpoint.
    Continue,
}

/// What a graph run came to.
pub(super) type GraphRun = Result<RunOutput<TradingState>, GraphError>;

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Runs the graph on thread `thread` from `start`.
    ///
    /// # Errors
    /// Only what stops the bot (a state conflict while saving a switch); the graph's own
    /// failure is the inner result.
    pub(super) async fn run_graph(
        &mut self,
        start: Start,
        thread: &str,
    ) -> Result<GraphRun, EngineError> {
        let run = self.run_graph_inner(start, thread).await;
        self.cycle_cancel.end();
        run
    }

    async fn run_graph_inner(
        &mut self,
        start: Start,
        thread: &str,
    ) -> Result<GraphRun, EngineError> {
        let mut config = RunConfig::new()
            .thread(thread)
            .cancellation(self.cycle_cancel.begin());
        if let (Some(stages), Some(deadline)) = (&self.stages, self.config.cycle_deadline) {
            // The deadline counts from the cycle's start (a resumed cycle starts anew: the
            // wait for an approval is not the models').
            config = config.extension(CycleDeadline::starting_now(deadline, stages.clone()));
        }
        let graph = self.graph.clone();
        if !self.observer.listening() {
            let thread = thread.to_owned();
            let run: BoxFuture<'static, GraphRun> = match start {
                Start::Fresh(state) => async move { graph.invoke(*state, config).await }.boxed(),
                Start::Resume(answer) => async move {
                    Box::pin(graph.resume(&thread, Resume::new().value(answer), config)).await
                }
                .boxed(),
                Start::Continue => {
                    async move { Box::pin(graph.resume(&thread, Resume::new(), config)).await }
                        .boxed()
                }
            };
            // The run as a stream of one item: its output.
            let mut run = futures::stream::once(run);
            loop {
                tokio::select! {
                    biased;
                    Some(envelope) = self.ops.commands.recv() => {
                        let (mut outputs, _) = self.command_in_cycle(envelope, &mut run).await?;
                        if let Some(out) = outputs.pop() {
                            return Ok(out);
                        }
                    }
                    out = run.next() => return Ok(out.unwrap_or(Err(GraphError::Cancelled))),
                }
            }
        }
        let mut stream = match start {
            Start::Fresh(state) => graph.stream(*state, config),
            Start::Resume(answer) => {
                graph.stream_resume(thread, Resume::new().value(answer), config)
            }
            Start::Continue => graph.stream_resume(thread, Resume::new(), config),
        };
        loop {
            tokio::select! {
                biased;
                Some(envelope) = self.ops.commands.recv() => {
                    let (events, ended) = self.command_in_cycle(envelope, &mut stream).await?;
                    for event in events {
                        self.node_event(event, thread);
                    }
                    if ended {
                        return Ok(stream.output().unwrap_or(Err(GraphError::Cancelled)));
                    }
                }
                event = stream.next() => match event {
                    Some(event) => self.node_event(event, thread),
                    None => return Ok(stream.output().unwrap_or(Err(GraphError::Cancelled))),
                },
            }
        }
    }

    fn node_event(&self, event: Event<TradingState>, thread: &str) {
        match event {
            Event::NodeStarted { node, step, .. } => {
                self.observer.publish(|| BotEvent::NodeStarted {
                    decision_id: thread.to_owned(),
                    node: node.to_string(),
                    step,
                });
            }
            Event::NodeFinished {
                node,
                step,
                duration,
                ..
            } => {
                self.observer.publish(|| BotEvent::NodeFinished {
                    decision_id: thread.to_owned(),
                    node: node.to_string(),
                    step,
                    duration_ms: duration.as_secs_f64() * 1e3,
                });
            }
            _ => {}
        }
    }

    /// A command that came while the graph runs: a switch at once (the guard and the gate
    /// read it before the order goes out), anything else once the cycle ends.
    ///
    /// The graph (`run`: the run's stream) goes on meanwhile, and what it yields is returned
    /// with whether it ended: a switch saves the bot's state, which a node of the graph may be
    /// saving at that moment (the execution node saves the paper account as an order goes out);
    /// a graph left unpolled would hold the store's lock forever and the bot would stop.
    async fn command_in_cycle<S: Stream + Unpin>(
        &mut self,
        envelope: super::control::Envelope,
        run: &mut S,
    ) -> Result<(Vec<S::Item>, bool), EngineError> {
        let mut came = Vec::new();
        let mut ended = false;
        let carried_out = self.carry_out_in_cycle(envelope);
        tokio::pin!(carried_out);
        loop {
            tokio::select! {
                biased;
                done = &mut carried_out => {
                    done?;
                    return Ok((came, ended));
                }
                item = run.next(), if !ended => match item {
                    Some(item) => came.push(item),
                    None => ended = true,
                },
            }
        }
    }

    async fn carry_out_in_cycle(
        &mut self,
        envelope: super::control::Envelope,
    ) -> Result<(), EngineError> {
        if envelope.command.is_switch() {
            // the kill switch's cancels and close wait for the cycle to end
            return self.switch(envelope, false).await;
        }
        match self.ops.deferred.push(envelope) {
            Deferral::Queued => Ok(()),
            Deferral::Gone(envelope) => {
                self.not_taken(envelope).await;
                Ok(())
            }
            Deferral::Full(envelope) => {
                let busy = Reply::busy(format!(
                    "{DEFERRED} commands already wait for the decision cycle to end; nothing \
                     was done: try again in a moment"
                ));
                self.answer(
                    &envelope.command,
                    envelope.source.as_deref(),
                    envelope.reply,
                    busy,
                )
                .await
            }
        }
    }
}
