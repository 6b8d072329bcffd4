//! The write-behind queue: history and log writes never wait for the database and are never
//! lost when it blinks.
//!
//! Records go into a bounded queue; a task writes them to the sink (MongoDB) in batches, in
//! order. When the sink does not answer, the batch and every record after it go to a local
//! append-only spill file (synced to disk), and [`StoreEvent::Unavailable`] and
//! [`StoreEvent::Spilling`] are raised. Every `retry_interval` the task pings the sink; when it
//! answers, the file is written back in order, batch by batch, each batch committed to an offset
//! file beside it, then emptied ([`StoreEvent::Drained`], [`StoreEvent::Recovered`]). Writes are
//! idempotent upserts on each record's unique key, so a batch written again after a crash or a
//! lost acknowledgement leaves one copy: every record is stored exactly once. A spill file left
//! by a previous run is written back first.
//!
//! Every record is stamped with a version when it is queued ([`Versioned`]), kept in the spill
//! file, and written with it: a record never replaces a stored one of the same key with a higher
//! version, so a batch given up after its time limit that still lands later, after a newer
//! write, changes nothing.
//!
//! A record the sink refuses for good (a bad value) is kept with the reason in
//! `<spill file>.rejected` ([`StoreEvent::Rejected`]); one it cannot take now (a primary
//! stepping down) is written again like a batch of a sink that is away. [`replay_rejected`]
//! writes the rejected records again once their cause is fixed (`tradegraph store
//! replay-rejected`).
//!
//! A full queue makes [`WriteBehind::submit`] wait (back-pressure), never drops. Records the
//! spill file cannot take (a full disk) wait in memory, behind the file's records, and go to
//! the database after those once it answers; they are lost only when the process stops while
//! neither the database nor the file takes them (logged at `error` with their number).
//!
//! [`StoreEvent::Unavailable`]: crate::StoreEvent::Unavailable
//! [`StoreEvent::Spilling`]: crate::StoreEvent::Spilling
//! [`StoreEvent::Drained`]: crate::StoreEvent::Drained
//! [`StoreEvent::Recovered`]: crate::StoreEvent::Recovered
//! [`StoreEvent::Rejected`]: crate::StoreEvent::Rejected

mod logs;
mod record;
mod rejected;
mod replay;
mod spill;
mod version;
mod worker;

pub use record::{Record, RecordSink, Rejected, Versioned};
pub use replay::{replay_rejected, ReplayReport, MAX_REJECTED_LINE};

use crate::{Alerts, StoreError};
use spill::Spill;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use worker::{Msg, Worker};

/// How the queue behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WriteBehindConfig {
    /// The spill file (created with its directory when missing).
    pub spill_path: PathBuf,
    /// Records the queue holds before `submit` waits (10,000).
    pub capacity: usize,
    /// Records per batch written to the sink (500).
    pub batch_size: usize,
    /// How often the sink is tried again while it is away (1 second).
    pub retry_interval: Duration,
    /// Time limit of one batch or ping (10 seconds).
    pub timeout: Duration,
    /// Where [`StoreEvent`](crate::StoreEvent)s go.
    pub alerts: Alerts,
    /// The clock of the versions, in milliseconds since the Unix epoch (the wall clock; tests
    /// step it).
    pub(crate) clock: fn() -> i64,
}

impl WriteBehindConfig {
    /// Defaults, spilling to `spill_path`.
    pub fn new(spill_path: impl Into<PathBuf>) -> Self {
        Self {
            spill_path: spill_path.into(),
            capacity: 10_000,
            batch_size: 500,
            retry_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            alerts: Alerts::new(),
            clock: version::wall_ms,
        }
    }

    /// Sets the clock of the versions.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the queue's capacity.
    #[must_use]
    pub fn capacity(mut self, n: usize) -> Self {
        self.capacity = n.max(1);
        self
    }

    /// Sets the batch size.
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Sets how often the sink is tried again.
    #[must_use]
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// Sets the time limit of a batch.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends events to `alerts`.
    #[must_use]
    pub fn alerts(mut self, alerts: Alerts) -> Self {
        self.alerts = alerts;
        self
    }
}

/// A bounded write-behind queue in front of a [`RecordSink`]; also the store to use: it
/// implements [`CandleHistory`](crate::CandleHistory), [`DecisionLog`](crate::DecisionLog),
/// [`TradeLog`](crate::TradeLog) and [`LessonLog`](crate::LessonLog) when the sink does, writing
/// through the queue and reading from the sink (after a [`flush`](Self::flush), so a process
/// reads its own writes while the sink is up).
pub struct WriteBehind<S> {
    tx: mpsc::Sender<Msg>,
    sink: Arc<S>,
    spilled: Arc<AtomicU64>,
    versions: version::Versions,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl<S: RecordSink> WriteBehind<S> {
    /// Opens the spill file (writing back what a previous run left in it first) and starts the
    /// writer task. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`StoreError::Spill`] when the spill file cannot be opened; [`StoreError::InUse`] when
    /// another process (or another queue of this one) holds it.
    pub async fn start(sink: Arc<S>, config: WriteBehindConfig) -> Result<Self, StoreError> {
        let spill = Spill::open(config.spill_path.clone()).await?;
        let high_water = version::HighWater::open(&config.spill_path).await?;
        let versions = version::Versions::new(config.clock, high_water.recorded());
        let spilled = Arc::new(AtomicU64::new(spill.pending()));
        let (tx, rx) = mpsc::channel(config.capacity.max(1));
        let worker = Worker {
            sink: sink.clone(),
            rx,
            spill,
            spilled: spilled.clone(),
            backlog: Vec::new(),
            down_since: None,
            next_try: tokio::time::Instant::now(),
            drained: 0,
            pending_shutdown: None,
            high_water,
            config,
        };
        let handle = tokio::spawn(worker.run());
        Ok(Self {
            tx,
            sink,
            spilled,
            versions,
            worker: Mutex::new(Some(handle)),
        })
    }

    /// Queues a record, stamping its version (above every version this queue's spill file
    /// recorded, in this run or before, and above the clock's: see [`Versioned`]); waits only
    /// while the queue is full.
    ///
    /// # Errors
    /// [`StoreError::Closed`] after [`shutdown`](Self::shutdown).
    pub async fn submit(&self, record: Record) -> Result<(), StoreError> {
        self.tx
            .send(Msg::Record(Versioned::with_version(
                record,
                self.versions.next(),
            )))
            .await
            .map_err(|_| StoreError::Closed)?;
        crate::metrics::write_behind_depth(
            self.tx.max_capacity() - self.tx.capacity(),
            self.spilled.load(Ordering::Relaxed),
        );
        Ok(())
    }

    /// Waits until every record submitted before is written to the sink or safely in the spill
    /// file.
    ///
    /// # Errors
    /// [`StoreError::Closed`], or [`StoreError::Spill`] when records could be neither written nor
    /// spilled (they stay in memory, and go to the database after the spill file's records
    /// once it answers).
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Msg::Flush(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Records waiting in the spill file (or in memory, if they could not be spilled).
    pub fn spilled(&self) -> u64 {
        self.spilled.load(Ordering::Relaxed)
    }

    /// The sink.
    pub fn sink(&self) -> &Arc<S> {
        &self.sink
    }

    /// Writes what is queued, tries once more to write back the spill file, and stops the task;
    /// later submits fail with [`StoreError::Closed`]. Records still in the spill file are
    /// written by the next [`start`](Self::start) on the same file.
    pub async fn shutdown(&self) {
        let (reply, answer) = oneshot::channel();
        if self.tx.send(Msg::Shutdown(reply)).await.is_ok() {
            let _ = answer.await;
        }
        let handle = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            let _ = handle.await;
        }
    }
}

impl<S> std::fmt::Debug for WriteBehind<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBehind")
            .field("spilled", &self.spilled.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod replay_tests;
#[cfg(test)]
mod spill_tests;
#[cfg(test)]
mod tests;
