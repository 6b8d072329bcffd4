//! A circuit breaker per provider: closed, open, half-open.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::time::Instant;

/// When a breaker opens and for how long.
///
/// ```
/// use std::time::Duration;
/// use tradegraph_llm::fallback::BreakerPolicy;
///
/// let policy = BreakerPolicy::default();
/// assert_eq!((policy.failure_threshold, policy.open_for), (3, Duration::from_secs(30)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerPolicy {
    /// Consecutive service failures (timeouts, connection errors, 429, 5xx, 529, malformed or
    /// empty answers) that open the breaker.
    pub failure_threshold: u32,
    /// How long it stays open the first time; each failed probe doubles it.
    #[serde(with = "crate::config::secs")]
    pub open_for: Duration,
    /// The longest it stays open.
    #[serde(with = "crate::config::secs")]
    pub max_open_for: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            failure_threshold: 3,
            open_for: Duration::from_secs(30),
            max_open_for: Duration::from_secs(300),
        }
    }
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused until the delay is over.
    Open,
    /// One probe call is let through; its outcome closes or reopens the breaker.
    HalfOpen,
}

/// A change of state, for events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    Opened(Duration),
    HalfOpened,
    Closed,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant, opened: u32 },
    HalfOpen { probing: bool, opened: u32 },
}

/// The breaker of one provider.
#[derive(Debug, Clone)]
pub(crate) struct Breaker {
    policy: BreakerPolicy,
    /// Never opens (a replay: each question goes where the recording's went, whatever the
    /// time).
    off: bool,
    state: State,
}

impl Breaker {
    pub(crate) fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            off: false,
            state: State::Closed { failures: 0 },
        }
    }

    /// A breaker that never opens.
    pub(crate) fn off() -> Self {
        Self {
            off: true,
            ..Self::new(BreakerPolicy::default())
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        match self.state {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Whether a call could go now, changing nothing (the breaker closed, open past its time,
    /// or half-open with no probe out).
    pub(crate) fn would_admit(&self, now: Instant) -> bool {
        match self.state {
            State::Closed { .. } => true,
            State::Open { until, .. } => now >= until,
            State::HalfOpen { probing, .. } => !probing,
        }
    }

    /// Whether a call may go now. `Err` carries the time until a probe is allowed.
    pub(crate) fn admit(&mut self, now: Instant) -> (Result<(), Duration>, Option<Transition>) {
        match self.state {
            State::Closed { .. } => (Ok(()), None),
            State::Open { until, opened } => {
                if now >= until {
                    self.state = State::HalfOpen {
                        probing: true,
                        opened,
                    };
                    (Ok(()), Some(Transition::HalfOpened))
                } else {
                    (Err(until - now), None)
                }
            }
            State::HalfOpen { probing: true, .. } => (Err(Duration::ZERO), None),
            State::HalfOpen {
                probing: false,
                opened,
            } => {
                self.state = State::HalfOpen {
                    probing: true,
                    opened,
                };
                (Ok(()), None)
            }
        }
    }

    /// The service answered (even if the answer was a refusal or a bad request).
    pub(crate) fn on_success(&mut self) -> Option<Transition> {
        let was_closed = matches!(self.state, State::Closed { .. });
        self.state = State::Closed { failures: 0 };
        (!was_closed).then_some(Transition::Closed)
    }

    /// The service failed. A `retry_after` from the vendor opens the breaker for that long at
    /// once. A call admitted before the breaker opened that fails while it is open (calls
    /// asked at once, failing together) does not open it again: it stays open as it is, unless
    /// the vendor asks for longer.
    pub(crate) fn on_failure(
        &mut self,
        now: Instant,
        retry_after: Option<Duration>,
    ) -> Option<Transition> {
        if self.off {
            return None;
        }
        let (failures, opened) = match self.state {
            State::Closed { failures } => (failures + 1, 0),
            State::Open { until, opened } => {
                return retry_after
                    .filter(|delay| !delay.is_zero() && crate::later(now, *delay) > until)
                    .map(|delay| self.open(now, delay, opened))
            }
            State::HalfOpen { opened, .. } => (self.policy.failure_threshold, opened),
        };
        if let Some(delay) = retry_after.filter(|d| !d.is_zero()) {
            return Some(self.open(now, delay, opened));
        }
        if failures >= self.policy.failure_threshold {
            let shift = opened.min(16);
            let delay = self
                .policy
                .open_for
                .saturating_mul(1 << shift)
                .min(self.policy.max_open_for);
            Some(self.open(now, delay, opened + 1))
        } else {
            self.state = State::Closed { failures };
            None
        }
    }

    /// A call admitted as the half-open probe ended without telling anything about the
    /// service (cancelled): let the next call probe.
    pub(crate) fn on_abandoned(&mut self) {
        if let State::HalfOpen { opened, .. } = self.state {
            self.state = State::HalfOpen {
                probing: false,
                opened,
            };
        }
    }

    fn open(&mut self, now: Instant, delay: Duration, opened: u32) -> Transition {
        self.state = State::Open {
            until: crate::later(now, delay),
            opened,
        };
        Transition::Opened(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BreakerPolicy {
        BreakerPolicy {
            failure_threshold: 2,
            open_for: Duration::from_secs(10),
            max_open_for: Duration::from_secs(25),
        }
    }

    #[test]
    fn opens_after_the_threshold_half_opens_and_closes() {
        let t0 = Instant::now();
        let mut b = Breaker::new(policy());
        assert_eq!(b.on_failure(t0, None), None);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(
            b.on_failure(t0, None),
            Some(Transition::Opened(Duration::from_secs(10)))
        );
        assert_eq!(
            b.admit(t0 + Duration::from_secs(4)).0,
            Err(Duration::from_secs(6))
        );
        assert_eq!(
            b.admit(t0 + Duration::from_secs(10)),
            (Ok(()), Some(Transition::HalfOpened))
        );
        // Only one probe at a time.
        assert_eq!(b.admit(t0 + Duration::from_secs(10)).0, Err(Duration::ZERO));
        assert_eq!(b.on_success(), Some(Transition::Closed));
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.on_success(), None);
    }

    #[test]
    fn failed_probes_back_off_up_to_the_maximum() {
        let t0 = Instant::now();
        let mut b = Breaker::new(policy());
        b.on_failure(t0, None);
        b.on_failure(t0, None);
        let t1 = t0 + Duration::from_secs(10);
        assert!(b.admit(t1).0.is_ok());
        assert_eq!(
            b.on_failure(t1, None),
            Some(Transition::Opened(Duration::from_secs(20)))
        );
        let t2 = t1 + Duration::from_secs(20);
        assert!(b.admit(t2).0.is_ok());
        assert_eq!(
            b.on_failure(t2, None),
            Some(Transition::Opened(Duration::from_secs(25)))
        );
    }

    /// Calls admitted before the breaker opened and failing after it did (the analysts asked
    /// at once, all timing out) do not open it again: it stays open for its first delay, not
    /// double, unless the vendor asks for longer.
    #[test]
    fn failures_of_calls_in_flight_do_not_reopen_an_open_breaker() {
        let t0 = Instant::now();
        let mut b = Breaker::new(policy());
        b.on_failure(t0, None);
        assert_eq!(
            b.on_failure(t0, None),
            Some(Transition::Opened(Duration::from_secs(10)))
        );
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(b.on_failure(t1, None), None);
        assert_eq!(b.on_failure(t1, None), None);
        assert_eq!(b.admit(t0 + Duration::from_secs(10)).0, Ok(()));
        // a 429 asking for longer than the breaker stays open is heard
        let mut b = Breaker::new(policy());
        b.on_failure(t0, None);
        b.on_failure(t0, None);
        assert_eq!(
            b.on_failure(t1, Some(Duration::from_secs(30))),
            Some(Transition::Opened(Duration::from_secs(30)))
        );
        assert!(b.admit(t0 + Duration::from_secs(20)).0.is_err());
    }

    #[test]
    fn retry_after_opens_at_once_for_that_long() {
        let t0 = Instant::now();
        let mut b = Breaker::new(policy());
        assert_eq!(
            b.on_failure(t0, Some(Duration::from_secs(7))),
            Some(Transition::Opened(Duration::from_secs(7)))
        );
        assert_eq!(
            b.admit(t0 + Duration::from_secs(1)).0,
            Err(Duration::from_secs(6))
        );
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_call_probe() {
        let t0 = Instant::now();
        let mut b = Breaker::new(policy());
        b.on_failure(t0, Some(Duration::from_secs(1)));
        let t1 = t0 + Duration::from_secs(1);
        assert!(b.admit(t1).0.is_ok());
        b.on_abandoned();
        assert!(b.admit(t1).0.is_ok());
    }
}
