//! Exponential moving average of the close (TA-Lib `EMA`).

use super::rolling::ExpMean;
use super::talib::check_period;
use super::{Bar, Indicator};
use crate::MarketError;

/// Exponential moving average of the close, `k = 2 / (period + 1)`, seeded as TA-Lib seeds it:
/// the first value is the SMA of the first `period` closes.
///
/// Lookback `period - 1`.
///
/// ```
/// use tradegraph_market::indicators::Ema;
///
/// let mut ema = Ema::new(3)?;
/// assert_eq!(ema.update_close(1.0), None);
/// assert_eq!(ema.update_close(2.0), None);
/// assert_eq!(ema.update_close(3.0), Some(2.0)); // the seed: SMA(3)
/// assert_eq!(ema.update_close(6.0), Some(4.0)); // (6 - 2) * 0.5 + 2
/// # Ok::<(), tradegraph_market::MarketError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    ema: ExpMean,
}

impl Ema {
    /// An EMA over `period` bars (TA-Lib 0.7.1 and later accept 1, no smoothing).
    pub fn new(period: usize) -> Result<Self, MarketError> {
        let period = check_period("EMA", period, 1)?;
        Ok(Self {
            period,
            ema: ExpMean::new(period),
        })
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Folds in the next close.
    #[inline]
    pub fn update_close(&mut self, close: f64) -> Option<f64> {
        self.ema.update(close)
    }
}

impl Indicator for Ema {
    type Output = f64;

    #[inline]
    fn update(&mut self, bar: &Bar) -> Option<f64> {
        self.update_close(bar.close)
    }

    fn reset(&mut self) {
        self.ema.reset();
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
    fn flat_prices_stay_flat_and_reset_restarts_the_lead_in() {
        let mut ema = Ema::new(20).unwrap();
        let out: Vec<_> = (0..30).map(|_| ema.update_close(7.25)).collect();
        assert!(out[..19].iter().all(Option::is_none));
        assert!(out[19..].iter().all(|v| *v == Some(7.25)));
        ema.reset();
        assert_eq!(ema.update_close(1.0), None);
        assert_eq!(ema.lookback(), 19);
    }
}
