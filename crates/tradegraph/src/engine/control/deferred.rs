//! Commands that came during a decision cycle, waiting for it to end: a bounded queue that
//! lets go of the commands whose caller stopped waiting (they are not carried out, and are
//! kept aside for the engine to record as such in the operator log).

use super::Envelope;
use std::collections::VecDeque;

/// Commands a decision cycle may hold back; more are answered busy.
pub(crate) const DEFERRED: usize = 64;

/// What [`Deferred::push`] did with a command.
pub(crate) enum Deferral {
    /// Queued: carried out once the cycle ends.
    Queued,
    /// The queue is full: answer it busy.
    Full(Envelope),
    /// Its caller stopped waiting: not carried out (to record as such).
    Gone(Envelope),
}

/// The commands held back during a decision cycle, oldest first, at most [`DEFERRED`].
#[derive(Default)]
pub(crate) struct Deferred {
    queue: VecDeque<Envelope>,
    /// Commands let go because their caller stopped waiting, to record.
    gone: Vec<Envelope>,
}

impl Deferred {
    /// Holds `envelope` back until the cycle ends, unless its caller left or the queue is full.
    pub(crate) fn push(&mut self, envelope: Envelope) -> Deferral {
        for e in std::mem::take(&mut self.queue) {
            if e.reply.is_closed() {
                self.gone.push(e);
            } else {
                self.queue.push_back(e);
            }
        }
        if envelope.reply.is_closed() {
            return Deferral::Gone(envelope);
        }
        if self.queue.len() >= DEFERRED {
            return Deferral::Full(envelope);
        }
        self.queue.push_back(envelope);
        Deferral::Queued
    }

    /// The oldest command whose caller still waits.
    pub(crate) fn pop_front(&mut self) -> Option<Envelope> {
        while let Some(envelope) = self.queue.pop_front() {
            if envelope.reply.is_closed() {
                self.gone.push(envelope);
                continue;
            }
            return Some(envelope);
        }
        None
    }

    /// The commands let go since the last call because their caller stopped waiting.
    pub(crate) fn take_gone(&mut self) -> Vec<Envelope> {
        std::mem::take(&mut self.gone)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::engine::Command;
    use tokio::sync::oneshot;

    fn envelope() -> (Envelope, oneshot::Receiver<super::super::Reply>) {
        let (reply, answer) = oneshot::channel();
        let envelope = Envelope {
            command: Command::CloseAll,
            source: None,
            reply,
        };
        (envelope, answer)
    }

    #[test]
    fn a_full_queue_answers_busy_and_a_gone_caller_is_dropped() {
        let mut deferred = Deferred::default();
        let mut waiting = Vec::new();
        for _ in 0..DEFERRED {
            let (e, answer) = envelope();
            assert!(matches!(deferred.push(e), Deferral::Queued));
            waiting.push(answer);
        }
        let (e, _answer) = envelope();
        assert!(matches!(deferred.push(e), Deferral::Full(_)));
        let (e, answer) = envelope();
        drop(answer);
        assert!(matches!(deferred.push(e), Deferral::Gone(_)));
        // Callers that left free their places, and are never carried out.
        waiting.truncate(DEFERRED - 2);
        let (e, _kept) = envelope();
        assert!(matches!(deferred.push(e), Deferral::Queued));
        let mut carried = 0;
        while deferred.pop_front().is_some() {
            carried += 1;
        }
        assert_eq!(carried, DEFERRED - 1);
        // The two whose callers left are kept aside, to record.
        assert_eq!(deferred.take_gone().len(), 2);
        assert!(deferred.take_gone().is_empty());
        drop(waiting);
        assert!(deferred.pop_front().is_none());
    }
}
