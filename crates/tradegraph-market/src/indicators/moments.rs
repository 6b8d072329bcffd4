//! The mean and population variance of a sliding window, as TA-Lib 0.8 computes them for
//! `BBANDS` (SMA path), `STDDEV` and `VAR`.
//!
//! The mean is `TA_INT_SMA`'s running sum. The variance is TA-Lib 0.8's cancellation-free one
//! (TA-Lib issues #118, #243, #434): running sums of the values *minus a shift* near the window,
//! so `sum(d²)/n - mean(d)²` never subtracts two quantities of the size of `mean(x)²`. The sums
//! are rebuilt from the window (a fresh two-pass, shift = the window's mean) at least every
//! `32 * period` bars and whenever the variance collapses below 1e-6 of the largest mean square
//! held since the last rebuild; a window flat to rounding is re-anchored on its newest value,
//! which makes its variance exactly 0. (TA-Lib before 0.8 used plain sums of `x` and `x²`, whose
//! drift left flat windows with a deviation of a few 1e-6 instead of 0.)
//!
//! A rebuild costs O(period), once per `32 * period` bars in steady state: O(1) amortized.

use super::ring::Ring;

/// The mean and population variance of one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Moments {
    /// `TA_INT_SMA`'s mean.
    pub(crate) mean: f64,
    /// The population variance, never negative.
    pub(crate) variance: f64,
}

/// The moments of the last `period` values.
#[derive(Debug, Clone)]
pub(crate) struct WindowMoments {
    period: usize,
    divisor: f64,
    inv_period: f64,
    window: Ring,
    /// Plain running sum, for the mean.
    sum: f64,
    /// Values are measured from this.
    shift: f64,
    /// `sum(x - shift)` and `sum((x - shift)²)` over the window.
    shifted: f64,
    shifted_squares: f64,
    /// The largest `shifted_squares` since the last rebuild.
    peak: f64,
    bars_since_rebuild: usize,
}

impl WindowMoments {
    /// Moments over `period` values (at least one).
    pub(crate) fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            divisor: period as f64,
            inv_period: 1.0 / period as f64,
            window: Ring::new(period),
            sum: 0.0,
            shift: 0.0,
            shifted: 0.0,
            shifted_squares: 0.0,
            peak: 0.0,
            bars_since_rebuild: 32 * period,
        }
    }

    /// Folds in `value`; the moments of the last `period` values once there are that many.
    #[inline]
    pub(crate) fn update(&mut self, value: f64) -> Option<Moments> {
        if self.window.len() == 0 {
            // TA-Lib anchors the shift on the first value of the first window.
            self.shift = value;
        }
        self.window.push(value);
        self.sum += value;
        let d = value - self.shift;
        self.shifted += d;
        self.shifted_squares += d * d;
        if self.window.len() < self.period {
            // TA-Lib starts the peak at the sums before the first full window.
            self.peak = self.shifted_squares;
            return None;
        }
        if self.shifted_squares > self.peak {
            self.peak = self.shifted_squares;
        }
        let mean_shift = self.shifted * self.inv_period;
        let mut variance = self.shifted_squares * self.inv_period - mean_shift * mean_shift;
        let mean = self.sum / self.divisor;

        let leaving = self.window.oldest().unwrap_or(value);
        self.sum -= leaving;
        self.remove(leaving);
        self.bars_since_rebuild = self.bars_since_rebuild.saturating_sub(1);
        if variance < 0.000_001 * (self.peak * self.inv_period) || self.bars_since_rebuild == 0 {
            variance = self.rebuild(value, leaving);
        }
        self.window.pop_oldest();
        Some(Moments {
            mean,
            variance: variance.max(0.0),
        })
    }

    /// Recomputes the shifted sums from the full window (`leaving` still in it), returns the
    /// window's variance, then takes `leaving` out again.
    #[cold]
    fn rebuild(&mut self, newest: f64, leaving: f64) -> f64 {
        self.bars_since_rebuild = 32 * self.period;
        let total: f64 = self.window.iter().fold(0.0, |sum, x| sum + x);
        let mut variance = self.reshift(total * self.inv_period);
        if variance < 0.000_001 * (self.shifted_squares * self.inv_period) {
            // Flat to the rounding of its own mean: anchor on one of its own values.
            variance = self.reshift(newest);
        }
        self.peak = self.shifted_squares;
        if variance < 0.000_000_000_001 * (self.shifted_squares * self.inv_period) {
            variance = 0.0;
        }
        self.remove(leaving);
        variance
    }

    /// Re-measures the window from `shift`; returns its variance.
    fn reshift(&mut self, shift: f64) -> f64 {
        self.shift = shift;
        self.shifted = 0.0;
        self.shifted_squares = 0.0;
        for x in self.window.iter() {
            let d = x - shift;
            self.shifted += d;
            self.shifted_squares += d * d;
        }
        let mean_shift = self.shifted * self.inv_period;
        self.shifted_squares * self.inv_period - mean_shift * mean_shift
    }

    fn remove(&mut self, value: f64) {
        let d = value - self.shift;
        self.shifted -= d;
        self.shifted_squares -= d * d;
    }

    /// Forgets every value.
    pub(crate) fn reset(&mut self) {
        *self = Self::new(self.period);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(window: &[f64]) -> f64 {
        let n = window.len() as f64;
        let mean = window.iter().sum::<f64>() / n;
        window.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n
    }

    #[test]
    fn tracks_a_two_pass_variance_through_rebuilds() {
        let mut moments = WindowMoments::new(5);
        let values: Vec<f64> = (0..1000)
            .map(|i| 1e6 + f64::from((i * 7919) % 101) * 0.01)
            .collect();
        for (i, &x) in values.iter().enumerate() {
            let got = moments.update(x);
            if i >= 4 {
                let want = naive(&values[i - 4..=i]);
                let got = got.map(|m| m.variance).unwrap_or(f64::NAN);
                assert!(
                    (got - want).abs() <= 1e-9 * want.max(1e-12),
                    "{i}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn a_flat_window_has_no_variance_and_reset_restarts() {
        let mut moments = WindowMoments::new(20);
        for i in 0..40 {
            moments.update(100.0 + f64::from(i % 3) * 0.37);
        }
        let last = (0..25).filter_map(|_| moments.update(108.37)).last();
        assert_eq!(last.map(|m| m.variance), Some(0.0));
        moments.reset();
        assert_eq!(moments.update(1.0), None);
    }
}
