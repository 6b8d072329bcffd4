//! What is sent to a broker: an order request, with optional exits attached to an entry.

use super::{ClientOrderId, OrderKind, OrderSide, TimeInForce};
use crate::{Price, Quantity, Symbol};
use serde::{Deserialize, Serialize};

/// Protective exits attached to an entry. They start working when the entry fills and protect the
/// whole position in that instrument: each is a reduce-only order for the full position, they
/// cancel one another (one-cancels-the-others), and a later entry with exits replaces them.
///
/// ```
/// use tradegraph_core::{order::Exits, Decimal};
/// let exits = Exits::stop(Decimal::from(41_000))
///     .with_take_profit(Decimal::from(46_000))
///     .with_trailing(Decimal::from(800));
/// assert!(!exits.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Exits {
    /// Stop-loss trigger price (a stop-market order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_loss: Option<Price>,
    /// Take-profit price (a limit order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub take_profit: Option<Price>,
    /// Trailing-stop distance, in price units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailing_distance: Option<Price>,
}

impl Exits {
    /// Only a stop-loss at `price`.
    pub fn stop(price: Price) -> Self {
        Self {
            stop_loss: Some(price),
            ..Self::default()
        }
    }

    /// Adds a take-profit.
    pub fn with_take_profit(mut self, price: Price) -> Self {
        self.take_profit = Some(price);
        self
    }

    /// Adds a trailing stop `distance` behind the best price.
    pub fn with_trailing(mut self, distance: Price) -> Self {
        self.trailing_distance = Some(distance);
        self
    }

    /// Whether no exit is set.
    pub fn is_empty(&self) -> bool {
        self.stop_loss.is_none() && self.take_profit.is_none() && self.trailing_distance.is_none()
    }
}

/// An order as submitted to a [`Broker`](https://docs.rs/tradegraph-broker): who, what, how much,
/// how, for how long, and the exits to attach when it fills.
///
/// ```
/// use tradegraph_core::order::{ClientOrderId, Exits, OrderRequest, OrderSide, TimeInForce};
/// use tradegraph_core::{Decimal, Symbol};
/// let id = ClientOrderId::new("tg-demo-1")?;
/// let order = OrderRequest::market(id, Symbol::new("BTCUSDT"), OrderSide::Buy, Decimal::new(1, 2))
///     .with_exits(Exits::stop(Decimal::from(41_000)))
///     .time_in_force(TimeInForce::Ioc);
/// assert!(!order.reduce_only);
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Our id for it; submitting the same id twice yields the same order.
    pub client_id: ClientOrderId,
    /// The instrument.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: OrderSide,
    /// How much, in the instrument's units (a multiple of its lot size), positive.
    pub quantity: Quantity,
    /// Market, limit, stop or trailing stop.
    pub kind: OrderKind,
    /// How long it works.
    #[serde(default)]
    pub time_in_force: TimeInForce,
    /// Only ever reduces a position (never opens or flips one); cut to the position's size.
    #[serde(default)]
    pub reduce_only: bool,
    /// Exits to attach to the position once this order fills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exits: Option<Exits>,
}

impl OrderRequest {
    /// An order of any kind, good till cancelled, not reduce-only, without exits.
    pub fn new(
        client_id: ClientOrderId,
        symbol: Symbol,
        side: OrderSide,
        quantity: Quantity,
        kind: OrderKind,
    ) -> Self {
        Self {
            client_id,
            symbol,
            side,
            quantity,
            kind,
            time_in_force: TimeInForce::Gtc,
            reduce_only: false,
            exits: None,
        }
    }

    /// A market order.
    pub fn market(
        client_id: ClientOrderId,
        symbol: Symbol,
        side: OrderSide,
        quantity: Quantity,
    ) -> Self {
        Self::new(client_id, symbol, side, quantity, OrderKind::Market)
    }

    /// A limit order at `price`.
    pub fn limit(
        client_id: ClientOrderId,
        symbol: Symbol,
        side: OrderSide,
        quantity: Quantity,
        price: Price,
    ) -> Self {
        Self::new(
            client_id,
            symbol,
            side,
            quantity,
            OrderKind::Limit { price },
        )
    }

    /// A stop-market order triggered at `trigger`.
    pub fn stop(
        client_id: ClientOrderId,
        symbol: Symbol,
        side: OrderSide,
        quantity: Quantity,
        trigger: Price,
    ) -> Self {
        Self::new(
            client_id,
            symbol,
            side,
            quantity,
            OrderKind::Stop { trigger },
        )
    }

    /// Sets the time in force.
    pub fn time_in_force(mut self, tif: TimeInForce) -> Self {
        self.time_in_force = tif;
        self
    }

    /// Makes it reduce-only.
    pub fn reduce_only(mut self) -> Self {
        self.reduce_only = true;
        self
    }

    /// Attaches exits (ignored when empty).
    pub fn with_exits(mut self, exits: Exits) -> Self {
        self.exits = (!exits.is_empty()).then_some(exits);
        self
    }
}
