//! Pacing a replay against the wall clock.

use std::time::Duration;
use tokio::time::{sleep_until, Instant};
use tradegraph_core::Timestamp;

/// How far behind schedule a replay may fall (a slow consumer) and still catch up with a
/// burst; further behind, the schedule restarts from now.
const CATCH_UP: Duration = Duration::from_secs(1);

/// Waits so that event time runs `speed` times faster than the wall clock.
#[derive(Debug)]
pub(super) struct Pacer {
    speed: f64,
    max_pause: Duration,
    /// The latest event time paced, and when it was due.
    last: Option<(Timestamp, Instant)>,
}

impl Pacer {
    /// `speed` must be positive and finite (the configuration checks it).
    pub(super) fn new(speed: f64, max_pause: Duration) -> Self {
        Self {
            speed,
            max_pause,
            last: None,
        }
    }

    /// Sleeps until the event known at `at` is due: the previous one's due time plus the gap
    /// in event time over the speed, at most `max_pause`. Events that go back in time are due
    /// at once.
    pub(super) async fn wait(&mut self, at: Timestamp) {
        let now = Instant::now();
        let Some((previous, due)) = self.last else {
            self.last = Some((at, now));
            return;
        };
        let gap_ms = at.millis().saturating_sub(previous.millis()).max(0);
        let pause = Duration::try_from_secs_f64(gap_ms as f64 / 1000.0 / self.speed)
            .unwrap_or(self.max_pause)
            .min(self.max_pause);
        let mut due = due.checked_add(pause).unwrap_or(now);
        if due.checked_add(CATCH_UP).is_some_and(|late| late < now) {
            due = now;
        }
        sleep_until(due).await;
        self.last = Some((previous.max(at), due));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pauses_scale_with_event_time_and_are_capped() {
        let mut pacer = Pacer::new(60.0, Duration::from_secs(5));
        let start = Instant::now();
        let t0 = Timestamp::from_secs(1_000);
        pacer.wait(t0).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        pacer.wait(t0.add_millis(60_000)).await; // a minute at 60x: 1 s
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        pacer.wait(t0.add_millis(30_000)).await; // back in time: no wait
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        pacer.wait(t0.add_millis(90_000)).await; // 30 s after the latest: 0.5 s
        assert_eq!(start.elapsed(), Duration::from_millis(1_500));
        pacer.wait(t0.add_millis(86_400_000)).await; // a day: capped at 5 s
        assert_eq!(start.elapsed(), Duration::from_millis(6_500));
    }
}
