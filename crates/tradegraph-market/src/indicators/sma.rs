//! Simple moving average of the close (TA-Lib `SMA`).

use super::rolling::RollingMean;
use super::talib::check_period;
use super::{Bar, Indicator};
use crate::MarketError;

/// Simple moving average of the close over `period` bars, with TA-Lib's running sum.
///
/// Lookback `period - 1`.
///
/// ```
/// use tradegraph_market::indicators::{Bar, Indicator, Sma};
/// use tradegraph_core::Timestamp;
///
/// let mut sma = Sma::new(2)?;
/// assert_eq!(sma.update_close(1.0), None);
/// assert_eq!(sma.update(&Bar::from_close(Timestamp::EPOCH, 3.0)), Some(2.0));
/// # Ok::<(), tradegraph_market::MarketError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sma {
    period: usize,
    mean: RollingMean,
}

impl Sma {
    /// An SMA over `period` bars (TA-Lib 0.7.1 and later accept 1, no smoothing).
    pub fn new(period: usize) -> Result<Self, MarketError> {
        let period = check_period("SMA", period, 1)?;
        Ok(Self {
            period,
            mean: RollingMean::new(period),
        })
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Folds in the next close.
    #[inline]
    pub fn update_close(&mut self, close: f64) -> Option<f64> {
        self.mean.update(close)
    }
}

impl Indicator for Sma {
    type Output = f64;

    #[inline]
    fn update(&mut self, bar: &Bar) -> Option<f64> {
        self.update_close(bar.close)
    }

    fn reset(&mut self) {
        self.mean.reset();
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
    fn flat_prices_average_to_the_price_and_reset_restarts_the_lead_in() {
        let mut sma = Sma::new(20).unwrap();
        let out: Vec<_> = (0..25).map(|_| sma.update_close(42.5)).collect();
        assert!(out[..19].iter().all(Option::is_none));
        assert!(out[19..].iter().all(|v| *v == Some(42.5)));
        sma.reset();
        assert_eq!(sma.update_close(1.0), None);
        assert_eq!(sma.lookback(), 19);
    }

    #[test]
    fn rejects_a_zero_period() {
        assert!(Sma::new(0).unwrap_err().to_string().contains("SMA period"));
    }
}
