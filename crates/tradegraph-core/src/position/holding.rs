//! One instrument's position: signed quantity, cost basis, realized and unrealized P&L.

use crate::money::{checked, Money};
use crate::order::Fill;
use crate::{CoreError, Price, Quantity, Symbol, Timestamp};
use serde::{Deserialize, Serialize};

/// Decimal places kept when part of a cost basis is released by a partial close. Prices and
/// quantities have far fewer, so this only matters for averages like 100/3.
const BASIS_SCALE: u32 = 12;

/// A position in one instrument.
///
/// `quantity` is signed (positive long, negative short). `cost_basis` is the signed sum of
/// `quantity × price` of what is still open (average-cost method): the average entry is
/// `cost_basis / quantity`, the unrealized P&L `quantity × mark − cost_basis`. Releasing basis in
/// proportion on a partial close keeps `cash + Σ quantity × mark` equal to `initial cash +
/// realized + unrealized − fees` exactly, whatever the rounding of the average.
///
/// ```
/// use tradegraph_core::position::Position;
/// use tradegraph_core::order::{ClientOrderId, Fill, Liquidity, OrderId, OrderSide};
/// use tradegraph_core::{Decimal, Symbol, Timestamp};
/// let fill = |side, qty: i64, price: i64| Fill {
///     seq: 0, order_id: OrderId::new("P-1"), client_id: ClientOrderId::new("x").unwrap(),
///     symbol: Symbol::new("NIFTY50"), side, quantity: Decimal::from(qty),
///     price: Decimal::from(price), fee: Decimal::ZERO, charges: vec![], liquidity: Liquidity::Taker,
///     ts: Timestamp::EPOCH,
/// };
/// let mut p = Position::flat(Symbol::new("NIFTY50"));
/// p.apply(&fill(OrderSide::Buy, 75, 24_000))?;
/// p.apply(&fill(OrderSide::Buy, 75, 24_100))?;
/// assert_eq!(p.average_entry(), Some(Decimal::from(24_050)));
/// let realized = p.apply(&fill(OrderSide::Sell, 75, 24_150))?;
/// assert_eq!(realized, Decimal::from(7_500)); // 75 × (24 150 − 24 050)
/// p.mark(Decimal::from(24_000), Timestamp::EPOCH)?;
/// assert_eq!(p.unrealized_pnl(), Decimal::from(-3_750));
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The instrument.
    pub symbol: Symbol,
    /// Signed quantity: positive long, negative short, zero flat.
    pub quantity: Quantity,
    /// Signed `Σ quantity × price` of the open quantity.
    pub cost_basis: Money,
    /// P&L realized on this instrument so far (before fees).
    pub realized_pnl: Money,
    /// Fees paid on this instrument so far.
    pub fees: Money,
    /// The latest price it was marked at (the last fill's price until the market marks it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_price: Option<Price>,
    /// When the current position was opened (`None` when flat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<Timestamp>,
    /// Last fill or mark.
    pub updated_at: Timestamp,
}

impl Position {
    /// A flat position.
    pub fn flat(symbol: Symbol) -> Self {
        Self {
            symbol,
            quantity: Quantity::ZERO,
            cost_basis: Money::ZERO,
            realized_pnl: Money::ZERO,
            fees: Money::ZERO,
            mark_price: None,
            opened_at: None,
            updated_at: Timestamp::EPOCH,
        }
    }

    /// Whether there is nothing open.
    pub fn is_flat(&self) -> bool {
        self.quantity.is_zero()
    }

    /// Whether it is long.
    pub fn is_long(&self) -> bool {
        self.quantity > Quantity::ZERO
    }

    /// Whether it is short.
    pub fn is_short(&self) -> bool {
        self.quantity < Quantity::ZERO
    }

    /// `cost_basis / quantity`, `None` when flat.
    pub fn average_entry(&self) -> Option<Price> {
        self.cost_basis.checked_div(self.quantity)
    }

    /// `quantity × mark` (signed), zero without a mark.
    pub fn market_value(&self) -> Money {
        self.mark_price
            .map_or(Money::ZERO, |m| self.quantity.saturating_mul(m))
    }

    /// `|quantity| × mark`.
    pub fn exposure(&self) -> Money {
        self.market_value().abs()
    }

    /// `quantity × mark − cost_basis`; zero without a mark.
    pub fn unrealized_pnl(&self) -> Money {
        if self.mark_price.is_none() {
            return Money::ZERO;
        }
        self.market_value().saturating_sub(self.cost_basis)
    }

    /// Marks it at `price`. Fails (and changes nothing) when `quantity × price` would not fit.
    pub fn mark(&mut self, price: Price, at: Timestamp) -> Result<(), CoreError> {
        checked("position value", self.quantity.checked_mul(price))?;
        self.mark_price = Some(price);
        self.updated_at = self.updated_at.max(at);
        Ok(())
    }

    /// Books a fill of this instrument: opens, adds to, reduces, closes or flips the position.
    /// Returns the P&L it realized (before fees). Fails, changing nothing, for a fill of another
    /// instrument, a non-positive quantity or price, or figures too large to compute.
    pub fn apply(&mut self, fill: &Fill) -> Result<Money, CoreError> {
        if fill.symbol != self.symbol {
            return Err(CoreError::Fill {
                client_id: fill.client_id.to_string(),
                reason: format!(
                    "it is for {}, the position is in {}",
                    fill.symbol, self.symbol
                ),
            });
        }
        if fill.quantity <= Quantity::ZERO
            || fill.price <= Price::ZERO
            || fill.fee.is_sign_negative()
        {
            return Err(CoreError::Fill {
                client_id: fill.client_id.to_string(),
                reason: format!(
                    "quantity {}, price {} and fee {} must be positive (the fee may be zero)",
                    fill.quantity, fill.price, fill.fee
                ),
            });
        }
        let mut next = self.clone();
        let realized = next.book(fill)?;
        *self = next;
        Ok(realized)
    }

    fn book(&mut self, fill: &Fill) -> Result<Money, CoreError> {
        let q = fill.signed_quantity();
        let p = fill.price;
        let mut realized = Money::ZERO;
        let same_direction =
            self.quantity.is_zero() || (q.is_sign_positive() == self.quantity.is_sign_positive());
        if same_direction {
            if self.quantity.is_zero() {
                self.opened_at = Some(fill.ts);
            }
            self.quantity = checked("position quantity", self.quantity.checked_add(q))?;
            let value = checked("fill value", q.checked_mul(p))?;
            self.cost_basis = checked("cost basis", self.cost_basis.checked_add(value))?;
        } else {
            let open = self.quantity.abs();
            let closing = q.abs().min(open);
            // The basis released, in proportion; all of it on a full close (no residue).
            let released = if closing == open {
                self.cost_basis
            } else {
                let share = checked("cost basis", self.cost_basis.checked_mul(closing))?;
                checked("cost basis", share.checked_div(open))?.round_dp(BASIS_SCALE)
            };
            // Closing a long sells (proceeds +closing × p); closing a short buys (−closing × p).
            let flow = checked("fill value", closing.checked_mul(p))?;
            let proceeds = if self.quantity.is_sign_positive() {
                flow
            } else {
                -flow
            };
            realized = checked("realized P&L", proceeds.checked_sub(released))?;
            let closed_signed = if q.is_sign_positive() {
                closing
            } else {
                -closing
            };
            self.quantity = checked(
                "position quantity",
                self.quantity.checked_add(closed_signed),
            )?;
            self.cost_basis = checked("cost basis", self.cost_basis.checked_sub(released))?;
            let rest = checked("position quantity", q.checked_sub(closed_signed))?;
            if self.quantity.is_zero() {
                self.cost_basis = Money::ZERO;
                self.opened_at = None;
            }
            if !rest.is_zero() {
                // Flipped: the rest opens a position on the other side.
                self.quantity = rest;
                self.cost_basis = checked("cost basis", rest.checked_mul(p))?;
                self.opened_at = Some(fill.ts);
            }
        }
        self.realized_pnl = checked("realized P&L", self.realized_pnl.checked_add(realized))?;
        self.fees = checked("fees", self.fees.checked_add(fill.fee))?;
        checked(
            "position value",
            self.quantity.checked_mul(self.mark_price.unwrap_or(p)),
        )?;
        if self.mark_price.is_none() {
            self.mark_price = Some(p);
        }
        self.updated_at = self.updated_at.max(fill.ts);
        Ok(realized)
    }
}
