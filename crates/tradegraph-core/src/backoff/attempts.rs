//! Counting failed attempts between healthy moments: the reconnect arithmetic around
//! [`Backoff`] that the market feeds and the brokers' venue streams share.

use super::Backoff;
use std::time::Duration;

/// Failed attempts since the link was last healthy, and the wait the next one asks for.
///
/// Each failure counts one more attempt (from 1) and draws its delay from the [`Backoff`];
/// a healthy moment (data flowed, a session came up) starts the count again.
///
/// ```
/// use std::time::Duration;
/// use tradegraph_core::backoff::{Attempts, Backoff, Jitter};
///
/// let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
/// let mut attempts = Attempts::new(backoff.with_jitter(Jitter::None));
/// assert_eq!(attempts.failed(), (1, Duration::from_millis(100)));
/// assert_eq!(attempts.failed(), (2, Duration::from_millis(200)));
/// attempts.healthy();
/// assert_eq!(attempts.failed(), (1, Duration::from_millis(100)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Attempts {
    backoff: Backoff,
    failed: u32,
}

impl Attempts {
    /// No failures yet; delays from `backoff`.
    pub const fn new(backoff: Backoff) -> Self {
        Self { backoff, failed: 0 }
    }

    /// The link works: the next failure is attempt 1 again.
    pub fn healthy(&mut self) {
        self.failed = 0;
    }

    /// One more failure: its attempt number (from 1, saturating) and the delay before trying
    /// again ([`Backoff::delay`] of that attempt).
    pub fn failed(&mut self) -> (u32, Duration) {
        self.failed = self.failed.saturating_add(1);
        (self.failed, self.backoff.delay(self.failed))
    }

    /// Failures since the link was last healthy.
    pub const fn count(&self) -> u32 {
        self.failed
    }

    /// The delay schedule.
    pub const fn backoff(&self) -> &Backoff {
        &self.backoff
    }
}
