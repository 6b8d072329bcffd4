//! Clocks: real time for live feeds, simulated time for replays and backtests.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tradegraph_core::Timestamp;

/// Where "now" comes from. Live, paper and backtest share code; only the clock differs.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The machine's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(chrono_now())
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// A clock that only moves when told to, and never backwards. A replay advances it to each
/// event's time before handing the event out, so nothing can see data stamped after "now".
///
/// Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct SimulatedClock(Arc<AtomicI64>);

impl SimulatedClock {
    /// A clock at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(start.millis())))
    }

    /// Moves the clock forward to `t` (a `t` in the past leaves it where it is). Returns the
    /// time after the move.
    pub fn advance_to(&self, t: Timestamp) -> Timestamp {
        let previous = self.0.fetch_max(t.millis(), Ordering::AcqRel);
        Timestamp::from_millis(previous.max(t.millis()))
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_time_never_goes_back() {
        let clock = SimulatedClock::new(Timestamp::from_millis(10));
        let shared = clock.clone();
        assert_eq!(clock.advance_to(Timestamp::from_millis(50)).millis(), 50);
        assert_eq!(clock.advance_to(Timestamp::from_millis(20)).millis(), 50);
        assert_eq!(shared.now().millis(), 50);
    }
}
