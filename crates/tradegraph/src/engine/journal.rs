//! Order intents: written before an order goes to the broker, settled after, reconciled at
//! start. Whatever crashes when, a client order id reaches the broker at most once.
//!
//! [`Journal`] wraps the engine's broker, so every order passes through it, whoever sends it
//! (the execution agent, a forced close). For a submit it:
//! 1. writes the intent (`Pending`) durably, and refuses to send when that fails;
//! 2. sends the order (the broker is idempotent by client order id);
//! 3. saves the broker's own state when the bot keeps it (the paper account);
//! 4. settles the intent (`Submitted` while the order works, `Done` once it is final).
//!
//! A restarted bot runs its reconciliation before anything else: an unsettled intent whose order
//! the broker knows is settled from the broker's word (its fills are read by the trade
//! ledger); one the broker never saw is `Abandoned` — the decision is not repeated, the next
//! cycle decides afresh.

use super::calls::BrokerCalls;
use super::instance::InstanceLease;
use super::state::BotState;
use super::EngineError;
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tradegraph_broker::{Amendment, Broker, BrokerError, IntentFailure, PaperBroker, PriceEvent};
use tradegraph_core::order::{ClientOrderId, DecisionId, Fill, Order, OrderRequest};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::risk::{KillSwitch, NotRepeated};
use tradegraph_core::Symbol;
use tradegraph_market::Clock;
use tradegraph_store::{IntentLog, IntentRecord, IntentStatus, Saved, StatePart};

/// The saved revision of a broker state not saved yet (no broker's revision reaches it).
const UNSAVED: u64 = u64::MAX;

/// A broker the engine can drive: the [`Broker`] contract, plus the broker's own state when
/// the bot keeps it. The paper broker's account lives in the bot's store; a venue keeps its
/// own state and keeps the defaults.
///
/// The order journal sends a pending intent again only when [`Broker::order`] does not know its
/// client id: a venue's broker must answer `order` from the venue (not from a cache that may lag
/// a send whose answer was lost), or report an unknown outcome as an error.
pub trait Execution: Broker + 'static {
    /// A number that changes whenever the state to keep changes (`0` when there is none).
    fn revision(&self) -> u64 {
        0
    }

    /// The state to keep, as JSON (`None` when the venue keeps it).
    ///
    /// # Errors
    /// The broker's error when its state cannot be read.
    fn kept_state(&self) -> Result<Option<serde_json::Value>, BrokerError> {
        Ok(None)
    }

    /// The `seq` of the broker's last fill, when the bot keeps the broker's state (`None`: the
    /// venue keeps it, and every fill it reports may be read).
    fn last_fill_seq(&self) -> Option<u64> {
        None
    }

    /// Every order the broker still keeps, working and finished, in the order it took them
    /// (`None`: the broker keeps no history to read; its working orders are
    /// [`Broker::open_orders`]). The paper broker keeps its working orders and the newest
    /// finished ones (see `PaperEngine::compact`).
    fn kept_orders(&self) -> Option<Vec<Order>> {
        None
    }

    /// The order `client_id` as the broker tracks it itself, without asking the venue (`None`:
    /// not tracked; [`Broker::order`] asks). Reconciliation tells an exit's parent from it
    /// first, so that many fills do not become many requests to a venue. By default, from
    /// [`kept_orders`](Self::kept_orders).
    fn tracked_order(&self, client_id: &ClientOrderId) -> Option<Order> {
        self.kept_orders()?
            .into_iter()
            .find(|o| o.request.client_id == *client_id)
    }

    /// Whether the broker let go of the finished order `client_id` (known, never placed
    /// again), for an order its [`order`](Broker::order) no longer returns.
    fn is_retired(&self, client_id: &ClientOrderId) -> bool {
        let _ = client_id;
        false
    }

    /// Whether [`Broker::on_market`] works on the broker's books (the paper broker matches its
    /// orders), so that its answer says something about the broker (the `broker` check); a
    /// venue's broker ignores market data (the trait's default) and keeps `false`.
    fn books_on_market(&self) -> bool {
        false
    }

    /// The broker, continuing from `state` (what [`kept_state`](Self::kept_state) gave).
    ///
    /// # Errors
    /// The broker's error when the state does not fit it.
    fn restored(self, state: serde_json::Value) -> Result<Self, BrokerError>
    where
        Self: Sized,
    {
        drop(state);
        Ok(self)
    }
}

impl Execution for PaperBroker {
    fn revision(&self) -> u64 {
        PaperBroker::revision(self)
    }

    fn books_on_market(&self) -> bool {
        true
    }

    fn kept_state(&self) -> Result<Option<serde_json::Value>, BrokerError> {
        let snapshot = self.snapshot()?;
        serde_json::to_value(&snapshot)
            .map(Some)
            .map_err(|e| BrokerError::Snapshot(format!("the paper account cannot be saved: {e}")))
    }

    fn last_fill_seq(&self) -> Option<u64> {
        self.read(|engine| engine.last_fill_seq()).ok()
    }

    fn kept_orders(&self) -> Option<Vec<Order>> {
        self.read(|engine| engine.orders().to_vec()).ok()
    }

    fn is_retired(&self, client_id: &ClientOrderId) -> bool {
        self.read(|engine| engine.is_retired(client_id))
            .unwrap_or(false)
    }

    fn restored(self, state: serde_json::Value) -> Result<Self, BrokerError> {
        let snapshot = serde_json::from_value(state).map_err(|e| {
            BrokerError::Snapshot(format!(
                "the saved paper account cannot be read ({e}); move the bot's state file or store aside to start a fresh account"
            ))
        })?;
        let config = self.read(|engine| engine.config().clone())?;
        PaperBroker::restore(config, snapshot)
    }
}

/// The engine's broker: order intents written before an order goes to the broker, settled
/// after, reconciled at start. Whatever crashes when, a client order id reaches the broker at
/// most once.
///
/// `Journal` wraps the engine's broker, so every order passes through it, whoever sends it
/// (the execution agent, a forced close). For a submit it:
/// 1. writes the intent (`Pending`) durably, and refuses to send when that fails;
/// 2. sends the order (the broker is idempotent by client order id);
/// 3. saves the broker's own state when the bot keeps it (the paper account);
/// 4. settles the intent (`Submitted` while the order works, `Done` once it is final).
///
/// A restarted bot runs its reconciliation before anything else: an unsettled intent whose order
/// the broker knows is settled from the broker's word (its fills are read by the trade
/// ledger); one the broker never saw is `Abandoned` — the decision is not repeated, the next
/// cycle decides afresh.
pub struct Journal<B> {
    inner: Arc<B>,
    intents: Arc<dyn IntentLog>,
    state: Arc<BotState>,
    clock: Arc<dyn Clock>,
    decision: Mutex<DecisionId>,
    saved_revision: AtomicU64,
    /// The `seq` of the last fill in the broker's saved state: the ledger reads no further.
    saved_fills: AtomicU64,
    /// An order was sent, cancelled or amended, and the broker's state saved since does not
    /// hold it yet (the save after it failed).
    order_unsaved: AtomicBool,
    /// The outcome of the calls that reach the broker (the `broker` check).
    calls: BrokerCalls,
    /// The bot's kill switch: read again right before an entry goes out, the intent's store
    /// round trips lying between the execution node's check and the send.
    kill_switch: KillSwitch,
    /// This instance's claim on the instrument (a shared state store): read again right
    /// before any order goes out.
    instance: Option<Arc<InstanceLease>>,
}

impl<B: Execution> Journal<B> {
    pub(crate) fn new(
        inner: Arc<B>,
        intents: Arc<dyn IntentLog>,
        state: Arc<BotState>,
        clock: Arc<dyn Clock>,
        kill_switch: KillSwitch,
    ) -> Self {
        // A broker whose state the bot keeps may have moved since that state was saved (a venue
        // broker resumes and catches up as it connects, before the engine starts): nothing
        // counts as saved until the first save, so the ledger reads no fill before it.
        let (saved_revision, saved_fills) = match inner.last_fill_seq() {
            Some(_) => (UNSAVED, 0),
            None => (inner.revision(), u64::MAX),
        };
        let (saved_revision, saved_fills) =
            (AtomicU64::new(saved_revision), AtomicU64::new(saved_fills));
        Self {
            inner,
            intents,
            state,
            clock,
            decision: Mutex::new(DecisionId::new("start")),
            saved_revision,
            saved_fills,
            order_unsaved: AtomicBool::new(false),
            calls: BrokerCalls::default(),
            kill_switch,
            instance: None,
        }
    }

    /// Refuses to touch an order once another instance took the bot's claim over (it
    /// manages the orders now).
    async fn still_held(&self, client_id: &ClientOrderId) -> Result<(), BrokerError> {
        match &self.instance {
            Some(instance) if instance.is_lost() => Err(BrokerError::Journal {
                client_id: client_id.clone(),
                reason: IntentFailure::AnotherInstance {
                    holder: instance.holder().await,
                },
            }),
            _ => Ok(()),
        }
    }

    /// Reads `instance`'s claim again right before each order goes out.
    pub(crate) fn with_instance(mut self, instance: Option<Arc<InstanceLease>>) -> Self {
        self.instance = instance;
        self
    }

    /// Whether the broker's kept state lacks an order sent, cancelled or amended, or a fill,
    /// since its last save (price-only changes, such as a trailing stop's best price, do not
    /// count).
    pub(crate) fn trades_unsaved(&self) -> bool {
        if self.state.is_ephemeral() {
            return false;
        }
        self.order_unsaved.load(Ordering::Acquire)
            || self
                .inner
                .last_fill_seq()
                .is_some_and(|last| last > self.saved_fills.load(Ordering::Acquire))
    }

    /// After an order call: its state saved, or marked unsaved.
    async fn save_after_order(&self, client_id: &ClientOrderId, what: &str) {
        match self.save_broker().await {
            Ok(()) => {}
            Err(e) => {
                self.order_unsaved.store(true, Ordering::Release);
                tracing::error!(%client_id, error = %e, "the broker's state was not saved after {what}; it is saved again at the next change");
            }
        }
    }

    /// The broker inside.
    pub fn inner(&self) -> &Arc<B> {
        &self.inner
    }

    /// The outcome of the calls that reached the broker.
    pub(crate) fn calls(&self) -> &BrokerCalls {
        &self.calls
    }

    /// Records `outcome`, a call that reached the broker, and returns it.
    fn seen<T>(&self, outcome: Result<T, BrokerError>) -> Result<T, BrokerError> {
        self.calls.record(&outcome);
        outcome
    }

    /// The decision an order was sent for, from its intent (`None` when unknown).
    pub(crate) async fn decision_of(&self, client_id: &str) -> Option<String> {
        let id = ClientOrderId::new(client_id).ok()?;
        let intent = self.intents.intent(&id).await.ok()??;
        Some(intent.decision_id.as_str().to_owned())
    }

    /// Orders sent from now on belong to `decision`.
    pub(crate) fn begin(&self, decision: DecisionId) {
        *self.decision.lock().unwrap_or_else(PoisonError::into_inner) = decision;
    }

    fn decision(&self) -> DecisionId {
        self.decision
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Saves the broker's kept state if it changed since the last save.
    pub(crate) async fn save_broker(&self) -> Result<(), EngineError> {
        if self.state.is_ephemeral() {
            return Ok(());
        }
        let revision = self.inner.revision();
        if self.saved_revision.load(Ordering::Acquire) == revision {
            return Ok(());
        }
        // Taken before the state: the saved state holds at least these fills.
        let last_fill = self.inner.last_fill_seq();
        if let Some(value) = self.inner.kept_state()? {
            self.state.save(StatePart::Broker, &value).await?;
        }
        self.saved_revision.store(revision, Ordering::Release);
        self.order_unsaved.store(false, Ordering::Release);
        if let Some(last) = last_fill {
            self.saved_fills.fetch_max(last, Ordering::AcqRel);
        }
        Ok(())
    }

    /// The fills the trade ledger may read: those in the broker's saved state (all of them in a
    /// backtest, or when the venue keeps the broker's state). The ledger is never ahead of it.
    pub(crate) fn readable_fills(&self) -> u64 {
        if self.state.is_ephemeral() || self.inner.last_fill_seq().is_none() {
            return u64::MAX;
        }
        self.saved_fills.load(Ordering::Acquire)
    }

    /// Moves `intent` on to what the broker says of `order` (a failure is logged: the intent is
    /// reconciled at the next start).
    async fn settle(&self, intent: &IntentRecord, order: &Order) {
        let status = settled(order);
        if intent.status.is_settled() || intent.status == status {
            return;
        }
        let mut next = intent.advance(status, self.clock.now());
        next.order_id = Some(order.id.clone());
        next.note = order.reason.clone();
        if let Err(reason) = self.write(&next).await {
            let client_id = &intent.client_id;
            tracing::warn!(%client_id, %reason, "order intent not settled; it is reconciled at the next start");
        }
    }

    async fn write(&self, intent: &IntentRecord) -> Result<(), IntentFailure> {
        match self.intents.record_intent(intent).await {
            Ok(Saved::Written) => Ok(()),
            // This very record, applied by a request the client sent again after losing its
            // answer (the Redis Cluster client does): no other bot.
            Ok(Saved::Stale { stored })
                if stored == intent.version
                    && self
                        .intents
                        .intent(&intent.client_id)
                        .await
                        .ok()
                        .flatten()
                        .as_ref()
                        == Some(intent) =>
            {
                Ok(())
            }
            Ok(Saved::Stale { stored }) => Err(IntentFailure::Stale {
                stored,
                ours: intent.version,
            }),
            Err(e) => Err(IntentFailure::Store(Box::new(e))),
        }
    }
}

fn settled(order: &Order) -> IntentStatus {
    if order.status.is_terminal() {
        IntentStatus::Done
    } else {
        IntentStatus::Submitted
    }
}

#[async_trait]
impl<B: Execution> Broker for Journal<B> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn is_live(&self) -> bool {
        self.inner.is_live()
    }

    async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
        let client_id = request.client_id.clone();
        let journal = |reason: IntentFailure| BrokerError::Journal {
            client_id: client_id.clone(),
            reason,
        };
        if let Some(instance) = &self.instance {
            let held = instance.held().await;
            if !matches!(held, Ok(true)) {
                let reason = match held {
                    Err(e) => IntentFailure::Store(Box::new(e)),
                    Ok(_) => IntentFailure::AnotherInstance {
                        holder: instance.holder().await,
                    },
                };
                // Before the intent is written: the instance holding the claim may decide an
                // order of the same client id, which a stale intent would refuse.
                tracing::error!(%client_id, %reason, "order not sent: this instance may no longer hold the bot's claim on its instrument");
                return Err(journal(reason));
            }
        }
        let known = self
            .intents
            .intent(&client_id)
            .await
            .map_err(|e| journal(IntentFailure::Store(Box::new(e))))?;
        let intent = match known {
            Some(intent) => {
                // Known: never sent again. The broker's order is the answer (a cycle run again
                // after a restart may size it differently: the first order stands).
                if let Some(order) = self.seen(self.inner.order(&client_id).await)? {
                    self.settle(&intent, &order).await;
                    return Ok(order);
                }
                let not_repeated = |why| BrokerError::NotRepeated {
                    client_id: client_id.clone(),
                    why,
                };
                // Abandoned at a restart: the decision behind it is not repeated.
                if intent.status == IntentStatus::Abandoned {
                    return Err(not_repeated(NotRepeated::Abandoned));
                }
                if intent.request != request {
                    return Err(not_repeated(NotRepeated::OtherRequest));
                }
                // A pending intent the broker has not seen (the send failed before reaching
                // it) may go out.
                if intent.status != IntentStatus::Pending {
                    return Err(not_repeated(NotRepeated::UnknownToBroker));
                }
                intent
            }
            None => {
                let intent =
                    IntentRecord::pending(request.clone(), self.decision(), self.clock.now());
                self.write(&intent).await.map_err(journal)?;
                intent
            }
        };
        if !request.reduce_only && self.kill_switch.is_engaged() {
            // Engaged since the execution node's check: the operator was told nothing opens.
            let mut never = intent.advance(IntentStatus::Abandoned, self.clock.now());
            never.note = Some("not sent: the kill switch was engaged after it was decided".into());
            if let Err(reason) = self.write(&never).await {
                // Pending, and unknown to the broker: the next start abandons it.
                tracing::warn!(%client_id, %reason, "order intent not settled; it is reconciled at the next start");
            }
            tracing::warn!(%client_id, "entry not sent: the kill switch was engaged after it was decided");
            return Err(BrokerError::KillSwitch { client_id });
        }
        let sent = self.seen(self.inner.submit(request).await);
        // Saved whatever the answer: a send that failed may have changed what the broker
        // keeps too (a venue broker remembers an order whose answer was lost).
        self.save_after_order(&client_id, "an order").await;
        let order = sent?;
        tracing::info!(%client_id, broker = self.inner.name(), "order sent to the broker");
        self.settle(&intent, &order).await;
        Ok(order)
    }

    async fn cancel(&self, client_id: &ClientOrderId) -> Result<Order, BrokerError> {
        self.still_held(client_id).await?;
        let order = self.seen(self.inner.cancel(client_id).await)?;
        self.save_after_order(client_id, "a cancel").await;
        Ok(order)
    }

    async fn amend(
        &self,
        client_id: &ClientOrderId,
        amendment: Amendment,
    ) -> Result<Order, BrokerError> {
        self.still_held(client_id).await?;
        let order = self.seen(self.inner.amend(client_id, amendment).await)?;
        self.save_after_order(client_id, "an amendment").await;
        Ok(order)
    }

    fn reconnections(&self) -> u64 {
        self.inner.reconnections()
    }

    fn closes_around_exits(&self) -> bool {
        self.inner.closes_around_exits()
    }

    async fn order(&self, client_id: &ClientOrderId) -> Result<Option<Order>, BrokerError> {
        self.seen(self.inner.order(client_id).await)
    }

    async fn recover(&self, request: &OrderRequest) -> Result<Option<Order>, BrokerError> {
        let order = self.seen(self.inner.recover(request).await)?;
        self.save_after_order(&request.client_id, "a recovered order")
            .await;
        Ok(order)
    }

    async fn open_orders(&self) -> Result<Vec<Order>, BrokerError> {
        self.seen(self.inner.open_orders().await)
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        self.seen(self.inner.positions().await)
    }

    async fn account(&self) -> Result<Account, BrokerError> {
        self.seen(self.inner.account().await)
    }

    async fn fills_since(&self, after: u64) -> Result<Vec<Fill>, BrokerError> {
        self.seen(self.inner.fills_since(after).await)
    }

    fn on_market(&self, symbol: &Symbol, event: PriceEvent<'_>) -> Result<Vec<Fill>, BrokerError> {
        let outcome = self.inner.on_market(symbol, event);
        if self.inner.books_on_market() {
            self.calls.record(&outcome);
        }
        outcome
    }
}

impl<B> std::fmt::Debug for Journal<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").finish_non_exhaustive()
    }
}

/// What the start-up reconciliation of order intents found ([`Engine::reconciled`](super::Engine::reconciled)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Intents whose orders the broker knows: settled from its word.
    pub found: Vec<ClientOrderId>,
    /// Intents the broker never saw: abandoned, not sent.
    pub abandoned: Vec<ClientOrderId>,
    /// Intents still working at the broker.
    pub working: Vec<ClientOrderId>,
}

/// Settles every unsettled intent of `symbol` from the broker's word, before anything is sent.
///
/// # Errors
/// The store's or the broker's error: the bot must not start trading without knowing.
pub(crate) async fn reconcile(
    broker: &dyn Broker,
    retired: &dyn Fn(&ClientOrderId) -> bool,
    intents: &dyn IntentLog,
    symbol: &Symbol,
    clock: &dyn Clock,
) -> Result<Reconciled, EngineError> {
    let mut out = Reconciled::default();
    for intent in intents.unsettled_intents(symbol).await? {
        let client_id = intent.client_id.clone();
        // The intent's request, exits included: a broker that lost the order with its kept
        // state (a crash after the send) protects what it filled.
        let next = match broker.recover(&intent.request).await? {
            Some(order) => {
                let status = settled(&order);
                let mut next = intent.advance(status, clock.now());
                next.order_id = Some(order.id.clone());
                if status == IntentStatus::Done {
                    out.found.push(client_id.clone());
                } else {
                    out.working.push(client_id.clone());
                }
                tracing::info!(%client_id, status = ?order.status, "order intent reconciled: the broker has the order");
                if intent.status == IntentStatus::Submitted && status == IntentStatus::Submitted {
                    continue;
                }
                next
            }
            None if intent.status == IntentStatus::Submitted || retired(&client_id) => {
                // The broker answered for it (it took it, or its answer was lost and it was
                // pending), or it finished long ago, and the broker no longer shows it: let go
                // with the orders it finished long ago, a venue's list of today's orders only,
                // or never received. What became of it is in the broker's fills.
                let mut next = intent.advance(IntentStatus::Done, clock.now());
                next.note = Some(
                    "submitted; the broker no longer shows the order (finished and let go, or never received after its answer was lost); not sent again"
                        .into(),
                );
                tracing::info!(%client_id, "order intent settled: submitted, and the broker no longer shows the order");
                out.found.push(client_id.clone());
                next
            }
            None => {
                let mut next = intent.advance(IntentStatus::Abandoned, clock.now());
                next.note = Some(
                    "the broker never received it (the bot stopped before sending); not sent again"
                        .into(),
                );
                tracing::warn!(%client_id, "order intent abandoned: the broker never received it");
                out.abandoned.push(client_id.clone());
                next
            }
        };
        if let Saved::Stale { stored } = intents.record_intent(&next).await? {
            return Err(EngineError::Config(format!(
                "order intent {client_id}: version {stored} is stored, newer than ours; another bot runs on this instrument"
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use tradegraph_broker::{PaperBroker, PaperConfig};
    use tradegraph_core::order::{OrderSide, OrderStatus};
    use tradegraph_core::{Decimal, Instrument, Tick, Timestamp};
    use tradegraph_market::SimulatedClock;
    use tradegraph_store::MemoryState;

    /// The paper broker, counting the orders that reach it.
    struct Counting {
        inner: PaperBroker,
        submits: AtomicUsize,
    }

    #[async_trait]
    impl Broker for Counting {
        fn name(&self) -> &str {
            "counting"
        }
        async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
            self.submits.fetch_add(1, Ordering::SeqCst);
            self.inner.submit(request).await
        }
        async fn cancel(&self, id: &ClientOrderId) -> Result<Order, BrokerError> {
            self.inner.cancel(id).await
        }
        async fn order(&self, id: &ClientOrderId) -> Result<Option<Order>, BrokerError> {
            self.inner.order(id).await
        }
        async fn open_orders(&self) -> Result<Vec<Order>, BrokerError> {
            self.inner.open_orders().await
        }
        async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
            self.inner.positions().await
        }
        async fn account(&self) -> Result<Account, BrokerError> {
            self.inner.account().await
        }
        async fn fills_since(&self, after: u64) -> Result<Vec<Fill>, BrokerError> {
            self.inner.fills_since(after).await
        }
    }

    impl Execution for Counting {}

    fn broker() -> Arc<Counting> {
        let btc = Instrument::btc_usdt();
        let inner =
            PaperBroker::new(PaperConfig::new(btc.clone(), Decimal::from(100_000))).unwrap();
        inner
            .on_tick(
                &btc.symbol,
                &Tick::new(Timestamp::EPOCH, Decimal::from(40_000), Decimal::ONE),
            )
            .unwrap();
        Arc::new(Counting {
            inner,
            submits: AtomicUsize::new(0),
        })
    }

    fn journal<B: Execution>(broker: Arc<B>, intents: Arc<MemoryState>) -> Journal<B> {
        let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::default());
        let state = Arc::new(BotState::new(
            Arc::new(MemoryState::new()),
            "BTCUSDT".into(),
            clock.clone(),
            false,
        ));
        Journal::new(broker, intents, state, clock, KillSwitch::new())
    }

    fn request() -> OrderRequest {
        let id = ClientOrderId::new("tg-test-entry").unwrap();
        OrderRequest::market(id, "BTCUSDT".into(), OrderSide::Buy, Decimal::new(1, 2))
    }

    #[tokio::test]
    async fn the_broker_check_counts_only_calls_that_reach_the_books_or_the_venue() {
        use crate::engine::calls::standing;
        use crate::engine::CheckState;
        use std::time::{Duration, Instant};
        let tick = Tick::new(Timestamp::EPOCH, Decimal::from(40_000), Decimal::ONE);
        let btc = Instrument::btc_usdt().symbol;
        // A venue's broker ignores market data (the trait's default): no answer from it.
        let venue = journal(broker(), Arc::new(MemoryState::new()));
        venue.on_market(&btc, PriceEvent::Tick(&tick)).unwrap();
        assert_eq!(
            venue.calls().now().answered,
            None,
            "on_market's no-op is no answer"
        );
        venue.account().await.unwrap();
        assert!(venue.calls().now().answered.is_some(), "the account is");

        // The paper broker, its state poisoned by a panic: every call fails, market data too.
        let paper = PaperBroker::new(PaperConfig::new(
            Instrument::btc_usdt(),
            Decimal::from(100_000),
        ))
        .unwrap();
        let poison = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            paper.read(|_| std::panic::resume_unwind(Box::new("poisoned")))
        }));
        assert!(poison.is_err());
        let paper = journal(Arc::new(paper), Arc::new(MemoryState::new()));
        assert!(paper.on_market(&btc, PriceEvent::Tick(&tick)).is_err());
        assert!(paper.account().await.is_err());
        let calls = paper.calls().now();
        let now = Instant::now();
        let quiet = Duration::from_secs(180);
        assert_eq!((calls.failures, calls.answered), (2, None));
        assert_eq!(
            standing(&calls, now, now, quiet, true).0,
            CheckState::Degraded
        );
        assert!(paper.fills_since(0).await.is_err());
        let (state, said) = standing(&paper.calls().now(), now, now, quiet, true);
        assert_eq!(state, CheckState::Failing);
        assert!(
            said.contains(
                "3 failed call(s) in a row, the last: the paper broker's state was poisoned"
            ),
            "{said}"
        );
    }

    #[tokio::test]
    async fn an_amendment_goes_through_to_the_broker_and_is_counted_as_a_call() {
        let btc = Instrument::btc_usdt();
        let paper =
            PaperBroker::new(PaperConfig::new(btc.clone(), Decimal::from(100_000))).unwrap();
        let tick = Tick::new(Timestamp::EPOCH, Decimal::from(40_000), Decimal::ONE);
        paper.on_tick(&btc.symbol, &tick).unwrap();
        let journal = journal(Arc::new(paper), Arc::new(MemoryState::new()));
        journal.begin(DecisionId::new("d1"));
        let id = ClientOrderId::new("tg-test-limit").unwrap();
        let limit = OrderRequest::limit(
            id.clone(),
            btc.symbol.clone(),
            OrderSide::Buy,
            Decimal::new(1, 2),
            Decimal::from(39_000),
        );
        journal.submit(limit).await.unwrap();
        let before = journal.calls().now().answered;
        let moved = journal
            .amend(&id, Amendment::price(Decimal::from(39_500)))
            .await
            .unwrap();
        assert_eq!(
            moved.request.kind.limit_price(),
            Some(Decimal::from(39_500))
        );
        let at_broker = journal.inner().order(&id).await.unwrap().unwrap();
        assert_eq!(
            at_broker.request.kind.limit_price(),
            Some(Decimal::from(39_500))
        );
        assert_ne!(
            journal.calls().now().answered,
            before,
            "the amendment reached the broker"
        );
        assert_eq!(
            journal.reconnections(),
            0,
            "the paper broker has no link to lose"
        );
    }

    #[tokio::test]
    async fn a_known_order_never_reaches_the_broker_again() {
        let intents = Arc::new(MemoryState::new());
        let venue = broker();
        let journal = journal(venue.clone(), intents.clone());
        journal.begin(DecisionId::new("d1"));
        let first = journal.submit(request()).await.unwrap();
        assert_eq!(first.status, OrderStatus::Filled);
        let again = journal.submit(request()).await.unwrap();
        assert_eq!(again.id, first.id, "the broker's order is the answer");
        assert_eq!(venue.submits.load(Ordering::SeqCst), 1, "sent once");
        let intent = intents.intent(&request().client_id).await.unwrap().unwrap();
        assert_eq!(intent.status, IntentStatus::Done);
        assert_eq!(intent.order_id, Some(first.id));
    }

    #[tokio::test]
    async fn a_known_order_asked_for_again_with_another_size_is_the_first_order() {
        let intents = Arc::new(MemoryState::new());
        let venue = broker();
        let journal = journal(venue.clone(), intents);
        journal.begin(DecisionId::new("d1"));
        let first = journal.submit(request()).await.unwrap();
        // The same cycle run again after a restart sizes it otherwise: the first order stands.
        let mut other = request();
        other.quantity = Decimal::new(3, 2);
        let again = journal.submit(other).await.unwrap();
        assert_eq!(again.id, first.id);
        assert_eq!(again.request.quantity, Decimal::new(1, 2));
        assert_eq!(venue.submits.load(Ordering::SeqCst), 1, "sent once");
    }

    #[tokio::test]
    async fn an_order_the_broker_forgot_is_not_sent_again() {
        let intents = Arc::new(MemoryState::new());
        journal(broker(), intents.clone())
            .submit(request())
            .await
            .unwrap();
        // Another broker that never saw it (a venue that lost it, an account reset): the intent
        // says it went out, so it does not go out again.
        let venue = broker();
        let err = journal(venue.clone(), intents.clone())
            .submit(request())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                BrokerError::NotRepeated {
                    why: NotRepeated::UnknownToBroker,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("not sent again"), "{err}");
        assert_eq!(venue.submits.load(Ordering::SeqCst), 0);
    }

    /// A venue that takes the order and loses its answer: the paper account books it, the
    /// call fails.
    struct LosesAnswers(PaperBroker);

    #[async_trait]
    impl Broker for LosesAnswers {
        fn name(&self) -> &str {
            "loses-answers"
        }
        async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
            self.0.submit(request).await?;
            Err(BrokerError::Venue {
                venue: "loses-answers".into(),
                reason: tradegraph_broker::live::VenueReason::Unavailable(
                    "the answer was lost".into(),
                ),
            })
        }
        async fn cancel(&self, id: &ClientOrderId) -> Result<Order, BrokerError> {
            self.0.cancel(id).await
        }
        async fn order(&self, id: &ClientOrderId) -> Result<Option<Order>, BrokerError> {
            self.0.order(id).await
        }
        async fn open_orders(&self) -> Result<Vec<Order>, BrokerError> {
            self.0.open_orders().await
        }
        async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
            self.0.positions().await
        }
        async fn account(&self) -> Result<Account, BrokerError> {
            self.0.account().await
        }
        async fn fills_since(&self, after: u64) -> Result<Vec<Fill>, BrokerError> {
            self.0.fills_since(after).await
        }
    }

    impl Execution for LosesAnswers {
        fn revision(&self) -> u64 {
            self.0.revision()
        }
        fn kept_state(&self) -> Result<Option<serde_json::Value>, BrokerError> {
            Execution::kept_state(&self.0)
        }
        fn last_fill_seq(&self) -> Option<u64> {
            Execution::last_fill_seq(&self.0)
        }
    }

    /// A send that failed may still have changed what the broker keeps (a venue broker
    /// remembers an order whose answer was lost, as of unknown outcome): that state is saved
    /// at once, as after an order that went through, so a restart knows it.
    #[tokio::test]
    async fn the_brokers_state_is_saved_after_a_send_that_failed() {
        let kept = Arc::new(MemoryState::new());
        let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::default());
        let state = Arc::new(BotState::new(
            kept.clone(),
            "BTCUSDT".into(),
            clock.clone(),
            false,
        ));
        let broker = Arc::new(LosesAnswers(broker().inner.clone()));
        let journal = Journal::new(
            broker,
            Arc::new(MemoryState::new()),
            state,
            clock,
            KillSwitch::new(),
        );
        journal.submit(request()).await.unwrap_err();
        let saved = tradegraph_store::BotStateStore::load(
            kept.as_ref(),
            &tradegraph_store::StateKey::new("BTCUSDT", StatePart::Broker),
        )
        .await
        .unwrap()
        .expect("the broker's state is saved");
        assert!(
            saved
                .body
                .to_string()
                .contains(request().client_id.as_str()),
            "{}",
            saved.body
        );
        assert!(!journal.trades_unsaved());
    }

    /// [`reconcile`] of BTCUSDT's intents, nothing retired.
    async fn reconcile_btc(venue: &dyn Broker, intents: &dyn IntentLog) -> Reconciled {
        reconcile(
            venue,
            &|_| false,
            intents,
            &"BTCUSDT".into(),
            &SimulatedClock::default(),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn an_abandoned_intent_is_never_sent() {
        let intents = Arc::new(MemoryState::new());
        let pending = IntentRecord::pending(request(), DecisionId::new("d1"), Timestamp::EPOCH);
        intents.record_intent(&pending).await.unwrap();
        let venue = broker();
        let found = reconcile_btc(venue.as_ref(), intents.as_ref()).await;
        assert_eq!(found.abandoned, vec![request().client_id]);
        let err = journal(venue.clone(), intents)
            .submit(request())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("abandoned"), "{err}");
        assert_eq!(venue.submits.load(Ordering::SeqCst), 0);
    }

    /// An intent the broker answered for (`Submitted`) that it no longer shows at a restart
    /// (let go with the orders it finished long ago, a venue's list of today's orders only) is
    /// settled as done and not sent again, not recorded as "the bot stopped before sending".
    #[tokio::test]
    async fn a_submitted_intent_the_broker_no_longer_keeps_is_done_not_abandoned() {
        let intents = Arc::new(MemoryState::new());
        let pending = IntentRecord::pending(request(), DecisionId::new("d1"), Timestamp::EPOCH);
        let submitted = pending.advance(IntentStatus::Submitted, Timestamp::EPOCH);
        intents.record_intent(&submitted).await.unwrap();
        let found = reconcile_btc(broker().as_ref(), intents.as_ref()).await;
        assert!(found.abandoned.is_empty(), "{found:?}");
        assert_eq!(found.found, vec![request().client_id]);
        let kept = intents.intent(&request().client_id).await.unwrap().unwrap();
        assert_eq!(kept.status, IntentStatus::Done);
        assert!(
            kept.note
                .as_deref()
                .is_some_and(|n| n.contains("no longer shows")),
            "{kept:?}"
        );
    }

    /// An intent log that knows no intent and refuses every write: down, or holding a newer
    /// version (another bot wrote the same client id in between).
    struct Refusing {
        stale: bool,
    }

    #[async_trait]
    impl IntentLog for Refusing {
        async fn record_intent(
            &self,
            _: &IntentRecord,
        ) -> Result<Saved, tradegraph_store::StoreError> {
            if self.stale {
                Ok(Saved::Stale { stored: 7 })
            } else {
                Err(tradegraph_store::StoreError::Config("down".into()))
            }
        }
        async fn intent(
            &self,
            _: &ClientOrderId,
        ) -> Result<Option<IntentRecord>, tradegraph_store::StoreError> {
            Ok(None)
        }
        async fn unsettled_intents(
            &self,
            _: &Symbol,
        ) -> Result<Vec<IntentRecord>, tradegraph_store::StoreError> {
            Ok(Vec::new())
        }
    }

    /// A journal over `intents` and a counting broker (returned too).
    fn journal_over(intents: Arc<dyn IntentLog>) -> (Journal<Counting>, Arc<Counting>) {
        let venue = broker();
        let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::default());
        let state = Arc::new(BotState::new(
            Arc::new(MemoryState::new()),
            "BTCUSDT".into(),
            clock.clone(),
            false,
        ));
        let journal = Journal::new(venue.clone(), intents, state, clock, KillSwitch::new());
        (journal, venue)
    }

    /// Submits through a journal over `intents`; the error, and how many orders reached the
    /// broker.
    async fn refused(intents: Refusing) -> (BrokerError, usize) {
        let (journal, venue) = journal_over(Arc::new(intents));
        let err = journal.submit(request()).await.unwrap_err();
        (err, venue.submits.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn no_intent_no_order() {
        let (err, submits) = refused(Refusing { stale: false }).await;
        assert!(err.to_string().contains("was not sent"), "{err}");
        assert!(
            matches!(
                err,
                BrokerError::Journal {
                    reason: IntentFailure::Store(_),
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(submits, 0);
    }

    #[tokio::test]
    async fn a_newer_intent_stored_by_another_bot_stops_the_order() {
        let (err, submits) = refused(Refusing { stale: true }).await;
        assert!(
            matches!(
                err,
                BrokerError::Journal {
                    reason: IntentFailure::Stale { stored: 7, ours: 1 },
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("another bot"), "{err}");
        assert_eq!(submits, 0);
    }

    /// Records each intent twice, answering the second: a client that resent a request whose
    /// answer it lost, the first having been applied.
    struct Resent(MemoryState);

    #[async_trait]
    impl IntentLog for Resent {
        async fn record_intent(
            &self,
            intent: &IntentRecord,
        ) -> Result<Saved, tradegraph_store::StoreError> {
            self.0.record_intent(intent).await?;
            self.0.record_intent(intent).await
        }
        async fn intent(
            &self,
            id: &ClientOrderId,
        ) -> Result<Option<IntentRecord>, tradegraph_store::StoreError> {
            self.0.intent(id).await
        }
        async fn unsettled_intents(
            &self,
            sym: &Symbol,
        ) -> Result<Vec<IntentRecord>, tradegraph_store::StoreError> {
            self.0.unsettled_intents(sym).await
        }
    }

    /// Its own intent answered stale by a resend is recorded, not another bot's: the order
    /// goes (it was refused as if another bot ran).
    #[tokio::test]
    async fn its_own_intent_answered_stale_by_a_resend_lets_the_order_go() {
        let (journal, venue) = journal_over(Arc::new(Resent(MemoryState::new())));
        journal.submit(request()).await.unwrap();
        assert_eq!(venue.submits.load(Ordering::SeqCst), 1);
    }
}
