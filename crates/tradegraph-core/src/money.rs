//! Money: cash amounts, basis points and checked decimal arithmetic.
//!
//! Cash, P&L, fees and exposure are [`Money`], an exact decimal in the portfolio's currency.
//! Rates are [`Bps`] (basis points) or percents as decimals. Arithmetic on values that input can
//! reach goes through [`checked`], so an absurd price or quantity becomes a [`CoreError`], never
//! a panic.

use crate::CoreError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A cash amount (cash, equity, P&L, fees, exposure): an exact decimal in the quote currency.
pub type Money = Decimal;

/// Basis points: 1 bp = 0.01% = 0.0001.
///
/// ```
/// use tradegraph_core::{money::Bps, Decimal};
/// let fee = Bps::new(Decimal::from(10)); // 0.1%
/// assert_eq!(fee.of(Decimal::from(50_000)), Some(Decimal::from(50)));
/// assert_eq!(fee.fraction(), Decimal::new(1, 3));
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Bps(Decimal);

impl Bps {
    /// Zero basis points.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// `bps` basis points.
    pub const fn new(bps: Decimal) -> Self {
        Self(bps)
    }

    /// From a whole number of basis points.
    pub fn whole(bps: u32) -> Self {
        Self(Decimal::from(bps))
    }

    /// The number of basis points.
    pub const fn value(self) -> Decimal {
        self.0
    }

    /// As a fraction (10 bp -> 0.001).
    pub fn fraction(self) -> Decimal {
        // 10_000 is never zero, and dividing by it cannot overflow.
        self.0 / Decimal::from(10_000)
    }

    /// `amount × bps / 10 000`, `None` on overflow.
    pub fn of(self, amount: Decimal) -> Option<Decimal> {
        amount.checked_mul(self.fraction())
    }
}

impl fmt::Display for Bps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bp", self.0)
    }
}

/// Turns the result of a checked decimal operation into a [`CoreError::Overflow`] naming `what`
/// was being computed.
///
/// ```
/// use tradegraph_core::{money::checked, Decimal};
/// assert!(checked("notional", Decimal::MAX.checked_mul(Decimal::TWO)).is_err());
/// assert_eq!(checked("notional", Decimal::ONE.checked_mul(Decimal::TWO)), Ok(Decimal::TWO));
/// ```
pub fn checked(what: &'static str, value: Option<Decimal>) -> Result<Decimal, CoreError> {
    value.ok_or(CoreError::Overflow { what })
}

/// `percent`% of `amount` (`pct_of(5, 1000) == 50`), `None` on overflow.
pub fn pct_of(percent: Decimal, amount: Decimal) -> Option<Decimal> {
    amount
        .checked_mul(percent)?
        .checked_div(Decimal::ONE_HUNDRED)
}

/// `part` as a percent of `whole`, `None` when `whole` is zero or on overflow.
pub fn pct(part: Decimal, whole: Decimal) -> Option<Decimal> {
    part.checked_mul(Decimal::ONE_HUNDRED)?.checked_div(whole)
}

/// Rounds `value` down to a multiple of `step` (toward zero); `value` itself when `step` is not
/// positive.
///
/// ```
/// use tradegraph_core::{money::floor_to_step, Decimal};
/// assert_eq!(floor_to_step(Decimal::from(89), Decimal::from(30)), Decimal::from(60));
/// ```
pub fn floor_to_step(value: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return value;
    }
    match value.checked_div(step) {
        Some(steps) => steps
            .trunc()
            .checked_mul(step)
            .map_or(Decimal::ZERO, |v| v.normalize()),
        None => Decimal::ZERO,
    }
}

/// Rounds `value` up (away from zero) to a multiple of `step`; `value` itself when `step` is not
/// positive. `None` on overflow.
pub fn ceil_to_step(value: Decimal, step: Decimal) -> Option<Decimal> {
    if step <= Decimal::ZERO {
        return Some(value);
    }
    let steps = value.checked_div(step)?;
    let whole = if steps.is_sign_negative() {
        steps.floor()
    } else {
        steps.ceil()
    };
    whole.checked_mul(step).map(|v| v.normalize())
}

/// Whether `value` is a whole multiple of `step` (always true for a non-positive step).
pub fn is_multiple_of(value: Decimal, step: Decimal) -> bool {
    if step <= Decimal::ZERO {
        return true;
    }
    value.checked_rem(step).is_some_and(|rest| rest.is_zero())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn steps_round_the_right_way() {
        assert_eq!(floor_to_step(d("0.123456"), d("0.00001")), d("0.12345"));
        assert_eq!(floor_to_step(d("-89"), d("30")), d("-60"));
        assert_eq!(ceil_to_step(d("100.01"), d("0.05")), Some(d("100.05")));
        assert_eq!(ceil_to_step(d("-100.01"), d("0.05")), Some(d("-100.05")));
        assert!(is_multiple_of(d("150"), d("30")));
        assert!(!is_multiple_of(d("100.02"), d("0.05")));
        assert_eq!(floor_to_step(d("7"), Decimal::ZERO), d("7"));
    }

    #[test]
    fn percents() {
        assert_eq!(pct_of(d("5"), d("1000")), Some(d("50")));
        assert_eq!(pct(d("20"), d("1000")), Some(d("2")));
        assert_eq!(pct(d("20"), Decimal::ZERO), None);
        assert_eq!(Bps::whole(25).to_string(), "25 bp");
    }
}
