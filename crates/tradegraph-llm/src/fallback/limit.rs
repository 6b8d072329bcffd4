//! Per-provider rate limits (requests and tokens per minute) and a concurrency limit.

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// A provider's limits. Unset limits do not limit.
///
/// ```
/// use tradegraph_llm::fallback::Limits;
///
/// let free_tier = Limits::new().requests_per_minute(15).tokens_per_minute(250_000).max_concurrency(2);
/// assert_eq!(free_tier.requests_per_minute, Some(15));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Requests per minute.
    pub requests_per_minute: Option<u32>,
    /// Tokens per minute (estimated before the call, corrected with the real usage after).
    pub tokens_per_minute: Option<u64>,
    /// Calls in flight at once.
    pub max_concurrency: Option<usize>,
}

impl Limits {
    /// No limits.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets requests per minute.
    #[must_use]
    pub fn requests_per_minute(mut self, n: u32) -> Self {
        self.requests_per_minute = Some(n);
        self
    }
    /// Sets tokens per minute.
    #[must_use]
    pub fn tokens_per_minute(mut self, n: u64) -> Self {
        self.tokens_per_minute = Some(n);
        self
    }
    /// Sets the concurrency limit.
    #[must_use]
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = Some(n);
        self
    }
}

/// A token bucket refilled continuously: `capacity` per minute.
#[derive(Debug)]
struct Bucket {
    capacity: f64,
    level: f64,
    at: Instant,
}

impl Bucket {
    fn new(capacity: f64, now: Instant) -> Self {
        Self {
            capacity,
            level: capacity,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.level = (self.level + elapsed * self.capacity / 60.0).min(self.capacity);
        self.at = now;
    }

    /// How long until `amount` fits (zero: it fits now). Amounts above the capacity only need a
    /// full bucket.
    fn wait_for(&mut self, amount: f64, now: Instant) -> Duration {
        self.refill(now);
        let need = amount.min(self.capacity) - self.level;
        if need <= 0.0 {
            Duration::ZERO
        } else {
            // A full bucket takes a minute to refill; anything odd waits that long, never panics.
            Duration::try_from_secs_f64(need * 60.0 / self.capacity)
                .unwrap_or(Duration::from_secs(60))
                .min(Duration::from_secs(60))
        }
    }

    fn take(&mut self, amount: f64) {
        // A provider reporting absurd usage costs at most one bucket of debt.
        self.level = (self.level - amount).max(-self.capacity);
    }

    fn give_back(&mut self, amount: f64) {
        self.level = (self.level + amount).min(self.capacity);
    }
}

/// The limits of one provider, in force.
#[derive(Debug)]
pub(crate) struct Limiter {
    requests: Option<Bucket>,
    tokens: Option<Bucket>,
    concurrency: Option<Arc<Semaphore>>,
}

/// Why a call may not go now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Blocked {
    /// A rate limit: the time until it allows the call.
    Rate(Duration),
    /// The concurrency limit.
    Busy,
}

/// A call's admission: holds its concurrency slot until dropped.
#[derive(Debug)]
pub(crate) struct Permit {
    _slot: Option<OwnedSemaphorePermit>,
    pub(crate) tokens: u64,
}

impl Limiter {
    pub(crate) fn new(limits: Limits, now: Instant) -> Self {
        Self {
            requests: limits
                .requests_per_minute
                .filter(|n| *n > 0)
                .map(|n| Bucket::new(f64::from(n), now)),
            tokens: limits
                .tokens_per_minute
                .filter(|n| *n > 0)
                .map(|n| Bucket::new(n as f64, now)),
            concurrency: limits
                .max_concurrency
                .filter(|n| *n > 0)
                // More than a semaphore holds is as good as no limit.
                .map(|n| Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS)))),
        }
    }

    /// Admits a call of about `tokens` tokens now, or says why not. `slot` is a concurrency
    /// slot the caller already waited for.
    pub(crate) fn try_admit(
        &mut self,
        tokens: u64,
        now: Instant,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Result<Permit, Blocked> {
        let wait_r = self
            .requests
            .as_mut()
            .map_or(Duration::ZERO, |b| b.wait_for(1.0, now));
        let wait_t = self
            .tokens
            .as_mut()
            .map_or(Duration::ZERO, |b| b.wait_for(tokens as f64, now));
        let wait = wait_r.max(wait_t);
        if !wait.is_zero() {
            return Err(Blocked::Rate(wait));
        }
        let slot = match (&self.concurrency, slot) {
            (Some(_), Some(slot)) => Some(slot),
            (Some(sem), None) => Some(sem.clone().try_acquire_owned().map_err(|_| Blocked::Busy)?),
            (None, _) => None,
        };
        if let Some(b) = self.requests.as_mut() {
            b.take(1.0);
        }
        if let Some(b) = self.tokens.as_mut() {
            b.take(tokens as f64);
        }
        Ok(Permit {
            _slot: slot,
            tokens,
        })
    }

    /// Gives back what a permit of `tokens` took (the call did not go after all); its
    /// concurrency slot is freed when the permit drops.
    pub(crate) fn refund(&mut self, tokens: u64) {
        if let Some(b) = self.requests.as_mut() {
            b.give_back(1.0);
        }
        if let Some(b) = self.tokens.as_mut() {
            b.give_back(tokens as f64);
        }
    }

    /// The semaphore to wait on when [`Blocked::Busy`].
    pub(crate) fn semaphore(&self) -> Option<Arc<Semaphore>> {
        self.concurrency.clone()
    }

    /// Corrects the token bucket with the call's real usage.
    pub(crate) fn settle(&mut self, estimated: u64, actual: u64) {
        if let Some(b) = self.tokens.as_mut() {
            if actual > estimated {
                b.take((actual - estimated) as f64);
            } else {
                b.give_back((estimated - actual) as f64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_token_buckets_refill_per_minute() {
        let t0 = Instant::now();
        let mut l = Limiter::new(
            Limits::new().requests_per_minute(2).tokens_per_minute(600),
            t0,
        );
        assert!(l.try_admit(100, t0, None).is_ok());
        assert!(l.try_admit(100, t0, None).is_ok());
        assert_eq!(
            l.try_admit(100, t0, None).unwrap_err(),
            Blocked::Rate(Duration::from_secs(30))
        );
        let t1 = t0 + Duration::from_secs(30);
        assert!(l.try_admit(100, t1, None).is_ok());
        // 600 tokens/min: 300 used, 150 refilled in 30 s -> 450 left; 500 waits 5 s.
        assert_eq!(
            l.try_admit(500, t1 + Duration::from_secs(30), None)
                .map(|_| ()),
            Ok(())
        );
        assert!(matches!(
            l.try_admit(400, t1 + Duration::from_secs(30), None),
            Err(Blocked::Rate(_))
        ));
    }

    #[test]
    fn settling_corrects_the_estimate() {
        let t0 = Instant::now();
        let mut l = Limiter::new(Limits::new().tokens_per_minute(1000), t0);
        let p = l.try_admit(900, t0, None).unwrap();
        l.settle(p.tokens, 100);
        assert!(l.try_admit(900, t0, None).is_ok());
    }

    #[test]
    fn concurrency_is_held_by_the_permit() {
        let t0 = Instant::now();
        let mut l = Limiter::new(Limits::new().max_concurrency(1), t0);
        let p = l.try_admit(1, t0, None).unwrap();
        assert_eq!(l.try_admit(1, t0, None).unwrap_err(), Blocked::Busy);
        drop(p);
        assert!(l.try_admit(1, t0, None).is_ok());
    }
}
