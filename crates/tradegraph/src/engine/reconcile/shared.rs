//! [`SharedHold`]: the reconciliation state and the flag the execution gate reads, kept as one:
//! the flag is written in exactly one place, from the state, after each change of it.

use super::Reconciliation;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The bot's [`Reconciliation`] (owned by the engine) with the `reducing` flag the execution
/// gate reads while a decision cycle runs. The state changes only through
/// [`update`](Self::update), which sets the flag from it: they cannot disagree.
#[derive(Debug)]
pub(crate) struct SharedHold {
    /// Boxed: the engine is held inline in its callers' futures.
    state: Box<Reconciliation>,
    held: Arc<AtomicBool>,
}

impl SharedHold {
    /// The state restored at start, its flag set from it.
    pub(crate) fn new(state: Reconciliation) -> Self {
        let held = Arc::new(AtomicBool::new(state.held));
        Self {
            state: Box::new(state),
            held,
        }
    }

    /// The state as it is now.
    pub(crate) fn get(&self) -> &Reconciliation {
        &self.state
    }

    /// The flag, for the gate to read (set only by [`update`](Self::update)).
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.held.clone()
    }

    /// Changes the state with `change`; the flag follows it.
    pub(crate) fn update<R>(&mut self, change: impl FnOnce(&mut Reconciliation) -> R) -> R {
        let out = change(&mut self.state);
        self.held.store(self.state.held, Ordering::SeqCst);
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::engine::{Discrepancy, ReconcileReport, ReconcileTrigger};
    use tradegraph_core::Timestamp;

    fn found() -> ReconcileReport {
        ReconcileReport {
            at: Timestamp::EPOCH,
            trigger: ReconcileTrigger::Start,
            discrepancies: vec![Discrepancy::UnknownOrder {
                client_id: "m-1".parse().unwrap(),
                order_id: tradegraph_core::order::OrderId::new("1"),
            }],
        }
    }

    #[test]
    fn the_gate_flag_follows_every_change_of_the_hold() {
        let mut shared = SharedHold::new(Reconciliation::default());
        let flag = shared.flag();
        assert!(!flag.load(Ordering::SeqCst));
        assert!(!shared.update(|r| r.record(found())).is_empty());
        assert!(shared.get().held && flag.load(Ordering::SeqCst));
        let confirmed = shared.update(|r| r.confirm(Timestamp::EPOCH, Timestamp::EPOCH, None));
        assert!(!confirmed.unwrap().is_empty());
        assert!(!shared.get().held && !flag.load(Ordering::SeqCst));
        // Restored held at start: the gate reads it held before anything runs.
        let mut held = Reconciliation::default();
        held.record(found());
        let restored = SharedHold::new(held);
        assert!(restored.flag().load(Ordering::SeqCst));
    }
}
