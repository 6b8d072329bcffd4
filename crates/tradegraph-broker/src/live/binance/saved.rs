//! The exits' bookkeeping: which entries had their exits placed (kept across restarts in the
//! book's `venue_state`), which placements are under way, and the turn that keeps exit
//! placements and closes from crossing each other at the venue.

use crate::live::venue::VenueBook;
use crate::BrokerError;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::watch;
use tradegraph_core::order::ClientOrderId;
use tradegraph_core::Decimal;

/// Entries remembered as having their exits placed (the newest; older ones are long done).
const KEEP_PLACED: usize = 1_000;

/// What the Binance broker keeps in [`VenueBook`]'s `venue_state`. No key or secret is ever
/// part of it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    /// Entries whose exits were placed at the venue, oldest first.
    #[serde(default)]
    exits_placed: Vec<ClientOrderId>,
}

/// The exits' bookkeeping of one broker.
#[derive(Debug)]
pub(crate) struct ExitsState {
    /// Entries whose exits are placed or being placed (never placed a second time).
    claimed: Mutex<HashSet<ClientOrderId>>,
    /// Entries whose exits the venue has, oldest first: what is kept across restarts.
    placed: Mutex<VecDeque<ClientOrderId>>,
    /// Exit placements (and flat checks) under way.
    pending: watch::Sender<usize>,
    /// One exit operation at a time (placing, cancelling for a close, re-placing).
    turn: tokio::sync::Mutex<()>,
    /// The entry's filled quantity its working exits were placed for (this run's).
    covered: Mutex<HashMap<ClientOrderId, Decimal>>,
    /// Entries whose exits are being resized for a larger fill.
    resizing: Mutex<HashSet<ClientOrderId>>,
}

/// Counts one operation under way until dropped.
pub(crate) struct Pending(watch::Sender<usize>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ExitsState {
    /// The state `book` kept from the last run (empty for a fresh book).
    ///
    /// # Errors
    /// [`BrokerError::Snapshot`] when the kept state does not read (another version's): the
    /// broker does not start without knowing which exits it placed.
    pub(crate) fn restore(book: &VenueBook) -> Result<Self, BrokerError> {
        let saved = book.venue_state::<Saved>()?.unwrap_or_default();
        Ok(Self {
            claimed: Mutex::new(saved.exits_placed.iter().cloned().collect()),
            placed: Mutex::new(saved.exits_placed.into()),
            pending: watch::channel(0).0,
            turn: tokio::sync::Mutex::new(()),
            covered: Mutex::new(HashMap::new()),
            resizing: Mutex::new(HashSet::new()),
        })
    }

    /// Claims `entry` for an exit placement: `false` when its exits are placed or being
    /// placed already.
    pub(crate) fn claim(&self, entry: &ClientOrderId) -> bool {
        lock(&self.claimed).insert(entry.clone())
    }

    /// Gives a claim back after a placement failed (the next update about the entry tries
    /// again, asking the venue first).
    pub(crate) fn unclaim(&self, entry: &ClientOrderId) {
        if !lock(&self.placed).contains(entry) {
            lock(&self.claimed).remove(entry);
        }
    }

    /// Records that the venue has `entry`'s exits, and keeps that in `book`.
    pub(crate) fn placed(&self, book: &VenueBook, entry: &ClientOrderId) {
        lock(&self.claimed).insert(entry.clone());
        let saved = {
            let mut placed = lock(&self.placed);
            if !placed.contains(entry) {
                placed.push_back(entry.clone());
            }
            while placed.len() > KEEP_PLACED {
                placed.pop_front();
            }
            Saved {
                exits_placed: placed.iter().cloned().collect(),
            }
        };
        if let Err(e) = book.set_venue_state(&saved) {
            tracing::error!(entry = %entry, error = %e, "the exits state could not be kept with the book: after a restart the venue is asked before placing exits again");
        }
    }

    /// Whether the venue has `entry`'s exits (placed in this run or before a restart).
    pub(crate) fn is_placed(&self, entry: &ClientOrderId) -> bool {
        lock(&self.placed).contains(entry)
    }

    /// The entry's filled quantity its working exits cover (`None`: not known in this run).
    pub(crate) fn covered(&self, entry: &ClientOrderId) -> Option<Decimal> {
        lock(&self.covered).get(entry).copied()
    }

    /// Records that `entry`'s working exits cover its fills up to `filled`.
    pub(crate) fn cover(&self, entry: &ClientOrderId, filled: Decimal) {
        lock(&self.covered).insert(entry.clone(), filled);
    }

    /// Claims `entry` for a resize of its exits: `false` when one is under way.
    pub(crate) fn claim_resize(&self, entry: &ClientOrderId) -> bool {
        lock(&self.resizing).insert(entry.clone())
    }

    /// Ends a resize claim.
    pub(crate) fn end_resize(&self, entry: &ClientOrderId) {
        lock(&self.resizing).remove(entry);
    }

    /// One operation under way, until the returned value is dropped.
    pub(crate) fn begin(&self) -> Pending {
        self.pending.send_modify(|n| *n += 1);
        Pending(self.pending.clone())
    }

    /// Waits until no exit operation is under way.
    pub(crate) async fn settled(&self) {
        let mut rx = self.pending.subscribe();
        // The sender lives in `self`: the wait cannot fail while `self` is borrowed.
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// This broker's turn for an exit operation.
    pub(crate) async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn placed_exits_survive_a_restore_and_claims_do_not() {
        let book = VenueBook::new("binance");
        let state = ExitsState::restore(&book).unwrap();
        let (a, b) = (
            ClientOrderId::new("tg00000000000000a1").unwrap(),
            ClientOrderId::new("tg00000000000000b1").unwrap(),
        );
        assert!(state.claim(&a) && !state.claim(&a));
        assert!(state.claim(&b));
        state.placed(&book, &a);
        state.unclaim(&a);
        assert!(!state.claim(&a), "a placed entry cannot be given back");
        let restored =
            ExitsState::restore(&VenueBook::restore("binance", book.snapshot())).unwrap();
        assert!(!restored.claim(&a), "placed before the restart");
        assert!(restored.claim(&b), "only claimed, never placed: free again");
    }
}
