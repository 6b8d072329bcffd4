//! Exact decimals on a step grid (prices on the tick grid, quantities in lot steps), built from
//! integer step counts without decimal arithmetic.

use rust_decimal::Decimal;

/// Step counts above this are clamped: far beyond any real price or size, and small enough that
/// `count * step` always fits a `Decimal`.
const MAX_COUNT: i64 = 1_000_000_000_000_000;

/// A positive step (`0.05`, `0.00001`, `75`) and the decimals that are whole multiples of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Grid {
    mantissa: i128,
    scale: u32,
    max_count: i64,
}

impl Grid {
    /// The grid of `step`, or `None` unless `step > 0`.
    pub(super) fn new(step: Decimal) -> Option<Self> {
        if step <= Decimal::ZERO {
            return None;
        }
        let step = step.normalize();
        let mantissa = step.mantissa();
        // Decimal mantissas have 96 bits.
        let room = ((1i128 << 96) - 1) / mantissa;
        let max_count = i64::try_from(room).unwrap_or(i64::MAX).min(MAX_COUNT);
        (max_count >= 1).then_some(Self {
            mantissa,
            scale: step.scale(),
            max_count,
        })
    }

    /// The largest step count [`value`](Self::value) represents exactly.
    pub(super) fn max_count(&self) -> i64 {
        self.max_count
    }

    /// The step as a float.
    pub(super) fn step_f64(&self) -> f64 {
        self.mantissa as f64 / 10f64.powi(i32::try_from(self.scale).unwrap_or(0))
    }

    /// `count` steps, exactly (`count` clamped to `0..=max_count`).
    #[inline]
    pub(super) fn value(&self, count: i64) -> Decimal {
        let count = i128::from(count.clamp(0, self.max_count));
        Decimal::try_from_i128_with_scale(count * self.mantissa, self.scale)
            .unwrap_or(Decimal::ZERO)
    }

    /// How many whole steps `value` is, rounded to the nearest (`None` when it does not fit).
    pub(super) fn count(&self, value: Decimal) -> Option<i64> {
        let step = Decimal::try_from_i128_with_scale(self.mantissa, self.scale).ok()?;
        let count = value.checked_div(step)?.round();
        i64::try_from(count).ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn counts_become_exact_multiples() {
        let tick = Grid::new(d("0.050")).unwrap();
        assert_eq!(tick.value(480_001), d("24000.05"));
        assert_eq!(tick.value(-3), Decimal::ZERO);
        assert_eq!(tick.count(d("24000.04")), Some(480_001));
        assert!((tick.step_f64() - 0.05).abs() < 1e-15);
        let lot = Grid::new(d("75")).unwrap();
        assert_eq!(lot.value(3), d("225"));
        let satoshi = Grid::new(d("0.00001")).unwrap();
        assert_eq!(satoshi.value(12_345), d("0.12345"));
        assert_eq!(satoshi.value(i64::MAX), satoshi.value(satoshi.max_count()));
    }

    #[test]
    fn steps_must_be_positive() {
        assert!(Grid::new(Decimal::ZERO).is_none());
        assert!(Grid::new(d("-0.05")).is_none());
    }
}
