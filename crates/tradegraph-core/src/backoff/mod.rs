//! Exponential backoff with optional full jitter: the one delay schedule behind node retries
//! (`tradegraph_graph::retry::ExponentialBackoff`), feed and venue-stream reconnections
//! (`tradegraph_market::feed::Backoff` is this type) and webhook retries.
//!
//! Attempt `n` (from 1) may wait up to `min(max, initial * multiplier^(n-1))` (its
//! [`ceiling`](Backoff::ceiling)); with [`Jitter::Full`] the actual [`delay`](Backoff::delay) is
//! drawn uniformly from `[0, ceiling]`, so many clients that failed together do not retry in
//! lockstep.

mod attempts;
#[cfg(test)]
mod tests;

pub use attempts::Attempts;

use rand::Rng;
use std::time::Duration;

/// How much randomness spreads the retries of many callers apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Jitter {
    /// Exactly the computed delay.
    None,
    /// A uniform delay between zero and the computed delay ("full jitter").
    #[default]
    Full,
}

/// An exponential delay schedule: `initial * multiplier^(attempt-1)`, capped at `max`, with
/// [`Jitter`].
///
/// The default is 500 ms doubling up to 30 s with full jitter (the feeds' reconnections).
///
/// ```
/// use std::time::Duration;
/// use tradegraph_core::backoff::{Backoff, Jitter};
///
/// let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
/// assert_eq!(backoff.ceiling(1), Duration::from_millis(100));
/// assert_eq!(backoff.ceiling(3), Duration::from_millis(400));
/// assert_eq!(backoff.ceiling(50), Duration::from_secs(1));
/// assert!(backoff.delay(3) <= Duration::from_millis(400));
///
/// let exact = backoff.with_multiplier(3.0).with_jitter(Jitter::None);
/// assert_eq!(exact.delay(2), Duration::from_millis(300));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    /// Always finite and at least 1 (the constructors see to it).
    multiplier: f64,
    jitter: Jitter,
}

/// `multiplier` is never NaN, so equality is reflexive.
impl Eq for Backoff {}

impl std::hash::Hash for Backoff {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.initial.hash(state);
        self.max.hash(state);
        self.multiplier.to_bits().hash(state);
        self.jitter.hash(state);
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_millis(500), Duration::from_secs(30))
    }
}

impl Backoff {
    /// `initial` doubling up to `max`, with full jitter.
    pub const fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            multiplier: 2.0,
            jitter: Jitter::Full,
        }
    }

    /// The same schedule starting at `initial`.
    #[must_use]
    pub const fn with_initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// The same schedule capped at `max`.
    #[must_use]
    pub const fn with_max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// The same schedule growing by `multiplier` per attempt; a value below 1 or not finite
    /// becomes 1 (a constant delay).
    #[must_use]
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// The same schedule with `jitter`.
    #[must_use]
    pub const fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// The ceiling of the first attempt's delay.
    pub const fn initial(&self) -> Duration {
        self.initial
    }

    /// The largest delay.
    pub const fn max(&self) -> Duration {
        self.max
    }

    /// The growth factor per attempt (finite, at least 1).
    pub const fn multiplier(&self) -> f64 {
        self.multiplier
    }

    /// The jitter.
    pub const fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// The longest wait before attempt `attempt` (from 1; 0 counts as 1):
    /// `min(max, initial * multiplier^(attempt-1))`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = self.initial.as_secs_f64() * self.multiplier.powi(exponent);
        if !secs.is_finite() || secs >= self.max.as_secs_f64() {
            return self.max;
        }
        Duration::try_from_secs_f64(secs)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The wait before attempt `attempt`: the [`ceiling`](Self::ceiling), or with
    /// [`Jitter::Full`] a uniform draw from `[0, ceiling]` (thread-local randomness).
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, &mut rand::rng())
    }

    /// [`delay`](Self::delay) drawing the jitter from `rng` (a seeded one makes it repeatable).
    pub fn delay_with<R: Rng + ?Sized>(&self, attempt: u32, rng: &mut R) -> Duration {
        let ceiling = self.ceiling(attempt);
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Full => {
                let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
                Duration::from_nanos(rng.random_range(0..=nanos))
            }
        }
    }
}
