//! Bollinger bands (TA-Lib `BBANDS` with an SMA).

use super::moments::WindowMoments;
use super::talib::check_period;
use super::{Bar, Indicator};
use crate::MarketError;
use serde::{Deserialize, Serialize};

/// One reading of the bands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BollingerOutput {
    /// Middle plus `k` deviations.
    pub upper: f64,
    /// The SMA of the close.
    pub middle: f64,
    /// Middle minus `k` deviations.
    pub lower: f64,
}

/// Bollinger bands of the close: the SMA plus and minus `k` population standard deviations.
///
/// As TA-Lib 0.8: the middle band is the running-sum SMA; the deviation is the square root of
/// TA-Lib 0.8's cancellation-free windowed variance (shifted running sums, rebuilt from the window
/// now and then), so a flat window has a deviation of exactly 0. TA-Lib 0.4 to 0.7 used plain
/// sums of `x` and `x²`, which leave a few 1e-6 of noise on a flat window of prices near 100.
///
/// Lookback `period - 1`.
///
/// ```
/// use tradegraph_market::indicators::Bollinger;
///
/// let mut bb = Bollinger::new(2, 2.0)?;
/// bb.update_close(1.0);
/// let bands = bb.update_close(3.0).unwrap();
/// assert_eq!((bands.lower, bands.middle, bands.upper), (0.0, 2.0, 4.0));
/// # Ok::<(), tradegraph_market::MarketError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Bollinger {
    period: usize,
    k: f64,
    moments: WindowMoments,
}

impl Bollinger {
    /// Bands over `period` bars (TA-Lib accepts 2 and more), `k` deviations wide each side.
    pub fn new(period: usize, k: f64) -> Result<Self, MarketError> {
        let period = check_period("Bollinger", period, 2)?;
        if !k.is_finite() {
            return Err(MarketError::Config(format!(
                "Bollinger width must be a finite number of deviations, got {k}"
            )));
        }
        Ok(Self {
            period,
            k,
            moments: WindowMoments::new(period),
        })
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Folds in the next close.
    #[inline]
    pub fn update_close(&mut self, close: f64) -> Option<BollingerOutput> {
        let moments = self.moments.update(close)?;
        let width = moments.variance.sqrt() * self.k;
        Some(BollingerOutput {
            upper: moments.mean + width,
            middle: moments.mean,
            lower: moments.mean - width,
        })
    }
}

impl Indicator for Bollinger {
    type Output = BollingerOutput;

    #[inline]
    fn update(&mut self, bar: &Bar) -> Option<BollingerOutput> {
        self.update_close(bar.close)
    }

    fn reset(&mut self) {
        self.moments.reset();
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flat_prices_collapse_the_bands() {
        let mut bb = Bollinger::new(20, 2.0).unwrap();
        // A walk, then a flat stretch: once the window is flat the bands meet.
        for i in 0..30 {
            bb.update_close(100.0 + f64::from(i % 4) * 0.25);
        }
        let out: Vec<_> = (0..25).map(|_| bb.update_close(108.37)).collect();
        for bands in out[19..].iter().flatten() {
            assert_eq!(bands.upper, bands.lower);
            assert!((bands.middle - 108.37).abs() < 1e-12);
        }
    }

    #[test]
    fn uses_the_population_deviation_and_reset_restarts() {
        let mut bb = Bollinger::new(4, 1.0).unwrap();
        let bands = [2.0, 4.0, 4.0, 6.0]
            .iter()
            .map(|&c| bb.update_close(c))
            .last()
            .flatten()
            .unwrap();
        // mean 4, population variance 2
        assert_eq!(bands.middle, 4.0);
        assert!((bands.upper - (4.0 + 2f64.sqrt())).abs() < 1e-12);
        bb.reset();
        assert_eq!(bb.update_close(1.0), None);
        assert!(Bollinger::new(20, f64::NAN).is_err());
    }
}
