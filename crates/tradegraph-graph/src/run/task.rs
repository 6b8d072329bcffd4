//! One task of a superstep: a node attempt loop with timeout, retry and cancellation.

use super::executor::Sink;
use crate::event::Event;
use crate::node::{Command, NodeContext, NodeError, NodeImpl};
use crate::retry::RetryPolicy;
use crate::state::GraphState;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

pub(crate) struct TaskInput<S: GraphState> {
    pub(crate) index: usize,
    /// Counts this node's retried attempts.
    pub(crate) retries: metrics::Counter,
    pub(crate) imp: NodeImpl<S>,
    pub(crate) item: Option<serde_json::Value>,
    pub(crate) state: Arc<S>,
    pub(crate) ctx: NodeContext,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<Arc<dyn RetryPolicy>>,
    pub(crate) sink: Sink<S>,
}

pub(crate) struct TaskOutcome<U> {
    pub(crate) index: usize,
    pub(crate) duration: Duration,
    pub(crate) result: Result<Command<U>, (NodeError, u32)>,
}

pub(crate) async fn run_task<S: GraphState>(input: TaskInput<S>) -> TaskOutcome<S::Update> {
    let TaskInput {
        index,
        retries,
        imp,
        item,
        state,
        mut ctx,
        timeout,
        retry,
        sink,
    } = input;
    let started = Instant::now();
    let mut attempt = 1;
    loop {
        ctx.attempt = attempt;
        sink.send(|| Event::NodeStarted {
            node: ctx.node.clone(),
            step: ctx.step,
            attempt,
        });
        // debug: a backtest runs hundreds of thousands of nodes, and an enabled span costs its
        // fields' formatting whether or not anything logs inside it; `graph.run` (info, with
        // the run id) is the parent of every event a node logs
        let span = tracing::debug_span!(
            "graph.node",
            node = %ctx.node,
            step = ctx.step,
            attempt,
        );
        let cancel = ctx.cancel.clone();
        let call = imp.call(state.clone(), item.as_ref(), ctx.clone());
        let attempt_result = async {
            match timeout {
                Some(limit) => tokio::time::timeout(limit, call)
                    .await
                    .unwrap_or(Err(NodeError::Timeout(limit))),
                None => call.await,
            }
        };
        let result = tokio::select! {
            biased;
            () = cancel.cancelled() => Err(NodeError::Cancelled),
            r = attempt_result.instrument(span) => r,
        };
        let error = match result {
            Ok(command) => {
                return TaskOutcome {
                    index,
                    duration: started.elapsed(),
                    result: Ok(command),
                }
            }
            Err(error) => error,
        };
        let delay = match (&error, &retry) {
            (NodeError::Cancelled, _) | (_, None) => None,
            (_, Some(policy)) => policy.retry(attempt, &error),
        };
        let Some(delay) = delay else {
            return TaskOutcome {
                index,
                duration: started.elapsed(),
                result: Err((error, attempt)),
            };
        };
        tracing::warn!(node = %ctx.node, attempt, ?delay, %error, "node attempt failed; retrying");
        retries.increment(1);
        sink.send(|| Event::NodeRetrying {
            node: ctx.node.clone(),
            step: ctx.step,
            attempt,
            error: error.clone(),
            delay,
        });
        tokio::select! {
            biased;
            () = cancel.cancelled() => {
                return TaskOutcome { index, duration: started.elapsed(), result: Err((NodeError::Cancelled, attempt)) };
            }
            () = tokio::time::sleep(delay) => {}
        }
        attempt += 1;
    }
}
