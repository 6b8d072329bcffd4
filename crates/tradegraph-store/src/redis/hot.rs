//! The Redis hot cache, which keeps working in process while Redis is away.

use super::commands;
use super::value::{decode_candle, decode_tick};
use super::writer::{Shared, Writer};
use super::Conn;
use super::{run, Keys, RedisConfig};
use crate::{HotCache, LatestPrice, MemoryHotCache, StoreError};
use async_trait::async_trait;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tradegraph_core::{Candle, Symbol, Tick, Timeframe, Timestamp};

/// The hot cache in Redis, under the specification's keys and TTLs (see the [module
/// docs](crate::redis)).
///
/// Writes never wait for Redis: `put_tick`, `put_latest` and `put_candle` record into an in-process
/// [`MemoryHotCache`] and a coalescing buffer (one entry per key), and a writer task sends what
/// is buffered in pipelined batches, so a burst costs one write per key. [`flush`] waits until
/// Redis has it. When Redis does not answer, the buffer holds what is pending (bounded, the
/// oldest ticks dropped first), [`StoreEvent::Unavailable`] is raised, reads are served in
/// process, and the writer tries again every `retry_interval`; when Redis answers, the held
/// writes go out (the newest version of each key) and [`StoreEvent::Recovered`] is raised. The
/// caller never sees an outage as an error. Reading the last N candles or ticks is two round trips (the index, then the values).
///
/// [`flush`]: HotCache::flush
/// [`StoreEvent::Unavailable`]: crate::StoreEvent::Unavailable
/// [`StoreEvent::Recovered`]: crate::StoreEvent::Recovered
pub struct RedisHotCache {
    conn: Conn,
    keys: Keys,
    config: RedisConfig,
    shared: Arc<Shared>,
    writer: JoinHandle<()>,
}

impl RedisHotCache {
    /// A hot cache on `config.url`. Fails only for a bad URL: an unreachable server is reported
    /// by the first write, and the cache carries on in process until it returns.
    ///
    /// Must be called inside a tokio runtime.
    pub async fn connect(config: RedisConfig) -> Result<Self, StoreError> {
        let conn = config.connection()?;
        let keys = Keys::new(config.key_prefix.clone());
        let shared = Arc::new(Shared::new(MemoryHotCache::with_limits(config.limits)));
        let writer = Writer {
            shared: shared.clone(),
            conn: conn.clone(),
            keys: keys.clone(),
            config: config.clone(),
            indexed: HashMap::new(),
        };
        Ok(Self {
            conn,
            keys,
            config,
            shared,
            writer: tokio::spawn(writer.run()),
        })
    }

    /// The key scheme in use.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Whether the last write reached Redis.
    pub fn is_available(&self) -> bool {
        self.shared.lock().down_since.is_none()
    }

    /// Writes recorded so far (each `put_*` counts one, except a `put_latest` older than the
    /// latest price, which changes nothing).
    pub fn recorded(&self) -> u64 {
        self.shared.lock().seq
    }

    /// Follows how many of the recorded writes Redis has acknowledged: with
    /// [`recorded`](Self::recorded), the write lag, for monitoring and benchmarks.
    pub fn acknowledged(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.acked.subscribe()
    }

    /// Checks that Redis answers, within the time limit.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        run(
            "ping",
            self.config.timeout,
            redis::cmd("PING").query_async::<()>(&mut conn),
        )
        .await
    }

    /// Reads from Redis (after this process's writes are in) unless it is away; on a transient
    /// failure, answers from the in-process cache.
    async fn read<T>(
        &self,
        redis_read: impl Future<Output = Result<T, StoreError>>,
        local: impl FnOnce() -> T,
    ) -> Result<T, StoreError> {
        if !self.is_available() || self.flush().await.is_err() {
            return Ok(local());
        }
        match redis_read.await {
            Ok(v) => Ok(v),
            Err(e) if e.is_transient() => Ok(local()),
            Err(e) => Err(e),
        }
    }

    /// The newest `n` entries of an index: `(key, score, value)`, oldest first.
    async fn recent(
        &self,
        operation: &'static str,
        index: String,
        stem: String,
        n: usize,
    ) -> Result<Vec<(String, i64, Vec<u8>)>, StoreError> {
        let entries =
            commands::recent(&self.conn, operation, self.config.timeout, &index, &stem, n).await?;
        // Scores are whole milliseconds, exact in an f64.
        Ok(entries
            .into_iter()
            .map(|(key, score, value)| (key, score as i64, value))
            .collect())
    }
}

impl Drop for RedisHotCache {
    fn drop(&mut self) {
        self.writer.abort();
    }
}

#[async_trait]
impl HotCache for RedisHotCache {
    async fn put_tick(&self, instrument: &Symbol, tick: &Tick) -> Result<(), StoreError> {
        let advanced = self.shared.mirror.insert_tick(instrument, tick);
        self.shared.record(self.config.max_pending, |p, cap| {
            if advanced {
                p.latest(instrument, cap);
            }
            p.tick(instrument, tick, cap);
        });
        Ok(())
    }

    async fn put_latest(&self, instrument: &Symbol, price: LatestPrice) -> Result<(), StoreError> {
        // An older price changes nothing: nothing to write.
        if self.shared.mirror.insert_latest(instrument, price) {
            self.shared
                .record(self.config.max_pending, |p, cap| p.latest(instrument, cap));
        }
        Ok(())
    }

    async fn put_candle(&self, instrument: &Symbol, candle: &Candle) -> Result<(), StoreError> {
        self.shared.mirror.insert_candle(instrument, candle);
        self.shared.record(self.config.max_pending, |p, cap| {
            p.candle(instrument, candle, cap)
        });
        Ok(())
    }

    async fn flush(&self) -> Result<(), StoreError> {
        let target = self.shared.lock().seq;
        let mut acked = self.shared.acked.subscribe();
        let reached = tokio::time::timeout(self.config.timeout, acked.wait_for(|&a| a >= target))
            .await
            .is_ok_and(|r| r.is_ok());
        if reached {
            Ok(())
        } else {
            Err(StoreError::Timeout {
                backend: "redis",
                operation: "flush",
                after: self.config.timeout,
            })
        }
    }

    async fn latest_price(&self, instrument: &Symbol) -> Result<Option<LatestPrice>, StoreError> {
        let remote = async {
            let mut conn = self.conn.clone();
            let (price, ts): (Option<String>, Option<String>) = run(
                "latest_price",
                self.config.timeout,
                redis::pipe()
                    .get(self.keys.latest(instrument))
                    .get(self.keys.latest_ts(instrument))
                    .query_async(&mut conn),
            )
            .await?;
            let (Some(price), Some(ts)) = (price, ts) else {
                return Ok(None);
            };
            let key = self.keys.latest(instrument);
            Ok(Some(LatestPrice {
                price: price
                    .parse()
                    .map_err(|e| StoreError::decode(key.clone(), e))?,
                ts: ts
                    .parse::<Timestamp>()
                    .map_err(|e| StoreError::decode(key, e))?,
            }))
        };
        self.read(remote, || self.shared.mirror.latest(instrument))
            .await
    }

    async fn recent_candles(
        &self,
        instrument: &Symbol,
        timeframe: Timeframe,
        n: usize,
    ) -> Result<Vec<Candle>, StoreError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let remote = async {
            let raw = self
                .recent(
                    "recent_candles",
                    self.keys.ohlc_index(instrument, timeframe),
                    self.keys.ohlc_stem(instrument, timeframe),
                    n,
                )
                .await?;
            raw.iter()
                .map(|(key, ms, json)| {
                    decode_candle(key, timeframe, Timestamp::from_millis(*ms), json)
                })
                .collect()
        };
        self.read(remote, || {
            self.shared.mirror.candles(instrument, timeframe, n)
        })
        .await
    }

    async fn recent_ticks(&self, instrument: &Symbol, n: usize) -> Result<Vec<Tick>, StoreError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let remote = async {
            let raw = self
                .recent(
                    "recent_ticks",
                    self.keys.tick_index(instrument),
                    self.keys.tick_stem(instrument),
                    n,
                )
                .await?;
            raw.iter()
                .map(|(key, _, json)| decode_tick(key, json))
                .collect()
        };
        self.read(remote, || self.shared.mirror.ticks(instrument, n))
            .await
    }
}
