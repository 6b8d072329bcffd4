//! Fills: executions of (part of) an order.

use super::{Charge, ClientOrderId, OrderId, OrderSide};
use crate::money::Money;
use crate::{Price, Quantity, Symbol, Timestamp};
use serde::{Deserialize, Serialize};

/// Whether a fill added liquidity (a resting limit) or took it (market, stop, marketable limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liquidity {
    /// Rested in the book and was hit.
    Maker,
    /// Crossed the spread.
    Taker,
}

/// One execution: `quantity` of an order at `price`, with the fee charged for it.
///
/// ```
/// use tradegraph_core::order::{ClientOrderId, Fill, Liquidity, OrderId, OrderSide};
/// use tradegraph_core::{Decimal, Symbol, Timestamp};
/// let fill = Fill {
///     seq: 1,
///     order_id: OrderId::new("P-1"),
///     client_id: ClientOrderId::new("demo")?,
///     symbol: Symbol::new("BTCUSDT"),
///     side: OrderSide::Sell,
///     quantity: Decimal::new(2, 2),       // 0.02 BTC
///     price: Decimal::from(45_000),
///     fee: Decimal::new(9, 1),            // 0.9 USDT
///     charges: Vec::new(),
///     liquidity: Liquidity::Taker,
///     ts: Timestamp::EPOCH,
/// };
/// assert_eq!(fill.notional(), Some(Decimal::from(900)));
/// assert_eq!(fill.signed_quantity(), Decimal::new(-2, 2));
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The broker's sequence number of this fill, rising by one per fill: the cursor for polling.
    pub seq: u64,
    /// The broker's order id.
    pub order_id: OrderId,
    /// Our order id.
    pub client_id: ClientOrderId,
    /// The instrument.
    pub symbol: Symbol,
    /// Bought or sold.
    pub side: OrderSide,
    /// How much, positive.
    pub quantity: Quantity,
    /// At what price.
    pub price: Price,
    /// The fee charged, in the quote currency, not negative.
    pub fee: Money,
    /// What the fee is made of, by kind (brokerage, taxes, exchange charges), summing to `fee`;
    /// empty when the broker reports the fee as one amount.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<Charge>,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// When.
    pub ts: Timestamp,
}

impl Fill {
    /// `quantity × price`, `None` on overflow.
    pub fn notional(&self) -> Option<Money> {
        self.quantity.checked_mul(self.price)
    }

    /// The quantity with the sign it gives a position: positive for a buy, negative for a sell.
    pub fn signed_quantity(&self) -> Quantity {
        match self.side {
            OrderSide::Buy => self.quantity,
            OrderSide::Sell => -self.quantity,
        }
    }
}
