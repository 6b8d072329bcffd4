//! The execution agent: deterministic, turns an approved verdict into orders.

use super::Desk;
use crate::state::TradingStateUpdate;
use crate::TradingState;
use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tradegraph_broker::BrokerError;
use tradegraph_core::order::DecisionId;
use tradegraph_core::order::IntentPurpose;
use tradegraph_core::risk::{BadInput, Effect, Finding, RiskReason};
use tradegraph_core::Decimal;
use tradegraph_graph::{Command, Node, NodeContext, NodeError, NodeResult};

/// Submits the verdict's order intent to the broker: a market order with idempotent client
/// order ids derived from the decision, and the stop-loss, take-profit and trailing stop the
/// guard set attached. A retry or a replay of the same decision cannot double the order.
///
/// Before the order goes out, the guard re-checks the verdict on the market as it is then (the
/// desk's [`MarketNow`](super::MarketNow)): a verdict older than the limit, an entry after the
/// session's cutoff, a price through the stop or moved beyond the stop distance are refused,
/// and the refusal is written to the state's `refusal`.
#[derive(Debug, Clone)]
pub struct ExecutionNode {
    desk: Desk,
    /// The newest fill already looked at, so each order reads only the fills after it.
    seen: Arc<AtomicU64>,
}

impl ExecutionNode {
    /// An execution node sending to the desk's broker.
    pub fn new(desk: Desk) -> Self {
        Self {
            desk,
            seen: Arc::new(AtomicU64::new(0)),
        }
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
        if verdict.symbol != state.instrument.symbol
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
        // The market may have moved since the guard ruled (an approval, an interrupt, a slow
        // model): the guard checks the verdict again on the price and time as they are now.
        let market = self.desk.market();
        let now = market.now();
        // No price seen yet (nothing has traded since the bot started): an entry cannot be
        // checked, so it does not go out; a close may (it only lowers the risk).
        let Some(price) = market
            .price()
            .or_else(|| (intent.purpose == IntentPurpose::Close).then_some(state.market.price))
        else {
            let finding = Finding {
                effect: Effect::Rejected,
                reason: RiskReason::BadInput {
                    input: BadInput::Price,
                    value: "no market price seen since the bot started".into(),
                },
            };
            tracing::warn!(symbol = %state.instrument.symbol, decision = %verdict.decision_id, "execution refused: no market price yet");
            return Ok(Command::update(
                TradingStateUpdate::default().refusal(Some(finding)),
            ));
        };
        let account = self
            .desk
            .broker()
            .account()
            .await
            .map_err(|e| NodeError::Transient(format!("{}: {e}", self.desk.broker().name())))?;
        let max_age_ms = i64::try_from(market.verdict_age_limit().as_millis()).unwrap_or(i64::MAX);
        let recheck = {
            let context = crate::book::risk_context(&state, &account, price, now);
            let guard = self
                .desk
                .guard()
                .lock()
                .map_err(|_| NodeError::Failed("the risk guard's lock is poisoned".into()))?;
            guard.recheck(verdict, &context, max_age_ms)
        };
        if let Err(finding) = recheck {
            tracing::warn!(symbol = %state.instrument.symbol, decision = %verdict.decision_id, reason = %finding.reason, "execution refused: the verdict no longer holds");
            return Ok(Command::update(
                TradingStateUpdate::default().refusal(Some(finding)),
            ));
        }
        let mut request = intent.to_request();
        if intent.purpose == IntentPurpose::Close {
            // Sized by the position now, not when the cycle began (an exit may have filled
            // part of it since): a venue has no reduce-only to cap it, and more would open the
            // other side.
            let held = account
                .position(&state.instrument.symbol)
                .map_or(Decimal::ZERO, |p| p.quantity.abs());
            if request.quantity > held {
                tracing::info!(symbol = %state.instrument.symbol, decided = %request.quantity, %held, "close sized down to the position held now");
                request.quantity = held;
            }
        }
        let order = match self.desk.broker().submit(request.clone()).await {
            Ok(order) => order,
            // A cycle run again after a restart: the journal knows the order and does not send
            // it again. That is the cycle's outcome, recorded like any refusal.
            Err(BrokerError::NotRepeated { client_id, why }) => {
                let finding = Finding {
                    effect: Effect::Rejected,
                    reason: RiskReason::OrderNotRepeated { client_id, why },
                };
                tracing::warn!(symbol = %state.instrument.symbol, decision = %verdict.decision_id, reason = %finding.reason, "execution refused");
                return Ok(Command::update(
                    TradingStateUpdate::default().refusal(Some(finding)),
                ));
            }
            // The kill switch engaged between the check above and the send: a refusal.
            Err(BrokerError::KillSwitch { client_id }) => {
                let finding = Finding {
                    effect: Effect::Rejected,
                    reason: RiskReason::KillSwitch,
                };
                tracing::warn!(symbol = %state.instrument.symbol, decision = %verdict.decision_id, %client_id, reason = %finding.reason, "execution refused");
                return Ok(Command::update(
                    TradingStateUpdate::default().refusal(Some(finding)),
                ));
            }
            Err(e) => {
                return Err(NodeError::Transient(format!(
                    "{}: {e}",
                    self.desk.broker().name()
                )))
            }
        };
        tracing::info!(symbol = %state.instrument.symbol, client_id = %order.request.client_id, status = ?order.status, "order submitted");
        let new_fills = self
            .desk
            .broker()
            .fills_since(self.seen.load(Ordering::Acquire))
            .await
            .map_err(|e| NodeError::Transient(format!("{}: {e}", self.desk.broker().name())))?;
        if let Some(last) = new_fills.last() {
            self.seen.fetch_max(last.seq, Ordering::AcqRel);
        }
        let fills: Vec<_> = new_fills
            .into_iter()
            .filter(|f| f.client_id == order.request.client_id)
            .collect();
        // The journal answered with an order placed by an earlier run of this cycle (before a
        // restart), not the one asked for now: say so in the cycle's record.
        let placed_earlier = (order.request != request).then(|| order.request.client_id.clone());
        if let Some(client_id) = &placed_earlier {
            tracing::warn!(symbol = %state.instrument.symbol, %client_id, "order placed by an earlier run of this cycle: nothing sent now");
        }
        Ok(Command::update(
            TradingStateUpdate::default()
                .orders(vec![order])
                .fills(fills)
                .placed_earlier(placed_earlier),
        ))
    }
}
