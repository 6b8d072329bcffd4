//! Moving average convergence/divergence (TA-Lib `MACD`).

use super::rolling::ExpMean;
use super::talib::check_period;
use super::{Bar, Indicator};
use crate::MarketError;
use serde::{Deserialize, Serialize};

/// One MACD reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MacdOutput {
    /// Fast EMA minus slow EMA.
    pub macd: f64,
    /// EMA of the MACD line.
    pub signal: f64,
    /// MACD minus signal.
    pub histogram: f64,
}

/// MACD of the close, exactly as TA-Lib's `TA_MACD` computes it.
///
/// TA-Lib starts both EMAs at the slow EMA's first valid bar: the fast EMA is *not* started at
/// bar 0, its SMA seed is the `fast` closes ending at bar `slow - 1` (closes 14..=25 for 12/26).
/// The signal is an EMA of the MACD line seeded with the mean of its first `signal` values.
/// `fast > slow` is swapped, as TA-Lib does.
///
/// Lookback `slow - 1 + signal - 1` (33 for 12/26/9).
///
/// ```
/// use tradegraph_market::indicators::{Indicator, Macd};
///
/// let mut macd = Macd::new(12, 26, 9)?;
/// assert_eq!(macd.lookback(), 33);
/// let out: Vec<_> = (0..40).map(|i| macd.update_close(100.0 + f64::from(i))).collect();
/// assert!(out[32].is_none() && out[33].is_some());
/// # Ok::<(), tradegraph_market::MarketError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Macd {
    fast_period: usize,
    slow_period: usize,
    signal_period: usize,
    fast: ExpMean,
    slow: ExpMean,
    signal: ExpMean,
    /// Closes seen, saturating at `slow - fast` (when the fast EMA starts).
    seen: usize,
}

impl Macd {
    /// A MACD with the given fast, slow and signal periods (TA-Lib accepts 2+, 2+ and 1+).
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self, MarketError> {
        let fast = check_period("MACD fast", fast, 2)?;
        let slow = check_period("MACD slow", slow, 2)?;
        let signal = check_period("MACD signal", signal, 1)?;
        let (fast, slow) = if slow < fast {
            (slow, fast)
        } else {
            (fast, slow)
        };
        Ok(Self {
            fast_period: fast,
            slow_period: slow,
            signal_period: signal,
            fast: ExpMean::new(fast),
            slow: ExpMean::new(slow),
            signal: ExpMean::new(signal),
            seen: 0,
        })
    }

    /// The fast, slow and signal periods.
    pub fn periods(&self) -> (usize, usize, usize) {
        (self.fast_period, self.slow_period, self.signal_period)
    }

    /// Folds in the next close.
    #[inline]
    pub fn update_close(&mut self, close: f64) -> Option<MacdOutput> {
        let slow = self.slow.update(close);
        let fast_start = self.slow_period - self.fast_period;
        let fast = if self.seen >= fast_start {
            self.fast.update(close)
        } else {
            self.seen += 1;
            None
        };
        let macd = fast? - slow?;
        let signal = self.signal.update(macd)?;
        Some(MacdOutput {
            macd,
            signal,
            histogram: macd - signal,
        })
    }
}

impl Indicator for Macd {
    type Output = MacdOutput;

    #[inline]
    fn update(&mut self, bar: &Bar) -> Option<MacdOutput> {
        self.update_close(bar.close)
    }

    fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
        self.seen = 0;
    }

    fn lookback(&self) -> usize {
        self.slow_period - 1 + self.signal_period - 1
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_fast_ema_is_seeded_from_the_slow_start() {
        // fast 2, slow 4: the fast seed is the mean of closes 2 and 3, not of 0 and 1.
        let mut macd = Macd::new(2, 4, 1).unwrap();
        let closes = [1.0, 5.0, 2.0, 4.0];
        let out: Vec<_> = closes.iter().map(|&c| macd.update_close(c)).collect();
        assert!(out[..3].iter().all(Option::is_none));
        let last = out[3].unwrap();
        assert_eq!(last.macd, 3.0 - 3.0);
        assert_eq!(last.histogram, 0.0);
    }

    #[test]
    fn flat_prices_give_zero_and_reset_restarts() {
        let mut macd = Macd::new(12, 26, 9).unwrap();
        let out: Vec<_> = (0..40).map(|_| macd.update_close(50.0)).collect();
        assert!(out[..33].iter().all(Option::is_none));
        assert!(out[33..]
            .iter()
            .flatten()
            .all(|o| o.macd == 0.0 && o.signal == 0.0));
        macd.reset();
        assert_eq!(macd.update_close(1.0), None);
    }

    #[test]
    fn swaps_fast_and_slow_as_ta_lib_does() {
        assert_eq!(Macd::new(26, 12, 9).unwrap().periods(), (12, 26, 9));
    }
}
