//! Relative strength index (TA-Lib `RSI`).

use super::talib::{check_period, is_zero};
use super::{Bar, Indicator};
use crate::MarketError;

/// Wilder's relative strength index of the close, in `[0, 100]`.
///
/// As in TA-Lib (0.8's arithmetic): the first average gain and loss are the sums of the first
/// `period` changes times `1 / period`, later ones Wilder-smoothed
/// (`avg = (avg * (period - 1) + change) * (1 / period)`); when average gain plus average loss is
/// zero (TA-Lib's `TA_IS_ZERO`), the RSI is 0.
///
/// Lookback `period`.
///
/// ```
/// use tradegraph_market::indicators::Rsi;
///
/// let mut rsi = Rsi::new(2)?;
/// assert_eq!(rsi.update_close(10.0), None);
/// assert_eq!(rsi.update_close(11.0), None);
/// assert_eq!(rsi.update_close(10.0), Some(50.0)); // one up, one down
/// # Ok::<(), tradegraph_market::MarketError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    inv_period: f64,
    /// Closes seen (saturates past `period`).
    seen: usize,
    prev_close: f64,
    gain: f64,
    loss: f64,
}

impl Rsi {
    /// An RSI over `period` bars (TA-Lib accepts 2 and more).
    pub fn new(period: usize) -> Result<Self, MarketError> {
        let period = check_period("RSI", period, 2)?;
        Ok(Self {
            period,
            inv_period: 1.0 / period as f64,
            seen: 0,
            prev_close: 0.0,
            gain: 0.0,
            loss: 0.0,
        })
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Folds in the next close.
    #[inline]
    pub fn update_close(&mut self, close: f64) -> Option<f64> {
        let change = close - self.prev_close;
        self.prev_close = close;
        if self.seen <= self.period {
            self.seen += 1;
            if self.seen == 1 {
                return None;
            }
            if change < 0.0 {
                self.loss -= change;
            } else {
                self.gain += change;
            }
            if self.seen <= self.period {
                return None;
            }
            self.loss *= self.inv_period;
            self.gain *= self.inv_period;
        } else {
            let n_minus_1 = (self.period - 1) as f64;
            self.loss *= n_minus_1;
            self.gain *= n_minus_1;
            if change < 0.0 {
                self.loss -= change;
            } else {
                self.gain += change;
            }
            self.loss *= self.inv_period;
            self.gain *= self.inv_period;
        }
        let total = self.gain + self.loss;
        Some(if is_zero(total) {
            0.0
        } else {
            100.0 * (self.gain / total)
        })
    }
}

impl Indicator for Rsi {
    type Output = f64;

    #[inline]
    fn update(&mut self, bar: &Bar) -> Option<f64> {
        self.update_close(bar.close)
    }

    fn reset(&mut self) {
        self.seen = 0;
        self.prev_close = 0.0;
        self.gain = 0.0;
        self.loss = 0.0;
    }

    fn lookback(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flat_prices_give_zero_as_in_ta_lib() {
        let mut rsi = Rsi::new(14).unwrap();
        let out: Vec<_> = (0..20).map(|_| rsi.update_close(100.0)).collect();
        assert!(out[..14].iter().all(Option::is_none));
        assert!(out[14..].iter().all(|v| *v == Some(0.0)));
    }

    #[test]
    fn only_gains_give_one_hundred_and_reset_restarts() {
        let mut rsi = Rsi::new(14).unwrap();
        let last = (0..20).map(|i| rsi.update_close(f64::from(i))).last();
        assert_eq!(last, Some(Some(100.0)));
        rsi.reset();
        assert_eq!(rsi.update_close(5.0), None);
        assert_eq!(rsi.lookback(), 14);
    }
}
