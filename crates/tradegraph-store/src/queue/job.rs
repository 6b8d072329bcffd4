//! The queue's types: jobs, leases, workers, settings.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use tradegraph_core::{Symbol, Timestamp};

/// A job's id in its instrument's queue (for Redis Streams, the entry id `<ms>-<n>`); ids of
/// one instrument grow in publishing order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(String);

impl JobId {
    /// An id as the backend wrote it.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One decision cycle to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id in the instrument's queue.
    pub id: JobId,
    /// The instrument.
    pub instrument: Symbol,
    /// What the publisher put in (the engine's encoding of the cycle).
    pub payload: Vec<u8>,
    /// How often it has been delivered, this time included: more than 1 after an owner died or
    /// gave the instrument back before acknowledging it.
    pub deliveries: u32,
}

/// A job that was delivered too often, or set aside as unreadable, and is no longer retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The job as it was last delivered.
    pub job: Job,
    /// When it was set aside.
    pub at: Timestamp,
}

/// What [`RunQueue::next`](super::RunQueue::next) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A job to work, then acknowledge.
    Job(Job),
    /// No job within the wait; the lease still holds.
    Idle,
    /// The lease is gone (expired, and maybe another worker's): stop working this instrument.
    Lost,
}

/// A worker's name, unique among the workers of a queue (by default `<host>-<pid>-<random>`).
/// A process that works several instruments at once gives each of its slots a name of its own
/// (`<worker>/<n>`), one lease at a time each. An acquire sent again for an instrument the name
/// holds (an answer lost on the way) gives that lease back; the queue does not stop a name from
/// acquiring a second instrument.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WorkerId(String);

impl WorkerId {
    /// A worker named `name`; `#` and whitespace become `_` (the lease's holder is
    /// `<worker>#<token>`).
    pub fn new(name: impl AsRef<str>) -> Self {
        Self(
            name.as_ref()
                .chars()
                .map(|c| {
                    if c == '#' || c.is_whitespace() {
                        '_'
                    } else {
                        c
                    }
                })
                .collect(),
        )
    }

    /// A name no other process uses: the host, the process id and a random suffix.
    pub fn unique() -> Self {
        let host = crate::state::host_name().unwrap_or_else(|| "worker".into());
        Self::new(format!(
            "{host}-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ))
    }

    /// Slot `n` of this worker (`<name>/<n>`).
    ///
    /// ```
    /// use tradegraph_store::queue::WorkerId;
    /// let slot = WorkerId::new("host-1").slot(3);
    /// assert_eq!((slot.as_str(), slot.slot_number()), ("host-1/3", Some(3)));
    /// assert_eq!(WorkerId::new("host-1").slot_number(), None);
    /// ```
    pub fn slot(&self, n: u32) -> Self {
        Self::new(format!("{}/{n}", self.0))
    }

    /// The slot's number, for a [`slot`](Self::slot)'s id.
    pub fn slot_number(&self) -> Option<u32> {
        self.0.rsplit_once('/').and_then(|(_, n)| n.parse().ok())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for WorkerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An instrument held by one worker until the lease runs out or is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The instrument.
    pub instrument: Symbol,
    /// The worker holding it.
    pub worker: WorkerId,
    /// Grows with every new owner of the instrument: a store that keeps the highest token it
    /// saw can refuse a stalled former owner's writes.
    pub token: u64,
}

impl Lease {
    /// The holder as the backend stores it: `<worker>#<token>`.
    pub fn holder(&self) -> String {
        format!("{}#{}", self.worker, self.token)
    }
}

/// A worker's report of itself ([`RunQueue::beat`](super::RunQueue::beat)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInfo {
    /// Its name.
    pub id: WorkerId,
    /// When it started.
    pub started: Timestamp,
    /// When it reported this.
    pub beat: Timestamp,
    /// How often it reports (a worker not heard from for three intervals is gone).
    pub interval_ms: u64,
    /// The instruments it holds now.
    pub instruments: Vec<Symbol>,
    /// How many it may hold at once.
    pub capacity: u32,
    /// Jobs it has acknowledged since it started.
    pub done: u64,
}

/// How a queue hands out work.
///
/// ```
/// use std::time::Duration;
/// use tradegraph_store::queue::QueueConfig;
/// let config = QueueConfig::default().lease(Duration::from_secs(5)).max_deliveries(2);
/// assert_eq!(config.lease, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueConfig {
    /// How long an instrument stays a worker's without a renewal (10 s): how soon a dead
    /// worker's instruments go to another.
    pub lease: Duration,
    /// Deliveries of a job before it goes to the dead letters (3): the deliveries to owners that
    /// died on it or let their lease run out, not those given back with `release`.
    pub max_deliveries: u32,
    /// The queue's name: queues of different names share nothing (`cycles`).
    pub name: String,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(10),
            max_deliveries: 3,
            name: "cycles".into(),
        }
    }
}

impl QueueConfig {
    /// Sets the lease.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Sets the deliveries before the dead letters (at least 1).
    #[must_use]
    pub fn max_deliveries(mut self, n: u32) -> Self {
        self.max_deliveries = n.max(1);
        self
    }

    /// Sets the queue's name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

/// The wall clock as a [`Timestamp`] (the suite's reports).
#[cfg(any(test, feature = "conformance"))]
pub(crate) fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(millis)
}
