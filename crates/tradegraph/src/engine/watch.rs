//! A live feed's silences, watched the same way by the engine and the workers' ingest: the
//! newest exchange time the data showed, whether the feed is down or stale, and when a quiet
//! market's candles may close on the timer.

use std::time::{Duration, Instant};
use tradegraph_core::Timestamp;
use tradegraph_market::FeedNotice;

/// What the runtime knows of its feed's silences.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FeedWatch {
    /// The newest exchange time the data showed (it never moves back: an in-progress candle
    /// tells less than the trade before it), and when data last arrived.
    last: Option<(Timestamp, Instant)>,
    /// When watching began, or the feed last said it connected: a silence counts from the
    /// latest of these and the last data.
    since: Instant,
    /// Disconnected or reconnecting.
    down: bool,
    /// Reported stale (until data or a connection).
    stale: bool,
}

impl Default for FeedWatch {
    fn default() -> Self {
        Self {
            last: None,
            since: Instant::now(),
            down: false,
            stale: false,
        }
    }
}

impl FeedWatch {
    /// Market data known at `at` arrived: the exchange time reached (never back), and
    /// whether the feed was stale (it speaks again).
    pub(crate) fn data(&mut self, at: Timestamp) -> (Timestamp, bool) {
        let at = self.last.map_or(at, |(before, _)| before.max(at));
        self.last = Some((at, Instant::now()));
        self.down = false;
        (at, std::mem::take(&mut self.stale))
    }

    /// The newest exchange time the data showed, and when data last arrived (`None` before
    /// any data).
    pub(crate) fn last(&self) -> Option<(Timestamp, Instant)> {
        self.last
    }

    /// A notice about the feed; `true` when it means a hole in the data (a disconnection, a
    /// reconnection attempt, a gap): the aggregator fills nothing across it.
    pub(crate) fn notice(&mut self, notice: &FeedNotice) -> bool {
        match notice {
            FeedNotice::Connected { .. } => {
                self.since = Instant::now();
                self.down = false;
                self.stale = false;
            }
            FeedNotice::Disconnected { .. } | FeedNotice::Reconnecting { .. } => {
                self.down = true;
            }
            _ => {}
        }
        notice.is_hole()
    }

    /// Once a second: the silence, when the feed turns stale now (no data for `after` since
    /// the last data, connection or start, while the market is `open` and the feed is not
    /// down). A stale stretch is a hole in the data too.
    pub(crate) fn turns_stale(&mut self, after: Duration, open: bool) -> Option<Duration> {
        if self.down || self.stale || !open {
            return None;
        }
        let since = self
            .last
            .map_or(self.since, |(_, arrived)| arrived.max(self.since));
        let silent = since.elapsed();
        if silent < after {
            return None;
        }
        self.stale = true;
        Some(silent)
    }

    /// The exchange time a quiet market has reached: the newest data's plus the silence past
    /// `grace`. `None` before any data, within the grace, and while the feed is down or stale
    /// (a hole in the data is no quiet market: its candles close when data shows them over).
    pub(crate) fn quiet_until(&self, grace: Duration) -> Option<Timestamp> {
        if self.down || self.stale {
            return None;
        }
        let (at, arrived) = self.last?;
        let quiet = arrived.elapsed().checked_sub(grace)?;
        Some(at.add_millis(i64::try_from(quiet.as_millis()).unwrap_or(i64::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connected() -> FeedNotice {
        FeedNotice::Connected {
            url: "wss://x".into(),
        }
    }

    #[test]
    fn the_exchange_time_never_moves_back() {
        let mut watch = FeedWatch::default();
        let trade = Timestamp::from_secs(645);
        assert_eq!(watch.data(trade), (trade, false));
        // An in-progress candle known at its open (:00) after a trade at :45.
        assert_eq!(watch.data(Timestamp::from_secs(600)), (trade, false));
        assert_eq!(
            watch.quiet_until(Duration::ZERO).map(|t| t >= trade),
            Some(true)
        );
    }

    #[test]
    fn down_or_stale_is_no_quiet_market_and_a_connection_rearms_staleness() {
        let mut watch = FeedWatch::default();
        watch.data(Timestamp::from_secs(600));
        assert!(watch.quiet_until(Duration::ZERO).is_some());
        assert!(watch.notice(&FeedNotice::Disconnected { reason: "x".into() }));
        assert_eq!(watch.quiet_until(Duration::ZERO), None, "down");
        assert_eq!(
            watch.turns_stale(Duration::ZERO, true),
            None,
            "down is not stale"
        );
        assert!(!watch.notice(&connected()));
        assert!(watch.turns_stale(Duration::ZERO, true).is_some());
        assert_eq!(watch.quiet_until(Duration::ZERO), None, "stale");
        assert_eq!(
            watch.turns_stale(Duration::ZERO, true),
            None,
            "reported once"
        );
        // Connected again and silent: stale again.
        watch.notice(&connected());
        assert!(watch.turns_stale(Duration::ZERO, true).is_some());
        // Data again: no longer stale, and it says so once.
        assert!(watch.data(Timestamp::from_secs(700)).1);
        assert!(!watch.data(Timestamp::from_secs(701)).1);
        assert_eq!(watch.turns_stale(Duration::from_secs(60), true), None);
        assert_eq!(
            watch.turns_stale(Duration::ZERO, false),
            None,
            "market closed"
        );
    }
}
