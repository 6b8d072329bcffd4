//! [`Broker`] for [`BinanceBroker`].

use super::broker::BinanceBroker;
use super::{account, orders};
use crate::live::venue::{VenueBook, VenueBroker};
use crate::{Amendment, Broker, BrokerError, PriceEvent};
use async_trait::async_trait;
use tradegraph_core::order::{ClientOrderId, Fill, Order, OrderRequest};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::Symbol;

#[async_trait]
impl Broker for BinanceBroker {
    fn name(&self) -> &str {
        "binance"
    }

    fn is_live(&self) -> bool {
        true
    }

    /// A reduce-only order while exits are working cancels them first (Binance locks the
    /// position for them) and places them again for what is left.
    async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
        super::close::submit(&self.inner, request).await
    }

    async fn cancel(&self, client_id: &ClientOrderId) -> Result<Order, BrokerError> {
        orders::cancel(&self.inner, client_id).await
    }

    async fn amend(
        &self,
        client_id: &ClientOrderId,
        amendment: Amendment,
    ) -> Result<Order, BrokerError> {
        orders::amend(&self.inner, client_id, amendment).await
    }

    fn reconnections(&self) -> u64 {
        self.inner.link.reconnections()
    }

    /// A reduce-only order lifts the OCO and places it again for what is left (`close.rs`).
    fn closes_around_exits(&self) -> bool {
        true
    }

    /// Asks the venue (`GET /api/v3/order`), never only the book.
    async fn order(&self, client_id: &ClientOrderId) -> Result<Option<Order>, BrokerError> {
        orders::query(&self.inner, client_id).await
    }

    /// Asks the venue as [`order`](Broker::order) does; an entry the book lost or has without
    /// its exits takes them from `request`, placed once it has filled (never twice: the venue
    /// is asked for the legs first).
    async fn recover(&self, request: &OrderRequest) -> Result<Option<Order>, BrokerError> {
        orders::recover(&self.inner, request).await
    }

    /// The venue's open orders (`GET /api/v3/openOrders`), as the book tracks them.
    async fn open_orders(&self) -> Result<Vec<Order>, BrokerError> {
        super::stream::poll(&self.inner).await?;
        Ok(self.inner.book.open_orders())
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        account::positions(&self.inner).await
    }

    async fn account(&self) -> Result<Account, BrokerError> {
        account::account(&self.inner).await
    }

    async fn fills_since(&self, after: u64) -> Result<Vec<Fill>, BrokerError> {
        Ok(self.inner.book.fills_since(after))
    }

    /// Keeps the last price (the reference of notional checks and trailing distances); the
    /// venue matches the orders.
    fn on_market(&self, symbol: &Symbol, event: PriceEvent<'_>) -> Result<Vec<Fill>, BrokerError> {
        if *symbol == self.inner.symbol {
            let price = match event {
                PriceEvent::Tick(t) => t.price,
                PriceEvent::Trade(t) => t.price,
                PriceEvent::Candle(c) => c.close,
            };
            self.inner.saw_price(price);
        }
        Ok(Vec::new())
    }
}

impl VenueBroker for BinanceBroker {
    fn book(&self) -> &VenueBook {
        &self.inner.book
    }
}
