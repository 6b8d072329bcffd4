//! The execution agent: deterministic, turns an approved verdict into orders.

use super::Desk;
use crate::state::TradingStateUpdate;
use crate::TradingState;
use async_trait::async_trait;
use std::sync::Arc;
use tradegraph_core::order::DecisionId;
use tradegraph_graph::{Command, Node, NodeContext, NodeError, NodeResult};

/// Submits the verdict's order intent to the broker: a market order with idempotent client
/// order ids derived from the decision, and the stop-loss, take-profit and trailing stop the
/// guard set attached. A retry or a replay of the same decision cannot double the order.
#[derive(Debug, Clone)]
pub struct ExecutionNode {
    desk: Desk,
}

impl ExecutionNode {
    /// An execution node sending to the desk's broker.
    pub fn new(desk: Desk) -> Self {
        Self { desk }
    }
}

#[async_trait]
impl Node<TradingState> for ExecutionNode {
    async fn run(&self, state: Arc<TradingState>, _ctx: NodeContext) -> NodeResult<TradingState> {
        let Some(verdict) = state.verdict.as_ref() else {
            return Ok(Command::update(TradingStateUpdate::default()));
        };
        let Some(intent) = verdict.intent.as_ref() else {
            return Ok(Command::update(TradingStateUpdate::default()));
        };
        // Only this cycle's ruling on this instrument goes out: a verdict carried over by a
        // resume, or written by anything but the guard for this decision, is refused.
        let expected = DecisionId::at(&state.instrument.symbol, state.as_of);
        if verdict.at != state.as_of
            || verdict.symbol != state.instrument.symbol
            || verdict.decision_id != expected
            || intent.decision_id != expected
        {
            return Err(NodeError::Failed(format!(
                "refusing a verdict that is not this cycle's: decision `{}` at {}, expected `{}` at {}",
                verdict.decision_id.as_str(),
                verdict.at,
                expected.as_str(),
                state.as_of
            )));
        }
        let order = self
            .desk
            .broker
            .submit(intent.to_request())
            .await
            .map_err(|e| NodeError::Transient(format!("{}: {e}", self.desk.broker.name())))?;
        tracing::info!(symbol = %state.instrument.symbol, client_id = %order.request.client_id, status = ?order.status, "order submitted");
        let fills: Vec<_> = self
            .desk
            .broker
            .fills_since(0)
            .await
            .map_err(|e| NodeError::Transient(format!("{}: {e}", self.desk.broker.name())))?
            .into_iter()
            .filter(|f| f.client_id == order.request.client_id)
            .collect();
        Ok(Command::update(
            TradingStateUpdate::default()
                .orders(vec![order])
                .fills(fills),
        ))
    }
}
