//! The hot cache: the latest price and the recent candles and ticks of each instrument, read by
//! the agents on every decision. [`MemoryHotCache`] is the default; `RedisHotCache` (feature
//! `redis`) shares it between processes with the specification's keys and TTLs.

mod memory;

pub use memory::{HotLimits, MemoryHotCache};

use crate::StoreError;
use async_trait::async_trait;
use tradegraph_core::{Candle, Price, Symbol, Tick, Timeframe, Timestamp};

/// An instrument's last traded price and when it traded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatestPrice {
    /// The price.
    pub price: Price,
    /// When.
    pub ts: Timestamp,
}

/// Recent market data per instrument.
///
/// Semantics every implementation keeps (and the tests check):
/// - the latest price expires 5 minutes after it was written (a silent feed shows as no price);
/// - ticks are kept per second: a tick replaces the one of the same second (the specification's
///   tick key has seconds precision);
/// - a candle replaces the one with the same timeframe and open time (the aggregator writes the
///   forming candle again as it grows);
/// - candles and ticks are kept for 24 hours;
/// - `recent_*` return at most `n`, oldest first.
#[async_trait]
pub trait HotCache: Send + Sync + 'static {
    /// Records a tick: the latest price and time, and the tick itself.
    async fn put_tick(&self, instrument: &Symbol, tick: &Tick) -> Result<(), StoreError>;

    /// Records a candle (closed or forming).
    async fn put_candle(&self, instrument: &Symbol, candle: &Candle) -> Result<(), StoreError>;

    /// The latest price, unless none was written in the last 5 minutes.
    async fn latest_price(&self, instrument: &Symbol) -> Result<Option<LatestPrice>, StoreError>;

    /// The newest `n` candles of a timeframe, oldest first.
    async fn recent_candles(
        &self,
        instrument: &Symbol,
        timeframe: Timeframe,
        n: usize,
    ) -> Result<Vec<Candle>, StoreError>;

    /// The newest `n` ticks (one per second), oldest first.
    async fn recent_ticks(&self, instrument: &Symbol, n: usize) -> Result<Vec<Tick>, StoreError>;

    /// Waits until what was put is visible to other processes (a shared cache writes in the
    /// background); immediate for an in-process cache.
    ///
    /// # Errors
    /// [`StoreError::Timeout`] when the shared cache is away or slow (the writes stay pending).
    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
