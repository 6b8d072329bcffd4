//! The task behind [`WriteBehind`](super::WriteBehind): writes batches to the sink, spills them
//! while the sink is away, and drains the spill file in order when it returns.

use super::spill::Spill;
use super::{RecordSink, Rejected, Versioned, WriteBehindConfig};
use crate::{StoreError, StoreEvent};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, timeout, Instant};

// Records are nearly every message: boxing them would only add an allocation each.
#[allow(clippy::large_enum_variant)]
pub(super) enum Msg {
    Record(Versioned),
    Flush(oneshot::Sender<Result<(), StoreError>>),
    Shutdown(oneshot::Sender<()>),
}

pub(super) struct Worker<S> {
    pub(super) sink: Arc<S>,
    pub(super) rx: mpsc::Receiver<Msg>,
    pub(super) spill: Spill,
    pub(super) config: WriteBehindConfig,
    pub(super) spilled: Arc<AtomicU64>,
    /// Records that could not even be spilled (disk trouble), oldest first.
    pub(super) backlog: Vec<Versioned>,
    pub(super) down_since: Option<Instant>,
    pub(super) next_try: Instant,
    pub(super) drained: u64,
    pub(super) pending_shutdown: Option<oneshot::Sender<()>>,
    /// The highest version sent or spilled, kept beside the spill file.
    pub(super) high_water: super::version::HighWater,
}

impl<S: RecordSink> Worker<S> {
    pub(super) async fn run(mut self) {
        let mut msgs = Vec::with_capacity(self.config.batch_size);
        loop {
            if let Some(reply) = self.pending_shutdown.take() {
                return self.finish(reply).await;
            }
            let received = if self.waiting() {
                tokio::select! {
                    n = self.rx.recv_many(&mut msgs, self.config.batch_size) => n,
                    () = sleep_until(self.next_try) => {
                        self.drain().await;
                        continue;
                    }
                }
            } else {
                self.rx.recv_many(&mut msgs, self.config.batch_size).await
            };
            if received == 0 {
                // Every handle is gone: one last attempt; what remains stays in the spill file
                // for the next start.
                self.drain().await;
                return;
            }
            self.pending_shutdown = self.handle(std::mem::take(&mut msgs)).await;
        }
    }

    /// Stops taking records, writes what was queued, tries the spill file once more.
    async fn finish(mut self, reply: oneshot::Sender<()>) {
        self.rx.close();
        let mut msgs = Vec::new();
        while let Some(msg) = self.rx.recv().await {
            msgs.push(msg);
        }
        let _ = self.handle(msgs).await;
        self.drain().await;
        if !self.backlog.is_empty() {
            // The database did not take them: the spill file, once more.
            let _ = self.spill_records(Vec::new()).await;
        }
        if !self.backlog.is_empty() {
            tracing::error!(
                records = self.backlog.len(),
                "records lost at shutdown: neither the database nor the spill file took them"
            );
        }
        let _ = reply.send(());
    }

    fn waiting(&self) -> bool {
        self.spill.pending() > 0 || !self.backlog.is_empty()
    }

    fn publish(&self) {
        let total = self.spill.pending() + self.backlog.len() as u64;
        self.spilled.store(total, Ordering::Relaxed);
        crate::metrics::write_behind_depth(self.rx.len(), total);
    }

    /// [`publish`](Self::publish) during a drain: "nothing spilled" is said only once the
    /// file is emptied (the drain says it after the reset), never between the last commit and
    /// the reset.
    fn publish_while_draining(&self) {
        if self.spill.pending() > 0 {
            self.publish();
        }
    }

    /// Handles messages in order; returns the shutdown request, if one came.
    async fn handle(&mut self, msgs: Vec<Msg>) -> Option<oneshot::Sender<()>> {
        let mut records = Vec::new();
        let mut shutdown = None;
        for msg in msgs {
            match msg {
                Msg::Record(r) => records.push(r),
                Msg::Flush(reply) => {
                    let result = self.write(std::mem::take(&mut records)).await;
                    // What waits in the spill file is counted before the flush returns.
                    self.publish();
                    let _ = reply.send(result);
                }
                Msg::Shutdown(reply) => shutdown = Some(reply),
            }
        }
        let _ = self.write(records).await;
        self.publish();
        shutdown
    }

    /// Writes to the sink, or behind what is already waiting in the spill file.
    async fn write(&mut self, records: Vec<Versioned>) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.cover(&records).await;
        if self.waiting() {
            return self.spill_records(records).await;
        }
        match self.send_to_sink(&records).await {
            Ok(()) => Ok(()),
            Err(why) => {
                self.went_down(&why);
                self.spill_records(records).await
            }
        }
    }

    /// Writes `records` to the sink (what it refuses for good set aside); why not, when it
    /// does not take them now.
    async fn send_to_sink(&mut self, records: &[Versioned]) -> Result<(), String> {
        match timeout(self.config.timeout, self.sink.write_records(records)).await {
            Ok(Ok(rejected)) => {
                crate::metrics::write_behind_written(records.len().saturating_sub(rejected.len()));
                self.reject(records, rejected).await;
                Ok(())
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {:?}", self.config.timeout)),
        }
    }

    fn went_down(&mut self, error: &str) {
        crate::metrics::write_behind_failed();
        self.next_try = Instant::now() + self.config.retry_interval;
        if self.down_since.is_none() {
            self.down_since = Some(Instant::now());
            self.config.alerts.raise(StoreEvent::Unavailable {
                backend: "mongodb",
                operation: "write",
                error: error.to_owned(),
            });
            self.config.alerts.raise(StoreEvent::Spilling {
                path: self.spill.path().to_owned(),
            });
        }
    }

    async fn spill_records(&mut self, records: Vec<Versioned>) -> Result<(), StoreError> {
        self.cover(&records).await;
        self.backlog.extend(records);
        let all = std::mem::take(&mut self.backlog);
        match self.spill.append(&all).await {
            Ok(()) => Ok(()),
            Err(e) => {
                tracing::error!(error = %e, "cannot spill; records stay in memory");
                self.backlog = all;
                Err(e)
            }
        }
    }

    /// Records the highest version of `records` beside the spill file before they go out, so
    /// that the next run's versions start above it. A failure is logged: the records are
    /// written regardless (only a clock stepped back across a restart would then matter).
    async fn cover(&mut self, records: &[Versioned]) {
        if let Err(e) = self.high_water.cover(records).await {
            tracing::error!(error = %e,
                "cannot record the versions' high-water mark; a restart relies on the clock");
        }
    }

    async fn reject(&self, records: &[Versioned], rejected: Rejected) {
        for (index, error) in rejected {
            let Some(versioned) = records.get(index) else {
                continue;
            };
            let record = &versioned.record;
            let json = serde_json::to_string(versioned).unwrap_or_else(|_| record.describe());
            if let Err(e) = self.spill.reject(&json, &error.to_string()).await {
                tracing::error!(error = %e, record = %record.describe(), "cannot keep a rejected record");
            }
            self.config.alerts.raise(StoreEvent::Rejected {
                backend: "mongodb",
                record: record.describe(),
                error: error.to_string(),
            });
        }
    }

    /// Writes the spill file to the sink in order, batch by batch, committing each; on success
    /// empties it. Then what the file could not take (a full disk), newer than all it held,
    /// goes to the sink from memory.
    async fn drain(&mut self) {
        if !self.waiting() {
            return;
        }
        self.next_try = Instant::now() + self.config.retry_interval;
        if !matches!(
            timeout(self.config.timeout, self.sink.ping()).await,
            Ok(Ok(()))
        ) {
            return;
        }
        if !self.backlog.is_empty() && self.spill_records(Vec::new()).await.is_err() {
            // The file cannot take them: they stay in memory, behind the file's records, and
            // go to the sink once those have.
            tracing::warn!(
                records = self.backlog.len(),
                "the spill file takes nothing: the records in memory go to the database after it"
            );
        }
        loop {
            let batch = match self.spill.read(self.config.batch_size).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the spill file");
                    return;
                }
            };
            for (line, error) in &batch.bad {
                let _ = self.spill.reject(line, error).await;
            }
            if batch.lines == 0 {
                break;
            }
            let records = batch.records;
            if !records.is_empty() && !self.write_drained(&records).await {
                return;
            }
            if let Err(e) = self.spill.commit(batch.offset, batch.lines).await {
                // This run goes on past them; a restart writes them again, harmlessly.
                tracing::warn!(error = %e, "cannot record progress in the spill file");
            }
            self.drained += records.len() as u64;
            self.publish_while_draining();
            self.take_in_new_records().await;
        }
        if let Err(e) = self.spill.reset().await {
            tracing::error!(error = %e, "cannot empty the spill file");
            return;
        }
        if !self.backlog.is_empty() {
            let backlog = std::mem::take(&mut self.backlog);
            if !self.write_drained(&backlog).await {
                self.backlog = backlog;
                self.publish();
                return;
            }
            self.drained += backlog.len() as u64;
        }
        self.publish();
        let records = std::mem::take(&mut self.drained);
        self.config.alerts.raise(StoreEvent::Drained {
            path: self.spill.path().to_owned(),
            records,
        });
        let outage = self
            .down_since
            .take()
            .map(|t| t.elapsed())
            .unwrap_or_default();
        self.config.alerts.raise(StoreEvent::Recovered {
            backend: "mongodb",
            outage,
            replayed: records,
        });
    }

    /// Writes records the drain took (from the spill file, or what waited in memory) to the
    /// sink; `false` when it does not take them now.
    async fn write_drained(&mut self, records: &[Versioned]) -> bool {
        self.cover(records).await;
        let written = self.send_to_sink(records).await.is_ok();
        if !written {
            crate::metrics::write_behind_failed();
        }
        written
    }

    /// While draining, records that arrive go behind the spilled ones, so producers never wait
    /// for the whole file.
    async fn take_in_new_records(&mut self) {
        let mut records = Vec::new();
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Msg::Record(r) => records.push(r),
                Msg::Flush(reply) => {
                    let result = self.spill_records(std::mem::take(&mut records)).await;
                    // Counted before the flush returns.
                    self.publish_while_draining();
                    let _ = reply.send(result);
                }
                // Handled by the main loop once the drain returns.
                Msg::Shutdown(reply) => {
                    self.pending_shutdown = Some(reply);
                    break;
                }
            }
        }
        if !records.is_empty() {
            let _ = self.spill_records(records).await;
        }
    }
}
