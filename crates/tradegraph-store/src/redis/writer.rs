//! The hot cache's writer task. `put_*` record into a coalescing buffer (one entry per key) and
//! wake it; it writes everything buffered in pipelined batches, so the feed never waits for
//! Redis and a burst of ticks costs one write per key. While Redis does not answer, the buffer
//! holds what is pending (bounded) and the writer tries again every `retry_interval`.

use super::pending::Pending;
use super::Conn;
use super::{commands, run, Keys, RedisConfig};
use crate::{MemoryHotCache, StoreError, StoreEvent};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tradegraph_core::{Symbol, Tick};

/// Entries per pipeline.
const CHUNK: usize = 2_000;

pub(super) struct State {
    pub(super) pending: Pending,
    /// Writes recorded so far.
    pub(super) seq: u64,
    /// Set while Redis does not answer.
    pub(super) down_since: Option<Instant>,
}

/// What `RedisHotCache` and its writer share.
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    pub(super) wake: Notify,
    /// The last `seq` written to Redis.
    pub(super) acked: watch::Sender<u64>,
    pub(super) mirror: MemoryHotCache,
}

impl Shared {
    pub(super) fn new(mirror: MemoryHotCache) -> Self {
        Self {
            state: Mutex::new(State {
                pending: Pending::default(),
                seq: 0,
                down_since: None,
            }),
            wake: Notify::new(),
            acked: watch::Sender::new(0),
            mirror,
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation is a few field updates: a panic cannot leave it half-done.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a write (via `hold`) and wakes the writer.
    pub(super) fn record(&self, cap: usize, hold: impl FnOnce(&mut Pending, usize)) {
        {
            let mut state = self.lock();
            hold(&mut state.pending, cap);
            state.seq += 1;
        }
        self.wake.notify_one();
    }
}

pub(super) struct Writer {
    pub(super) shared: Arc<Shared>,
    pub(super) conn: Conn,
    pub(super) keys: Keys,
    pub(super) config: RedisConfig,
    /// The newest score written to each index: a tick of the same second, or the forming candle
    /// written again, needs no index update. Forgotten after any failure (Redis may have lost
    /// its data).
    pub(super) indexed: HashMap<String, i64>,
}

impl Writer {
    pub(super) async fn run(mut self) {
        loop {
            let taken = {
                let mut state = self.shared.lock();
                (!state.pending.is_empty()).then(|| (std::mem::take(&mut state.pending), state.seq))
            };
            let Some((mut batch, seq)) = taken else {
                self.shared.wake.notified().await;
                continue;
            };
            let dropped = std::mem::take(&mut batch.dropped);
            match self.write(&batch).await {
                Ok(written) => self.written(seq, written, dropped),
                Err(e) if e.is_transient() => {
                    self.indexed.clear();
                    batch.dropped = dropped;
                    self.failed(batch, &e);
                    tokio::time::sleep(self.config.retry_interval).await;
                }
                Err(e) => {
                    self.indexed.clear();
                    // Redis refused the values themselves (a key of another type under our
                    // name, ...): retrying cannot help.
                    self.config.alerts.raise(StoreEvent::Unavailable {
                        backend: "redis",
                        operation: "write",
                        error: format!("{e}; {} entries dropped", batch.len()),
                    });
                    // what is lost, for the alerts (an outage alone raises none)
                    self.config.alerts.raise(StoreEvent::Dropped {
                        backend: "redis",
                        count: u64::try_from(batch.len())
                            .unwrap_or(u64::MAX)
                            .saturating_add(dropped),
                    });
                    self.shared.acked.send_replace(seq);
                }
            }
        }
    }

    fn written(&self, seq: u64, written: u64, dropped: u64) {
        let outage = self.shared.lock().down_since.take();
        self.shared.acked.send_replace(seq);
        if dropped > 0 {
            self.config.alerts.raise(StoreEvent::Dropped {
                backend: "redis",
                count: dropped,
            });
        }
        if let Some(since) = outage {
            self.config.alerts.raise(StoreEvent::Recovered {
                backend: "redis",
                outage: since.elapsed(),
                replayed: written,
            });
        }
    }

    fn failed(&self, batch: Pending, error: &StoreError) {
        let first = {
            let mut state = self.shared.lock();
            state.pending.restore(batch, self.config.max_pending);
            let first = state.down_since.is_none();
            state.down_since.get_or_insert_with(Instant::now);
            first
        };
        if first {
            self.config.alerts.raise(StoreEvent::Unavailable {
                backend: "redis",
                operation: "write",
                error: error.to_string(),
            });
        }
    }

    /// Writes a batch in chunked pipelines: on one server one pipeline for every instrument, on
    /// a Redis Cluster one per instrument (a pipeline goes to one node, and an instrument's keys
    /// share its hash tag); returns how many entries were written.
    async fn write(&mut self, pending: &Pending) -> Result<u64, StoreError> {
        let limits = &self.config.limits;
        let per_instrument = self.conn.is_cluster();
        let group = |i: &Symbol| per_instrument.then(|| i.clone());
        let mut pipes: HashMap<Option<Symbol>, (redis::Pipeline, usize)> = HashMap::new();
        let mut written = 0u64;
        for instrument in &pending.latest {
            // The newest price, and only while it is fresh.
            if let Some(latest) = self.shared.mirror.latest(instrument) {
                let (pipe, n) = pipes.entry(group(instrument)).or_default();
                commands::latest(pipe, &self.keys, instrument, &latest, limits);
                *n += 1;
            }
        }
        let ticks = pending.ticks.iter().map(|((_, i), t)| (i, Entry::Tick(t)));
        let candles = pending
            .candles
            .iter()
            .map(|((i, _, _), c)| (i, Entry::Candle(c)));
        for (instrument, entry) in ticks.chain(candles) {
            let (pipe, n) = pipes.entry(group(instrument)).or_default();
            let (index, score, member) = match entry {
                Entry::Tick(t) => commands::tick(pipe, &self.keys, instrument, t, limits),
                Entry::Candle(c) => commands::candle(pipe, &self.keys, instrument, c, limits),
            };
            if self.indexed.get(&index) != Some(&score) {
                commands::index(pipe, &index, score, &member, limits);
                self.indexed.insert(index, score);
            }
            *n += 1;
            if *n >= CHUNK {
                let full = std::mem::take(pipe);
                written += self.send(full, std::mem::take(n)).await?;
            }
        }
        for (_, (pipe, n)) in pipes {
            if n > 0 {
                written += self.send(pipe, n).await?;
            }
        }
        Ok(written)
    }

    /// Sends one pipeline of `entries` entries.
    async fn send(&self, pipe: redis::Pipeline, entries: usize) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        run(
            "write",
            self.config.timeout,
            pipe.query_async::<()>(&mut conn),
        )
        .await?;
        Ok(entries as u64)
    }
}

enum Entry<'a> {
    Tick(&'a Tick),
    Candle(&'a tradegraph_core::Candle),
}
