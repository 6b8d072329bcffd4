//! A bot that dies at any point around an order, restarted, never sends the order twice and
//! shows the fills it has. The stores keep what was written before the crash (they are shared
//! between the dead bot and the new one, as a server or a file would be); the bot's memory —
//! the engine, the graph, the paper broker in memory — is gone. The crash is a store call that
//! never returns at the chosen point, and the bot's task dropped there.

use super::support::*;
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::Notify;
use tradegraph::engine::{EngineError, Mode};
use tradegraph_core::order::ClientOrderId;
use tradegraph_core::risk::{RiskLimits, RiskReason};
use tradegraph_core::{Side, Symbol};
use tradegraph_store::{
    BotStateStore, IntentLog, IntentRecord, IntentStatus, MemoryState, Saved, StateDoc, StateKey,
    StatePart, StoreError, Stores,
};

#[derive(Debug, Clone, Copy, PartialEq)]
enum CrashAt {
    /// The intent is written, the order not yet sent.
    BeforeSubmit,
    /// The broker accepted the order (and the paper account was saved); the intent is not yet
    /// settled.
    AfterAccepted,
    /// Everything about the order is written; the cycle's checkpoint (the decision sequence)
    /// is not.
    BeforeCheckpoint,
    /// A stop filled on a market event and the paper account was saved; the trade ledger that
    /// closes the trade is not.
    AfterStopFill,
    /// The entry, decided at a bar's close, filled at the next bar's open (the paper account
    /// was saved); the trade ledger that opens the trade is not.
    AfterEntryFill,
    /// A cycle with superstep checkpoints (as on a worker) ran to its end, its learning agent
    /// judged a closed trade; the learner is not saved yet.
    BeforeLearnerSaved,
}

impl CrashAt {
    /// Whether the bot fills at the next bar's open (as on replayed bars) rather than at once.
    fn fills_at_next_open(self) -> bool {
        self == Self::AfterEntryFill
    }

    /// Whether the bots keep the graph's superstep checkpoints (shared by both, as a worker's
    /// Redis is), so that the restarted bot continues a cycle cut short.
    fn checkpointed(self) -> bool {
        self == Self::BeforeLearnerSaved
    }
}

/// The store, failing at one point: the call never returns.
struct Crashing {
    inner: Arc<MemoryState>,
    at: CrashAt,
    crashed: Arc<Notify>,
}

impl Crashing {
    async fn die(&self) -> ! {
        self.crashed.notify_one();
        std::future::pending::<()>().await;
        unreachable!()
    }
}

#[async_trait]
impl IntentLog for Crashing {
    async fn record_intent(&self, intent: &IntentRecord) -> Result<Saved, StoreError> {
        match (self.at, intent.status) {
            (CrashAt::BeforeSubmit, IntentStatus::Pending) => {
                self.inner.record_intent(intent).await?;
                self.die().await
            }
            (CrashAt::AfterAccepted, IntentStatus::Submitted | IntentStatus::Done) => {
                self.die().await
            }
            _ => self.inner.record_intent(intent).await,
        }
    }

    async fn intent(&self, client_id: &ClientOrderId) -> Result<Option<IntentRecord>, StoreError> {
        self.inner.intent(client_id).await
    }

    async fn unsettled_intents(
        &self,
        instrument: &Symbol,
    ) -> Result<Vec<IntentRecord>, StoreError> {
        self.inner.unsettled_intents(instrument).await
    }
}

#[async_trait]
impl BotStateStore for Crashing {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        self.inner.load(key).await
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        // the sequence's save after a cycle (not the one at the first start, with no decision)
        if self.at == CrashAt::BeforeCheckpoint
            && doc.key.part == StatePart::Sequence
            && doc.body["last_decision"].is_string()
        {
            self.die().await
        }
        // the ledger's save that would record the first closed trade
        if self.at == CrashAt::AfterStopFill
            && doc.key.part == StatePart::Trades
            && doc.body["closed"] == 1
        {
            self.die().await
        }
        // the learner's save after it judged its first trade
        if self.at == CrashAt::BeforeLearnerSaved
            && doc.key.part == StatePart::Learner
            && doc.body["judged"].as_u64() >= Some(1)
        {
            self.die().await
        }
        // the ledger's save that would open the trade (the first fill read)
        if self.at == CrashAt::AfterEntryFill
            && doc.key.part == StatePart::Trades
            && doc.body["cursor"] != 0
        {
            self.die().await
        }
        self.inner.save(doc).await
    }
}

/// Bought at 00:15 (the order the crash is about), then flat to 00:45.
fn data(name: &str) -> std::path::PathBuf {
    let mut bars = flat(100.0, 15);
    bars.extend(flat(100.5, 31));
    bars_file(name, "2024-03-04T00:00:00Z", &bars)
}

fn pm() -> Arc<ScriptedPm> {
    // the same decision time again after the restart gets the same answer
    ScriptedPm::at(&[(
        "2024-03-04T00:15:00Z",
        buy(5.0, 98.0, Some(120.0), None).unwrap(),
    )])
}

/// Buys at 00:15, and again at 00:30.
fn pm_twice() -> Arc<ScriptedPm> {
    ScriptedPm::at(&[
        (
            "2024-03-04T00:15:00Z",
            buy(5.0, 98.0, Some(120.0), None).unwrap(),
        ),
        (
            "2024-03-04T00:30:00Z",
            buy(5.0, 95.0, Some(120.0), None).unwrap(),
        ),
    ])
}

async fn crash_then_restart(
    at: CrashAt,
) -> (Run, tradegraph::engine::Reconciled, Arc<MemoryState>) {
    Box::pin(crash_on(at, data, pm, |_, _| {})).await
}

/// The first bot runs on `bars` until it dies at `at` (`on_cycle` sees its cycles, with its
/// kill switch); a new bot runs on the same bars with what the stores kept.
async fn crash_on(
    at: CrashAt,
    bars: fn(&str) -> std::path::PathBuf,
    script: fn() -> Arc<ScriptedPm>,
    mut on_cycle: impl FnMut(&tradegraph_agents::TradingState, &tradegraph_core::risk::KillSwitch),
) -> (Run, tradegraph::engine::Reconciled, Arc<MemoryState>) {
    let checkpoints: Option<
        Arc<dyn tradegraph_graph::checkpoint::Checkpointer<tradegraph_agents::TradingState>>,
    > = at
        .checkpointed()
        .then(|| Arc::new(tradegraph_graph::checkpoint::MemoryCheckpointer::new()) as _);
    let symbol = unique("CR");
    let instrument = btc_as(&symbol);
    let durable = Arc::new(MemoryState::new());
    let crashed = Arc::new(Notify::new());
    let crashing = Arc::new(Crashing {
        inner: durable.clone(),
        at,
        crashed: crashed.clone(),
    });
    let file = bars(&symbol);

    // The first bot dies at `at`.
    let mut stores = Stores::memory();
    stores.state = crashing.clone();
    stores.intents = crashing;
    let mut first = config(
        instrument.clone(),
        script(),
        RiskLimits::default(),
        stores,
        Mode::Service,
    );
    first.execution.replayed_bars = at.fills_at_next_open();
    first.checkpoints = checkpoints.clone();
    let engine = start(first, &file).await;
    let switch = engine.kill_switch().clone();
    let run = Box::pin(engine.run(std::future::pending(), move |s| on_cycle(s, &switch)));
    tokio::select! {
        result = run => panic!("the bot was to crash at {at:?}, it ended: {:?}", result.map(|s| s.cycles)),
        () = crashed.notified() => {}
    }

    // A new bot on what the stores kept.
    let mut stores = Stores::memory();
    stores.state = durable.clone();
    stores.intents = durable.clone();
    let mut again = config(
        instrument,
        script(),
        RiskLimits::default(),
        stores.clone(),
        Mode::Service,
    );
    again.execution.replayed_bars = at.fills_at_next_open();
    again.checkpoints = checkpoints;
    let engine = start(again, &file).await;
    let reconciled = engine.reconciled().clone();
    let run = finish(engine, stores).await;
    std::fs::remove_file(file).unwrap();
    (run, reconciled, durable)
}

/// The broker's buy fills, before and after the restart.
fn entry_fills(run: &Run) -> Vec<&tradegraph_core::order::Fill> {
    run.broker_fills
        .iter()
        .filter(|f| f.side == Side::Buy)
        .collect()
}

#[tokio::test]
async fn a_crash_before_submit_sends_nothing_and_abandons_the_intent() {
    let (run, reconciled, durable) = Box::pin(crash_then_restart(CrashAt::BeforeSubmit)).await;
    assert_eq!(reconciled.abandoned.len(), 1, "{reconciled:?}");
    assert!(
        entry_fills(&run).is_empty(),
        "never sent: {:?}",
        run.summary.fills
    );
    let intent = durable
        .intent(&reconciled.abandoned[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(intent.status, IntentStatus::Abandoned);
    assert!(durable
        .unsettled_intents(&intent.instrument)
        .await
        .unwrap()
        .is_empty());
    // The 00:15 cycle runs again after the restart (its checkpoint was never written): it is
    // decided and recorded, its order refused as not to be repeated, not a failed cycle.
    assert_eq!(run.summary.cycle_errors, 0, "no cycle failed");
    let again = rerun_of_0015(&run);
    assert!(again.orders.is_empty(), "{:?}", again.orders);
    let refusal = again
        .refusal
        .as_ref()
        .expect("the order's refusal is recorded");
    assert!(
        matches!(
            &refusal.reason,
            RiskReason::OrderNotRepeated { client_id, .. } if *client_id == reconciled.abandoned[0]
        ),
        "{refusal:?}"
    );
    assert!(refusal.to_string().contains("abandoned"), "{refusal}");
}

/// The 00:15 cycle as the restarted bot ran it.
fn rerun_of_0015(run: &Run) -> &tradegraph_agents::TradingState {
    let at: tradegraph_core::Timestamp = "2024-03-04T00:15:00Z".parse().unwrap();
    let runs: Vec<_> = run.cycles.iter().filter(|c| c.as_of == at).collect();
    assert_eq!(runs.len(), 1, "the 00:15 cycle ran once after the restart");
    runs[0]
}

#[tokio::test]
async fn a_crash_after_the_broker_accepted_keeps_the_one_order() {
    let (run, reconciled, durable) = Box::pin(crash_then_restart(CrashAt::AfterAccepted)).await;
    assert_eq!(reconciled.found.len(), 1, "{reconciled:?}");
    let fills = entry_fills(&run);
    assert_eq!(fills.len(), 1, "exactly one entry: {:?}", run.summary.fills);
    assert_eq!(fills[0].client_id, reconciled.found[0]);
    let intent = durable.intent(&reconciled.found[0]).await.unwrap().unwrap();
    assert_eq!(intent.status, IntentStatus::Done);
    assert!(!flat_at_end(&run), "the position the order opened is there");
    assert!(run
        .summary
        .final_account
        .as_ref()
        .unwrap()
        .positions
        .iter()
        .any(|p| !p.quantity.is_zero()));
}

#[tokio::test]
async fn a_crash_before_the_checkpoint_keeps_the_one_order_and_its_trade() {
    let (run, reconciled, durable) = Box::pin(crash_then_restart(CrashAt::BeforeCheckpoint)).await;
    assert!(
        reconciled.abandoned.is_empty() && reconciled.found.is_empty(),
        "settled before the crash: {reconciled:?}"
    );
    let fills = entry_fills(&run);
    assert_eq!(fills.len(), 1, "exactly one entry: {:?}", run.summary.fills);
    let intent = durable.intent(&fills[0].client_id).await.unwrap().unwrap();
    assert_eq!(intent.status, IntentStatus::Done);
    // The 00:15 decision runs again (its checkpoint was lost) and sends nothing new: the
    // order's client id is known to the broker and its order is the answer, whatever the new
    // request; the cycle is recorded, saying so.
    assert_eq!(run.summary.cycle_errors, 0, "no cycle failed");
    let again = rerun_of_0015(&run);
    for order in &again.orders {
        assert_eq!(
            order.request.client_id, fills[0].client_id,
            "the first order, not a new one"
        );
    }
    // Here the first run's order filled before the crash, so this run sizes the entry on
    // an account with the position: another request, answered with the first order.
    assert_eq!(again.orders.len(), 1, "{:?}", again.orders);
    assert_eq!(again.placed_earlier.as_ref(), Some(&fills[0].client_id));
    assert!(again.refusal.is_none(), "{:?}", again.refusal);
    assert!(!flat_at_end(&run));
}

/// An entry sent at a bar's close fills at the next bar's open, after the cycle that sent it
/// has ended: the bot dies before its ledger reads that fill. The entry's context (the
/// decision, the agents' calls, the stops) was saved with the cycle, so the bot that reads the
/// fill after the restart opens the trade with it (it was kept in memory only until the fill,
/// and the trade opened bare: no decision, no agents, nothing for the learner to judge).
#[tokio::test]
async fn an_entry_filled_after_its_cycle_keeps_its_context_across_a_crash() {
    let (run, _, _) = Box::pin(crash_then_restart(CrashAt::AfterEntryFill)).await;
    let fills = entry_fills(&run);
    assert_eq!(fills.len(), 1, "exactly one entry: {:?}", run.summary.fills);
    run.stores.flush().await.unwrap();
    let query = tradegraph_store::Query::new(fills[0].symbol.as_str());
    let trades = run.stores.trades.trades(&query).await.unwrap();
    assert_eq!(trades.len(), 1, "{trades:?}");
    let trade = &trades[0];
    assert!(trade.decision_id.is_some(), "{trade:?}");
    assert!(
        trade.agent_decisions.contains_key("portfolio_manager"),
        "{trade:?}"
    );
    assert!(trade.stop_loss.is_some(), "{trade:?}");
}

/// Bought at 00:15, closed at 00:30; the 00:45 cycle hands the closed trade to the learning
/// agent; flat to 01:15.
fn closing_data(name: &str) -> std::path::PathBuf {
    let mut bars = flat(100.0, 15);
    bars.extend(flat(100.5, 61));
    bars_file(name, "2024-03-04T00:00:00Z", &bars)
}

fn pm_closing() -> Arc<ScriptedPm> {
    ScriptedPm::at(&[
        (
            "2024-03-04T00:15:00Z",
            buy(5.0, 98.0, Some(120.0), None).unwrap(),
        ),
        ("2024-03-04T00:30:00Z", close().unwrap()),
    ])
}

/// A worker's cycle ran to its end (its checkpoints kept), the learning agent judged the closed
/// trade, and the worker died before the learner was saved. The cycle continued after the
/// restart runs no node again: the trade must stay with the ledger for the next cycle's
/// learning agent (it was dropped as learned, and never judged).
#[tokio::test]
async fn a_trade_judged_in_a_cycle_cut_short_is_judged_after_the_restart() {
    let symbol = Arc::new(std::sync::Mutex::new(String::new()));
    let seen = symbol.clone();
    let (_, _, durable) = Box::pin(crash_on(
        CrashAt::BeforeLearnerSaved,
        closing_data,
        pm_closing,
        move |state, _| *seen.lock().unwrap() = state.instrument.symbol.as_str().to_owned(),
    ))
    .await;
    let symbol = symbol.lock().unwrap().clone();
    let learner = durable
        .load(&StateKey::new(symbol.as_str(), StatePart::Learner))
        .await
        .unwrap()
        .expect("the learner is saved");
    assert_eq!(learner.body["judged"], 1, "{}", learner.body);
}

/// The state store away (a server down): every write fails, reads find nothing.
struct Down;

fn down() -> StoreError {
    StoreError::Timeout {
        backend: "test",
        operation: "write",
        after: std::time::Duration::from_millis(1),
    }
}

#[async_trait]
impl IntentLog for Down {
    async fn record_intent(&self, _: &IntentRecord) -> Result<Saved, StoreError> {
        Err(down())
    }

    async fn intent(&self, _: &ClientOrderId) -> Result<Option<IntentRecord>, StoreError> {
        Ok(None)
    }

    async fn unsettled_intents(&self, _: &Symbol) -> Result<Vec<IntentRecord>, StoreError> {
        Ok(Vec::new())
    }
}

#[async_trait]
impl BotStateStore for Down {
    async fn load(&self, _: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        Ok(None)
    }

    async fn save(&self, _: &StateDoc) -> Result<Saved, StoreError> {
        Err(down())
    }
}

#[tokio::test]
async fn a_store_outage_does_not_stop_the_bot_and_no_order_goes_out_unjournaled() {
    let symbol = unique("DN");
    let file = data(&symbol);
    let mut stores = Stores::memory();
    stores.state = Arc::new(Down);
    stores.intents = Arc::new(Down);
    let engine = start(
        config(
            btc_as(&symbol),
            pm(),
            RiskLimits::default(),
            stores.clone(),
            Mode::Service,
        ),
        &file,
    )
    .await;
    let run = finish(engine, stores).await;
    std::fs::remove_file(file).unwrap();
    assert!(
        run.summary.store_errors > 0,
        "the failed writes are counted"
    );
    assert!(
        run.summary.fills.is_empty(),
        "the buy was not sent without its intent: {:?}",
        run.summary.fills
    );
    assert_eq!(
        run.summary.cycle_errors, 1,
        "the cycle whose order could not be journaled"
    );
    assert_eq!(run.cycles.len(), 2, "the bot went on deciding");
}

/// Bought at 00:15 with a stop at 98; the 00:20 bar falls through it; flat after.
fn stopped(name: &str) -> std::path::PathBuf {
    let mut bars = flat(100.0, 20);
    bars.push((100.0, 100.0, 97.0, 97.5));
    bars.extend(flat(97.5, 25));
    bars_file(name, "2024-03-04T00:00:00Z", &bars)
}

#[tokio::test]
async fn a_crash_after_a_stop_fill_closes_the_trade_from_the_broker_and_keeps_the_kill_switch() {
    let (run, reconciled, _) = Box::pin(crash_on(
        CrashAt::AfterStopFill,
        stopped,
        pm_twice,
        |state, switch| {
            // an operator pulls the switch after the entry; the bot dies later
            if state.as_of == "2024-03-04T00:15:00Z".parse().unwrap() {
                switch.engage();
            }
        },
    ))
    .await;
    assert!(reconciled.abandoned.is_empty(), "{reconciled:?}");
    assert_eq!(entry_fills(&run).len(), 1, "{:?}", run.summary.fills);
    assert!(flat_at_end(&run), "the stop's fill is the broker's");
    assert_eq!(
        run.summary.trades, 1,
        "the ledger caught up with the stop's fill at start"
    );
    assert!(run.summary.realized_pnl < rust_decimal::Decimal::ZERO);
    let log = run
        .stores
        .trades
        .trades(&tradegraph_store::Query::new(
            run.broker_fills[0].symbol.as_str(),
        ))
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, tradegraph_store::TradeStatus::Closed);
    assert_eq!(log[0].realized_pnl, Some(run.summary.realized_pnl));
    // engaged before the crash, still engaged: every later decision is refused entry
    for cycle in &run.cycles {
        let v = cycle.verdict.as_ref().unwrap();
        if v.action != tradegraph_core::risk::Action::Hold {
            assert!(
                v.findings
                    .iter()
                    .any(|f| f.reason.to_string().contains("kill switch")),
                "{:?}",
                v.findings
            );
        }
    }
    assert!(run.cycles.iter().all(|c| c.orders.is_empty()));
}

/// The state store refusing the kill switch's first `fails` saves (an outage at the moment
/// the operator engages it), everything else passing through.
struct KillSwitchOutage {
    inner: Arc<MemoryState>,
    fails: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl BotStateStore for KillSwitchOutage {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        self.inner.load(key).await
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        use std::sync::atomic::Ordering;
        if doc.key.part == StatePart::KillSwitch
            && self
                .fails
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            return Err(down());
        }
        self.inner.save(doc).await
    }
}

#[tokio::test]
async fn a_kill_switch_engaged_during_a_state_store_outage_is_saved_once_it_is_back() {
    let symbol = unique("KO");
    let instrument = btc_as(&symbol);
    let durable = Arc::new(MemoryState::new());
    let file = data(&symbol);
    let mut stores = Stores::memory();
    stores.state = Arc::new(KillSwitchOutage {
        inner: durable.clone(),
        fails: std::sync::atomic::AtomicUsize::new(1),
    });
    stores.intents = durable.clone();
    let engine = start(
        config(
            instrument.clone(),
            pm(),
            RiskLimits::default(),
            stores.clone(),
            Mode::Service,
        ),
        &file,
    )
    .await;
    // The operator engages it at the first cycle; its first save meets the outage.
    let switch = engine.kill_switch().clone();
    let engage = switch.clone();
    Box::pin(engine.run(std::future::pending(), move |_| engage.engage()))
        .await
        .unwrap();

    // A new bot on what the store kept: still engaged.
    let mut stores = Stores::memory();
    stores.state = durable.clone();
    stores.intents = durable;
    let engine = start(
        config(
            instrument,
            pm(),
            RiskLimits::default(),
            stores,
            Mode::Service,
        ),
        &file,
    )
    .await;
    assert!(
        engine.kill_switch().is_engaged(),
        "the kill switch engaged during the outage was lost at the restart"
    );
    std::fs::remove_file(file).unwrap();
}

/// The state store, holding the first save of the paper account (made by the execution node,
/// as the order goes out) until the test lets it go.
struct HeldBrokerSave {
    inner: Arc<MemoryState>,
    held: Arc<Notify>,
    release: Arc<Notify>,
    once: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl BotStateStore for HeldBrokerSave {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        self.inner.load(key).await
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        use std::sync::atomic::Ordering;
        if doc.key.part == StatePart::Broker && !self.once.swap(true, Ordering::SeqCst) {
            self.held.notify_one();
            self.release.notified().await;
        }
        self.inner.save(doc).await
    }
}

#[tokio::test]
async fn a_kill_switch_engaged_while_the_order_is_being_saved_is_answered_and_the_cycle_ends() {
    use tradegraph::engine::Command;
    let symbol = unique("KS");
    let file = data(&symbol);
    let durable = Arc::new(MemoryState::new());
    let held = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let mut stores = Stores::memory();
    stores.state = Arc::new(HeldBrokerSave {
        inner: durable.clone(),
        held: held.clone(),
        release: release.clone(),
        once: std::sync::atomic::AtomicBool::new(false),
    });
    stores.intents = durable;
    let engine = start(
        config(
            btc_as(&symbol),
            pm(),
            RiskLimits::default(),
            stores,
            Mode::Service,
        ),
        &file,
    )
    .await;
    let handle = engine.handle();
    let run =
        tokio::spawn(async move { Box::pin(engine.run(std::future::pending(), |_| {})).await });
    // The 00:15 entry is going out: the execution node saves the paper account.
    tokio::time::timeout(std::time::Duration::from_secs(60), held.notified())
        .await
        .expect("the entry's save of the paper account never came");
    // The operator engages the kill switch in the middle of it; then the save goes on.
    let engage = tokio::spawn({
        let handle = handle.clone();
        async move {
            handle
                .send(Command::KillSwitch { engaged: true }, Some("test".into()))
                .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    release.notify_one();
    let reply = tokio::time::timeout(std::time::Duration::from_secs(30), engage)
        .await
        .expect("the kill switch was never answered: the engine is stuck in the cycle")
        .unwrap()
        .unwrap();
    assert_eq!(reply.kind, tradegraph::engine::ReplyKind::Done, "{reply:?}");
    assert!(handle.status().kill_switch);
    tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("the run never finished")
        .unwrap()
        .unwrap();
    std::fs::remove_file(file).unwrap();
}

/// The intent log, holding the first write of a pending intent (the journal's record of an
/// order about to go out) until the test lets it go.
struct HeldIntent {
    inner: Arc<MemoryState>,
    held: Arc<Notify>,
    release: Arc<Notify>,
    once: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl IntentLog for HeldIntent {
    async fn record_intent(&self, intent: &IntentRecord) -> Result<Saved, StoreError> {
        use std::sync::atomic::Ordering;
        if intent.status == IntentStatus::Pending && !self.once.swap(true, Ordering::SeqCst) {
            self.held.notify_one();
            self.release.notified().await;
        }
        self.inner.record_intent(intent).await
    }

    async fn intent(&self, client_id: &ClientOrderId) -> Result<Option<IntentRecord>, StoreError> {
        self.inner.intent(client_id).await
    }

    async fn unsettled_intents(
        &self,
        instrument: &Symbol,
    ) -> Result<Vec<IntentRecord>, StoreError> {
        self.inner.unsettled_intents(instrument).await
    }
}

/// The kill switch engaged after the execution node checked it, while the entry's intent is
/// being written: the operator is told nothing is opened, so the entry does not go out (it did,
/// the journal's store round trips lying between the check and the send).
#[tokio::test]
async fn a_kill_switch_engaged_while_the_entry_is_journaled_keeps_the_entry_from_going_out() {
    use tradegraph::engine::Command;
    let symbol = unique("KJ");
    let file = data(&symbol);
    let durable = Arc::new(MemoryState::new());
    let held = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let mut stores = Stores::memory();
    stores.state = durable.clone();
    stores.intents = Arc::new(HeldIntent {
        inner: durable.clone(),
        held: held.clone(),
        release: release.clone(),
        once: std::sync::atomic::AtomicBool::new(false),
    });
    let limits = RiskLimits {
        kill_switch_closes_positions: false,
        ..RiskLimits::default()
    };
    let engine = start(
        config(btc_as(&symbol), pm(), limits, stores, Mode::Service),
        &file,
    )
    .await;
    let handle = engine.handle();
    let run =
        tokio::spawn(async move { Box::pin(engine.run(std::future::pending(), |_| {})).await });
    // The 00:15 entry passed the execution node's check; its intent is being written.
    tokio::time::timeout(std::time::Duration::from_secs(60), held.notified())
        .await
        .expect("the entry's intent was never written");
    let reply = handle
        .send(Command::KillSwitch { engaged: true }, Some("test".into()))
        .await
        .unwrap();
    assert_eq!(reply.kind, tradegraph::engine::ReplyKind::Done, "{reply:?}");
    release.notify_one();
    tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("the run never finished")
        .unwrap()
        .unwrap();
    let fills = handle.broker().fills_since(0).await.unwrap();
    assert!(
        fills.is_empty(),
        "an entry went out after the kill switch was engaged: {fills:?}"
    );
    let positions = handle.broker().positions().await.unwrap();
    assert!(
        positions.iter().all(|p| p.quantity.is_zero()),
        "{positions:?}"
    );
    // Its intent is settled as never sent, so no restart sends it.
    let unsettled = durable
        .unsettled_intents(&Symbol::new(&symbol))
        .await
        .unwrap();
    assert!(unsettled.is_empty(), "{unsettled:?}");
    std::fs::remove_file(file).unwrap();
}

/// A kill switch engaged while the state store is down acts at once, but its answer says it
/// was not saved: an operator told "engaged" would trust a restart to keep it, and a restart
/// before the store is back would release it.
#[tokio::test]
async fn a_kill_switch_not_saved_is_not_answered_as_done() {
    use tradegraph::engine::{Command, ReplyKind};
    let symbol = unique("KN");
    let file = data(&symbol);
    let durable = Arc::new(MemoryState::new());
    let mut stores = Stores::memory();
    stores.state = Arc::new(KillSwitchOutage {
        inner: durable.clone(),
        fails: std::sync::atomic::AtomicUsize::new(usize::MAX),
    });
    stores.intents = durable;
    let engine = start(
        config(
            btc_as(&symbol),
            pm(),
            RiskLimits::default(),
            stores,
            Mode::Service,
        ),
        &file,
    )
    .await;
    let handle = engine.handle();
    let run =
        tokio::spawn(async move { Box::pin(engine.run(std::future::pending(), |_| {})).await });
    let reply = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        handle.send(Command::KillSwitch { engaged: true }, Some("test".into())),
    )
    .await
    .expect("the kill switch was never answered")
    .unwrap();
    assert_eq!(reply.kind, ReplyKind::Failed, "{reply:?}");
    assert!(reply.message.contains("not saved"), "{}", reply.message);
    assert_eq!(reply.detail["engaged"], true, "{reply:?}");
    assert_eq!(reply.detail["saved"], false, "{reply:?}");
    // It acts all the same.
    assert!(handle.status().kill_switch);
    tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("the run never finished")
        .unwrap()
        .unwrap();
    std::fs::remove_file(file).unwrap();
}

/// The intent log takes the entry, refuses the first close's intent (its cycle fails), and
/// never returns from the second close's (the bot dies there).
struct FailsThenDies {
    inner: Arc<MemoryState>,
    closes: std::sync::atomic::AtomicUsize,
    crashed: Arc<Notify>,
}

#[async_trait]
impl IntentLog for FailsThenDies {
    async fn record_intent(&self, intent: &IntentRecord) -> Result<Saved, StoreError> {
        let close = intent.request.side == tradegraph_core::order::OrderSide::Sell;
        if close && intent.status == IntentStatus::Pending {
            if self
                .closes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                == 0
            {
                return Err(down());
            }
            self.crashed.notify_one();
            std::future::pending::<()>().await;
        }
        self.inner.record_intent(intent).await
    }

    async fn intent(&self, client_id: &ClientOrderId) -> Result<Option<IntentRecord>, StoreError> {
        self.inner.intent(client_id).await
    }

    async fn unsettled_intents(
        &self,
        instrument: &Symbol,
    ) -> Result<Vec<IntentRecord>, StoreError> {
        self.inner.unsettled_intents(instrument).await
    }
}

/// A cycle whose verdict tripped the circuit breaker and that then failed (its close could not
/// be journaled) has the guard's state saved: a crash before the next good cycle keeps the
/// cooldown.
#[tokio::test]
async fn a_breaker_tripped_in_a_cycle_that_failed_survives_a_crash() {
    let symbol = unique("GF");
    // Bought at 00:15; an 8% bar at 00:40 trips the breaker at the 00:45 cycle, which closes.
    let mut bars = flat(100.0, 40);
    bars.push((100.0, 104.0, 96.0, 100.0));
    bars.extend(flat(100.0, 30));
    let file = bars_file(&symbol, "2024-03-04T00:00:00Z", &bars);
    let script = ScriptedPm::at(&[
        (
            "2024-03-04T00:15:00Z",
            buy(5.0, 80.0, Some(130.0), None).unwrap(),
        ),
        ("2024-03-04T00:45:00Z", close().unwrap()),
        ("2024-03-04T01:00:00Z", close().unwrap()),
    ]);
    let durable = Arc::new(MemoryState::new());
    let crashed = Arc::new(Notify::new());
    let mut stores = Stores::memory();
    stores.state = durable.clone();
    stores.intents = Arc::new(FailsThenDies {
        inner: durable.clone(),
        closes: std::sync::atomic::AtomicUsize::new(0),
        crashed: crashed.clone(),
    });
    let engine = start(
        config(
            btc_as(&symbol),
            script,
            RiskLimits::default(),
            stores,
            Mode::Service,
        ),
        &file,
    )
    .await;
    let mut verdicts = Vec::new();
    let run = Box::pin(engine.run(std::future::pending(), |s| {
        verdicts.push(s.verdict.clone());
    }));
    tokio::select! {
        result = run => panic!("the bot was to crash at the second close, it ended: {:?}", result.map(|s| s.cycles)),
        () = crashed.notified() => {}
    }
    std::fs::remove_file(file).unwrap();
    let guard = durable
        .load(&StateKey::new(symbol.as_str(), StatePart::Guard))
        .await
        .unwrap()
        .expect("the guard's state is saved");
    let state: tradegraph_core::risk::GuardState = serde_json::from_value(guard.body).unwrap();
    let until: tradegraph_core::Timestamp = "2024-03-04T01:15:00Z".parse().unwrap();
    assert_eq!(state.breaker_until, Some(until), "{state:?}");
}

/// The state store refuses to keep the paper account once it holds the stop's fill.
struct FillsRefused {
    inner: Arc<MemoryState>,
    /// What the save of the second fill meets: the store away, or refusing the value.
    error: fn() -> StoreError,
}

#[async_trait]
impl BotStateStore for FillsRefused {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        self.inner.load(key).await
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        let fills = doc.body["fills"].as_array().map_or(0, Vec::len);
        if doc.key.part == StatePart::Broker && fills >= 2 {
            return Err((self.error)());
        }
        self.inner.save(doc).await
    }
}

/// With strict saves (a worker, whose job is acknowledged once the engine asks for more), a
/// fill the broker's state could not keep stops the engine at once: it does not take the next
/// event (nor end its feed), so the job is not acknowledged and the next owner runs it again,
/// rather than restoring an account that still holds the position stopped out. The stop says
/// whether the store was away (the job is then given back uncounted) or refused the state (it
/// counts toward the dead letters: it would be refused again and again).
#[tokio::test]
async fn with_strict_saves_a_fill_the_state_could_not_keep_stops_the_engine() {
    fn refused() -> StoreError {
        StoreError::Refused {
            backend: "test",
            record: "bot_state broker".into(),
            reason: "the document is larger than the server takes".into(),
        }
    }
    for (error, outage) in [(down as fn() -> StoreError, true), (refused, false)] {
        fill_not_kept_stops_the_engine(error, outage).await;
    }
}

async fn fill_not_kept_stops_the_engine(error: fn() -> StoreError, outage: bool) {
    let symbol = unique("SF");
    // Bought at 00:15 with a stop at 98; the 00:20 bar falls through it; no cycle after.
    let mut bars = flat(100.0, 20);
    bars.push((100.0, 100.0, 97.0, 97.5));
    bars.extend(flat(97.5, 8));
    let file = bars_file(&symbol, "2024-03-04T00:00:00Z", &bars);
    let durable = Arc::new(MemoryState::new());
    let mut stores = Stores::memory();
    stores.state = Arc::new(FillsRefused {
        inner: durable.clone(),
        error,
    });
    stores.intents = durable.clone();
    let mut config = config(
        btc_as(&symbol),
        pm(),
        RiskLimits::default(),
        stores,
        Mode::Service,
    );
    config.strict_saves = true;
    let engine = start(config, &file).await;
    let result = Box::pin(engine.run(std::future::pending(), |_| {})).await;
    std::fs::remove_file(file).unwrap();
    let seen_as_outage = result.as_ref().err().map(EngineError::is_transient);
    match result {
        Err(EngineError::Unsaved { at, why, transient }) => {
            let fill: tradegraph_core::Timestamp = "2024-03-04T00:21:00Z".parse().unwrap();
            assert!(
                at <= fill,
                "stopped at the fill's event, not later: {at} ({why})"
            );
            assert!(why.contains("broker"), "{why}");
            assert_eq!(transient, outage, "{why}");
            assert_eq!(seen_as_outage, Some(outage), "{why}");
        }
        other => panic!("the engine went on: {:?}", other.map(|s| s.fills.len())),
    }
}

/// Superstep checkpoints in memory (shared by both bots, as a worker's Redis is) that never
/// return the checkpoint after the one in which the guard tripped its circuit breaker: the bot
/// dies once the guard's ruling is checkpointed and before its cycle is saved.
struct DiesAfterTheTrip {
    inner: tradegraph_graph::checkpoint::MemoryCheckpointer<tradegraph_agents::TradingState>,
    tripped: std::sync::atomic::AtomicUsize,
    crashed: Arc<Notify>,
}

#[async_trait]
impl tradegraph_graph::checkpoint::Checkpointer<tradegraph_agents::TradingState>
    for DiesAfterTheTrip
{
    async fn put(
        &self,
        checkpoint: tradegraph_graph::Checkpoint<tradegraph_agents::TradingState>,
    ) -> Result<(), tradegraph_graph::checkpoint::CheckpointError> {
        let trip = checkpoint.state.verdict.as_ref().is_some_and(|v| {
            v.findings
                .iter()
                .any(|f| matches!(f.reason, RiskReason::CircuitBreaker { .. }))
        });
        if trip
            && self
                .tripped
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                == 1
        {
            // the superstep after the guard's: the guard's ruling is checkpointed
            self.crashed.notify_one();
            std::future::pending::<()>().await;
        }
        self.inner.put(checkpoint).await
    }

    async fn put_writes(
        &self,
        thread_id: &str,
        id: &tradegraph_graph::CheckpointId,
        writes: Vec<
            tradegraph_graph::checkpoint::PendingWrite<
                <tradegraph_agents::TradingState as tradegraph_graph::GraphState>::Update,
            >,
        >,
    ) -> Result<(), tradegraph_graph::checkpoint::CheckpointError> {
        self.inner.put_writes(thread_id, id, writes).await
    }

    async fn latest(
        &self,
        thread_id: &str,
    ) -> Result<
        Option<tradegraph_graph::Checkpoint<tradegraph_agents::TradingState>>,
        tradegraph_graph::checkpoint::CheckpointError,
    > {
        self.inner.latest(thread_id).await
    }

    async fn get(
        &self,
        thread_id: &str,
        id: &tradegraph_graph::CheckpointId,
    ) -> Result<
        Option<tradegraph_graph::Checkpoint<tradegraph_agents::TradingState>>,
        tradegraph_graph::checkpoint::CheckpointError,
    > {
        self.inner.get(thread_id, id).await
    }

    async fn history(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<
        Vec<tradegraph_graph::Checkpoint<tradegraph_agents::TradingState>>,
        tradegraph_graph::checkpoint::CheckpointError,
    > {
        self.inner.history(thread_id, limit).await
    }

    async fn delete_thread(
        &self,
        thread_id: &str,
    ) -> Result<(), tradegraph_graph::checkpoint::CheckpointError> {
        self.inner.delete_thread(thread_id).await
    }
}

/// The guard trips its circuit breaker on the entry asked for at 00:45 (an 8% bar at 00:40)
/// and the bot dies before
/// that cycle is saved. The restarted bot continues the cycle from its checkpoint, past the
/// guard, which does not rule again: the trip the checkpoint holds is taken on, so the entry
/// asked for at 01:00 (on calm candles, which trip nothing) waits out the cooldown to 01:15.
#[tokio::test]
async fn a_breaker_tripped_in_a_cycle_cut_short_holds_after_the_restart() {
    let symbol = unique("GT");
    let mut bars = flat(100.0, 40);
    bars.push((100.0, 104.0, 96.0, 100.0));
    bars.extend(flat(100.0, 30));
    let file = bars_file(&symbol, "2024-03-04T00:00:00Z", &bars);
    // an entry at 00:45 (refused: the guard trips), and again at 01:00
    let script = || {
        ScriptedPm::at(&[
            (
                "2024-03-04T00:45:00Z",
                buy(5.0, 95.0, Some(120.0), None).unwrap(),
            ),
            (
                "2024-03-04T01:00:00Z",
                buy(5.0, 95.0, Some(120.0), None).unwrap(),
            ),
        ])
    };
    let durable = Arc::new(MemoryState::new());
    let crashed = Arc::new(Notify::new());
    let checkpoints = Arc::new(DiesAfterTheTrip {
        inner: tradegraph_graph::checkpoint::MemoryCheckpointer::new(),
        tripped: std::sync::atomic::AtomicUsize::new(0),
        crashed: crashed.clone(),
    });
    let stores = || {
        let mut stores = Stores::memory();
        stores.state = durable.clone();
        stores.intents = durable.clone();
        stores
    };
    let mut first = config(
        btc_as(&symbol),
        script(),
        RiskLimits::default(),
        stores(),
        Mode::Service,
    );
    first.checkpoints = Some(checkpoints.clone() as _);
    let engine = start(first, &file).await;
    let run = Box::pin(engine.run(std::future::pending(), |_| {}));
    tokio::select! {
        result = run => panic!("the bot was to crash after the trip, it ended: {:?}", result.map(|s| s.cycles)),
        () = crashed.notified() => {}
    }
    let saved = durable
        .load(&StateKey::new(symbol.as_str(), StatePart::Guard))
        .await
        .unwrap()
        .map(|doc| serde_json::from_value::<tradegraph_core::risk::GuardState>(doc.body).unwrap())
        .unwrap_or_default();
    assert_eq!(
        saved.breaker_until, None,
        "the trip died with the bot: {saved:?}"
    );

    let mut again = config(
        btc_as(&symbol),
        script(),
        RiskLimits::default(),
        stores(),
        Mode::Service,
    );
    again.checkpoints = Some(checkpoints as _);
    let engine = start(again, &file).await;
    let run = finish(engine, stores()).await;
    std::fs::remove_file(file).unwrap();
    let at: tradegraph_core::Timestamp = "2024-03-04T01:00:00Z".parse().unwrap();
    let entry = run
        .cycles
        .iter()
        .find(|c| c.as_of == at)
        .expect("the 01:00 cycle ran");
    let verdict = entry.verdict.as_ref().expect("the guard ruled at 01:00");
    let until: tradegraph_core::Timestamp = "2024-03-04T01:15:00Z".parse().unwrap();
    assert!(
        verdict
            .findings
            .iter()
            .any(|f| f.reason == RiskReason::CircuitBreakerCooldown { until }),
        "{verdict:?}"
    );
    assert!(!verdict.is_approved(), "{verdict:?}");
    assert!(entry.orders.is_empty(), "{:?}", entry.orders);
}

/// The state store refuses the guard's first save whose breaker is tripped.
struct GuardRefusedOnce {
    inner: Arc<MemoryState>,
    refused: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl BotStateStore for GuardRefusedOnce {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        self.inner.load(key).await
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        if doc.key.part == StatePart::Guard
            && !doc.body["breaker_until"].is_null()
            && !self.refused.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(down());
        }
        self.inner.save(doc).await
    }
}

/// A cycle whose guard tripped its breaker, and whose guard's save then failed, is not passed
/// by the decision sequence saved after it: a worker (strict saves) stops there with its job
/// unacknowledged, and the stores never hold a sequence past the cycle without its latch.
#[tokio::test]
async fn a_guard_latch_not_saved_is_not_passed_by_the_sequence() {
    let symbol = unique("GS");
    let mut bars = flat(100.0, 40);
    bars.push((100.0, 104.0, 96.0, 100.0));
    bars.extend(flat(100.0, 30));
    let file = bars_file(&symbol, "2024-03-04T00:00:00Z", &bars);
    let script = ScriptedPm::at(&[(
        "2024-03-04T00:45:00Z",
        buy(5.0, 95.0, Some(120.0), None).unwrap(),
    )]);
    let durable = Arc::new(MemoryState::new());
    let mut stores = Stores::memory();
    stores.state = Arc::new(GuardRefusedOnce {
        inner: durable.clone(),
        refused: std::sync::atomic::AtomicBool::new(false),
    });
    let mut bot = config(
        btc_as(&symbol),
        script,
        RiskLimits::default(),
        stores,
        Mode::Service,
    );
    bot.strict_saves = true;
    let engine = start(bot, &file).await;
    let result = Box::pin(engine.run(std::future::pending(), |_| {})).await;
    std::fs::remove_file(file).unwrap();
    assert!(
        matches!(result, Err(tradegraph::engine::EngineError::Unsaved { .. })),
        "{:?}",
        result.map(|s| s.cycles)
    );
    let sequence = durable
        .load(&StateKey::new(symbol.as_str(), StatePart::Sequence))
        .await
        .unwrap()
        .map(|doc| doc.body)
        .unwrap_or_default();
    let tripped: tradegraph_core::Timestamp = "2024-03-04T00:45:00Z".parse().unwrap();
    let last = sequence["last_cycle_at"]
        .as_str()
        .map(|t| t.parse::<tradegraph_core::Timestamp>().unwrap());
    // (the exit saves every part, the guard before the sequence)
    let guard = durable
        .load(&StateKey::new(symbol.as_str(), StatePart::Guard))
        .await
        .unwrap()
        .map(|doc| doc.body)
        .unwrap_or_default();
    assert!(
        last.is_none_or(|last| last < tripped) || !guard["breaker_until"].is_null(),
        "the sequence passes the cycle without its latch: {sequence}, guard {guard}"
    );
}
