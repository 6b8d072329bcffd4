//! The two averages every indicator is built from, in TA-Lib's arithmetic: the running-sum
//! simple moving average of `TA_INT_SMA` and the SMA-seeded exponential one of `TA_INT_EMA`.

use super::ring::Ring;
use super::talib::per_to_k;

/// `TA_INT_SMA` over a stream: a running sum that adds the new value, divides, then subtracts
/// the value leaving the window (TA-Lib's order, so the floating-point drift is the same).
#[derive(Debug, Clone)]
pub(crate) struct RollingMean {
    window: Ring,
    period: usize,
    divisor: f64,
    sum: f64,
}

impl RollingMean {
    /// A mean over `period` values (at least one).
    pub(crate) fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            window: Ring::new(period),
            period,
            divisor: period as f64,
            sum: 0.0,
        }
    }

    /// Folds in `value`; the mean of the last `period` values once there are that many.
    #[inline]
    pub(crate) fn update(&mut self, value: f64) -> Option<f64> {
        self.sum += value;
        self.window.push(value);
        if self.window.len() < self.period {
            return None;
        }
        let mean = self.sum / self.divisor;
        if let Some(leaving) = self.window.pop_oldest() {
            self.sum -= leaving;
        }
        Some(mean)
    }

    /// Forgets every value.
    pub(crate) fn reset(&mut self) {
        self.window.clear();
        self.sum = 0.0;
    }
}

/// `TA_INT_EMA` over a stream: the first value is the plain mean of the first `period` values
/// (summed in order from zero), then `ema = (x - ema) * k + ema` with `k = 2 / (period + 1)`,
/// as one fused multiply-add (TA-Lib 0.8, issue #183: without the fusion values move by up to
/// 2.8e-16 relative).
#[derive(Debug, Clone)]
pub(crate) struct ExpMean {
    period: usize,
    k: f64,
    seen: usize,
    sum: f64,
    value: f64,
}

impl ExpMean {
    /// An EMA over `period` values (at least one).
    pub(crate) fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            k: per_to_k(period),
            seen: 0,
            sum: 0.0,
            value: 0.0,
        }
    }

    /// Folds in `value`; the average from the `period`-th value on.
    #[inline]
    pub(crate) fn update(&mut self, value: f64) -> Option<f64> {
        if self.seen < self.period {
            self.sum += value;
            self.seen += 1;
            if self.seen < self.period {
                return None;
            }
            self.value = self.sum / self.period as f64;
        } else if self.period == 1 {
            // TA-Lib 0.7.1 and later: a period of 1 is no smoothing, the input unchanged.
            self.value = value;
        } else {
            self.value = (value - self.value).mul_add(self.k, self.value);
        }
        Some(self.value)
    }

    /// Forgets every value.
    pub(crate) fn reset(&mut self) {
        self.seen = 0;
        self.sum = 0.0;
        self.value = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_mean_slides() {
        let mut mean = RollingMean::new(2);
        let out: Vec<_> = [1.0, 3.0, 5.0, 9.0]
            .into_iter()
            .map(|x| mean.update(x))
            .collect();
        assert_eq!(out, [None, Some(2.0), Some(4.0), Some(7.0)]);
        mean.reset();
        assert_eq!(mean.update(4.0), None);
    }

    #[test]
    fn rolling_mean_of_one_is_the_value() {
        let mut mean = RollingMean::new(1);
        assert_eq!(mean.update(0.1), Some(0.1));
        assert_eq!(mean.update(7.0), Some(7.0));
    }

    #[test]
    fn exp_mean_is_seeded_with_the_simple_mean() {
        let mut ema = ExpMean::new(3);
        assert_eq!(ema.update(1.0), None);
        assert_eq!(ema.update(2.0), None);
        assert_eq!(ema.update(3.0), Some(2.0));
        // k = 0.5
        assert_eq!(ema.update(6.0), Some(4.0));
        ema.reset();
        assert_eq!(ema.update(1.0), None);
    }

    #[test]
    fn means_of_one_value_are_the_value() {
        let mut ema = ExpMean::new(1);
        let mut mean = RollingMean::new(1);
        for x in [1e300, 0.1, -3.0, 1e-300] {
            assert_eq!((ema.update(x), mean.update(x)), (Some(x), Some(x)));
        }
    }
}
