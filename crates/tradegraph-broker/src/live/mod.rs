//! Live trading: real money, only with an explicit opt-in.
//!
//! Paper is the default everywhere. A live broker can only be used through [`Live`], which
//! cannot be built without a [`LiveTradingEnabled`] token, and the token has one constructor
//! whose name says what it does. Only the runtime creates it, and only when the user asked
//! for live trading (`TRADEGRAPH_LIVE=1`, see DESIGN.md); nothing below the runtime reads the
//! environment.
//!
//! ```
//! use tradegraph_broker::live::{Live, LiveTradingEnabled};
//! use tradegraph_broker::{Broker, PaperBroker, PaperConfig};
//! use tradegraph_core::{Decimal, Instrument};
//!
//! # fn venue() -> PaperBroker { PaperBroker::new(PaperConfig::new(Instrument::btc_usdt(), Decimal::ONE)).unwrap() }
//! // The runtime, after the user set TRADEGRAPH_LIVE=1:
//! let token = LiveTradingEnabled::i_understand_this_trades_real_money();
//! let broker = Live::new(venue(), token);
//! assert!(broker.is_live());
//! ```
//!
//! # Where the live adapters go
//!
//! Each venue is a module behind its cargo feature, implementing [`Broker`] and taking the token
//! in its constructor, so that it cannot exist without the opt-in:
//!
//! | module | feature | venue |
//! |---|---|---|
//! | `live::binance` | `binance` | Binance spot REST + user data stream (`newClientOrderId` = our client order id) |
//! | `live::kite` | `kite` | Zerodha Kite Connect orders and postbacks (`tag` = our client order id) |
//!
//! Neither is implemented yet.
// #[cfg(feature = "binance")]
// pub mod binance;
// #[cfg(feature = "kite")]
// pub mod kite;

use crate::{Broker, BrokerError, PriceEvent};
use async_trait::async_trait;
use tradegraph_core::order::{ClientOrderId, Fill, Order, OrderRequest};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::Symbol;

/// Proof that live trading was explicitly enabled. Not `Default`, not `Deserialize`, not
/// `Clone`: it is made on purpose, once.
#[derive(Debug)]
pub struct LiveTradingEnabled {
    _private: (),
}

impl LiveTradingEnabled {
    /// The explicit opt-in to trading real money.
    pub fn i_understand_this_trades_real_money() -> Self {
        tracing::warn!("live trading enabled: orders will use real money");
        Self { _private: () }
    }
}

/// A live broker, usable only with the opt-in token. It forwards everything to `B` and reports
/// [`is_live`](Broker::is_live).
#[derive(Debug)]
pub struct Live<B> {
    inner: B,
    _enabled: LiveTradingEnabled,
}

impl<B: Broker> Live<B> {
    /// Wraps `inner`.
    pub fn new(inner: B, enabled: LiveTradingEnabled) -> Self {
        Self {
            inner,
            _enabled: enabled,
        }
    }

    /// The venue.
    pub fn inner(&self) -> &B {
        &self.inner
    }
}

#[async_trait]
impl<B: Broker> Broker for Live<B> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn is_live(&self) -> bool {
        true
    }
    async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
        self.inner.submit(request).await
    }
    async fn cancel(&self, client_id: &ClientOrderId) -> Result<Order, BrokerError> {
        self.inner.cancel(client_id).await
    }
    async fn order(&self, client_id: &ClientOrderId) -> Result<Option<Order>, BrokerError> {
        self.inner.order(client_id).await
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
    fn on_market(&self, symbol: &Symbol, event: PriceEvent<'_>) -> Result<Vec<Fill>, BrokerError> {
        self.inner.on_market(symbol, event)
    }
}
