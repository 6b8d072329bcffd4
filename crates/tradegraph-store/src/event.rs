//! Alerts: what a store reports while it keeps working (a server went away, came back, records
//! spilled to disk). Subscribe with [`Alerts::subscribe`]. In the `tradegraph` crate, the
//! alerts of a bot's service (`tradegraph::alerts`) turn them into `store_down` and
//! `api_failures` alerts, sent to the log, the webhooks, the alert log and the bot's event
//! stream (`GET /api/v1/events`, which its dashboard shows).

use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::broadcast;

/// Something a store did on its own that an operator should know about.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StoreEvent {
    /// A backend stopped answering; the store carries on (in memory, or spilling to disk).
    /// Raised once per outage.
    Unavailable {
        /// `redis` or `mongodb`.
        backend: &'static str,
        /// The operation that noticed.
        operation: &'static str,
        /// The error.
        error: String,
    },
    /// The backend answers again and what was held back has been written.
    Recovered {
        /// `redis` or `mongodb`.
        backend: &'static str,
        /// How long it was away.
        outage: Duration,
        /// Entries or records written on the way back.
        replayed: u64,
    },
    /// Held-back entries were dropped because the in-process buffer was full (the hot cache keeps
    /// the newest; history records are never dropped).
    Dropped {
        /// `redis`.
        backend: &'static str,
        /// How many.
        count: u64,
    },
    /// Records started going to the spill file because MongoDB is unreachable.
    Spilling {
        /// The file.
        path: PathBuf,
    },
    /// The spill file has been written to MongoDB, in order, and emptied.
    Drained {
        /// The file.
        path: PathBuf,
        /// Records written from it.
        records: u64,
    },
    /// A queued decision cycle failed on every delivery ([`RunQueue`](crate::queue::RunQueue)):
    /// it was moved to its instrument's dead-letter stream and is no longer retried.
    DeadLettered {
        /// `redis`.
        backend: &'static str,
        /// The instrument.
        instrument: String,
        /// The job's id in its queue.
        job: String,
        /// How often it was delivered.
        deliveries: u32,
    },
    /// The server refused a record for good (not a connectivity problem); it was appended to the
    /// rejects file beside the spill file so that it is not lost.
    Rejected {
        /// `mongodb`.
        backend: &'static str,
        /// The record's collection and key.
        record: String,
        /// The server's reason.
        error: String,
    },
}

/// A broadcast channel of [`StoreEvent`]s, shared by the stores of one process. Cloning shares
/// the channel. Events are also logged with `tracing` (warn or info); a subscriber that falls
/// more than the channel's capacity behind misses the oldest.
///
/// ```
/// use tradegraph_store::{Alerts, StoreEvent};
/// let alerts = Alerts::new();
/// let mut rx = alerts.subscribe();
/// alerts.raise(StoreEvent::Dropped { backend: "redis", count: 3 });
/// assert_eq!(rx.try_recv().ok(), Some(StoreEvent::Dropped { backend: "redis", count: 3 }));
/// ```
#[derive(Debug, Clone)]
pub struct Alerts {
    tx: broadcast::Sender<StoreEvent>,
}

impl Alerts {
    /// A channel keeping up to 1024 unread events per subscriber.
    pub fn new() -> Self {
        Self::with_capacity(1024)
    }

    /// A channel keeping up to `capacity` unread events per subscriber (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self { tx }
    }

    /// Receives every event raised from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<StoreEvent> {
        self.tx.subscribe()
    }

    /// Raises an event: logs it and sends it to every subscriber.
    pub fn raise(&self, event: StoreEvent) {
        crate::metrics::event(&event);
        match &event {
            StoreEvent::Recovered { .. } | StoreEvent::Drained { .. } => {
                tracing::info!(?event, "store recovered");
            }
            _ => tracing::warn!(?event, "store alert"),
        }
        // No subscriber is not an error: the event was logged.
        let _ = self.tx.send(event);
    }
}

impl Default for Alerts {
    fn default() -> Self {
        Self::new()
    }
}
