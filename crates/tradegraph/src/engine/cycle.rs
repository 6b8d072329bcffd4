//! One decision cycle, and what follows from it: the decision log, the lessons, the trade
//! ledger from the broker's fills, and the state saved.

use super::graph_run::Start;
use super::journal::Execution;
use super::ledger::{EntryContext, LedgerEvent};
use super::observe::{BotEvent, DecisionEvent, FillEvent, OrderEvent, TradeClosedEvent};
use super::{record, Engine, EngineError, Mode};
use futures::Stream;
use tracing::Instrument;
use tradegraph_agents::TradingState;
use tradegraph_broker::Broker;
use tradegraph_core::order::DecisionId;
use tradegraph_core::Timestamp;
use tradegraph_market::{Clock, MarketEvent};
use tradegraph_store::StatePart;

/// Which cycle a run belongs to.
#[derive(Debug, Clone)]
pub(crate) struct CycleMeta {
    /// Its decision (and graph thread).
    pub(crate) id: DecisionId,
    /// Its number since the bot first started.
    pub(crate) seq: u64,
    /// Its market time.
    pub(crate) as_of: Timestamp,
    /// Closed trades handed to its learner.
    pub(crate) learned: usize,
}

/// How long a checkpoint waits for the logs before it (decisions, trades, lessons) to be in
/// MongoDB or the spill file. Longer than a healthy write; short enough that a MongoDB outage
/// does not hold up the market events (stops, the hot cache) behind it for the write timeout.
const LOGS_DURABLE_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);
/// The same with [`BotConfig::strict_saves`](super::BotConfig::strict_saves) (a worker, whose
/// lease is renewed meanwhile): a MongoDB election takes up to about 12 s.
const STRICT_DURABLE_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Runs one cycle of the graph on the agents' view as it is now. An entry that must wait
    /// for an operator parks the cycle ([`park`](Self::park)); it finishes when the order is
    /// approved, rejected, expires, or the next cycle supersedes it.
    pub(super) async fn cycle<O: FnMut(&TradingState)>(
        &mut self,
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        let symbol = self.config.instrument.symbol.clone();
        let started = std::time::Instant::now();
        let snapshot = self.builder.snapshot();
        let as_of = snapshot.as_of;
        let id = DecisionId::at(&symbol, as_of);
        let seq = self.sequence.cycles + 1;
        let mut state = TradingState::new(
            self.config.instrument.clone(),
            snapshot,
            self.config.inputs_at(as_of).await,
        );
        let mut account = match self.broker.account().await {
            Ok(account) => account,
            Err(e) if self.config.mode == Mode::Backtest => return Err(e.into()),
            // A venue that does not answer for once (a timeout, a 5xx, a rate limit) skips
            // this cycle; the bot goes on (its stops, square-off and kill switch with it).
            Err(e) => {
                crate::telemetry::record_cycle_failure(symbol.as_str(), started.elapsed());
                self.summary.cycle_errors += 1;
                self.summary.broker_errors += 1;
                tracing::error!(%symbol, decision = %id, error = %e, "decision cycle skipped: the broker's account is unreadable; the bot goes on (an entry waiting for approval still waits)");
                return Ok(());
            }
        };
        // An order still waiting for approval is superseded by this decision (once it is
        // made: a cycle skipped supersedes nothing).
        self.supersede_approvals(on_cycle).await?;
        // The position as the agents are shown it: the bot's trade's entry and opening time,
        // which the venue may not keep.
        for position in &mut account.positions {
            self.ledger.describe(position);
        }
        state.account = Some(account);
        // The book the risk manager and the portfolio manager decide on: the instrument's
        // working orders, what the guard allows now and what the bot holds back. Without the
        // working orders (the venue did not answer) the agents decide without the book.
        state.book = match self.broker.open_orders().await {
            Ok(orders) => {
                let timeframe = self.config.brain.rules().timeframe;
                self.desk.book(&state, orders, timeframe)
            }
            Err(e) => {
                tracing::warn!(%symbol, error = %e, "working orders unreadable: this cycle's agents decide without the book");
                None
            }
        };
        if let Some(book) = state.book.as_mut() {
            book.holds = self.ops.gate.holds();
        }
        {
            let learner = self
                .desk
                .learner()
                .lock()
                .map_err(|_| EngineError::Poisoned("the learner"))?;
            state.weights = learner.weights().clone();
            state.lessons = learner.similar(&state.situation(), self.config.recall);
            state.amendments = learner.prompt_versions().adopted_amendments();
        }
        // Handed to the learner, and dropped from the ledger only once the learner is saved
        // (the learner judges a trade once, even if handed over again).
        state.closed_trades = self.ledger.unlearned().to_vec();
        let mut learned = state.closed_trades.len();
        self.broker.begin(id.clone());
        // The model's budgets per cycle and per day count from here.
        if let Some(model) = self.config.brain.model() {
            model.begin_cycle(as_of);
        }
        let span = tracing::info_span!("cycle", %symbol, decision = %id, seq);
        let start = match self.cut_short(&id).await? {
            Some(step) => {
                tracing::warn!(%symbol, decision = %id, step, "decision cycle resumed from its checkpoint (its run was cut short)");
                // The checkpoint's state, not this one, goes on: whether its learning agent
                // judged the closed trades before the cut (the learner's record of that died
                // with the process) is not known, so they stay with the ledger and the next
                // cycle hands them over again (the learner judges a trade once).
                learned = 0;
                Start::Continue
            }
            None => Start::Fresh(Box::new(state)),
        };
        let run = Box::pin(self.run_graph(start, id.as_str()))
            .instrument(span)
            .await?;
        let meta = CycleMeta {
            id,
            seq,
            as_of,
            learned,
        };
        match run {
            Ok(out) => {
                // What it came to is recorded when it ends (`finish_cycle`): at once, or when
                // the order waiting for approval is resolved.
                crate::telemetry::record_cycle_time(symbol.as_str(), as_of, started.elapsed());
                if out.is_interrupted() {
                    self.park(out, meta, on_cycle).await
                } else {
                    self.finish_cycle(out.state, meta, None, on_cycle).await
                }
            }
            Err(e) => {
                self.forget_run(&meta.id).await;
                crate::telemetry::record_cycle_failure(symbol.as_str(), started.elapsed());
                self.summary.cycle_errors += 1;
                if self.config.mode == Mode::Backtest {
                    return Err(e.into());
                }
                tracing::error!(%symbol, decision = %meta.id, error = %e, "decision cycle failed; the bot goes on");
                // What its guard latched (a halt, a breaker trip) holds whatever comes next.
                self.save_guard().await?;
                self.read_fills(None).await
            }
        }
    }

    /// What follows a cycle's run: the decision log (with what the operator's gate did, if it
    /// stepped in), the lessons, the learner, the ledger from the fills, the state saved, and
    /// the events.
    pub(super) async fn finish_cycle<O: FnMut(&TradingState)>(
        &mut self,
        out: TradingState,
        meta: CycleMeta,
        gate: Option<String>,
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        let symbol = self.config.instrument.symbol.clone();
        let CycleMeta {
            id,
            seq,
            as_of,
            learned,
        } = meta;
        self.sequence.cycles = self.sequence.cycles.max(seq);
        if self.sequence.last_cycle_at.is_none_or(|last| as_of >= last) {
            self.sequence.last_decision = Some(id.clone());
            self.sequence.last_cycle_at = Some(as_of);
        }
        self.summary.record_cycle(&out);
        crate::telemetry::record_cycle_outcome(symbol.as_str(), &out);
        let gate = self.ops.gate.take_note(id.as_str()).or(gate);
        let mut decision = record::decision(&out, &id, seq);
        decision.run_id = self.sequence.run_id.clone();
        if let Some(gate) = &gate {
            decision
                .extra
                .insert("operator_gate".into(), serde_json::json!(gate));
        }
        if let Err(e) = self
            .config
            .stores
            .decisions
            .record_decision(&decision)
            .await
        {
            self.summary.store_errors += 1;
            tracing::warn!(%symbol, error = %e, "store: decision not written");
        }
        self.record_prompts(&out).await;
        // The learner's lessons are the lesson log's records, situation and return typed.
        for lesson in &out.new_lessons {
            let mut lesson = lesson.clone();
            lesson.run_id = self.sequence.run_id.clone();
            match self.config.stores.lessons.record_lesson(&lesson).await {
                Ok(()) => self.summary.lessons += 1,
                Err(e) => {
                    self.summary.store_errors += 1;
                    tracing::warn!(%symbol, error = %e, "store: lesson not written");
                }
            }
        }
        // The decision and its lessons are durable before any checkpoint passes them; when they
        // are not, no checkpoint passes them (a restart runs this cycle again).
        let durable = self.flush_logs().await;
        // The learner before the ledger: the ledger's saved state no longer holds the outcomes
        // the learner took, so the learner must have them first.
        if learned > 0 && durable {
            let written = if self.state.is_ephemeral() {
                true
            } else {
                let learner = self.learner()?;
                let saved = self.state.save(StatePart::Learner, &learner).await;
                let written = saved.is_ok();
                self.saved(StatePart::Learner, saved)?;
                written
            };
            // Dropped only once the learner has them (it judges a trade once if handed again).
            if written {
                self.ledger.learned(learned);
            }
        }
        self.read_fills(Some((&out, &decision))).await?;
        let saved = self.save_after_cycle(durable).await?;
        if saved {
            // The sequence now says the cycle ran: its checkpoints are not needed again.
            self.forget_run(&id).await;
        } else if self.config.strict_saves {
            return Err(EngineError::Unsaved {
                at: as_of,
                why: if durable {
                    "the state store did not take the decision sequence".into()
                } else {
                    "its decision and lessons were not durable in time".into()
                },
                transient: self.seen.save_failed_transiently,
            });
        }
        self.tell_cycle(&out, &decision, seq, gate);
        on_cycle(&out);
        // The learning agent's proposals, evaluated in shadow beside the loop.
        Box::pin(self.start_shadow()).await
    }

    /// The cycle's decision and orders, to whoever watches.
    fn tell_cycle(
        &mut self,
        out: &TradingState,
        decision: &tradegraph_store::DecisionRecord,
        seq: u64,
        gate: Option<String>,
    ) {
        if self.observer.listening() {
            for order in &out.orders {
                let event = OrderEvent::from(order);
                self.observer.publish(|| BotEvent::Order(event));
            }
            self.observer.publish(|| {
                BotEvent::Decision(DecisionEvent {
                    decision_id: decision.decision_id.clone(),
                    seq,
                    at: out.as_of,
                    action: decision.action.clone(),
                    confidence: out.decision.as_ref().map(|d| d.report.confidence),
                    verdict: out.verdict.as_ref().map(|v| v.status),
                    reasons: out
                        .verdict
                        .iter()
                        .flat_map(|v| v.findings.iter().map(|f| f.to_string()))
                        .collect(),
                    risk: out
                        .verdict
                        .iter()
                        .flat_map(|v| v.findings.iter().map(|f| f.reason.clone()))
                        .chain(out.refusal.iter().map(|f| f.reason.clone()))
                        .collect(),
                    refused: out.refusal.as_ref().map(|f| f.reason.to_string()),
                    orders: out.orders.len(),
                    gate,
                })
            });
        }
        let (cycles, last) = (self.sequence.cycles, self.sequence.last_decision.clone());
        let at = self.sequence.last_cycle_at;
        self.observer.status(|s| {
            s.cycles = cycles;
            s.last_decision_id = last.map(|d| d.as_str().to_owned());
            s.last_decision_at = at;
            true
        });
        // (The account gauges follow the minute's account read, not the account this cycle
        // started from, which its orders have changed.)
        if let Some(account) = &out.account {
            self.seen.day_started_at = account.day_started_at;
            self.saw_peak(account.equity);
        }
        self.refresh_status();
    }

    /// Reads the broker's fills after the ledger's cursor into the ledger; writes each trade
    /// that opened, changed or closed to the trade log. `cycle` gives what the agents knew, for
    /// the trades its orders open.
    pub(super) async fn read_fills(
        &mut self,
        cycle: Option<(&TradingState, &tradegraph_store::DecisionRecord)>,
    ) -> Result<(), EngineError> {
        let expected = cycle.is_some_and(|(state, _)| !state.orders.is_empty());
        if let Some((state, decision)) = cycle {
            let equity = state.account.as_ref().map(|a| a.equity).unwrap_or_default();
            let exits = state
                .verdict
                .as_ref()
                .and_then(|v| v.entry())
                .map(|i| i.exits);
            for order in &state.orders {
                self.ledger.expect(
                    order.request.client_id.clone(),
                    EntryContext {
                        decision_id: decision.decision_id.clone(),
                        signals: state.analyst_signals(),
                        situation: state.situation(),
                        prompts: state.analyst_prompts(),
                        confidence: state.decision.as_ref().map_or(0.0, |d| d.report.confidence),
                        agent_decisions: decision.agent_decisions.clone(),
                        stop_loss: exits.and_then(|e| e.stop_loss),
                        take_profit: exits.and_then(|e| e.take_profit),
                        equity,
                    },
                );
            }
        }
        let mut fills = self.broker.fills_since(self.ledger.cursor()).await?;
        // The ledger reads only fills the broker's saved state holds: the broker is saved
        // first when it has new ones (not on every cycle: its quotes change on every event).
        if fills
            .last()
            .is_some_and(|f| f.seq > self.broker.readable_fills())
        {
            self.save_or_warn_broker().await?;
        }
        let readable = self.broker.readable_fills();
        fills.retain(|f| f.seq <= readable);
        if fills.is_empty() {
            // The orders' contexts are kept for fills still to come (at the next bar's open,
            // or at the venue later): a bot restarted before then opens the trade with them.
            return if expected {
                self.save_ledger().await
            } else {
                Ok(())
            };
        }
        if let Some(first) = fills.first().filter(|f| f.seq > self.ledger.cursor() + 1) {
            self.summary.store_errors += 1;
            tracing::error!(
                from = self.ledger.cursor() + 1,
                to = first.seq - 1,
                "fills missing: the broker no longer has them; the trade ledger skips them"
            );
        }
        self.summary.observe_fills(&fills);
        let mut written = false;
        for fill in &fills {
            self.observer
                .publish(|| BotEvent::Fill(FillEvent::from(fill)));
            for event in self.ledger.on_fill(fill) {
                let mut record = match event {
                    LedgerEvent::Open(record) => record,
                    LedgerEvent::Closed(record, outcome) => {
                        self.summary.observe_closed(*outcome);
                        self.observer.publish(|| {
                            BotEvent::TradeClosed(TradeClosedEvent {
                                trade_id: record.trade_id.clone(),
                                side: record.side,
                                entry_price: record.entry_price,
                                exit_price: record.exit_price,
                                quantity: record.quantity,
                                pnl: record.realized_pnl,
                                at: record.exit_timestamp,
                            })
                        });
                        record
                    }
                };
                record.run_id = self.sequence.run_id.clone();
                if record.decision_id.is_none() {
                    // No context (the bot stopped before its cycle ended): the order's intent
                    // still names the decision.
                    record.decision_id = self.broker.decision_of(&record.trade_id).await;
                }
                match self.config.stores.trades.record_trade(&record).await {
                    Ok(()) => written = true,
                    Err(e) => {
                        self.summary.store_errors += 1;
                        tracing::warn!(trade_id = %record.trade_id, error = %e, "store: trade not written");
                    }
                }
            }
        }
        // The ledger's checkpoint never runs ahead of the trade log: a bot killed after saving
        // it does not read these fills again.
        if written && !self.flush_logs().await {
            return Ok(());
        }
        self.save_ledger().await
    }

    /// The prompts the cycle's models were sent, to the prompt log, by their hash (which the
    /// decision's agents name): a text stored already is the same document.
    async fn record_prompts(&mut self, out: &TradingState) {
        for (hash, prompt) in &out.prompts {
            let record = tradegraph_store::PromptRecord::new(
                hash.clone(),
                out.instrument.symbol.clone(),
                prompt.agent.as_str(),
                prompt.version.clone(),
                prompt.system.clone(),
                prompt.user.clone(),
                out.as_of,
            );
            if let Err(e) = self.config.stores.prompts.record_prompt(&record).await {
                self.summary.store_errors += 1;
                tracing::warn!(symbol = %out.instrument.symbol, error = %e, "store: prompt not written");
            }
        }
    }

    /// Waits until the log records written so far (decisions, trades, lessons: queued behind
    /// MongoDB) are in MongoDB or its spill file, so that a checkpoint saved next is never ahead
    /// of them: a bot killed after the checkpoint would not write them again. Nothing to wait
    /// for when nothing is kept (a backtest). Returns whether they are durable: when they are
    /// not (the spill file cannot be written, or MongoDB takes longer than
    /// [`LOGS_DURABLE_WITHIN`]), the caller does not save the checkpoint that would pass them,
    /// and a restart reads those fills or runs that cycle again.
    pub(super) async fn flush_logs(&mut self) -> bool {
        if self.state.is_ephemeral() {
            return true;
        }
        let symbol = &self.config.instrument.symbol;
        // A worker (strict saves) waits longer: giving up stops its engine and redelivers the job.
        let within = if self.config.strict_saves {
            STRICT_DURABLE_WITHIN
        } else {
            LOGS_DURABLE_WITHIN
        };
        match tokio::time::timeout(within, self.config.stores.flush()).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                self.summary.store_errors += 1;
                self.seen.save_failed_transiently = e.is_transient();
                tracing::warn!(%symbol, error = %e, "store: the logs are neither in MongoDB nor in the spill file; the checkpoint waits (a restart now redoes this work)");
                false
            }
            Err(_) => {
                self.summary.store_errors += 1;
                self.seen.save_failed_transiently = true;
                tracing::warn!(%symbol, ?within, "store: the logs were not durable in time; the checkpoint waits (a restart now redoes this work)");
                false
            }
        }
    }

    /// The newest checkpoint's step of a run of cycle `id` that was cut short (its process
    /// died before the cycle was saved), when the engine keeps checkpoints and there is one.
    /// A checkpoint store that cannot be read is logged and the cycle runs from the top: what
    /// it sends is journaled under the same client order ids, so nothing goes out twice.
    ///
    /// What the run's guard latched before the crash (its state as the checkpoint holds it) is
    /// taken on by the engine's guard, which the state saved before the run lacks: a run
    /// continued past its guard does not rule again.
    async fn cut_short(&mut self, id: &DecisionId) -> Result<Option<u64>, EngineError> {
        if self.config.checkpoints.is_none() {
            return Ok(None);
        }
        // owned, not borrowed from the engine across the wait (the engine is not `Sync`)
        let graph = self.graph.clone();
        match graph.state(id.as_str()).await {
            Ok(None) => Ok(None),
            Ok(Some(checkpoint)) => {
                if let Some(latched) = &checkpoint.state.guard {
                    self.desk
                        .guard()
                        .lock()
                        .map_err(|_| EngineError::Poisoned("the risk guard"))?
                        .absorb(latched);
                }
                Ok(Some(checkpoint.progress.steps))
            }
            Err(e) => {
                tracing::warn!(decision = %id, error = %e, "checkpoints unreadable: the cycle runs from the top");
                Ok(None)
            }
        }
    }

    /// Deletes the checkpoints of cycle `id` (finished, saved, or failed: a failed cycle is not
    /// continued). A failure is logged: they are left behind, unread.
    async fn forget_run(&mut self, id: &DecisionId) {
        if let Some(checkpoints) = self.config.checkpoints.clone() {
            if let Err(e) = checkpoints.delete_thread(id.as_str()).await {
                tracing::warn!(decision = %id, error = %e, "the cycle's checkpoints were not deleted");
            }
        }
    }

    /// The guard's state when it changed, and the decision sequence (last: the cycle's
    /// checkpoint, only when the cycle's logs are `durable`). Whether the sequence was written.
    async fn save_after_cycle(&mut self, durable: bool) -> Result<bool, EngineError> {
        // A sequence that passes the cycle before what its guard latched is saved would lose
        // the latch to a crash: the cycle is not run again (the timer saves the guard again).
        if !self.save_guard().await? {
            return Ok(false);
        }
        if !durable {
            return Ok(false);
        }
        if self.config.strict_saves {
            // The paper account's orders and fills before the sequence that passes them: a
            // worker's job is acknowledged on the sequence, and the next owner restores the
            // account.
            if let Some(why) = self.save_trades().await? {
                tracing::warn!("{why} after the cycle");
                return Ok(false);
            }
        }
        self.save_part(StatePart::Sequence, &self.sequence.clone())
            .await
    }

    /// Saves the broker's trades (orders sent, cancelled or amended, fills) when its kept
    /// state lacks some: `Some(why)` when they could not be saved (an outage), `None` when
    /// they are saved (or were). A conflict with another bot stops this one.
    pub(super) async fn save_trades(&mut self) -> Result<Option<String>, EngineError> {
        if !self.broker.trades_unsaved() {
            return Ok(None);
        }
        match self.broker.save_broker().await {
            Ok(()) => Ok(None),
            Err(e @ EngineError::StateConflict { .. }) => Err(e),
            Err(e) => {
                self.seen.save_failed_transiently = e.is_transient();
                Ok(Some(format!("the broker's trades were not saved: {e}")))
            }
        }
    }

    /// The guard's state when it changed since it was last saved: after every cycle that ran
    /// the guard, the ones that failed or wait for an operator too (a latch they set holds
    /// across a crash before the next cycle). Marked saved only once written (an outage is
    /// saved again after the next cycle). Whether the saved state is the guard's now.
    pub(super) async fn save_guard(&mut self) -> Result<bool, EngineError> {
        let guard = self.guard_state()?;
        if guard == self.saved_guard {
            return Ok(true);
        }
        let written = self.save_part(StatePart::Guard, &guard).await?;
        if written {
            self.saved_guard = guard;
        }
        Ok(written)
    }

    /// Every part, at exit; the learner, the ledger and the sequence only when the logs they
    /// pass are `durable`.
    pub(super) async fn save_all(&mut self, durable: bool) -> Result<(), EngineError> {
        self.save_or_warn_broker().await?;
        let kill = super::state::KillSwitchState {
            engaged: self.kill_switch.is_engaged(),
            changed_at: None,
        };
        if kill.engaged != self.saved_kill && self.save_part(StatePart::KillSwitch, &kill).await? {
            self.saved_kill = kill.engaged;
        }
        let guard = self.guard_state()?;
        if self.save_part(StatePart::Guard, &guard).await? {
            self.saved_guard = guard;
        }
        if !durable {
            return Ok(());
        }
        // The learner before the ledger (see `cycle`), the broker before both (above).
        let learner = self.learner()?;
        self.save_part(StatePart::Learner, &learner).await?;
        self.save_ledger().await?;
        let saved = self.state.save(StatePart::Sequence, &self.sequence).await;
        self.saved(StatePart::Sequence, saved)
    }
}
