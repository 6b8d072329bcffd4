use super::RetryPolicy;
use crate::node::NodeError;
use std::time::Duration;
use tradegraph_core::backoff::{Backoff, Jitter};

/// Which errors are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryOn {
    /// Transient failures and timeouts (the default).
    #[default]
    Transient,
    /// Every error but cancellation, schema violations included (a fresh attempt may answer
    /// better).
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

/// Exponential backoff: `initial * multiplier^(attempt-1)`, capped at `max`, with jitter (the
/// schedule is [`tradegraph_core::backoff::Backoff`]), for at most `max_attempts` attempts of
/// the errors [`RetryOn`] selects.
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
    schedule: Backoff,
    retry_on: RetryOn,
}

impl ExponentialBackoff {
    /// At most `max_attempts` attempts in all; 100 ms doubling up to 10 s, full jitter,
    /// transient errors only.
    pub fn new(max_attempts: u32) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            schedule: Backoff::new(Duration::from_millis(100), Duration::from_secs(10)),
            retry_on: RetryOn::Transient,
        }
    }

    /// The first delay.
    #[must_use]
    pub fn initial(mut self, delay: Duration) -> Self {
        self.schedule = self.schedule.with_initial(delay);
        self
    }

    /// The largest delay.
    #[must_use]
    pub fn max(mut self, delay: Duration) -> Self {
        self.schedule = self.schedule.with_max(delay);
        self
    }

    /// The growth factor (at least 1).
    #[must_use]
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.schedule = self.schedule.with_multiplier(multiplier);
        self
    }

    /// The jitter.
    #[must_use]
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.schedule = self.schedule.with_jitter(jitter);
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

    /// The delay schedule.
    pub fn schedule(&self) -> Backoff {
        self.schedule
    }
}

impl Default for ExponentialBackoff {
    fn default() -> Self {
        Self::new(3)
    }
}

impl RetryPolicy for ExponentialBackoff {
    fn retry(&self, attempt: u32, error: &NodeError) -> Option<Duration> {
        (attempt < self.max_attempts && self.retry_on.matches(error))
            .then(|| self.schedule.delay(attempt))
    }

    fn describe(&self) -> String {
        let s = &self.schedule;
        format!(
            "exponential({} attempts, {:?}..{:?}, x{}, {:?} jitter, on {:?})",
            self.max_attempts,
            s.initial(),
            s.max(),
            s.multiplier(),
            s.jitter(),
            self.retry_on
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
        let invalid = NodeError::InvalidOutput(crate::schema::SchemaViolation {
            pointer: "/action".into(),
            rule: "enum".into(),
            message: "\"MAYBE\" is not one of BUY, SELL, HOLD".into(),
        });
        assert!(
            any.retry(1, &invalid).is_some(),
            "schema violations included"
        );
        assert!(p.retry(1, &invalid).is_none());
        let llm = p.retry_on(RetryOn::TransientOrInvalidOutput);
        assert!(llm.retry(1, &invalid).is_some());
        assert!(llm.retry(1, &NodeError::failed("bad request")).is_none());
    }
}
