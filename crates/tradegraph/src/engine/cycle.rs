//! One decision cycle, and what follows from it: the decision log, the lessons, the trade
//! ledger from the broker's fills, and the state saved.

use super::journal::Execution;
use super::ledger::{EntryContext, LedgerEvent};
use super::{record, Engine, EngineError, Mode};
use futures::Stream;
use tracing::Instrument;
use tradegraph_agents::TradingState;
use tradegraph_broker::Broker;
use tradegraph_core::order::DecisionId;
use tradegraph_graph::RunConfig;
use tradegraph_market::{Clock, MarketEvent};
use tradegraph_store::StatePart;

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Runs one cycle of the graph on the agents' view as it is now.
    pub(super) async fn cycle<O: FnMut(&TradingState)>(
        &mut self,
        on_cycle: &mut O,
    ) -> Result<(), EngineError> {
        let symbol = self.config.instrument.symbol.clone();
        let snapshot = self.builder.snapshot();
        let as_of = snapshot.as_of;
        let id = DecisionId::at(&symbol, as_of);
        let seq = self.sequence.cycles + 1;
        let mut state = TradingState::new(
            self.config.instrument.clone(),
            snapshot,
            self.config.inputs_at(as_of),
        );
        state.account = Some(self.broker.account().await?);
        {
            let learner = self
                .desk
                .learner
                .lock()
                .map_err(|_| EngineError::Poisoned("the learner"))?;
            state.weights = learner.weights().clone();
            state.lessons = learner.similar(&state.situation(), 3);
        }
        // Handed to the learner, and dropped from the ledger only once the learner is saved
        // (the learner judges a trade once, even if handed over again).
        state.closed_trades = self.ledger.unlearned().to_vec();
        let learned = state.closed_trades.len();
        self.broker.begin(id.clone());
        let span = tracing::info_span!("cycle", %symbol, decision = %id, seq);
        let run = self
            .graph
            .invoke(state, RunConfig::new().thread(id.as_str()))
            .instrument(span)
            .await;
        let out = match run {
            Ok(out) => out.state,
            Err(e) => {
                self.summary.cycle_errors += 1;
                if self.config.mode == Mode::Backtest {
                    return Err(e.into());
                }
                tracing::error!(%symbol, decision = %id, error = %e, "decision cycle failed; the bot goes on");
                self.read_fills(None).await?;
                return Ok(());
            }
        };
        self.sequence.cycles = seq;
        self.sequence.last_decision = Some(id.clone());
        self.sequence.last_cycle_at = Some(as_of);
        self.summary.record_cycle(&out);
        let decision = record::decision(&out, &id, seq);
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
        for lesson in &out.new_lessons {
            let mut kept = tradegraph_store::Lesson::new(
                symbol.clone(),
                lesson.ts,
                "learning",
                lesson.text.clone(),
            );
            kept.extra
                .insert("situation".into(), serde_json::json!(lesson.situation));
            kept.extra
                .insert("return_pct".into(), serde_json::json!(lesson.return_pct));
            match self.config.stores.lessons.record_lesson(&kept).await {
                Ok(()) => self.summary.lessons += 1,
                Err(e) => {
                    self.summary.store_errors += 1;
                    tracing::warn!(%symbol, error = %e, "store: lesson not written");
                }
            }
        }
        // The learner before the ledger: the ledger's saved state no longer holds the outcomes
        // the learner took, so the learner must have them first.
        if learned > 0 {
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
        self.save_after_cycle().await?;
        on_cycle(&out);
        Ok(())
    }

    /// Reads the broker's fills after the ledger's cursor into the ledger; writes each trade
    /// that opened, changed or closed to the trade log. `cycle` gives what the agents knew, for
    /// the trades its orders open.
    pub(super) async fn read_fills(
        &mut self,
        cycle: Option<(&TradingState, &tradegraph_store::DecisionRecord)>,
    ) -> Result<(), EngineError> {
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
            return Ok(());
        }
        if let Some(first) = fills.first().filter(|f| f.seq > self.ledger.cursor() + 1) {
            self.summary.store_errors += 1;
            tracing::error!(
                from = self.ledger.cursor() + 1,
                to = first.seq - 1,
                "fills missing: the broker no longer has them; the trade ledger skips them"
            );
        }
        self.summary.fills.extend(fills.iter().cloned());
        for fill in &fills {
            for event in self.ledger.on_fill(fill) {
                let mut record = match event {
                    LedgerEvent::Open(record) => record,
                    LedgerEvent::Closed(record, outcome) => {
                        self.summary.closed_trades.push(outcome);
                        record
                    }
                };
                if record.decision_id.is_none() {
                    // No context (the bot stopped before its cycle ended): the order's intent
                    // still names the decision.
                    record.decision_id = self.broker.decision_of(&record.trade_id).await;
                }
                if let Err(e) = self.config.stores.trades.record_trade(&record).await {
                    self.summary.store_errors += 1;
                    tracing::warn!(trade_id = %record.trade_id, error = %e, "store: trade not written");
                }
            }
        }
        self.save_ledger().await
    }

    /// The guard's state when it changed, and the decision sequence (last: the cycle's
    /// checkpoint).
    async fn save_after_cycle(&mut self) -> Result<(), EngineError> {
        let guard = self.guard_state()?;
        if guard != self.saved_guard {
            self.save_part(StatePart::Guard, &guard).await?;
            self.saved_guard = guard;
        }
        let saved = self.state.save(StatePart::Sequence, &self.sequence).await;
        self.saved(StatePart::Sequence, saved)
    }

    /// Every part, at exit.
    pub(super) async fn save_all(&mut self) -> Result<(), EngineError> {
        self.save_or_warn_broker().await?;
        let kill = super::state::KillSwitchState {
            engaged: self.kill_switch.is_engaged(),
            changed_at: None,
        };
        if kill.engaged != self.saved_kill {
            self.save_part(StatePart::KillSwitch, &kill).await?;
            self.saved_kill = kill.engaged;
        }
        // The learner before the ledger (see `cycle`), the broker before both (above).
        let learner = self.learner()?;
        self.save_part(StatePart::Learner, &learner).await?;
        self.save_ledger().await?;
        let guard = self.guard_state()?;
        self.save_part(StatePart::Guard, &guard).await?;
        self.saved_guard = guard;
        let saved = self.state.save(StatePart::Sequence, &self.sequence).await;
        self.saved(StatePart::Sequence, saved)
    }
}
