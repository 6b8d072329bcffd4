use super::{HotCache, LatestPrice};
use crate::StoreError;
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;
use tradegraph_core::{Candle, Symbol, Tick, Timeframe};

/// How long the hot cache keeps things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotLimits {
    /// The latest price's lifetime (5 minutes).
    pub latest_ttl: Duration,
    /// How far back candles and ticks are kept, in data time (24 hours).
    pub window: Duration,
    /// At most this many ticks and this many candles per timeframe per instrument (100,000).
    pub max_entries: usize,
}

impl Default for HotLimits {
    fn default() -> Self {
        Self {
            latest_ttl: Duration::from_secs(5 * 60),
            window: Duration::from_secs(24 * 60 * 60),
            max_entries: 100_000,
        }
    }
}

#[derive(Default)]
struct Series {
    latest: Option<(LatestPrice, Instant)>,
    ticks: BTreeMap<i64, Tick>,
    candles: [BTreeMap<i64, Candle>; 5],
}

/// The in-process hot cache: the default, and the fallback of the Redis one while Redis is away.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), tradegraph_store::StoreError> {
/// use tradegraph_core::{Symbol, Tick, Timestamp};
/// use tradegraph_store::{HotCache, MemoryHotCache};
/// let cache = MemoryHotCache::new();
/// let btc = Symbol::new("BTCUSDT");
/// let at = Timestamp::from_secs(1_704_103_200);
/// cache.put_tick(&btc, &Tick::new(at, "45000.50".parse().unwrap(), "0.1".parse().unwrap())).await?;
/// assert_eq!(cache.latest_price(&btc).await?.unwrap().price.to_string(), "45000.50");
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct MemoryHotCache {
    series: Mutex<HashMap<Symbol, Series>>,
    limits: HotLimits,
}

impl MemoryHotCache {
    /// An empty cache with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty cache with `limits`.
    pub fn with_limits(limits: HotLimits) -> Self {
        Self {
            series: Mutex::default(),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Symbol, Series>> {
        // Every mutation is a single insert or trim: a panic elsewhere cannot leave it half-done.
        self.series.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops what is older than `window` before the newest key, then the oldest over the cap.
    fn trim<T>(&self, map: &mut BTreeMap<i64, T>, window: i64) {
        let newest = map.last_key_value().map_or(0, |(&k, _)| k);
        let oldest_kept = newest.saturating_sub(window);
        while map.first_key_value().is_some_and(|(&k, _)| k < oldest_kept)
            || map.len() > self.limits.max_entries
        {
            map.pop_first();
        }
    }

    /// Makes `latest` the latest price unless the one held (and not expired) is newer; returns
    /// whether it did.
    fn advance_latest(&self, series: &mut Series, latest: LatestPrice) -> bool {
        let now = Instant::now();
        let older = series.latest.is_some_and(|(held, written)| {
            now.duration_since(written) < self.limits.latest_ttl && latest.ts < held.ts
        });
        if !older {
            series.latest = Some((latest, now));
        }
        !older
    }

    /// Records a tick without awaiting (the Redis cache's mirror); returns whether it became the
    /// latest price (an older tick is kept as a tick only).
    pub(crate) fn insert_tick(&self, instrument: &Symbol, tick: &Tick) -> bool {
        let mut all = self.lock();
        let series = all.entry(instrument.clone()).or_default();
        let latest = LatestPrice {
            price: tick.price,
            ts: tick.ts,
        };
        let advanced = self.advance_latest(series, latest);
        series.ticks.insert(tick.ts.secs(), tick.clone());
        // Ticks are keyed in seconds.
        let window = i64::try_from(self.limits.window.as_secs()).unwrap_or(i64::MAX);
        self.trim(&mut series.ticks, window);
        advanced
    }

    /// Records a latest price without awaiting (the Redis cache's mirror); returns whether it
    /// became the latest price (an older one is ignored).
    pub(crate) fn insert_latest(&self, instrument: &Symbol, latest: LatestPrice) -> bool {
        let mut all = self.lock();
        let series = all.entry(instrument.clone()).or_default();
        self.advance_latest(series, latest)
    }

    /// Records a candle without awaiting (the Redis cache's mirror).
    pub(crate) fn insert_candle(&self, instrument: &Symbol, candle: &Candle) {
        let mut all = self.lock();
        let series = all.entry(instrument.clone()).or_default();
        let map = &mut series.candles[candle.timeframe.index()];
        map.insert(candle.open_time.millis(), candle.clone());
        let window = i64::try_from(self.limits.window.as_millis()).unwrap_or(i64::MAX);
        self.trim(map, window);
    }

    pub(crate) fn latest(&self, instrument: &Symbol) -> Option<LatestPrice> {
        let all = self.lock();
        let (latest, written) = all.get(instrument)?.latest?;
        (written.elapsed() < self.limits.latest_ttl).then_some(latest)
    }

    pub(crate) fn candles(&self, instrument: &Symbol, tf: Timeframe, n: usize) -> Vec<Candle> {
        let all = self.lock();
        let Some(series) = all.get(instrument) else {
            return Vec::new();
        };
        newest(&series.candles[tf.index()], n)
    }

    pub(crate) fn ticks(&self, instrument: &Symbol, n: usize) -> Vec<Tick> {
        let all = self.lock();
        all.get(instrument)
            .map(|s| newest(&s.ticks, n))
            .unwrap_or_default()
    }
}

fn newest<T: Clone>(map: &BTreeMap<i64, T>, n: usize) -> Vec<T> {
    let mut out: Vec<T> = map.values().rev().take(n).cloned().collect();
    out.reverse();
    out
}

#[async_trait]
impl HotCache for MemoryHotCache {
    async fn put_tick(&self, instrument: &Symbol, tick: &Tick) -> Result<(), StoreError> {
        self.insert_tick(instrument, tick);
        Ok(())
    }

    async fn put_latest(&self, instrument: &Symbol, price: LatestPrice) -> Result<(), StoreError> {
        self.insert_latest(instrument, price);
        Ok(())
    }

    async fn put_candle(&self, instrument: &Symbol, candle: &Candle) -> Result<(), StoreError> {
        self.insert_candle(instrument, candle);
        Ok(())
    }

    async fn latest_price(&self, instrument: &Symbol) -> Result<Option<LatestPrice>, StoreError> {
        Ok(self.latest(instrument))
    }

    async fn recent_candles(
        &self,
        instrument: &Symbol,
        timeframe: Timeframe,
        n: usize,
    ) -> Result<Vec<Candle>, StoreError> {
        Ok(self.candles(instrument, timeframe, n))
    }

    async fn recent_ticks(&self, instrument: &Symbol, n: usize) -> Result<Vec<Tick>, StoreError> {
        Ok(self.ticks(instrument, n))
    }
}
