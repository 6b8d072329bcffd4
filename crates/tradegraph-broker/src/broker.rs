//! The [`Broker`] trait: what execution needs from any venue, paper or live.

use crate::{BrokerError, PriceEvent};
use async_trait::async_trait;
use std::sync::Arc;
use tradegraph_core::order::{ClientOrderId, Fill, Order, OrderRequest};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::Symbol;

/// A venue that takes orders: the paper broker, or (behind features and an explicit opt-in,
/// see [`live`](crate::live)) Binance and Kite.
///
/// Contract, for every implementation:
/// - **Idempotent submit.** Submitting a client order id again returns the order already
///   known under it and never places (or fills) it twice; the same id with a different request,
///   or the id of an order finished so long ago that the broker no longer keeps it (the paper
///   broker keeps its newest finished orders, see `PaperEngine::compact`), is
///   [`BrokerError::DuplicateClientOrderId`].
/// - **Refusals are orders.** An order the venue refuses comes back `Ok` with status `Rejected`
///   and a reason; `Err` means the broker itself failed.
/// - **Fills are numbered.** Every fill has a `seq` one above the previous; [`fills_since`]
///   returns those after a cursor, so a consumer that remembers the last `seq` it saw never
///   misses or repeats one.
/// - **Market data goes to every broker.** An engine passes each market event to
///   [`on_market`]; a broker that simulates fills (the paper broker) matches its working orders
///   against it, a venue's broker ignores it (the default) because the venue matches them.
///
/// [`fills_since`]: Broker::fills_since
/// [`on_market`]: Broker::on_market
///
/// ```
/// use tradegraph_broker::{Broker, PaperBroker, PaperConfig};
/// use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide, OrderStatus};
/// use tradegraph_core::{Decimal, Instrument, Tick, Timestamp};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let btc = Instrument::btc_usdt();
/// let broker = PaperBroker::new(PaperConfig::new(btc.clone(), Decimal::from(10_000)))?;
/// broker.on_tick(&btc.symbol, &Tick::new(Timestamp::EPOCH, Decimal::from(40_000), Decimal::ONE))?;
///
/// let id = ClientOrderId::new("demo-1")?;
/// let order = OrderRequest::market(id.clone(), btc.symbol.clone(), OrderSide::Buy, Decimal::new(1, 2));
/// let placed = broker.submit(order.clone()).await?;
/// assert_eq!(placed.status, OrderStatus::Filled);
/// // The same id again: the same order, no second fill.
/// assert_eq!(broker.submit(order).await?.id, placed.id);
/// assert_eq!(broker.fills_since(0).await?.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait Broker: Send + Sync {
    /// A short name for logs: `paper`, `binance`, `kite`.
    fn name(&self) -> &str;

    /// Whether it trades real money.
    fn is_live(&self) -> bool {
        false
    }

    /// Places an order (idempotent by client order id).
    async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError>;

    /// Cancels a working order; returns it as it ends.
    async fn cancel(&self, client_id: &ClientOrderId) -> Result<Order, BrokerError>;

    /// The order with this client order id, if any.
    async fn order(&self, client_id: &ClientOrderId) -> Result<Option<Order>, BrokerError>;

    /// The orders still working (open or partially filled), attached exits included.
    async fn open_orders(&self) -> Result<Vec<Order>, BrokerError>;

    /// The open positions.
    async fn positions(&self) -> Result<Vec<Position>, BrokerError>;

    /// A snapshot of the account.
    async fn account(&self) -> Result<Account, BrokerError>;

    /// The fills with `seq` above `after`, oldest first (`0` for all).
    async fn fills_since(&self, after: u64) -> Result<Vec<Fill>, BrokerError>;

    /// Market data for working orders: the paper broker matches its orders against it; a
    /// venue's broker ignores it (the default). Returns the fills it caused.
    fn on_market(&self, symbol: &Symbol, event: PriceEvent<'_>) -> Result<Vec<Fill>, BrokerError> {
        let _ = (symbol, event);
        Ok(Vec::new())
    }
}

/// A broker behind a smart pointer is a broker: every method forwards.
macro_rules! forward_broker {
    ($($pointer:ident),*) => {$(
        #[async_trait]
        impl<B: Broker + ?Sized> Broker for $pointer<B> {
            fn name(&self) -> &str {
                (**self).name()
            }
            fn is_live(&self) -> bool {
                (**self).is_live()
            }
            async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
                (**self).submit(request).await
            }
            async fn cancel(&self, client_id: &ClientOrderId) -> Result<Order, BrokerError> {
                (**self).cancel(client_id).await
            }
            async fn order(&self, client_id: &ClientOrderId) -> Result<Option<Order>, BrokerError> {
                (**self).order(client_id).await
            }
            async fn open_orders(&self) -> Result<Vec<Order>, BrokerError> {
                (**self).open_orders().await
            }
            async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
                (**self).positions().await
            }
            async fn account(&self) -> Result<Account, BrokerError> {
                (**self).account().await
            }
            async fn fills_since(&self, after: u64) -> Result<Vec<Fill>, BrokerError> {
                (**self).fills_since(after).await
            }
            fn on_market(&self, symbol: &Symbol, event: PriceEvent<'_>) -> Result<Vec<Fill>, BrokerError> {
                (**self).on_market(symbol, event)
            }
        }
    )*};
}

forward_broker!(Arc, Box);
