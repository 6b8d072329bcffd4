//! A compiled graph used as a node of another graph.

use crate::compile::CompiledGraph;
use crate::error::BuildError;
use crate::event::Event;
use crate::node::{Command, Node, NodeContext, NodeError, NodeResult};
use crate::run::{RunConfig, RunStatus};
use crate::state::{GraphState, NodeName};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::json;
use std::sync::Arc;

type InputFn<P, C> = Arc<dyn Fn(&P) -> C + Send + Sync>;
type OutputFn<P, C> = Arc<dyn Fn(C, &P) -> <P as GraphState>::Update + Send + Sync>;

/// Runs a child graph over state `C` as one node of a parent graph over `P`: `input` builds the
/// child's state from the parent's, `output` turns the child's final state into the parent's
/// update. The child's node events (started, finished, failed, custom) reach the parent's
/// stream as `Custom` events named `parent_node/child_node`. A pause inside the child pauses the
/// parent; the child has no checkpoints of its own, so on the parent's resume it runs again from
/// its start (its nodes before the pause run again), and the parent's resume value reaches the
/// tasks of its first superstep only: a node that asks a question must run first in the child.
pub struct Subgraph<P: GraphState, C: GraphState> {
    graph: CompiledGraph<C>,
    input: InputFn<P, C>,
    output: OutputFn<P, C>,
}

impl<P: GraphState, C: GraphState> Subgraph<P, C> {
    /// Wraps `graph`.
    ///
    /// # Errors
    /// [`BuildError::StaticInterruptInSubgraph`] when the child declares static interrupts: the
    /// child runs without checkpoints of its own, so use dynamic interrupts inside subgraphs.
    pub fn new(
        graph: CompiledGraph<C>,
        input: impl Fn(&P) -> C + Send + Sync + 'static,
        output: impl Fn(C, &P) -> P::Update + Send + Sync + 'static,
    ) -> Result<Self, BuildError> {
        let topology = graph.topology();
        if !topology.interrupt_before.is_empty() || !topology.interrupt_after.is_empty() {
            return Err(BuildError::StaticInterruptInSubgraph {
                graph: topology.name.clone(),
            });
        }
        Ok(Self {
            graph,
            input: Arc::new(input),
            output: Arc::new(output),
        })
    }
}

#[async_trait]
impl<P: GraphState, C: GraphState> Node<P> for Subgraph<P, C> {
    async fn run(&self, state: Arc<P>, ctx: NodeContext) -> NodeResult<P> {
        let mut config = RunConfig::new()
            .thread(format!("{}/{}", ctx.thread_id(), ctx.node()))
            .cancellation(ctx.cancellation().child_token());
        config.extensions = (*ctx.extensions).clone();
        config.resume_value = ctx.resume_value().cloned();
        let child_input = (self.input)(&state);
        let result = match &ctx.emit {
            None => self.graph.invoke(child_input, config).await,
            Some(emit) => {
                let mut events = self.graph.stream(child_input, config);
                while let Some(event) = events.next().await {
                    if let Some((node, payload)) = summarize(&event) {
                        let name = NodeName::from(format!("{}/{}", ctx.node(), node));
                        emit(&name, ctx.step(), payload);
                    }
                }
                events.output().unwrap_or(Err(crate::GraphError::Cancelled))
            }
        };
        let output = result
            .map_err(|e| NodeError::Failed(format!("subgraph `{}`: {e}", self.graph.name())))?;
        match output.status {
            RunStatus::Finished => Ok(Command::update((self.output)(output.state, &state))),
            RunStatus::Interrupted(interrupt) => Ok(Command::interrupt(json!({
                "subgraph": self.graph.name(),
                "node": interrupt.node,
                "payload": interrupt.payload,
            }))),
        }
    }
}

/// A child event as a JSON payload for the parent's stream.
fn summarize<C: GraphState>(event: &Event<C>) -> Option<(String, serde_json::Value)> {
    let (node, payload) = match event {
        Event::NodeStarted {
            node,
            step,
            attempt,
        } => (
            node.to_string(),
            json!({"event": "node_started", "step": step, "attempt": attempt}),
        ),
        Event::NodeFinished {
            node,
            step,
            duration,
            update,
            ..
        } => (
            node.to_string(),
            json!({"event": "node_finished", "step": step, "duration_us": duration.as_micros(), "update": update}),
        ),
        Event::NodeFailed {
            node, step, error, ..
        } => (
            node.to_string(),
            json!({"event": "node_failed", "step": step, "error": error.to_string()}),
        ),
        Event::Custom { node, payload, .. } => (node.to_string(), payload.clone()),
        _ => return None,
    };
    Some((node, payload))
}
