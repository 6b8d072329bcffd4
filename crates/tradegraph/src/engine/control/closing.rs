//! Acting on the position and the working orders at the broker: closing the position (an
//! operator's close-all, the kill switch) and cancelling working orders by kind (entries,
//! exits, closes).

use super::close::{next_attempt, working_close, CloseAttempt};
use super::Reply;
use super::ReplyKind;
use crate::engine::journal::Execution;
use crate::engine::observe::{BotEvent, OrderEvent};
use crate::engine::{Engine, EngineError};
use futures::Stream;
use serde_json::json;
use tradegraph_broker::{Broker, BrokerError};
use tradegraph_core::order::{Exits, IntentPurpose, Order, OrderIntent, OrderSide, OrderStatus};
use tradegraph_core::risk::{Action, RiskContext, Verdict, VerdictStatus};
use tradegraph_market::{Clock, MarketEvent};

/// Which working orders of the instrument a cancel takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancel {
    /// Orders that open or add to a position (not reduce-only, not an exit).
    Entries,
    /// The exits (stop-loss, take-profit) attached to an entry.
    Exits,
    /// Everything but the exits (entries, and closes still working).
    AllButExits,
    /// Everything.
    All,
}

impl Cancel {
    fn takes(self, order: &Order) -> bool {
        let exit = order.parent.is_some();
        match self {
            Self::Entries => !exit && !order.request.reduce_only,
            Self::Exits => exit,
            Self::AllButExits => !exit,
            Self::All => true,
        }
    }
}

/// What a close-all can do now.
pub(crate) enum CloseNow {
    /// The close may go: the guard re-checked it, nothing else closes the position.
    Go(Box<OrderIntent>),
    /// No open position: nothing to close.
    Flat(Reply),
    /// It cannot go now (no price yet, the guard refuses, a close still works, the broker
    /// cannot be read): why.
    Wait(Reply),
}

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Closes the position now: a reduce-only market order for the whole of it, re-checked by
    /// the guard (the market is open, there is something to close), journaled before it goes
    /// out, with a client order id derived from the open trade and the attempt: a close that
    /// was rejected or cancelled can be tried again (sized by the position read right before
    /// it goes: a venue has no reduce-only to cap it), one
    /// still working — this one's or any other close of the position — is not doubled, and
    /// the same attempt is never sent twice.
    pub(super) async fn close_all(&mut self) -> Result<Reply, EngineError> {
        match self.prepare_close().await? {
            CloseNow::Go(intent) => self.send_close(*intent).await,
            CloseNow::Flat(reply) | CloseNow::Wait(reply) => Ok(reply),
        }
    }

    /// Whether a close of the whole position can go now, and the close when it can.
    ///
    /// # Errors
    /// Only what stops the bot (a poisoned guard); the broker's refusals are in the answer.
    pub(in crate::engine) async fn prepare_close(&mut self) -> Result<CloseNow, EngineError> {
        let symbol = self.config.instrument.symbol.clone();
        let position = match self.broker.positions().await {
            Ok(positions) => positions
                .into_iter()
                .find(|p| p.symbol == symbol && !p.quantity.is_zero()),
            Err(e) => {
                return Ok(CloseNow::Wait(Reply::failed(format!(
                    "the broker's positions: {e}"
                ))))
            }
        };
        let Some(position) = position else {
            return Ok(CloseNow::Flat(Reply::refused(format!(
                "no open position in {symbol}: nothing to close"
            ))));
        };
        let wait = |reply| Ok(CloseNow::Wait(reply));
        let Some(price) = self.desk.market().price() else {
            return wait(Reply::refused(
                "no market price seen since the bot started: wait for the feed",
            ));
        };
        let account = match self.broker.account().await {
            Ok(account) => account,
            Err(e) => return wait(Reply::failed(format!("the broker's account: {e}"))),
        };
        let still = |client_id| {
            Reply::refused(format!(
                "an earlier close of this position ({client_id}) still works at the broker: \
                 wait for it, or cancel it (POST /api/v1/cancel-all) and close again"
            ))
        };
        match working_close(self.broker.as_ref(), &symbol).await {
            Ok(None) => {}
            Ok(Some(client_id)) => return wait(still(client_id)),
            Err(e) => return wait(Reply::failed(format!("the broker's working orders: {e}"))),
        }
        let trade = match self.ledger.open_trade() {
            Some(t) => t.trade_id,
            None => format!("position-{}", position.opened_at.map_or(0, |t| t.millis())),
        };
        let decision =
            match next_attempt(&self.broker, &symbol, &trade, &mut self.closes_finished).await {
                Ok(CloseAttempt::Next(decision)) => decision,
                Ok(CloseAttempt::Working(client_id)) => return wait(still(client_id)),
                Ok(CloseAttempt::Exhausted) => {
                    return wait(Reply::refused(format!(
                        "this position ({trade}) was already closed too many times; close it at \
                     the broker"
                    )))
                }
                Err(e) => {
                    return wait(Reply::failed(format!(
                        "the broker's earlier close orders: {e}"
                    )))
                }
            };
        let side = if position.quantity.is_sign_positive() {
            OrderSide::Sell
        } else {
            OrderSide::Buy
        };
        let now = self.clock.now();
        let intent = OrderIntent {
            symbol: symbol.clone(),
            decision_id: decision.clone(),
            purpose: IntentPurpose::Close,
            side,
            quantity: position.quantity.abs(),
            reference_price: price,
            exits: Exits::default(),
        };
        let verdict = Verdict {
            decision_id: decision,
            symbol,
            at: now,
            action: Action::Close,
            status: VerdictStatus::Approved,
            intent: Some(intent.clone()),
            findings: Vec::new(),
        };
        let recheck = {
            let context = RiskContext::new(&self.config.instrument, &account, price, now);
            let guard = self
                .desk
                .guard()
                .lock()
                .map_err(|_| EngineError::Poisoned("the risk guard"))?;
            guard.recheck(&verdict, &context, i64::MAX)
        };
        if let Err(finding) = recheck {
            return wait(Reply::refused(format!(
                "the risk guard refused the close: {}",
                finding.reason
            )));
        }
        Ok(CloseNow::Go(Box::new(intent)))
    }

    /// Sends a close [`prepare_close`](Self::prepare_close) allowed, keeping the exits that
    /// protect the position safe: where the broker makes room for a close
    /// ([`Broker::closes_around_exits`]: Binance lifts the OCO and places it again for what is
    /// left, the paper broker's exits are reduce-only) it goes while they work; without
    /// reduce-only orders (Kite: an exit left working could sell the closed position again)
    /// they are cancelled right before it, and the close waits when they could not all be.
    /// Returns the exits' cancel (when one was needed) and the close's answer (`None`: it
    /// waits).
    ///
    /// # Errors
    /// Only what stops the bot (a state conflict); the broker's refusals are in the answers.
    pub(in crate::engine) async fn close_past_exits(
        &mut self,
        intent: OrderIntent,
    ) -> Result<(Option<Reply>, Option<Reply>), EngineError> {
        if self.broker.closes_around_exits() {
            return Ok((None, Some(self.send_close(intent).await?)));
        }
        let exits = self.cancel(Cancel::Exits).await?;
        if exits.kind != ReplyKind::Done {
            return Ok((Some(exits), None));
        }
        let closed = self.send_close(intent).await?;
        Ok((Some(exits), Some(closed)))
    }

    /// Sends a close [`prepare_close`](Self::prepare_close) allowed, and reads its fills.
    ///
    /// # Errors
    /// Only what stops the bot (a state conflict); the broker's refusals are in the answer.
    pub(super) async fn send_close(&mut self, intent: OrderIntent) -> Result<Reply, EngineError> {
        let symbol = intent.symbol.clone();
        self.broker.begin(intent.decision_id.clone());
        let order = match self.broker.submit(intent.to_request()).await {
            Ok(order) => order,
            Err(e) => return Ok(Reply::failed(format!("the close was not sent: {e}"))),
        };
        let event = OrderEvent::from(&order);
        self.observer.publish(|| BotEvent::Order(event.clone()));
        self.read_fills(None).await?;
        if order.status == OrderStatus::Rejected {
            return Ok(Reply::refused(format!(
                "the broker refused the close: {}",
                order.reason.as_deref().unwrap_or("no reason given")
            )));
        }
        Ok(Reply::done(
            format!("closing {} {symbol} ({:?})", intent.quantity, order.status),
            json!({"orders": [event]}),
        ))
    }

    /// Cancels the working orders of the instrument; the exits protecting the open position
    /// only with `include_exits`.
    pub(super) async fn cancel_all(&mut self, include_exits: bool) -> Result<Reply, EngineError> {
        let which = if include_exits {
            Cancel::All
        } else {
            Cancel::AllButExits
        };
        self.cancel(which).await
    }

    /// Cancels the working orders of the instrument that `which` takes; the others are kept
    /// (the exits among them are listed as kept).
    pub(in crate::engine) async fn cancel(&mut self, which: Cancel) -> Result<Reply, EngineError> {
        let symbol = self.config.instrument.symbol.clone();
        let working = match self.broker.open_orders().await {
            Ok(orders) => orders,
            Err(e) => return Ok(Reply::failed(format!("the broker's working orders: {e}"))),
        };
        let mut cancelled = Vec::new();
        let mut kept = Vec::new();
        let mut failed = Vec::new();
        let mut ended = Vec::new();
        for order in working.into_iter().filter(|o| o.request.symbol == symbol) {
            if !which.takes(&order) {
                if order.parent.is_some() {
                    kept.push(order.request.client_id.as_str().to_owned());
                }
                continue;
            }
            match self.broker.cancel(&order.request.client_id).await {
                Ok(done) => {
                    let event = OrderEvent::from(&done);
                    self.observer.publish(|| BotEvent::Order(event.clone()));
                    cancelled.push(event);
                }
                // Ended meanwhile (the venue cancelled an OCO list's other leg with the first,
                // or it filled): nothing works under this id any more, which is what was asked.
                Err(BrokerError::NotCancellable { status, .. }) if status.is_terminal() => {
                    ended.push(format!("{} ({status})", order.request.client_id));
                }
                // An exit gone with another (a Kite GTT's other leg, deleted with the first).
                Err(BrokerError::UnknownOrder(_)) if order.parent.is_some() => {
                    ended.push(format!("{} (gone)", order.request.client_id));
                }
                Err(e) => failed.push(format!("{}: {e}", order.request.client_id)),
            }
        }
        let detail =
            json!({"cancelled": cancelled, "ended": ended, "kept": kept, "failed": failed});
        if !failed.is_empty() {
            return Ok(Reply {
                detail,
                ..Reply::failed(format!(
                    "some orders were not cancelled: {}",
                    failed.join("; ")
                ))
            });
        }
        let mut message = format!("{} working order(s) cancelled", cancelled.len());
        if !kept.is_empty() {
            message += &format!("; {} exit(s) protecting the open position kept", kept.len());
            if which == Cancel::AllButExits {
                message += " (include_exits cancels them too)";
            }
        }
        Ok(Reply::done(message, detail))
    }
}
