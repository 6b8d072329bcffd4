//! The [`Broker`] trait: what execution needs from any venue, paper or live.

use crate::{Amendment, BrokerError, PriceEvent};
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
/// - **Amend in place or not at all.** [`amend`] changes a working order's quantity or prices
///   and returns it as it now works, under the **same client order id** (the journal's intent
///   stays the one record of it): the paper broker and Kite modify the order itself; Binance
///   spot replaces it atomically (`cancelReplace`) and the replacement takes over the id, so
///   [`order`] answers the order that works now. A broker that cannot amend says
///   [`BrokerError::Unsupported`] (the default); a refused amendment changes nothing.
/// - **Recovered orders keep their exits.** [`recover`] answers as [`order`] does, given the
///   request recorded before the send: a broker that lost what it kept of the order (a
///   crash after the send, before its state was saved) takes the request's exits back, and
///   places them once for what filled.
/// - **Reconnections are counted.** A venue's broker counts each time it re-established its
///   link for order updates ([`reconnections`]); the engine reconciles its state with the
///   venue's whenever the count moves. A broker with no such link keeps `0`.
/// - **Market data goes to every broker.** An engine passes each market event to
///   [`on_market`]; a broker that simulates fills (the paper broker) matches its working orders
///   against it, a venue's broker ignores it (the default) because the venue matches them.
///
/// [`fills_since`]: Broker::fills_since
/// [`on_market`]: Broker::on_market
/// [`amend`]: Broker::amend
/// [`order`]: Broker::order
/// [`recover`]: Broker::recover
/// [`reconnections`]: Broker::reconnections
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

    /// Changes a working order (see [`Amendment`]); returns it as it now works.
    ///
    /// # Errors
    /// [`BrokerError::Unsupported`] from a broker that cannot amend (the default);
    /// [`BrokerError::UnknownOrder`] or [`BrokerError::NotCancellable`] when the order is not
    /// working.
    async fn amend(
        &self,
        client_id: &ClientOrderId,
        amendment: Amendment,
    ) -> Result<Order, BrokerError> {
        let _ = (client_id, amendment);
        Err(BrokerError::Unsupported {
            broker: self.name().to_owned(),
            what: "amend an order",
        })
    }

    /// How many times the broker re-established its link for order updates since it started
    /// (`0` for a broker without one, such as the paper broker).
    fn reconnections(&self) -> u64 {
        0
    }

    /// Whether a reduce-only order sent while exits protect the position is safe as it is:
    /// the broker makes room for it, and no exit can trade the position a second time once it
    /// is closed (the paper broker's exits are reduce-only; Binance lifts the OCO that locks
    /// the asset, and places it again for what is left whatever the order comes to). `false`
    /// (the default; Kite, which has no reduce-only orders): the kill switch cancels the exits
    /// before its close (a decision's close and a close-all rely on the broker fitting its
    /// exits to the position once the close fills, as Kite's does).
    fn closes_around_exits(&self) -> bool {
        false
    }

    /// The order with this client order id, if any.
    async fn order(&self, client_id: &ClientOrderId) -> Result<Option<Order>, BrokerError>;

    /// [`order`] for a request its caller recorded before sending it (the order journal's
    /// intent, read back at a restart). A broker that lost what it kept of the order (the bot
    /// stopped after the send and before the broker's state was saved) takes the request's
    /// exits back from it, so that an entry the venue filled still gets its stop and target;
    /// nothing is sent for the order itself, and exits already placed are not placed again.
    /// The default answers [`order`] (a broker whose exits cannot outlive what it keeps).
    ///
    /// [`order`]: Broker::order
    async fn recover(&self, request: &OrderRequest) -> Result<Option<Order>, BrokerError> {
        self.order(&request.client_id).await
    }

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

/// A broker that forwards every method to what it dereferences to (`**self`), except
/// [`Broker::is_live`], which each use states: a smart pointer forwards it (`forward`), the
/// live opt-in ([`Live`](crate::live::Live)) says `true`.
macro_rules! forward_broker {
    (pointers: $($pointer:ident),*) => {$(
        $crate::broker::forward_broker!(@impl [B: Broker + ?Sized] $pointer<B>, forward);
    )*};
    (@live $this:ident forward) => { (**$this).is_live() };
    (@live $this:ident true) => { true };
    (@impl [$($generics:tt)*] $ty:ty, $live:tt) => {
        #[async_trait]
        impl<$($generics)*> Broker for $ty {
            fn is_live(&self) -> bool {
                $crate::broker::forward_broker!(@live self $live)
            }
            fn name(&self) -> &str {
                (**self).name()
            }
            async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
                (**self).submit(request).await
            }
            async fn cancel(&self, client_id: &ClientOrderId) -> Result<Order, BrokerError> {
                (**self).cancel(client_id).await
            }
            async fn amend(&self, client_id: &ClientOrderId, amendment: Amendment) -> Result<Order, BrokerError> {
                (**self).amend(client_id, amendment).await
            }
            fn reconnections(&self) -> u64 {
                (**self).reconnections()
            }
            fn closes_around_exits(&self) -> bool {
                (**self).closes_around_exits()
            }
            async fn order(&self, client_id: &ClientOrderId) -> Result<Option<Order>, BrokerError> {
                (**self).order(client_id).await
            }
            async fn recover(&self, request: &OrderRequest) -> Result<Option<Order>, BrokerError> {
                (**self).recover(request).await
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
    };
}

forward_broker!(pointers: Arc, Box);

pub(crate) use forward_broker;
