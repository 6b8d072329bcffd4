//! [`PaperBroker`]: the engine behind a mutex, as an async [`Broker`].

use super::{PaperConfig, PaperEngine, PaperSnapshot};
use crate::{Amendment, Broker, BrokerError, PriceEvent};
use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tradegraph_core::order::{ClientOrderId, Fill, Order, OrderRequest};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::{Candle, Symbol, Tick, Trade};

/// The paper broker: a cloneable handle (clones share the same account) that the price feed
/// drives with [`on_tick`](Self::on_tick), [`on_trade`](Self::on_trade) and
/// [`on_candle`](Self::on_candle), and that execution uses through [`Broker`].
///
/// The lock is held only for the duration of one synchronous call, never across an `.await`.
///
/// To survive a restart, save [`snapshot`](Self::snapshot) whenever [`revision`](Self::revision)
/// has moved since the last save, and start again with [`restore`](Self::restore).
///
/// ```
/// use tradegraph_broker::{Broker, PaperBroker, PaperConfig};
/// use tradegraph_core::order::{DecisionId, Exits, IntentPurpose, OrderIntent, OrderSide};
/// use tradegraph_core::{Candle, Decimal, Instrument, Timeframe, Timestamp};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let nifty = Instrument::nifty_50();
/// let broker = PaperBroker::new(PaperConfig::new(nifty.clone(), Decimal::from(50_000_000)))?;
/// let bar = |t: &str, o: i64, h: i64, l: i64, c: i64| Candle {
///     open_time: t.parse().unwrap(), timeframe: Timeframe::M15,
///     open: o.into(), high: h.into(), low: l.into(), close: c.into(), volume: Decimal::ZERO, trades: 1,
///     quote_volume: None, taker_buy_volume: None, taker_buy_quote_volume: None,
/// };
/// broker.on_candle(&nifty.symbol, &bar("2025-01-06T10:00:00+05:30", 24_000, 24_050, 23_980, 24_020))?;
///
/// // What the risk guard approved, placed as its order with the stop attached.
/// let intent = OrderIntent {
///     symbol: nifty.symbol.clone(),
///     decision_id: DecisionId::new("NIFTY50-20250106T044500.000Z"),
///     purpose: IntentPurpose::Open,
///     side: OrderSide::Buy,
///     quantity: Decimal::from(75),
///     reference_price: Decimal::from(24_020),
///     exits: Exits::stop(Decimal::from(23_900)).with_take_profit(Decimal::from(24_300)),
/// };
/// broker.submit(intent.to_request()).await?;
/// // A bar that touches both: the stop is assumed to come first.
/// let fills = broker.on_candle(&nifty.symbol, &bar("2025-01-06T10:15:00+05:30", 24_020, 24_400, 23_850, 24_200))?;
/// assert_eq!(fills.len(), 1);
/// assert_eq!(fills[0].price, Decimal::new(2_389_520, 2)); // 23 900 less 2 bp of slippage, on the tick
/// let account = broker.account().await?;
/// assert!(account.realized_pnl < Decimal::ZERO && account.reconciliation_gap().is_zero());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct PaperBroker {
    engine: Arc<Mutex<PaperEngine>>,
    revision: Arc<AtomicU64>,
}

impl PaperBroker {
    /// A paper broker with `config`, after checking it.
    pub fn new(config: PaperConfig) -> Result<Self, BrokerError> {
        Ok(Self::from_engine(PaperEngine::new(config)?))
    }

    /// Wraps an engine.
    fn from_engine(engine: PaperEngine) -> Self {
        Self {
            engine: Arc::new(Mutex::new(engine)),
            revision: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A paper broker with `config` that continues the account saved in `snapshot` (see
    /// [`PaperEngine::restore`] for what is checked). Its [`revision`](Self::revision) starts
    /// at 0.
    ///
    /// ```
    /// use tradegraph_broker::{Broker, PaperBroker, PaperConfig, PaperSnapshot, PriceEvent};
    /// use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide};
    /// use tradegraph_core::{Decimal, Instrument, Tick, Timestamp};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let btc = Instrument::btc_usdt();
    /// let config = PaperConfig::new(btc.clone(), Decimal::from(10_000));
    /// let broker = PaperBroker::new(config.clone())?;
    /// let tick = Tick::new(Timestamp::EPOCH, Decimal::from(40_000), Decimal::ONE);
    /// broker.on_market(&btc.symbol, PriceEvent::Tick(&tick))?;
    /// let order = OrderRequest::market(ClientOrderId::new("b1")?, btc.symbol.clone(), OrderSide::Buy, Decimal::new(1, 2));
    /// broker.submit(order.clone()).await?;
    ///
    /// let saved = (broker.revision(), serde_json::to_string(&broker.snapshot()?)?);
    /// // ... the process restarts ...
    /// let broker = PaperBroker::restore(config, serde_json::from_str::<PaperSnapshot>(&saved.1)?)?;
    /// assert_eq!(broker.positions().await?.len(), 1);
    /// // A resubmission after the restart is recognised: the same order, no second fill.
    /// broker.submit(order).await?;
    /// assert_eq!(broker.fills_since(0).await?.len(), 1);
    /// assert_eq!(broker.revision(), 0, "nothing changed since the restore");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn restore(config: PaperConfig, snapshot: PaperSnapshot) -> Result<Self, BrokerError> {
        Ok(Self::from_engine(PaperEngine::restore(config, snapshot)?))
    }

    /// The engine's state, to save (see [`PaperSnapshot`]). Read [`revision`](Self::revision)
    /// first: a change between the two is then seen at the next check.
    pub fn snapshot(&self) -> Result<PaperSnapshot, BrokerError> {
        Ok(self.lock()?.snapshot())
    }

    /// A counter that increases on every change of state (a submit that places or refuses an
    /// order, a cancel, any price event and the fills it causes), so a caller can tell whether
    /// there is anything new to save. Shared by clones; starts at 0.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    fn lock(&self) -> Result<MutexGuard<'_, PaperEngine>, BrokerError> {
        self.engine
            .lock()
            .map_err(|_| BrokerError::Poisoned("paper"))
    }

    /// Marks a change; called with the lock held, so revisions follow the changes' order.
    fn changed(&self) {
        self.revision.fetch_add(1, Ordering::AcqRel);
    }

    /// Runs `f` on the engine to read it; not a change.
    pub fn read<R>(&self, f: impl FnOnce(&PaperEngine) -> R) -> Result<R, BrokerError> {
        Ok(f(&*self.lock()?))
    }

    /// Feeds a tick; returns the fills it caused.
    pub fn on_tick(&self, symbol: &Symbol, tick: &Tick) -> Result<Vec<Fill>, BrokerError> {
        self.on_market(symbol, PriceEvent::Tick(tick))
    }

    /// Feeds a trade; returns the fills it caused.
    pub fn on_trade(&self, symbol: &Symbol, trade: &Trade) -> Result<Vec<Fill>, BrokerError> {
        self.on_market(symbol, PriceEvent::Trade(trade))
    }

    /// Feeds a closed candle; returns the fills it caused.
    pub fn on_candle(&self, symbol: &Symbol, candle: &Candle) -> Result<Vec<Fill>, BrokerError> {
        self.on_market(symbol, PriceEvent::Candle(candle))
    }
}

#[async_trait]
impl Broker for PaperBroker {
    fn name(&self) -> &str {
        "paper"
    }

    /// Its exits are reduce-only: once the position is closed they trade nothing.
    fn closes_around_exits(&self) -> bool {
        true
    }

    async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
        let mut engine = self.lock()?;
        let known = engine.orders().len();
        let result = engine.submit(request);
        // A resubmission (or a refused duplicate) changes nothing; a new order, placed or
        // rejected, is a change.
        if engine.orders().len() != known {
            self.changed();
        }
        engine.compact();
        result
    }

    async fn cancel(&self, client_id: &ClientOrderId) -> Result<Order, BrokerError> {
        let mut engine = self.lock()?;
        let result = engine.cancel(client_id);
        if result.is_ok() {
            self.changed();
        }
        result
    }

    async fn amend(
        &self,
        client_id: &ClientOrderId,
        amendment: Amendment,
    ) -> Result<Order, BrokerError> {
        let mut engine = self.lock()?;
        let result = engine.amend(client_id, amendment);
        if result.is_ok() {
            self.changed();
        }
        result
    }

    async fn order(&self, client_id: &ClientOrderId) -> Result<Option<Order>, BrokerError> {
        Ok(self.lock()?.order(client_id).cloned())
    }

    async fn open_orders(&self) -> Result<Vec<Order>, BrokerError> {
        Ok(self.lock()?.open_orders())
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        Ok(self.lock()?.positions())
    }

    async fn account(&self) -> Result<Account, BrokerError> {
        Ok(self.lock()?.account())
    }

    async fn fills_since(&self, after: u64) -> Result<Vec<Fill>, BrokerError> {
        Ok(self.lock()?.fills_since(after).to_vec())
    }

    /// Matches the working orders against the event (see [`PaperEngine::on_market`]).
    fn on_market(&self, symbol: &Symbol, event: PriceEvent<'_>) -> Result<Vec<Fill>, BrokerError> {
        let mut engine = self.lock()?;
        let result = engine.on_market(symbol, event);
        engine.compact();
        // Even a refused event may have changed something (a stale event is counted; an error
        // part-way leaves what happened before it).
        self.changed();
        result
    }
}
