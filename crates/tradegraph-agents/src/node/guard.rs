//! The risk guard as a node: code, not a model, rules on the portfolio manager's decision.

use super::Desk;
use crate::state::TradingStateUpdate;
use crate::TradingState;
use async_trait::async_trait;
use std::sync::Arc;
use tradegraph_core::order::DecisionId;
use tradegraph_core::risk::Proposal;
use tradegraph_core::Timeframe;
use tradegraph_graph::{Command, Node, NodeContext, NodeError, NodeResult};

/// Turns the decision into a [`Proposal`] and has the
/// [`RiskGuard`](tradegraph_core::risk::RiskGuard) rule on it against the account, the price,
/// the session and recent volatility. Writes the verdict, and the guard's state after it (for a
/// run continued after a crash). The decision's free text is passed along for the record and
/// never read.
#[derive(Debug, Clone)]
pub struct GuardNode {
    desk: Desk,
    timeframe: Timeframe,
}

impl GuardNode {
    /// A guard node measuring volatility on `timeframe` candles.
    pub fn new(desk: Desk, timeframe: Timeframe) -> Self {
        Self { desk, timeframe }
    }
}

/// The guard's proposal for a decision (a HOLD when there is none).
pub fn proposal(state: &TradingState) -> Proposal {
    let id = DecisionId::at(&state.instrument.symbol, state.as_of);
    let Some(d) = state.decision.as_ref().map(|d| &d.report) else {
        return Proposal::hold(id);
    };
    let mut p = Proposal::new(id, d.action, d.size_pct)
        .with_confidence(d.confidence)
        .with_rationale(d.rationale.clone());
    if let Some(stop) = d.stop_loss {
        p = p.with_stop_loss(stop);
    }
    if let Some(target) = d.take_profit {
        p = p.with_take_profit(target);
    }
    if let Some(pct) = d.trailing_pct {
        p = p.with_trailing_distance(state.market.price_f64() * pct / 100.0);
    }
    p
}

#[async_trait]
impl Node<TradingState> for GuardNode {
    async fn run(&self, state: Arc<TradingState>, _ctx: NodeContext) -> NodeResult<TradingState> {
        let account = state.account.as_ref().ok_or_else(|| {
            NodeError::Failed("the risk guard needs the account in the state".into())
        })?;
        let volatility = crate::book::guard_volatility(&state, self.timeframe);
        // The guard rules at the time it runs (live, after the models took their time; in a
        // backtest, the simulated clock stands at the decision time): its time rules (the NSE
        // cutoff, the square-off) and the verdict's age count from then.
        let now = self.desk.market().now().max(state.as_of);
        let context = crate::book::risk_context(&state, account, state.market.price, now)
            .with_volatility(volatility);
        let proposal = proposal(&state);
        let (verdict, latched) = {
            let mut guard = self
                .desk
                .guard()
                .lock()
                .map_err(|_| NodeError::Failed("the risk guard's lock is poisoned".into()))?;
            let verdict = guard.evaluate(&proposal, &context);
            (verdict, guard.state().clone())
        };
        for finding in &verdict.findings {
            tracing::info!(symbol = %state.instrument.symbol, effect = ?finding.effect, reason = %finding.reason, "risk guard");
        }
        Ok(Command::update(
            TradingStateUpdate::default()
                .verdict(Some(verdict))
                .guard(Some(latched)),
        ))
    }
}
