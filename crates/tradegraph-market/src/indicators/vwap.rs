//! Session volume-weighted average price of the typical price.

use super::{Bar, Indicator};
use serde::{Deserialize, Serialize};

/// Milliseconds in a UTC day.
const DAY_MILLIS: i64 = 86_400_000;

/// When a [`Vwap`] starts a new session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VwapReset {
    /// At the first bar of each UTC day (by the bar's timestamp), and when told.
    #[default]
    UtcDay,
    /// Only when told, through [`Vwap::start_session`] (for exchange sessions the caller knows).
    Manual,
}

/// Session VWAP: `sum(typical price * volume) / sum(volume)` since the session start, with the
/// typical price `(high + low + close) / 3`. Not a TA-Lib function.
///
/// `None` while the session has traded no volume (the average is undefined).
///
/// ```
/// use tradegraph_market::indicators::{Bar, Indicator, Vwap, VwapReset};
/// use tradegraph_core::Timestamp;
///
/// let mut vwap = Vwap::new(VwapReset::UtcDay);
/// let day = 86_400_000;
/// let bar = |t, price, volume| Bar::new(Timestamp::from_millis(t), price, price, price, price, volume);
/// assert_eq!(vwap.update(&bar(0, 10.0, 1.0)), Some(10.0));
/// assert_eq!(vwap.update(&bar(60_000, 13.0, 2.0)), Some(12.0));
/// assert_eq!(vwap.update(&bar(day, 20.0, 1.0)), Some(20.0)); // a new UTC day
/// # Ok::<(), tradegraph_market::MarketError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Vwap {
    reset: VwapReset,
    /// The UTC day of the current session, once a bar was seen.
    day: Option<i64>,
    price_volume: f64,
    volume: f64,
}

impl Vwap {
    /// A VWAP with the given session rule.
    pub fn new(reset: VwapReset) -> Self {
        Self {
            reset,
            ..Self::default()
        }
    }

    /// The session rule.
    pub fn reset_rule(&self) -> VwapReset {
        self.reset
    }

    /// Starts a new session: the next bar is its first.
    pub fn start_session(&mut self) {
        self.day = None;
        self.price_volume = 0.0;
        self.volume = 0.0;
    }
}

impl Indicator for Vwap {
    type Output = f64;

    #[inline]
    fn update(&mut self, bar: &Bar) -> Option<f64> {
        let day = bar.ts.millis().div_euclid(DAY_MILLIS);
        if self.reset == VwapReset::UtcDay && self.day.is_some_and(|d| d != day) {
            self.price_volume = 0.0;
            self.volume = 0.0;
        }
        self.day = Some(day);
        self.price_volume += bar.typical_price() * bar.volume;
        self.volume += bar.volume;
        (self.volume != 0.0).then(|| self.price_volume / self.volume)
    }

    fn reset(&mut self) {
        self.start_session();
    }

    fn lookback(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_core::Timestamp;

    fn bar(t: i64, price: f64, volume: f64) -> Bar {
        Bar::new(
            Timestamp::from_millis(t),
            price,
            price,
            price,
            price,
            volume,
        )
    }

    #[test]
    fn zero_volume_has_no_average_until_something_trades() {
        let mut vwap = Vwap::new(VwapReset::UtcDay);
        assert_eq!(vwap.update(&bar(0, 10.0, 0.0)), None);
        assert_eq!(vwap.update(&bar(1, 12.0, 3.0)), Some(12.0));
        assert_eq!(vwap.update(&bar(2, 99.0, 0.0)), Some(12.0));
    }

    #[test]
    fn manual_sessions_ignore_the_day_and_restart_when_told() {
        let mut vwap = Vwap::new(VwapReset::Manual);
        vwap.update(&bar(0, 10.0, 1.0));
        assert_eq!(vwap.update(&bar(DAY_MILLIS, 20.0, 1.0)), Some(15.0));
        vwap.start_session();
        assert_eq!(vwap.update(&bar(DAY_MILLIS + 1, 30.0, 1.0)), Some(30.0));
        vwap.reset();
        assert_eq!(vwap.update(&bar(DAY_MILLIS + 2, 40.0, 1.0)), Some(40.0));
    }

    #[test]
    fn uses_the_typical_price() {
        let mut vwap = Vwap::default();
        let b = Bar::new(Timestamp::EPOCH, 0.0, 12.0, 6.0, 9.0, 2.0);
        assert_eq!(vwap.update(&b), Some(9.0));
    }
}
