//! [`Amendment`]: what changes in a working order.

use tradegraph_core::{Price, Quantity};

/// A change to a working order ([`Broker::amend`](crate::Broker::amend)): a new quantity, limit
/// price or trigger price; what is `None` stays. Kite modifies the order in place (a trailing
/// stop moves its SL order this way); Binance spot cancels and replaces it atomically
/// (`cancelReplace`), under the same client order id's lineage.
///
/// ```
/// use tradegraph_broker::Amendment;
/// use tradegraph_core::Decimal;
/// let raise_stop = Amendment::trigger(Decimal::from(41_000));
/// assert_eq!(raise_stop.trigger, Some(Decimal::from(41_000)));
/// assert!(raise_stop.quantity.is_none() && !raise_stop.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Amendment {
    /// The new total quantity.
    pub quantity: Option<Quantity>,
    /// The new limit price.
    pub price: Option<Price>,
    /// The new trigger price (stop orders).
    pub trigger: Option<Price>,
}

impl Amendment {
    /// A new trigger price.
    pub fn trigger(price: Price) -> Self {
        Self {
            trigger: Some(price),
            ..Self::default()
        }
    }

    /// A new limit price.
    pub fn price(price: Price) -> Self {
        Self {
            price: Some(price),
            ..Self::default()
        }
    }

    /// A new quantity.
    pub fn quantity(quantity: Quantity) -> Self {
        Self {
            quantity: Some(quantity),
            ..Self::default()
        }
    }

    /// Also a new trigger price.
    pub fn with_trigger(mut self, price: Price) -> Self {
        self.trigger = Some(price);
        self
    }

    /// Also a new limit price.
    pub fn with_price(mut self, price: Price) -> Self {
        self.price = Some(price);
        self
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.quantity.is_none() && self.price.is_none() && self.trigger.is_none()
    }
}
