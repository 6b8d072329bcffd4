//! On-balance volume (TA-Lib `OBV`).

use super::{Bar, Indicator};

/// On-balance volume: the running sum of volume, added on an up close and subtracted on a down
/// close.
///
/// As TA-Lib, the first value is the first bar's volume (not 0), so the lookback is 0.
///
/// ```
/// use tradegraph_market::indicators::{Bar, Indicator, Obv};
/// use tradegraph_core::Timestamp;
///
/// let mut obv = Obv::new();
/// let bar = |c, v| Bar::new(Timestamp::EPOCH, c, c, c, c, v);
/// assert_eq!(obv.update(&bar(10.0, 5.0)), Some(5.0));
/// assert_eq!(obv.update(&bar(11.0, 2.0)), Some(7.0));
/// assert_eq!(obv.update(&bar(10.5, 3.0)), Some(4.0));
/// assert_eq!(obv.update(&bar(10.5, 9.0)), Some(4.0));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Obv {
    started: bool,
    prev_close: f64,
    obv: f64,
}

impl Obv {
    /// An OBV with no bars yet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Indicator for Obv {
    type Output = f64;

    #[inline]
    fn update(&mut self, bar: &Bar) -> Option<f64> {
        if !self.started {
            self.started = true;
            self.obv = bar.volume;
        } else if bar.close > self.prev_close {
            self.obv += bar.volume;
        } else if bar.close < self.prev_close {
            self.obv -= bar.volume;
        }
        self.prev_close = bar.close;
        Some(self.obv)
    }

    fn reset(&mut self) {
        *self = Self::default();
    }

    fn lookback(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_core::Timestamp;

    #[test]
    fn zero_volume_and_flat_prices_leave_it_unchanged_and_reset_restarts() {
        let mut obv = Obv::new();
        let bar = |c, v| Bar::new(Timestamp::EPOCH, c, c, c, c, v);
        assert_eq!(obv.update(&bar(1.0, 0.0)), Some(0.0));
        assert_eq!(obv.update(&bar(2.0, 0.0)), Some(0.0));
        assert_eq!(obv.update(&bar(2.0, 8.0)), Some(0.0));
        obv.reset();
        assert_eq!(obv.update(&bar(3.0, 4.0)), Some(4.0));
    }
}
