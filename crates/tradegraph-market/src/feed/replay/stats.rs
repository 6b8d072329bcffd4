//! Counts of what a replay read, shared with whoever holds a handle.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Live counts of a replay: lines read, events handed out, malformed lines skipped. Clones
/// share the counts; take one with [`Replay::stats`](super::Replay::stats) before streaming.
#[derive(Debug, Clone, Default)]
pub struct ReplayStats(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    lines: AtomicU64,
    events: AtomicU64,
    malformed: AtomicU64,
}

impl ReplayStats {
    /// Lines read so far, the header and blank lines included.
    pub fn lines(&self) -> u64 {
        self.0.lines.load(Ordering::Relaxed)
    }

    /// Market events (and recorded notices) handed out so far, not counting the replay's own
    /// malformed-line notices.
    pub fn events(&self) -> u64 {
        self.0.events.load(Ordering::Relaxed)
    }

    /// Lines skipped as malformed so far (each also yields a
    /// [`FeedNotice::Malformed`](crate::FeedNotice::Malformed)).
    pub fn malformed(&self) -> u64 {
        self.0.malformed.load(Ordering::Relaxed)
    }

    pub(super) fn set_lines(&self, lines: u64) {
        self.0.lines.store(lines, Ordering::Relaxed);
    }

    pub(super) fn add_event(&self) {
        self.0.events.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a malformed line; returns the total.
    pub(super) fn add_malformed(&self) -> u64 {
        self.0.malformed.fetch_add(1, Ordering::Relaxed) + 1
    }
}
