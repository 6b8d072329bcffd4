//! Carrying out operators' commands inside the engine's loop, and recording each.

use super::close::{next_attempt, CloseAttempt};
use super::{Command, Envelope, Reply, Resolution};
use crate::engine::journal::Execution;
use crate::engine::observe::{wall_now, BotEvent, OrderEvent};
use crate::engine::state::PauseState;
use crate::engine::{Engine, EngineError};
use futures::Stream;
use serde_json::json;
use std::sync::atomic::Ordering;
use tradegraph_agents::TradingState;
use tradegraph_broker::Broker;
use tradegraph_core::order::{Exits, IntentPurpose, OrderIntent, OrderSide, OrderStatus};
use tradegraph_core::risk::{Action, RiskContext, Verdict, VerdictStatus};
use tradegraph_market::{Clock, MarketEvent};
use tradegraph_store::{OperatorAction, StatePart};

/// Who settles, in the operator log, an approval whose order was sent before a restart.
const SETTLED_BY: &str = "restart";

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Carries out a command between market events.
    pub(crate) async fn on_command<O: FnMut(&TradingState)>(
        &mut self,
        envelope: Envelope,
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        if envelope.command.is_switch() {
            return self.switch(envelope).await;
        }
        if envelope.reply.is_closed() {
            // Its caller stopped waiting (the HTTP request timed out): not carried out.
            tracing::warn!(
                action = envelope.command.action(),
                "a command is dropped: its caller stopped waiting before the bot took it"
            );
            return Ok(());
        }
        let Envelope {
            command,
            source,
            reply,
        } = envelope;
        let by = source.as_deref();
        let answer = match &command {
            Command::CloseAll => self.close_all().await?,
            Command::CancelAll { include_exits } => self.cancel_all(*include_exits).await?,
            Command::Approve { id } => {
                Box::pin(self.resolve(id, Resolution::Approved, by, on_cycle)).await?
            }
            Command::Reject { id, reason } => {
                let resolution = Resolution::Rejected(reason.clone());
                Box::pin(self.resolve(id, resolution, by, on_cycle)).await?
            }
            Command::KillSwitch { .. } | Command::PauseEntries { .. } => {
                Reply::refused("a switch is carried out by `switch`")
            }
        };
        self.answer(&command, source.as_deref(), reply, answer)
            .await
    }

    /// Flips the kill switch or the pause, saves it, and answers.
    pub(crate) async fn switch(&mut self, envelope: Envelope) -> Result<(), EngineError> {
        let Envelope {
            command,
            source,
            reply,
        } = envelope;
        let answer = match command {
            Command::KillSwitch { engaged } => self.set_kill_switch(engaged).await?,
            Command::PauseEntries { paused } => self.set_paused(paused).await?,
            _ => Reply::refused("not a switch"),
        };
        self.answer(&command, source.as_deref(), reply, answer)
            .await
    }

    pub(crate) async fn answer(
        &mut self,
        command: &Command,
        source: Option<&str>,
        reply: tokio::sync::oneshot::Sender<Reply>,
        answer: Reply,
    ) -> Result<(), EngineError> {
        self.record_action(command, source, &answer).await;
        self.refresh_status();
        // The operator may have gone (a closed connection): the action stands and is recorded.
        let _ = reply.send(answer);
        Ok(())
    }

    async fn set_kill_switch(&mut self, engaged: bool) -> Result<Reply, EngineError> {
        let was = self.kill_switch.is_engaged();
        if engaged {
            self.kill_switch.engage();
        } else {
            self.kill_switch.release();
        }
        self.save_kill_switch().await?;
        if was != engaged {
            self.observer.publish(|| BotEvent::KillSwitch {
                engaged,
                at: wall_now(),
            });
            self.observer.status(|s| {
                s.kill_switch = engaged;
                true
            });
        }
        let message = match (
            engaged,
            self.config.risk_limits.kill_switch_closes_positions,
        ) {
            (true, true) => {
                "the kill switch is engaged: nothing is opened, and open positions \
                             are closed at the next decision cycle (POST /api/v1/close-all \
                             closes them now)"
            }
            (true, false) => "the kill switch is engaged: nothing is opened",
            (false, _) => "the kill switch is released: entries are allowed again",
        };
        Ok(Reply::done(
            message,
            json!({"engaged": engaged, "changed": was != engaged}),
        ))
    }

    async fn set_paused(&mut self, paused: bool) -> Result<Reply, EngineError> {
        let was = self.ops.gate.paused.swap(paused, Ordering::SeqCst);
        self.save_pause().await?;
        if was != paused {
            self.observer.status(|s| {
                s.entries_paused = paused;
                true
            });
        }
        let message = if paused {
            "new entries are paused: the bot only reduces (exits, stops and closes go on)"
        } else {
            "new entries are allowed again"
        };
        Ok(Reply::done(
            message,
            json!({"paused": paused, "changed": was != paused}),
        ))
    }

    /// Saves the pause when it changed since its last save (an outage is retried each second).
    pub(crate) async fn save_pause(&mut self) -> Result<(), EngineError> {
        let paused = self.ops.gate.paused.load(Ordering::SeqCst);
        if paused == self.ops.saved_paused {
            return Ok(());
        }
        let value = PauseState {
            paused,
            changed_at: Some(self.clock.now()),
        };
        let saved = self.state.save(StatePart::Pause, &value).await;
        let written = saved.is_ok();
        self.saved(StatePart::Pause, saved)?;
        if written {
            self.ops.saved_paused = paused;
        }
        Ok(())
    }

    /// Closes the position now: a reduce-only market order for the whole of it, re-checked by
    /// the guard (the market is open, there is something to close), journaled before it goes
    /// out, with a client order id derived from the open trade and the attempt: a close that
    /// was rejected or cancelled can be tried again (reduce-only, it cannot over-close), one
    /// still working is not doubled, and the same attempt is never sent twice.
    async fn close_all(&mut self) -> Result<Reply, EngineError> {
        let symbol = self.config.instrument.symbol.clone();
        let position = match self.broker.positions().await {
            Ok(positions) => positions
                .into_iter()
                .find(|p| p.symbol == symbol && !p.quantity.is_zero()),
            Err(e) => return Ok(Reply::failed(format!("the broker's positions: {e}"))),
        };
        let Some(position) = position else {
            return Ok(Reply::refused(format!(
                "no open position in {symbol}: nothing to close"
            )));
        };
        let Some(price) = self.desk.market().price() else {
            return Ok(Reply::refused(
                "no market price seen since the bot started: wait for the feed",
            ));
        };
        let account = match self.broker.account().await {
            Ok(account) => account,
            Err(e) => return Ok(Reply::failed(format!("the broker's account: {e}"))),
        };
        let trade = match self.ledger.open_trade() {
            Some(t) => t.trade_id,
            None => format!("position-{}", position.opened_at.map_or(0, |t| t.millis())),
        };
        let decision = match next_attempt(&self.broker, &symbol, &trade).await {
            Ok(CloseAttempt::Next(decision)) => decision,
            Ok(CloseAttempt::Working(client_id)) => {
                return Ok(Reply::refused(format!(
                    "an earlier close-all of this position ({client_id}) still works at the \
                     broker: wait for it, or cancel it (POST /api/v1/cancel-all) and close again"
                )))
            }
            Ok(CloseAttempt::Exhausted) => {
                return Ok(Reply::refused(format!(
                    "this position ({trade}) was already closed too many times; close it at \
                     the broker"
                )))
            }
            Err(e) => {
                return Ok(Reply::failed(format!(
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
            decision_id: decision.clone(),
            symbol: symbol.clone(),
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
                .guard
                .lock()
                .map_err(|_| EngineError::Poisoned("the risk guard"))?;
            guard.recheck(&verdict, &context, i64::MAX)
        };
        if let Err(finding) = recheck {
            return Ok(Reply::refused(format!(
                "the risk guard refused the close: {}",
                finding.reason
            )));
        }
        self.broker.begin(decision);
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
    async fn cancel_all(&mut self, include_exits: bool) -> Result<Reply, EngineError> {
        let symbol = self.config.instrument.symbol.clone();
        let working = match self.broker.open_orders().await {
            Ok(orders) => orders,
            Err(e) => return Ok(Reply::failed(format!("the broker's working orders: {e}"))),
        };
        let mut cancelled = Vec::new();
        let mut kept = Vec::new();
        let mut failed = Vec::new();
        for order in working.into_iter().filter(|o| o.request.symbol == symbol) {
            if order.parent.is_some() && !include_exits {
                kept.push(order.request.client_id.as_str().to_owned());
                continue;
            }
            match self.broker.cancel(&order.request.client_id).await {
                Ok(done) => {
                    let event = OrderEvent::from(&done);
                    self.observer.publish(|| BotEvent::Order(event.clone()));
                    cancelled.push(event);
                }
                Err(e) => failed.push(format!("{}: {e}", order.request.client_id)),
            }
        }
        let detail = json!({"cancelled": cancelled, "kept": kept, "failed": failed});
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
            message += &format!(
                "; {} exit(s) protecting the open position kept (include_exits cancels them too)",
                kept.len()
            );
        }
        Ok(Reply::done(message, detail))
    }

    /// Writes the approvals settled at start (their order was sent before the bot restarted,
    /// the approval not yet saved as settled) to the operator log, as approved by `restart`.
    pub(crate) async fn record_settled_at_start(&mut self) {
        for view in std::mem::take(&mut self.ops.settled_at_start) {
            let command = Command::Approve {
                id: view.id.clone(),
            };
            let answer = Reply::done(
                format!(
                    "settled at restart: order {} was sent before the bot restarted (the broker \
                     has it); it is not sent again",
                    view.client_id
                ),
                json!({"id": view.id, "client_id": view.client_id, "settled_at": "restart"}),
            );
            self.record_action(&command, Some(SETTLED_BY), &answer)
                .await;
        }
    }

    /// Records a command in the operator log (behind, so a database outage never holds an
    /// operator up) and on the event stream.
    async fn record_action(&mut self, command: &Command, source: Option<&str>, answer: &Reply) {
        self.ops.actions += 1;
        let at = wall_now();
        let symbol = self.config.instrument.symbol.clone();
        let mut action = OperatorAction::new(symbol, at, self.ops.actions, command.action())
            .outcome(answer.outcome(), answer.message.clone());
        if let Some(source) = source {
            action = action.source(source);
        }
        if !answer.detail.is_null() {
            action.extra.insert("detail".into(), answer.detail.clone());
        }
        tracing::info!(
            action = command.action(),
            source,
            outcome = answer.outcome().as_str(),
            message = %answer.message,
            "operator action"
        );
        if let Err(e) = self.config.stores.operators.record_action(&action).await {
            self.summary.store_errors += 1;
            tracing::warn!(error = %e, "store: operator action not written");
        }
        self.flush_logs().await;
        self.observer.publish(|| BotEvent::OperatorAction {
            action: action.action.clone(),
            source: action.source.clone(),
            outcome: action.outcome,
            message: action.message.clone(),
            at,
        });
    }
}
