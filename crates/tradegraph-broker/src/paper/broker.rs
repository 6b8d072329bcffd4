//! [`PaperBroker`]: the engine behind a mutex, as an async [`Broker`].

use super::{PaperConfig, PaperEngine};
use crate::{Broker, BrokerError};
use async_trait::async_trait;
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
/// };
/// broker.on_candle(&nifty.symbol, &bar("2025-01-06T10:00:00+05:30", 24_000, 24_050, 23_980, 24_020))?;
///
/// // What the risk guard approved, placed as its order with the stop attached.
/// let intent = OrderIntent {
///     symbol: nifty.symbol.clone(),
///     decision_id: DecisionId::new("NIFTY50-20250106T044500Z"),
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
}

impl PaperBroker {
    /// A paper broker with `config`, after checking it.
    pub fn new(config: PaperConfig) -> Result<Self, BrokerError> {
        Ok(Self::from_engine(PaperEngine::new(config)?))
    }

    /// Wraps an engine (for example one a backtest prepared).
    pub fn from_engine(engine: PaperEngine) -> Self {
        Self {
            engine: Arc::new(Mutex::new(engine)),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, PaperEngine>, BrokerError> {
        self.engine
            .lock()
            .map_err(|_| BrokerError::Poisoned("paper"))
    }

    /// Runs `f` on the engine (reads, or several changes at once).
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut PaperEngine) -> R) -> Result<R, BrokerError> {
        Ok(f(&mut *self.lock()?))
    }

    /// Feeds a tick; returns the fills it caused.
    pub fn on_tick(&self, symbol: &Symbol, tick: &Tick) -> Result<Vec<Fill>, BrokerError> {
        self.lock()?.on_tick(symbol, tick)
    }

    /// Feeds a trade; returns the fills it caused.
    pub fn on_trade(&self, symbol: &Symbol, trade: &Trade) -> Result<Vec<Fill>, BrokerError> {
        self.lock()?.on_trade(symbol, trade)
    }

    /// Feeds a closed candle; returns the fills it caused.
    pub fn on_candle(&self, symbol: &Symbol, candle: &Candle) -> Result<Vec<Fill>, BrokerError> {
        self.lock()?.on_candle(symbol, candle)
    }
}

#[async_trait]
impl Broker for PaperBroker {
    fn name(&self) -> &str {
        "paper"
    }

    async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
        self.lock()?.submit(request)
    }

    async fn cancel(&self, client_id: &ClientOrderId) -> Result<Order, BrokerError> {
        self.lock()?.cancel(client_id)
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
}
