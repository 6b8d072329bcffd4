//! Counting error-level log events, for the `error_rate` alert.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Error-level events logged in this process (the layer counts them).
static ERRORS: AtomicU64 = AtomicU64::new(0);

/// A `tracing` layer that counts ERROR-level events, except the alerts' own log lines (a
/// critical alert is logged at error level and must not feed the error rate). `tradegraph
/// run`'s subscriber ([`crate::telemetry::log::install`]) has it.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use tradegraph::telemetry::{error_count, ErrorCounter};
/// let subscriber = tracing_subscriber::registry().with(ErrorCounter);
/// let before = error_count();
/// tracing::subscriber::with_default(subscriber, || tracing::error!("the broker refused"));
/// assert!(error_count() > before);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorCounter;

impl<S: Subscriber> Layer<S> for ErrorCounter {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() == Level::ERROR && !meta.target().starts_with("tradegraph::alerts") {
            ERRORS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Error-level events counted so far in this process.
pub fn error_count() -> u64 {
    ERRORS.load(Ordering::Relaxed)
}

/// Errors in the last minute, from the running count ([`error_count`]) sampled over time:
/// the `error_rate` alert's figure.
///
/// ```
/// use std::time::{Duration, Instant};
/// let mut rate = tradegraph::telemetry::ErrorRate::default();
/// let t0 = Instant::now();
/// assert_eq!(rate.per_minute(t0, 5), 0.0);
/// assert_eq!(rate.per_minute(t0 + Duration::from_secs(10), 8), 3.0);
/// ```
#[derive(Debug, Default)]
pub struct ErrorRate {
    seen: VecDeque<(Instant, u64)>,
}

impl ErrorRate {
    /// Records the count `total` at `now` and answers the errors since the newest sample a
    /// minute old or older (since the first sample while the process is younger).
    pub fn per_minute(&mut self, now: Instant, total: u64) -> f64 {
        self.seen.push_back((now, total));
        let minute = Duration::from_secs(60);
        while self.seen.len() > 1
            && self
                .seen
                .get(1)
                .is_some_and(|(at, _)| now.duration_since(*at) >= minute)
        {
            self.seen.pop_front();
        }
        let base = self.seen.front().map_or(total, |(_, n)| *n);
        total.saturating_sub(base) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_the_errors_of_the_last_minute() {
        let mut rate = ErrorRate::default();
        let t0 = Instant::now();
        assert_eq!(rate.per_minute(t0, 5), 0.0);
        assert_eq!(rate.per_minute(t0 + Duration::from_secs(10), 8), 3.0);
        assert_eq!(
            rate.per_minute(t0 + Duration::from_secs(70), 9),
            1.0,
            "the first 5 are over a minute old"
        );
        assert_eq!(rate.per_minute(t0 + Duration::from_secs(200), 9), 0.0);
    }
}
