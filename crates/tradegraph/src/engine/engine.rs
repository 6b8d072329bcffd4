//! The [`Engine`] type: one instrument's bot, and how it starts.

use super::control::{gate_execution, BotHandle, Gate, Ops};
use super::instance::{InstanceClaiming, InstanceLease};
use super::journal::{reconcile, Execution, Journal, Reconciled};
use super::ledger::TradeLedger;
use super::observe::{wall_now, BotStatus, EquityCurve, Observer};
use super::reconcile::{ReconcileTrigger, Reconciliation, SharedHold};
use super::state::{BotState, KillSwitchState, PauseState, Sequence};
use super::summary::BotSummary;
use super::tell::Seen;
use super::{BotConfig, EngineError, Mode};
use futures::Stream;
use std::sync::Arc;
use tradegraph_agents::deadline::StagePlan;
use tradegraph_agents::learning::Learner;
use tradegraph_agents::node::{registry_with, Desk, MarketNow};
use tradegraph_agents::SnapshotBuilder;
use tradegraph_agents::TradingState;
use tradegraph_broker::Broker;
use tradegraph_core::risk::{GuardState, KillSwitch, RiskGuard};
use tradegraph_core::Timeframe;
use tradegraph_graph::{yaml, CompiledGraph};
use tradegraph_market::aggregate::CandleAggregator;
use tradegraph_market::{Clock, MarketEvent};
use tradegraph_store::StatePart;

/// One instrument's bot: a clock, a feed of market events, a broker, and between them the
/// aggregator, the agents' market view, the stores, the decision cadence, the compiled graph,
/// the risk guard, the learner and the trade ledger. Backtest, paper on a live feed and live
/// trading are the same engine with another clock, feed or broker:
///
/// | run | clock | feed | broker |
/// |---|---|---|---|
/// | backtest | [`SimulatedClock`](tradegraph_market::SimulatedClock) | replay | paper |
/// | paper | [`SystemClock`](tradegraph_market::SystemClock) | Binance, Kite, synthetic | paper |
/// | live | [`SystemClock`](tradegraph_market::SystemClock) | Binance, Kite | a venue |
///
/// See the [module documentation](super) for the loop.
pub struct Engine<C, F, B> {
    pub(super) config: BotConfig,
    pub(super) clock: C,
    pub(super) feed: F,
    pub(super) broker: Arc<Journal<B>>,
    pub(super) desk: Desk,
    pub(super) graph: CompiledGraph<TradingState>,
    pub(super) state: Arc<BotState>,
    /// Boxed: the engine is held inline in its callers' futures.
    pub(super) aggregator: Box<CandleAggregator>,
    pub(super) builder: SnapshotBuilder,
    pub(super) ledger: TradeLedger,
    pub(super) sequence: Sequence,
    pub(super) kill_switch: KillSwitch,
    pub(super) saved_kill: bool,
    pub(super) saved_guard: GuardState,
    pub(super) summary: BotSummary,
    pub(super) feed_ticks: bool,
    pub(super) reconciled: Reconciled,
    /// The last year past the holiday list that was warned about (once per year).
    pub(super) holidays_warned: Option<i32>,
    /// Events and the status, to whoever watches.
    pub(super) observer: Observer,
    /// The equity curve the status and the API read.
    pub(super) equity: EquityCurve,
    /// Operators' commands, the pause, approvals.
    pub(super) ops: Ops,
    /// What the status reports of the feed and the stores.
    pub(super) seen: Seen,
    /// The last reconciliation with the broker and its hold (saved).
    pub(super) reconciliation: SharedHold,
    /// Whether [`reconciliation`](Self::reconciliation) is saved as it is now.
    pub(super) reconciliation_saved: bool,
    /// The broker's reconnection count at the last reconciliation.
    pub(super) reconnections: u64,
    /// The kill switch is engaged and its work at the broker is not done yet (orders still
    /// work, or a position is still open): tried again each second.
    pub(super) kill_pending: bool,
    /// When the kill switch's unfinished work is tried again, and what its last try came to
    /// (`None`: at once). Boxed: the engine is held inline in its callers' futures.
    pub(super) kill_retry: Option<Box<super::control::KillRetry>>,
    /// The close attempts of the open position already seen finished (not asked about again).
    /// Boxed, as `kill_retry` is.
    pub(super) closes_finished: Box<super::control::CloseFinished>,
    /// Why the close the daily loss limit forces between decisions waits (said once while it
    /// stays the same), and when it is tried again.
    pub(super) daily_close_waits: Option<(String, tradegraph_core::Timestamp)>,
    /// Whether the open position's exits work at the broker (checked each minute). Boxed, as
    /// `kill_retry` is.
    pub(super) protection: Box<super::protection::ProtectionWatch>,
    /// This instance's claim on the instrument in a shared state store, if it makes one.
    pub(super) instance: Option<Arc<InstanceLease>>,
    /// Whether the engine took [`instance`](Self::instance) itself (and releases it at its
    /// stop); a claim handed to it is released by whoever took it.
    pub(super) releases_instance: bool,
    /// How the cycle's deadline is shared out among the nodes that ask a model; `None` in
    /// rule mode (no model to wait for).
    pub(super) stages: Option<Arc<StagePlan>>,
    /// The shadow evaluation of a prompt proposal running beside the loop, if any.
    pub(super) shadow: Option<super::refine::ShadowRun>,
    /// How many shadow evaluations were started: the pending proposals take turns, so one
    /// whose prompts cannot be read holds up no other.
    pub(super) shadow_turns: usize,
    /// Cancels the graph run in flight ([`BotHandle::cancel_cycle`]).
    pub(super) cycle_cancel: super::cancel::CycleCancel,
}

impl<C, F, B> Engine<C, F, B>
where
    C: Clock + Clone + 'static,
    F: Stream<Item = MarketEvent> + Send + Unpin,
    B: Execution,
{
    /// Builds the bot and restores what it must not forget (in [`Mode::Service`]): the guard's
    /// state and kill switch, the learner, the trade ledger, the broker's kept state (the paper
    /// account), the decision sequence. Then reconciles the order intents with the broker, and
    /// catches the ledger up with the broker's fills, before anything is sent.
    ///
    /// # Errors
    /// [`EngineError`] when the graph, the limits or the saved state cannot be used, or the
    /// store or the broker cannot be read at start.
    pub async fn start(
        mut config: BotConfig,
        clock: C,
        feed: F,
        broker: B,
    ) -> Result<Self, EngineError> {
        if config.mode == Mode::Backtest {
            // A backtest measures one set of prompts: no amendment is proposed or evaluated
            // (its record would not replay either).
            config.brain = config
                .brain
                .clone()
                .with_refine(tradegraph_agents::learning::RefinePolicy::off());
        }
        // One decision timeframe: the agents read (and the prompts show) the candles whose close
        // runs a cycle, and the book they decide on judges them as the guard does.
        config.brain = config.brain.clone().with_timeframe(config.decision_every);
        let symbol = config.instrument.symbol.clone();
        // The cycle's market view written once per cycle, not at every superstep.
        config.checkpoints = config.checkpoints.take().map(|inner| {
            Arc::new(super::checkpoints::CycleCheckpoints::new(inner))
                as Arc<dyn tradegraph_graph::Checkpointer<TradingState>>
        });
        // Before anything is loaded: a second instance on a shared store must not start.
        let releases_instance = matches!(
            (config.mode, &config.instance),
            (Mode::Service, InstanceClaiming::AtStart(_))
        );
        let instance = match (config.mode, std::mem::take(&mut config.instance)) {
            (Mode::Service, InstanceClaiming::AtStart(lease)) => Some(Arc::new(
                InstanceLease::claim(config.stores.state.clone(), &symbol, lease, wall_now())
                    .await?,
            )),
            (Mode::Service, InstanceClaiming::Held(held)) => {
                if held.instrument() != &symbol {
                    return Err(EngineError::Config(format!(
                        "the instance claim handed to the engine is {}'s, not {symbol}'s",
                        held.instrument()
                    )));
                }
                // Taken before the broker connected: still ours?
                if !held.held().await? {
                    return Err(EngineError::AnotherInstance {
                        instrument: symbol.to_string(),
                        holder: held.holder().await,
                    });
                }
                Some(held)
            }
            (Mode::Backtest, InstanceClaiming::Held(_)) => {
                return Err(EngineError::Config(
                    "a backtest makes no instance claim: it keeps nothing in the bot's state"
                        .into(),
                ))
            }
            _ => None,
        };
        let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let state = Arc::new(
            BotState::new(
                config.stores.state.clone(),
                symbol.clone(),
                shared_clock.clone(),
                config.mode == Mode::Backtest,
            )
            .with_instance(instance.clone()),
        );
        let broker = match state.load::<serde_json::Value>(StatePart::Broker).await? {
            Some(saved) => {
                tracing::info!(%symbol, "broker state restored");
                broker.restored(saved)?
            }
            None => broker,
        };
        // A backtest keeps nothing: its intents stay in memory, out of a live bot's store.
        let intents: Arc<dyn tradegraph_store::IntentLog> = match config.mode {
            Mode::Backtest => Arc::new(tradegraph_store::MemoryState::new()),
            Mode::Service => config.stores.intents.clone(),
        };
        let kill_switch = KillSwitch::new();
        let saved_kill = state
            .load::<KillSwitchState>(StatePart::KillSwitch)
            .await?
            .unwrap_or_default()
            .engaged;
        if saved_kill {
            kill_switch.engage();
            tracing::warn!(%symbol, "the kill switch is engaged (restored): no new entries");
        }
        let broker = Arc::new(
            Journal::new(
                Arc::new(broker),
                intents,
                state.clone(),
                shared_clock.clone(),
                kill_switch.clone(),
            )
            .with_instance(instance.clone()),
        );
        let started_at = wall_now();
        let guard_state = state
            .load::<GuardState>(StatePart::Guard)
            .await?
            .unwrap_or_default();
        let guard = RiskGuard::new(config.risk_limits.clone())?
            .with_kill_switch(kill_switch.clone())
            .with_state(guard_state.clone());
        let learner = state
            .load::<Learner>(StatePart::Learner)
            .await?
            .unwrap_or_default();
        let ledger = state
            .load::<TradeLedger>(StatePart::Trades)
            .await?
            .unwrap_or_else(|| TradeLedger::new(symbol.clone()))
            .with_lot(config.instrument.lot_size);
        let restored = state.load::<Sequence>(StatePart::Sequence).await?;
        let first_start = restored.is_none();
        let mut sequence = restored.unwrap_or_default();
        // A new run (a backtest, or a bot's first start): its records are kept beside an
        // earlier run's of the same period. Saved now, so that a restart keeps it. A bot whose
        // state was saved before runs existed goes on without one, as its records were written:
        // a trade it has open is closed into the same document.
        if first_start {
            sequence.run_id = tradegraph_store::RunId::new(started_at);
            match state.save(StatePart::Sequence, &sequence).await {
                Err(e @ EngineError::StateConflict { .. }) => return Err(e),
                Err(e) => {
                    tracing::warn!(%symbol, error = %e, "the new run's id is not saved yet; saved with the next cycle")
                }
                Ok(()) => {}
            }
        }
        let paused = state
            .load::<PauseState>(StatePart::Pause)
            .await?
            .unwrap_or_default()
            .paused;
        if paused {
            tracing::warn!(%symbol, "new entries are paused (restored): the bot only reduces");
        }
        let reconciliation = state
            .load::<Reconciliation>(StatePart::Reconciliation)
            .await?
            .unwrap_or_default();
        if reconciliation.held {
            tracing::warn!(%symbol, "reconciliation holds the bot (restored): entries are refused until a person confirms");
        }
        let market = MarketNow::new(shared_clock.clone()).max_verdict_age(config.max_verdict_age);
        let desk = Desk::new(broker.clone())
            .with_guard(guard)
            .with_learner(learner)
            .with_market(market);
        let brain = config.brain.clone();
        let approval = config.approval.is_required() && config.mode == Mode::Service;
        let reconciliation = SharedHold::new(reconciliation);
        let gate = Gate::new(paused, approval, reconciliation.flag());
        let mut kinds = registry_with(&brain, &desk, &config.kinds)?;
        gate_execution(&mut kinds, &desk, &gate);
        let graph = yaml::load_str(&config.graph_yaml, &config.graph_origin, &kinds)?;
        let graph =
            match &config.checkpoints {
                Some(_) if approval => return Err(EngineError::Config(
                    "entries that wait for approval keep their paused runs in the bot's state, \
                     not in the graph's checkpoints: run this instrument without approval \
                     ([bot] approval) or in one process (`tradegraph run` without --workers)"
                        .into(),
                )),
                Some(checkpoints) => graph.with_shared_checkpointer(checkpoints.clone()),
                None => graph,
            };
        let stages = match (brain.model(), config.cycle_deadline) {
            (Some(_), Some(_)) => Some(Arc::new(StagePlan::for_yaml(
                graph.topology(),
                &config.graph_yaml,
                &config.graph_origin,
            )?)),
            _ => None,
        };
        let (graph, ops) = Ops::start(
            &state,
            graph,
            gate,
            config.mode == Mode::Service,
            broker.as_ref(),
        )
        .await?;
        let reconciled = if config.mode == Mode::Service {
            let inner = broker.inner().clone();
            reconcile(
                broker.as_ref(),
                &|id| inner.is_retired(id),
                config.stores.intents.as_ref(),
                &symbol,
                shared_clock.as_ref(),
            )
            .await?
        } else {
            Reconciled::default()
        };
        // On the wall clock (or taking a worker's job over at its start), the candles in
        // progress resume from the hot cache.
        let resume_at = (config.mode == Mode::Service)
            .then(|| config.warm_up_until.unwrap_or_else(|| shared_clock.now()));
        let aggregator = Box::new(
            Box::pin(super::candles::aggregator(
                &config.instrument,
                config.stores.hot.as_ref(),
                resume_at,
                config.empty_minutes,
            ))
            .await,
        );
        let mut builder =
            SnapshotBuilder::new(config.instrument.session.clone(), config.keep_candles);
        if config.mode == Mode::Service {
            warm_up(&mut builder, &config).await;
        }
        let summary = BotSummary::new(config.cash).bounded(config.mode == Mode::Service);
        let mut status = BotStatus::new(symbol.clone(), broker.is_live(), started_at);
        status.kill_switch = saved_kill;
        status.entries_paused = paused;
        status.approval_required = approval;
        status.cycles = sequence.cycles;
        status.run_id = sequence.run_id.clone();
        status.last_decision_id = sequence
            .last_decision
            .as_ref()
            .map(|d| d.as_str().to_owned());
        status.last_decision_at = sequence.last_cycle_at;
        status.pending_approvals = ops.views();
        status.reconciliation = reconciliation.get().clone();
        let observer = Observer::new(config.events.clone(), status);
        let mut engine = Self {
            clock,
            feed,
            broker,
            desk,
            graph,
            state,
            aggregator,
            builder,
            ledger,
            sequence,
            kill_switch,
            saved_kill,
            saved_guard: guard_state,
            summary,
            feed_ticks: false,
            reconciled,
            holidays_warned: None,
            observer,
            equity: EquityCurve::new(),
            ops,
            seen: Seen::default(),
            reconciliation,
            reconciliation_saved: true,
            reconnections: 0,
            kill_pending: saved_kill,
            kill_retry: None,
            closes_finished: Box::default(),
            daily_close_waits: None,
            protection: Box::default(),
            instance,
            releases_instance,
            stages,
            shadow: None,
            shadow_turns: 0,
            cycle_cancel: super::cancel::CycleCancel::default(),
            config,
        };
        engine.check_ledger().await?;
        // fills the ledger has not read yet (the bot stopped between a fill and saving it)
        engine.read_fills(None).await?;
        engine.record_settled_at_start().await;
        if engine.config.mode == Mode::Service {
            // the bot must not trade before it knows the broker and it agree
            engine.reconnections = engine.broker.reconnections();
            engine.reconcile_venue(ReconcileTrigger::Start).await?;
        }
        engine.refresh_status();
        Ok(engine)
    }

    /// A handle on the bot for whoever operates or watches it (the HTTP service): its
    /// commands, its status, its broker, its equity curve. Take it before [`run`](Self::run).
    pub fn handle(&self) -> BotHandle {
        BotHandle {
            commands: self.ops.sender.clone(),
            status: self.observer.watch(),
            broker: self.broker.clone(),
            equity: self.equity.clone(),
            graph: Arc::new(self.graph.topology().clone()),
            kept_orders: {
                let broker = self.broker.clone();
                Arc::new(move || broker.inner().kept_orders())
            },
            learner: Arc::clone(self.desk.learner()),
            cycle_cancel: self.cycle_cancel.clone(),
            // a broker that keeps no orders of its own is a venue's
            remote: self.broker.inner().kept_orders().is_none(),
            answer_within: self
                .config
                .cycle_deadline
                .unwrap_or(super::control::ANSWER_MARGIN)
                .saturating_add(super::control::ANSWER_MARGIN),
        }
    }

    /// The ledger must not be ahead of the broker: a ledger that read fills the broker does not
    /// have (the broker's state is older than the ledger's) is rebuilt from the broker's fills.
    async fn check_ledger(&mut self) -> Result<(), EngineError> {
        let fills = self.broker.fills_since(0).await?;
        let last = fills.last().map_or(0, |f| f.seq);
        if self.ledger.cursor() <= last {
            return Ok(());
        }
        if fills.first().is_some_and(|f| f.seq > 1) {
            // The broker no longer has its whole history: the ledger is kept as it is and
            // reads on from the broker's last fill.
            tracing::error!(
                symbol = %self.config.instrument.symbol,
                ledger = self.ledger.cursor(),
                broker = last,
                "the trade ledger is ahead of the broker's saved state, whose early fills are let go: the ledger carries on from the broker's last fill; check the open trade against the broker"
            );
            self.ledger.skip_to(last);
            self.summary.ledger_rebuilt = true;
            return self.save_ledger().await;
        }
        tracing::warn!(
            symbol = %self.config.instrument.symbol,
            ledger = self.ledger.cursor(),
            broker = last,
            "the trade ledger is ahead of the broker's saved state; rebuilding it from the broker's fills"
        );
        let mut ledger = TradeLedger::new(self.config.instrument.symbol.clone())
            .with_lot(self.config.instrument.lot_size);
        for fill in &fills {
            ledger.on_fill(fill);
        }
        // Whether those trades were learned is not known: none is learned twice.
        let all = ledger.unlearned().len();
        ledger.learned(all);
        self.ledger = ledger;
        self.summary.ledger_rebuilt = true;
        self.save_ledger().await
    }

    /// The kill switch: engaged, the guard lets no entry through, and an entry already past the
    /// guard is not sent (the order journal reads the switch again right before the send).
    /// Engaging it through a [`Command`](super::Command) (or restoring it engaged at start)
    /// cancels the working entries at once; with `kill_switch_closes_positions` it also closes
    /// the open position, its exits kept working until the position is gone (on a broker with
    /// [`closes_around_exits`](tradegraph_broker::Broker::closes_around_exits); otherwise
    /// cancelled right before a close that can go), and
    /// tries again once a second until nothing is left (a cycle in flight ends first). Its
    /// state is saved as it changes and restored at start.
    pub fn kill_switch(&self) -> &KillSwitch {
        &self.kill_switch
    }

    /// The last reconciliation with the broker, and whether it holds the bot in `reducing`.
    pub fn reconciliation(&self) -> &Reconciliation {
        self.reconciliation.get()
    }

    /// What the start-up reconciliation found.
    pub fn reconciled(&self) -> &Reconciled {
        &self.reconciled
    }

    /// The trade ledger.
    pub fn ledger(&self) -> &TradeLedger {
        &self.ledger
    }

    /// The decision sequence.
    pub fn sequence(&self) -> &Sequence {
        &self.sequence
    }

    /// The broker (with its order journal).
    pub fn broker(&self) -> &Arc<Journal<B>> {
        &self.broker
    }

    /// The shared equipment of the nodes: guard, learner, market view.
    pub fn desk(&self) -> &Desk {
        &self.desk
    }

    pub(super) fn guard_state(&self) -> Result<GuardState, EngineError> {
        Ok(self
            .desk
            .guard()
            .lock()
            .map_err(|_| EngineError::Poisoned("the risk guard"))?
            .state()
            .clone())
    }

    pub(super) fn learner(&self) -> Result<Learner, EngineError> {
        Ok(self
            .desk
            .learner()
            .lock()
            .map_err(|_| EngineError::Poisoned("the learner"))?
            .clone())
    }
}

/// A restarted bot's view starts from the recent candles in the hot cache (Redis keeps a day
/// of them; memory has none after a restart), so its indicators do not start from nothing.
/// Bounded by [`BotConfig::warm_up_until`] (a worker's first job), it takes the newest
/// `keep_candles` before the bound: the newest in the cache may be a backlog's, past it.
async fn warm_up(builder: &mut SnapshotBuilder, config: &BotConfig) {
    let symbol = &config.instrument.symbol;
    let mut warmed = 0;
    for timeframe in Timeframe::ALL {
        // With a bound, as many as the cache keeps (a day of them) are read and filtered.
        let day = usize::try_from(86_400_000 / timeframe.millis().max(1)).unwrap_or(0);
        let asked = match config.warm_up_until {
            Some(_) => config.keep_candles.saturating_add(day),
            None => config.keep_candles,
        };
        let mut candles = match config
            .stores
            .hot
            .recent_candles(symbol, timeframe, asked)
            .await
        {
            Ok(candles) => candles,
            Err(e) => {
                tracing::warn!(%symbol, error = %e, "store: no warm-up from the hot cache");
                return;
            }
        };
        if let Some(until) = config.warm_up_until {
            candles.retain(|c| c.open_time.add_millis(c.timeframe.millis()) <= until);
        }
        let from = candles.len().saturating_sub(config.keep_candles);
        for candle in candles.into_iter().skip(from) {
            let event = MarketEvent::Candle {
                symbol: symbol.clone(),
                candle,
                closed: true,
            };
            if builder.on_event(&event).is_ok() {
                warmed += 1;
            }
        }
    }
    if warmed > 0 {
        tracing::info!(%symbol, candles = warmed, "the agents' view warmed up from the hot cache");
    }
}

impl<C, F, B> std::fmt::Debug for Engine<C, F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .field("sequence", &self.sequence)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_agents::node::Brain;
    use tradegraph_core::{Candle, Instrument, Timestamp};

    /// A worker taking over with a backlog warms up on the candles before its first job, not
    /// on the newest in the hot cache (the backlog's, dropped past the bound): as many as a
    /// bot without a backlog would have.
    #[tokio::test]
    async fn a_warm_up_bounded_by_a_backlog_still_gets_its_candles() {
        let instrument = Instrument::btc_usdt();
        let mut config = BotConfig::new(
            instrument.clone(),
            Brain::rules_only().unwrap(),
            rust_decimal::Decimal::from(10_000),
            super::super::Mode::Service,
        );
        config.keep_candles = 50;
        let start = Timestamp::from_secs(1_704_067_200);
        for m in 0..100i64 {
            let candle = Candle::opening(
                start.add_millis(m * 60_000),
                Timeframe::M1,
                rust_decimal::Decimal::from(100 + m),
                rust_decimal::Decimal::ONE,
            );
            config
                .stores
                .hot
                .put_candle(&instrument.symbol, &candle)
                .await
                .unwrap();
        }
        // The first job starts after the 40th minute: 60 candles of backlog follow.
        config.warm_up_until = Some(start.add_millis(40 * 60_000));
        let mut builder = SnapshotBuilder::new(instrument.session.clone(), config.keep_candles);
        warm_up(&mut builder, &config).await;
        let minutes = builder.snapshot().candles(Timeframe::M1).to_vec();
        assert_eq!(minutes.len(), 40, "every candle before the bound");
        assert_eq!(
            minutes.last().unwrap().open_time,
            start.add_millis(39 * 60_000)
        );
    }
}
