//! Average true range (TA-Lib `ATR`).

use super::talib::{check_period, true_range};
use super::{Bar, Indicator};
use crate::MarketError;

/// Wilder's average true range.
///
/// As TA-Lib: true ranges start at the second bar (the first has no previous close); the first
/// ATR is the plain mean of the first `period` true ranges, later ones
/// `atr = (atr * (period - 1) + tr) / period`. (TA-Lib 0.8 fuses that step differently, with
/// an FMA where the machine has one, so its ATR and this one agree to about 1e-15, not bit for bit.)
///
/// Lookback `period`.
///
/// ```
/// use tradegraph_market::indicators::{Atr, Bar, Indicator};
/// use tradegraph_core::Timestamp;
///
/// let mut atr = Atr::new(2)?;
/// let bar = |h, l, c| Bar::new(Timestamp::EPOCH, c, h, l, c, 1.0);
/// assert_eq!(atr.update(&bar(11.0, 9.0, 10.0)), None);
/// assert_eq!(atr.update(&bar(12.0, 10.0, 11.0)), None); // tr 2
/// assert_eq!(atr.update(&bar(11.0, 7.0, 8.0)), Some(3.0)); // tr 4
/// # Ok::<(), tradegraph_market::MarketError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    /// Bars seen (saturates past `period`).
    seen: usize,
    prev_close: f64,
    atr: f64,
}

impl Atr {
    /// An ATR over `period` bars (TA-Lib accepts 1 and more).
    pub fn new(period: usize) -> Result<Self, MarketError> {
        let period = check_period("ATR", period, 1)?;
        Ok(Self {
            period,
            seen: 0,
            prev_close: 0.0,
            atr: 0.0,
        })
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }
}

impl Indicator for Atr {
    type Output = f64;

    #[inline]
    fn update(&mut self, bar: &Bar) -> Option<f64> {
        let tr = true_range(bar.high, bar.low, self.prev_close);
        self.prev_close = bar.close;
        let n = self.period as f64;
        if self.seen <= self.period {
            self.seen += 1;
            if self.seen == 1 {
                return None;
            }
            // The seed: TA_INT_SMA over the first `period` true ranges, summed in order.
            self.atr += tr;
            if self.seen <= self.period {
                return None;
            }
            self.atr /= n;
        } else {
            self.atr *= n - 1.0;
            self.atr += tr;
            self.atr /= n;
        }
        Some(self.atr)
    }

    fn reset(&mut self) {
        self.seen = 0;
        self.prev_close = 0.0;
        self.atr = 0.0;
    }

    fn lookback(&self) -> usize {
        self.period
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_core::Timestamp;

    #[test]
    fn flat_prices_have_no_range_and_reset_restarts() {
        let mut atr = Atr::new(14).unwrap();
        let bar = Bar::from_close(Timestamp::EPOCH, 3.0);
        let out: Vec<_> = (0..20).map(|_| atr.update(&bar)).collect();
        assert!(out[..14].iter().all(Option::is_none));
        assert!(out[14..].iter().all(|v| *v == Some(0.0)));
        atr.reset();
        assert_eq!(atr.update(&bar), None);
        assert_eq!(atr.lookback(), 14);
    }

    #[test]
    fn gaps_count_through_the_previous_close() {
        let mut atr = Atr::new(1).unwrap();
        let bar = |h, l, c| Bar::new(Timestamp::EPOCH, c, h, l, c, 0.0);
        atr.update(&bar(10.0, 9.0, 10.0));
        assert_eq!(atr.update(&bar(15.0, 14.0, 14.5)), Some(5.0));
        assert_eq!(atr.update(&bar(14.0, 13.5, 14.0)), Some(1.0));
    }
}
