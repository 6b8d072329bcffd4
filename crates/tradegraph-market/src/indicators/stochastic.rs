//! Slow stochastic oscillator (TA-Lib `STOCH` with SMA smoothing).

use super::extreme::{Extreme, WindowExtreme};
use super::rolling::RollingMean;
use super::talib::{check_period, EPSILON};
use super::{Bar, Indicator};
use crate::MarketError;
use serde::{Deserialize, Serialize};

/// One stochastic reading, both in `[0, 100]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StochasticOutput {
    /// Slow %K: the SMA of fast %K.
    pub k: f64,
    /// Slow %D: the SMA of slow %K.
    pub d: f64,
}

/// The slow stochastic: fast %K over `k_period` bars, slow %K its `slow_k_period` SMA and
/// slow %D the `d_period` SMA of that.
///
/// As TA-Lib 0.8: fast %K is `100 * ((close - lowest) / (highest - lowest))`, and 0 when the
/// range is zero to within 1e-14 of `|highest| + |lowest|` (`TA_IS_ZERO_SCALED`); both SMAs are
/// TA-Lib running sums. Those sums can drift a few ulps outside `[0, 100]` (TA-Lib reports
/// `-7.1e-15` on a flat stretch), so outputs are clamped to it: a change far below 1e-9.
///
/// Lookback `k_period - 1 + slow_k_period - 1 + d_period - 1` (17 for 14/3/3).
///
/// ```
/// use tradegraph_market::indicators::{Bar, Indicator, Stochastic};
/// use tradegraph_core::Timestamp;
///
/// let mut stoch = Stochastic::new(14, 3, 3)?;
/// assert_eq!(stoch.lookback(), 17);
/// let mut last = None;
/// for i in 0..18 {
///     let close = f64::from(i);
///     last = stoch.update(&Bar::new(Timestamp::EPOCH, close, close + 1.0, close, close + 1.0, 1.0));
/// }
/// // Closing at the high: 100, give or take the running sums' last bit.
/// let last = last.unwrap();
/// assert!(100.0 - last.k < 1e-12 && 100.0 - last.d < 1e-12);
/// # Ok::<(), tradegraph_market::MarketError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Stochastic {
    periods: (usize, usize, usize),
    highest: WindowExtreme,
    lowest: WindowExtreme,
    /// Bars seen, saturating at `k_period`.
    seen: usize,
    slow_k: RollingMean,
    slow_d: RollingMean,
}

impl Stochastic {
    /// A slow stochastic with the fast %K, slow %K and slow %D periods (TA-Lib accepts 1 and
    /// more for each).
    pub fn new(
        k_period: usize,
        slow_k_period: usize,
        d_period: usize,
    ) -> Result<Self, MarketError> {
        let k_period = check_period("Stochastic %K", k_period, 1)?;
        let slow_k_period = check_period("Stochastic slow %K", slow_k_period, 1)?;
        let d_period = check_period("Stochastic %D", d_period, 1)?;
        Ok(Self {
            periods: (k_period, slow_k_period, d_period),
            highest: WindowExtreme::new(Extreme::Max, k_period),
            lowest: WindowExtreme::new(Extreme::Min, k_period),
            seen: 0,
            slow_k: RollingMean::new(slow_k_period),
            slow_d: RollingMean::new(d_period),
        })
    }

    /// The fast %K, slow %K and slow %D periods.
    pub fn periods(&self) -> (usize, usize, usize) {
        self.periods
    }
}

impl Indicator for Stochastic {
    type Output = StochasticOutput;

    #[inline]
    fn update(&mut self, bar: &Bar) -> Option<StochasticOutput> {
        let highest = self.highest.update(bar.high);
        let lowest = self.lowest.update(bar.low);
        if self.seen + 1 < self.periods.0 {
            self.seen += 1;
            return None;
        }
        let range = highest - lowest;
        let fast_k = if range.abs() <= EPSILON * (highest.abs() + lowest.abs()) {
            0.0
        } else {
            100.0 * ((bar.close - lowest) / range)
        };
        let k = self.slow_k.update(fast_k)?;
        let d = self.slow_d.update(k)?;
        Some(StochasticOutput {
            k: k.clamp(0.0, 100.0),
            d: d.clamp(0.0, 100.0),
        })
    }

    fn reset(&mut self) {
        self.highest.reset();
        self.lowest.reset();
        self.seen = 0;
        self.slow_k.reset();
        self.slow_d.reset();
    }

    fn lookback(&self) -> usize {
        let (k, slow_k, d) = self.periods;
        k - 1 + slow_k - 1 + d - 1
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_core::Timestamp;

    #[test]
    fn a_zero_range_gives_zero_as_in_ta_lib() {
        let mut stoch = Stochastic::new(14, 3, 3).unwrap();
        let bar = Bar::from_close(Timestamp::EPOCH, 10.0);
        let out: Vec<_> = (0..20).map(|_| stoch.update(&bar)).collect();
        assert!(out[..17].iter().all(Option::is_none));
        assert!(out[17..]
            .iter()
            .all(|o| *o == Some(StochasticOutput { k: 0.0, d: 0.0 })));
        stoch.reset();
        assert_eq!(stoch.update(&bar), None);
    }

    #[test]
    fn fast_k_of_one_follows_the_close_in_the_range() {
        let mut stoch = Stochastic::new(2, 1, 1).unwrap();
        let bar = |h, l, c| Bar::new(Timestamp::EPOCH, c, h, l, c, 1.0);
        assert_eq!(stoch.update(&bar(10.0, 8.0, 9.0)), None);
        // range 8..12 over two bars, close 11: 75
        assert_eq!(stoch.update(&bar(12.0, 9.0, 11.0)).map(|s| s.k), Some(75.0));
    }
}
