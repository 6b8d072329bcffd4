//! The `broker` check: the outcome of every call that reaches the broker's books or its venue
//! (recorded by the [`Journal`](super::Journal), which every call passes through), and what it
//! says about the broker.

use super::observe::CheckState;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tradegraph_broker::BrokerError;

/// Failed calls in a row from which the broker is failing (fewer: degraded).
pub(crate) const FAILING_AFTER: u32 = 3;

/// The calls that reached the broker, as they stand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Calls {
    /// When a call last answered.
    pub(crate) answered: Option<Instant>,
    /// Failed calls since the last answered one.
    pub(crate) failures: u32,
    /// The last failure, while `failures` is not zero.
    pub(crate) error: Option<String>,
}

/// Shared record of the broker's calls (clones share it).
#[derive(Debug, Clone, Default)]
pub(crate) struct BrokerCalls(Arc<Mutex<Calls>>);

impl BrokerCalls {
    /// Records the outcome of one call that reached the broker: an answer, or a refusal of
    /// the request (an unknown order, a price that cannot be real, ...), is an answered call;
    /// a venue's failure (timeout, HTTP or exchange error) or a broker whose state is
    /// unusable is a failed one.
    pub(crate) fn record<T>(&self, outcome: &Result<T, BrokerError>) {
        let mut calls = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match outcome {
            Err(e @ (BrokerError::Venue { .. } | BrokerError::Poisoned(_))) => {
                calls.failures = calls.failures.saturating_add(1);
                calls.error = Some(e.to_string());
            }
            Ok(_) | Err(_) => {
                calls.answered = Some(Instant::now());
                calls.failures = 0;
                calls.error = None;
            }
        }
    }

    /// The calls now.
    pub(crate) fn now(&self) -> Calls {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What the broker's calls say at `now`, given when the engine started (`started`), how long
/// it may go without an answered call while the market is open (`quiet_after`) and whether
/// the market is open: failing after [`FAILING_AFTER`] failed calls in a row; degraded after a
/// failed call, or with no answered call for `quiet_after` while the market is open; else ok.
pub(crate) fn standing(
    calls: &Calls,
    now: Instant,
    started: Instant,
    quiet_after: Duration,
    market_open: bool,
) -> (CheckState, String) {
    let quiet = now.saturating_duration_since(calls.answered.unwrap_or(started));
    let answered = match calls.answered {
        Some(_) => format!("last answered call {} s ago", quiet.as_secs()),
        None => format!("no call answered in the {} s since start", quiet.as_secs()),
    };
    if let Some(error) = calls.error.as_deref().filter(|_| calls.failures > 0) {
        let state = if calls.failures >= FAILING_AFTER {
            CheckState::Failing
        } else {
            CheckState::Degraded
        };
        return (
            state,
            format!(
                "{} failed call(s) in a row, the last: {error}; {answered}; check the broker's \
                 connection and credentials",
                calls.failures
            ),
        );
    }
    if market_open && quiet >= quiet_after {
        return (
            CheckState::Degraded,
            format!(
                "{answered} while the market is open (limit {} s): the broker is not being \
                 reached",
                quiet_after.as_secs()
            ),
        );
    }
    match calls.answered {
        Some(_) => (CheckState::Ok, answered),
        None => (CheckState::Ok, "no call yet".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const QUIET: Duration = Duration::from_secs(180);

    fn down() -> Result<(), BrokerError> {
        Err(BrokerError::Venue {
            venue: "binance".into(),
            reason: tradegraph_broker::live::VenueReason::Unavailable(
                "HTTP 503 from the venue".into(),
            ),
        })
    }

    fn at(start: Instant, secs: u64) -> Instant {
        start + Duration::from_secs(secs)
    }

    #[test]
    fn failing_only_after_failures_in_a_row_and_an_answer_clears_them() {
        let calls = BrokerCalls::default();
        let start = Instant::now();
        let state = |calls: &BrokerCalls| standing(&calls.now(), start, start, QUIET, true).0;
        calls.record(&down());
        assert_eq!(state(&calls), CheckState::Degraded);
        calls.record(&down());
        assert_eq!(state(&calls), CheckState::Degraded);
        calls.record(&down());
        let (failing, said) = standing(&calls.now(), start, start, QUIET, true);
        assert_eq!(failing, CheckState::Failing);
        assert!(
            said.contains(
                "3 failed call(s) in a row, the last: binance: the venue is unavailable: HTTP 503"
            ),
            "{said}"
        );
        let refused: Result<(), _> = Err(BrokerError::UnknownOrder(
            tradegraph_core::order::ClientOrderId::new("tg-gone").unwrap(),
        ));
        calls.record(&refused);
        assert_eq!(state(&calls), CheckState::Ok, "a refusal is an answer");
        calls.record(&down());
        calls.record(&Ok(()));
        assert_eq!(state(&calls), CheckState::Ok);
    }

    #[test]
    fn quiet_while_the_market_is_open_is_degraded_and_says_how_long() {
        let start = Instant::now();
        let answered = Calls {
            answered: Some(start),
            ..Calls::default()
        };
        let (state, said) = standing(&answered, at(start, 179), start, QUIET, true);
        assert_eq!(
            (state, said.as_str()),
            (CheckState::Ok, "last answered call 179 s ago")
        );
        let (state, said) = standing(&answered, at(start, 200), start, QUIET, true);
        assert_eq!(state, CheckState::Degraded);
        assert!(
            said.contains("last answered call 200 s ago while the market is open"),
            "{said}"
        );
        let closed = standing(&answered, at(start, 4000), start, QUIET, false);
        assert_eq!(
            closed.0,
            CheckState::Ok,
            "no call is expected while it is closed"
        );
        let never = standing(&Calls::default(), at(start, 200), start, QUIET, true);
        assert_eq!(never.0, CheckState::Degraded);
        assert!(
            never
                .1
                .contains("no call answered in the 200 s since start"),
            "{}",
            never.1
        );
    }
}
