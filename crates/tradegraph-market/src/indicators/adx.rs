//! Average directional index (TA-Lib `ADX`).

use super::talib::{check_period, is_zero, true_range};
use super::{Bar, Indicator};
use crate::MarketError;

/// Wilder's average directional index, in `[0, 100]`.
///
/// As TA-Lib's `TA_ADX`: +DM, -DM and TR are summed over the first `period - 1` changes, then
/// Wilder-smoothed (`s = s - s / period + x`); each later bar gives a DX from the +DI and -DI.
/// The first ADX is the mean of the first `period` DX values (a DX that cannot be computed,
/// because TR or +DI + -DI is zero, counts as 0), later ones
/// `adx = (adx * (period - 1) + dx) / period`, skipped when the DX cannot be computed.
///
/// Lookback `2 * period - 1` (27 for 14).
///
/// ```
/// use tradegraph_market::indicators::{Adx, Bar, Indicator};
/// use tradegraph_core::Timestamp;
///
/// let mut adx = Adx::new(14)?;
/// let mut last = None;
/// for i in 0..28 {
///     let low = f64::from(i); // a steady climb: all movement is up
///     last = adx.update(&Bar::new(Timestamp::EPOCH, low, low + 1.0, low, low + 1.0, 1.0));
/// }
/// assert_eq!(last, Some(100.0));
/// # Ok::<(), tradegraph_market::MarketError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Adx {
    period: usize,
    /// Bars seen (saturates past `2 * period - 1`).
    seen: usize,
    prev_high: f64,
    prev_low: f64,
    prev_close: f64,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    /// The sum of the first DX values, then the ADX.
    adx: f64,
}

impl Adx {
    /// An ADX over `period` bars (TA-Lib accepts 2 and more).
    pub fn new(period: usize) -> Result<Self, MarketError> {
        let period = check_period("ADX", period, 2)?;
        Ok(Self {
            period,
            seen: 0,
            prev_high: 0.0,
            prev_low: 0.0,
            prev_close: 0.0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            adx: 0.0,
        })
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// DX from the smoothed sums, when TR and +DI + -DI are not zero.
    #[inline]
    fn dx(&self) -> Option<f64> {
        if is_zero(self.tr) {
            return None;
        }
        let minus_di = 100.0 * (self.minus_dm / self.tr);
        let plus_di = 100.0 * (self.plus_dm / self.tr);
        let sum = minus_di + plus_di;
        if is_zero(sum) {
            return None;
        }
        Some(100.0 * ((minus_di - plus_di).abs() / sum))
    }
}

impl Indicator for Adx {
    type Output = f64;

    #[inline]
    fn update(&mut self, bar: &Bar) -> Option<f64> {
        let index = self.seen;
        if index < 2 * self.period {
            self.seen += 1;
        }
        if index == 0 {
            self.prev_high = bar.high;
            self.prev_low = bar.low;
            self.prev_close = bar.close;
            return None;
        }
        let n = self.period as f64;
        let diff_plus = bar.high - self.prev_high;
        let diff_minus = self.prev_low - bar.low;
        self.prev_high = bar.high;
        self.prev_low = bar.low;
        let smoothing = index >= self.period;
        if smoothing {
            self.minus_dm -= self.minus_dm / n;
            self.plus_dm -= self.plus_dm / n;
        }
        if diff_minus > 0.0 && diff_plus < diff_minus {
            self.minus_dm += diff_minus;
        } else if diff_plus > 0.0 && diff_plus > diff_minus {
            self.plus_dm += diff_plus;
        }
        let tr = true_range(bar.high, bar.low, self.prev_close);
        self.prev_close = bar.close;
        if !smoothing {
            self.tr += tr;
            return None;
        }
        self.tr = self.tr - self.tr / n + tr;
        let dx = self.dx();
        let first = 2 * self.period - 1;
        if index < first {
            self.adx += dx.unwrap_or(0.0);
            return None;
        }
        if index == first {
            self.adx = (self.adx + dx.unwrap_or(0.0)) / n;
        } else if let Some(dx) = dx {
            self.adx = (self.adx * (n - 1.0) + dx) / n;
        }
        Some(self.adx)
    }

    fn reset(&mut self) {
        *self = Self {
            period: self.period,
            seen: 0,
            prev_high: 0.0,
            prev_low: 0.0,
            prev_close: 0.0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            adx: 0.0,
        };
    }

    fn lookback(&self) -> usize {
        2 * self.period - 1
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_core::Timestamp;

    #[test]
    fn flat_prices_keep_the_adx_at_zero_and_reset_restarts() {
        let mut adx = Adx::new(14).unwrap();
        let bar = Bar::from_close(Timestamp::EPOCH, 100.0);
        let out: Vec<_> = (0..35).map(|_| adx.update(&bar)).collect();
        assert!(out[..27].iter().all(Option::is_none));
        assert!(out[27..].iter().all(|v| *v == Some(0.0)));
        adx.reset();
        assert_eq!(adx.update(&bar), None);
        assert_eq!(adx.lookback(), 27);
    }
}
