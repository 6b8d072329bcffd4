//! The side of an order: the same [`Side`] that marks a trade's aggressor.

use crate::market::Side;
use rust_decimal::Decimal;

/// The side of an order. One type for order sides and trade aggressors, so a fill's side and a
/// trade's aggressor compare directly.
pub type OrderSide = Side;

impl Side {
    /// The other side.
    ///
    /// ```
    /// use tradegraph_core::order::OrderSide;
    /// assert_eq!(OrderSide::Buy.opposite(), OrderSide::Sell);
    /// ```
    pub const fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }

    /// `+1` for a buy, `-1` for a sell: the sign a fill of this side gives a position.
    pub const fn sign(self) -> Decimal {
        match self {
            Self::Buy => Decimal::ONE,
            Self::Sell => Decimal::NEGATIVE_ONE,
        }
    }

    /// The side that opens a position of this sign (`Buy` for a positive quantity), `None` for
    /// zero.
    pub fn of_quantity(quantity: Decimal) -> Option<Self> {
        if quantity.is_zero() {
            None
        } else if quantity.is_sign_positive() {
            Some(Self::Buy)
        } else {
            Some(Self::Sell)
        }
    }

    /// The exchange spelling: `BUY` or `SELL`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
