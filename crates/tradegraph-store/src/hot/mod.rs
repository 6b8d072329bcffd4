//! The hot cache: the latest price and the recent candles and ticks of each instrument. The
//! bot engine (`tradegraph::engine`) writes every real tick, closed candle and latest price to
//! it; it reads it back to warm up a restarted bot's view of the market, and the bot's service
//! (`GET /api/v1/candles`) falls back to it when the candle history has none. The agents decide
//! on the engine's own in-memory snapshot, not on this cache. [`MemoryHotCache`] is the default;
//! `RedisHotCache` (feature `redis`) shares it between processes (and with `redis-cli`) with the
//! specification's keys and TTLs.

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
/// - the latest price never moves back in time: a tick or price older than the latest one held
///   (and not expired) leaves it as it is (the tick itself is still kept); one of the same time
///   replaces it;
/// - ticks are kept per second: a tick replaces the one of the same second (the specification's
///   tick key has seconds precision);
/// - a candle replaces the one with the same timeframe and open time (the aggregator writes the
///   forming candle again as it grows);
/// - candles and ticks are kept for 24 hours;
/// - `recent_*` return at most `n`, oldest first.
#[async_trait]
pub trait HotCache: Send + Sync + 'static {
    /// Records a tick: the latest price and time (unless a newer one is held), and the tick
    /// itself.
    async fn put_tick(&self, instrument: &Symbol, tick: &Tick) -> Result<(), StoreError>;

    /// Records the latest price and time only, with no tick: for a price that is not a trade,
    /// such as a one-minute bar's close from a feed that has no ticks. It expires like a tick's
    /// latest price, and a price older than the latest one held is ignored, as for a tick.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), tradegraph_store::StoreError> {
    /// use tradegraph_core::{Symbol, Timestamp};
    /// use tradegraph_store::{HotCache, LatestPrice, MemoryHotCache};
    /// let cache = MemoryHotCache::new();
    /// let btc = Symbol::new("BTCUSDT");
    /// let close = LatestPrice { price: "45050.25".parse().unwrap(), ts: Timestamp::from_secs(1_704_103_260) };
    /// cache.put_latest(&btc, close).await?;
    /// assert_eq!(cache.latest_price(&btc).await?, Some(close));
    /// assert!(cache.recent_ticks(&btc, 10).await?.is_empty(), "no tick was made up");
    /// // An older price does not move the latest back.
    /// let earlier = LatestPrice { price: "45000".parse().unwrap(), ts: Timestamp::from_secs(1_704_103_200) };
    /// cache.put_latest(&btc, earlier).await?;
    /// assert_eq!(cache.latest_price(&btc).await?, Some(close));
    /// # Ok(()) }
    /// ```
    async fn put_latest(&self, instrument: &Symbol, price: LatestPrice) -> Result<(), StoreError>;

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
