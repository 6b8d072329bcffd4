use super::RetryPolicy;
use crate::node::NodeError;
use rand::Rng;
use std::time::Duration;

/// How much randomness spreads the retries of many callers apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// Exactly the computed delay.
    None,
    /// A uniform delay between zero and the computed delay ("full jitter").
    #[default]
    Full,
}

/// Which errors are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryOn {
    /// Transient failures and timeouts (the default).
    #[default]
    Transient,
    /// Every error except cancellation and schema violations (a fresh attempt may answer better).
    AnyButCancelled,
    /// Transient failures, timeouts and schema violations (for LLM nodes that may answer better).
    TransientOrInvalidOutput,
}

impl RetryOn {
    fn matches(self, error: &NodeError) -> bool {
        match self {
            Self::Transient => error.is_transient(),
            Self::AnyButCancelled => !matches!(error, NodeError::Cancelled),
            Self::TransientOrInvalidOutput => {
                error.is_transient() || matches!(error, NodeError::InvalidOutput(_))
            }
        }
    }
}

/// Exponential backoff: `initial * multiplier^(attempt-1)`, capped at `max`, with jitter.
///
/// ```
/// use std::time::Duration;
/// use tradegraph_graph::retry::{ExponentialBackoff, Jitter, RetryPolicy};
/// use tradegraph_graph::NodeError;
///
/// let policy = ExponentialBackoff::new(3)
///     .initial(Duration::from_millis(100))
///     .jitter(Jitter::None);
/// let err = NodeError::transient("429");
/// assert_eq!(policy.retry(1, &err), Some(Duration::from_millis(100)));
/// assert_eq!(policy.retry(2, &err), Some(Duration::from_millis(200)));
/// assert_eq!(policy.retry(3, &err), None); // three attempts made
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExponentialBackoff {
    max_attempts: u32,
    initial: Duration,
    max: Duration,
    multiplier: f64,
    jitter: Jitter,
    retry_on: RetryOn,
}

impl ExponentialBackoff {
    /// At most `max_attempts` attempts in all; 100 ms doubling up to 10 s, full jitter,
    /// transient errors only.
    pub fn new(max_attempts: u32) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
            multiplier: 2.0,
            jitter: Jitter::Full,
            retry_on: RetryOn::Transient,
        }
    }

    /// The first delay.
    #[must_use]
    pub fn initial(mut self, delay: Duration) -> Self {
        self.initial = delay;
        self
    }

    /// The largest delay.
    #[must_use]
    pub fn max(mut self, delay: Duration) -> Self {
        self.max = delay;
        self
    }

    /// The growth factor (at least 1).
    #[must_use]
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// The jitter.
    #[must_use]
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Which errors are retried.
    #[must_use]
    pub fn retry_on(mut self, retry_on: RetryOn) -> Self {
        self.retry_on = retry_on;
        self
    }

    /// The attempts allowed in all.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    fn delay(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = self.initial.as_secs_f64() * self.multiplier.powi(exponent);
        let capped = if secs.is_finite() {
            secs.min(self.max.as_secs_f64())
        } else {
            self.max.as_secs_f64()
        };
        let secs = match self.jitter {
            Jitter::None => capped,
            Jitter::Full => rand::rng().random_range(0.0..=capped),
        };
        Duration::try_from_secs_f64(secs).unwrap_or(self.max)
    }
}

impl Default for ExponentialBackoff {
    fn default() -> Self {
        Self::new(3)
    }
}

impl RetryPolicy for ExponentialBackoff {
    fn retry(&self, attempt: u32, error: &NodeError) -> Option<Duration> {
        (attempt < self.max_attempts && self.retry_on.matches(error)).then(|| self.delay(attempt))
    }

    fn describe(&self) -> String {
        format!(
            "exponential({} attempts, {:?}..{:?}, x{}, {:?} jitter, on {:?})",
            self.max_attempts, self.initial, self.max, self.multiplier, self.jitter, self.retry_on
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_cap() {
        let p = ExponentialBackoff::new(10)
            .initial(Duration::from_millis(100))
            .max(Duration::from_millis(350))
            .jitter(Jitter::None);
        let e = NodeError::Timeout(Duration::from_secs(1));
        let delays: Vec<_> = (1..6).filter_map(|a| p.retry(a, &e)).collect();
        assert_eq!(
            delays,
            [100, 200, 350, 350, 350]
                .map(Duration::from_millis)
                .to_vec()
        );
    }

    #[test]
    fn full_jitter_stays_below_the_delay() {
        let p = ExponentialBackoff::new(5).initial(Duration::from_millis(80));
        for _ in 0..200 {
            let d = p
                .retry(2, &NodeError::transient("x"))
                .unwrap_or(Duration::MAX);
            assert!(d <= Duration::from_millis(160), "{d:?}");
        }
    }

    #[test]
    fn only_matching_errors_retry() {
        let p = ExponentialBackoff::new(5);
        assert!(p.retry(1, &NodeError::failed("bad request")).is_none());
        assert!(p.retry(1, &NodeError::Cancelled).is_none());
        let any = p.retry_on(RetryOn::AnyButCancelled);
        assert!(any.retry(1, &NodeError::failed("bad request")).is_some());
        assert!(any.retry(1, &NodeError::Cancelled).is_none());
    }
}
