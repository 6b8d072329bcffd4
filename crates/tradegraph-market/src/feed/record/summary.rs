//! What a recording wrote.

use crate::MarketEvent;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Events counted by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventCounts {
    /// [`MarketEvent::Trade`]s.
    pub trades: u64,
    /// [`MarketEvent::Tick`]s.
    pub ticks: u64,
    /// [`MarketEvent::Book`]s.
    pub books: u64,
    /// [`MarketEvent::Candle`]s.
    pub candles: u64,
    /// [`MarketEvent::Notice`]s.
    pub notices: u64,
}

impl EventCounts {
    /// Counts one more event.
    pub fn add(&mut self, event: &MarketEvent) {
        let count = match event {
            MarketEvent::Trade { .. } => &mut self.trades,
            MarketEvent::Tick { .. } => &mut self.ticks,
            MarketEvent::Book { .. } => &mut self.books,
            MarketEvent::Candle { .. } => &mut self.candles,
            MarketEvent::Notice { .. } => &mut self.notices,
        };
        *count += 1;
    }

    /// All events.
    pub fn total(&self) -> u64 {
        self.trades + self.ticks + self.books + self.candles + self.notices
    }
}

impl fmt::Display for EventCounts {
    /// `12 trades, 0 ticks, 3 books, 1 candle, 2 notices`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            (self.trades, "trade"),
            (self.ticks, "tick"),
            (self.books, "book"),
            (self.candles, "candle"),
            (self.notices, "notice"),
        ];
        for (k, (n, name)) in parts.into_iter().enumerate() {
            let sep = if k == 0 { "" } else { ", " };
            let s = if n == 1 { "" } else { "s" };
            write!(f, "{sep}{n} {name}{s}")?;
        }
        Ok(())
    }
}

/// Why a recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// [`RecordConfig::max_events`](super::RecordConfig::max_events) were written.
    MaxEvents,
    /// [`RecordConfig::duration`](super::RecordConfig::duration) passed.
    Duration,
    /// The feed ended.
    FeedEnded,
    /// The stop signal given to [`Recorder::record_until`](super::Recorder::record_until)
    /// fired.
    Stopped,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MaxEvents => "max events reached",
            Self::Duration => "time is up",
            Self::FeedEnded => "the feed ended",
            Self::Stopped => "stopped",
        })
    }
}

/// What a [`Recorder`](super::Recorder) wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    /// The file.
    pub path: PathBuf,
    /// Events written, by kind.
    pub counts: EventCounts,
    /// Bytes written.
    pub bytes: u64,
    /// How long the recording ran.
    pub elapsed: Duration,
    /// Why it ended.
    pub stop: StopReason,
}

impl fmt::Display for RecordSummary {
    /// `recorded 18 events (12 trades, 0 ticks, 3 books, 1 candle, 2 notices) to btc.jsonl in
    /// 2.5 s: max events reached`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.counts.total();
        write!(
            f,
            "recorded {total} event{} ({}) to {} in {:.1} s: {}",
            if total == 1 { "" } else { "s" },
            self.counts,
            self.path.display(),
            self.elapsed.as_secs_f64(),
            self.stop
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_as_one_line() {
        let summary = RecordSummary {
            path: "btc.jsonl".into(),
            counts: EventCounts {
                trades: 12,
                books: 3,
                candles: 1,
                notices: 2,
                ..EventCounts::default()
            },
            bytes: 4096,
            elapsed: Duration::from_millis(2_500),
            stop: StopReason::MaxEvents,
        };
        assert_eq!(
            summary.to_string(),
            "recorded 18 events (12 trades, 0 ticks, 3 books, 1 candle, 2 notices) \
             to btc.jsonl in 2.5 s: max events reached"
        );
    }
}
