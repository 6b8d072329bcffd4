//! [`RateLimiter`]: a venue's request limits, kept on our side.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// One limit: at most `limit` units (requests, or Binance's request weight) in any `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The most units in any window.
    pub limit: u32,
    /// The window.
    pub per: Duration,
}

impl Window {
    /// `limit` per `per`.
    pub const fn new(limit: u32, per: Duration) -> Self {
        Self { limit, per }
    }
}

#[derive(Debug)]
struct Log {
    window: Window,
    /// When each unit still inside the window was taken, oldest first, with its cost.
    taken: VecDeque<(Instant, u32)>,
    used: u32,
}

impl Log {
    /// Forgets what left the window at `now`.
    fn expire(&mut self, now: Instant) {
        while let Some(&(at, cost)) = self.taken.front() {
            if now.duration_since(at) < self.window.per {
                break;
            }
            self.taken.pop_front();
            self.used -= cost;
        }
    }

    /// How long until `cost` more fits (zero: now).
    fn wait_for(&self, cost: u32, now: Instant) -> Duration {
        let mut free = self.window.limit.saturating_sub(self.used);
        if free >= cost {
            return Duration::ZERO;
        }
        for &(at, unit) in &self.taken {
            free += unit;
            if free >= cost {
                return (at + self.window.per).saturating_duration_since(now);
            }
        }
        Duration::ZERO
    }
}

/// Sliding-window limits (Kite: 10 requests a second, orders a second and a minute): never
/// more than a window's `limit` within any span of its `per`. [`acquire`](Self::acquire) waits
/// until every window has room, then takes it. A cost above a window's limit is taken alone
/// once the window is empty (it cannot be split).
///
/// ```
/// use std::time::Duration;
/// use tradegraph_broker::live::venue::{RateLimiter, Window};
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let limiter = RateLimiter::new([Window::new(2, Duration::from_secs(1))]);
/// limiter.acquire(1).await;
/// limiter.acquire(1).await;
/// assert!(limiter.try_acquire(1).is_err(), "a third request within the second waits");
/// # });
/// ```
#[derive(Debug)]
pub struct RateLimiter {
    logs: Mutex<Vec<Log>>,
}

impl RateLimiter {
    /// A limiter keeping every one of `windows`.
    pub fn new(windows: impl IntoIterator<Item = Window>) -> Self {
        let logs = windows
            .into_iter()
            .filter(|w| w.limit > 0 && !w.per.is_zero())
            .map(|window| Log {
                window,
                taken: VecDeque::new(),
                used: 0,
            })
            .collect();
        Self {
            logs: Mutex::new(logs),
        }
    }

    /// Takes `cost` now if every window has room; otherwise how long to wait.
    ///
    /// # Errors
    /// The wait, when a window is full.
    pub fn try_acquire(&self, cost: u32) -> Result<(), Duration> {
        let now = Instant::now();
        let mut logs = self.logs.lock().unwrap_or_else(PoisonError::into_inner);
        let mut wait = Duration::ZERO;
        for log in logs.iter_mut() {
            log.expire(now);
            // A cost larger than the limit goes alone into an empty window.
            let cost = cost.min(log.window.limit);
            wait = wait.max(log.wait_for(cost, now));
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for log in logs.iter_mut() {
            log.taken.push_back((now, cost));
            log.used = log.used.saturating_add(cost);
        }
        Ok(())
    }

    /// Waits until every window has room for `cost`, then takes it.
    pub async fn acquire(&self, cost: u32) {
        while let Err(wait) = self.try_acquire(cost) {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_any_window() {
        let limiter = RateLimiter::new([
            Window::new(3, Duration::from_secs(1)),
            Window::new(5, Duration::from_secs(60)),
        ]);
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..7 {
            limiter.acquire(1).await;
            at.push(start.elapsed());
        }
        // Any span of one second holds at most 3, any minute at most 5.
        for (i, t) in at.iter().enumerate() {
            let in_second = at[i..]
                .iter()
                .filter(|u| **u - *t < Duration::from_secs(1))
                .count();
            assert!(in_second <= 3, "{at:?}");
            let in_minute = at[i..]
                .iter()
                .filter(|u| **u - *t < Duration::from_secs(60))
                .count();
            assert!(in_minute <= 5, "{at:?}");
        }
        // The sixth had to wait for the minute window.
        assert!(at[5] >= Duration::from_secs(60), "{at:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn weights_count_their_cost_and_an_oversized_one_goes_alone() {
        let limiter = RateLimiter::new([Window::new(10, Duration::from_secs(60))]);
        limiter.acquire(6).await;
        assert!(limiter.try_acquire(5).is_err());
        assert!(limiter.try_acquire(4).is_ok());
        let wait = limiter.try_acquire(20).unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
        tokio::time::advance(wait).await;
        assert!(limiter.try_acquire(20).is_ok());
    }
}
