//! What kind of order, and how long it works.

use crate::Price;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How an order executes.
///
/// ```
/// use tradegraph_core::{order::OrderKind, Decimal};
/// let stop = OrderKind::Stop { trigger: Decimal::from(41_000) };
/// assert_eq!(stop.to_string(), "STOP 41000");
/// assert!(OrderKind::Market.is_market());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum OrderKind {
    /// At the best price available now.
    Market,
    /// At `price` or better; rests until the market reaches it.
    Limit {
        /// The worst acceptable price.
        price: Price,
    },
    /// A stop-market order: becomes a market order once the price reaches `trigger` (at or
    /// above for a buy, at or below for a sell).
    Stop {
        /// The trigger price.
        trigger: Price,
    },
    /// A trailing stop-market order: its trigger follows the best price seen since it started
    /// working at `distance` behind it (below for a sell, above for a buy) and never moves back.
    TrailingStop {
        /// How far the trigger trails the best price, in price units.
        distance: Price,
    },
}

impl OrderKind {
    /// Whether it is a market order.
    pub const fn is_market(&self) -> bool {
        matches!(self, Self::Market)
    }

    /// The limit price, for a limit order.
    pub const fn limit_price(&self) -> Option<Price> {
        match self {
            Self::Limit { price } => Some(*price),
            _ => None,
        }
    }
}

impl fmt::Display for OrderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Market => f.write_str("MARKET"),
            Self::Limit { price } => write!(f, "LIMIT {price}"),
            Self::Stop { trigger } => write!(f, "STOP {trigger}"),
            Self::TrailingStop { distance } => write!(f, "TRAILING_STOP {distance}"),
        }
    }
}

/// How long an order keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum TimeInForce {
    /// Good till cancelled (the default).
    #[default]
    Gtc,
    /// Until the end of the trading day (the session close on NSE, the UTC day for crypto).
    Day,
    /// Immediate or cancel: what cannot fill at once is cancelled.
    Ioc,
    /// Fill or kill: fills completely at once or not at all.
    Fok,
}
