use super::CandleHistory;
use crate::{Query, StoreError};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use tradegraph_core::{Candle, Symbol, Timeframe};

type Key = (Symbol, Timeframe);

/// Candle history in memory (unbounded: for tests, backtests and short runs).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), tradegraph_store::StoreError> {
/// use tradegraph_core::{Candle, Symbol, Timeframe, Timestamp};
/// use tradegraph_store::{CandleHistory, MemoryHistory, Query};
/// let history = MemoryHistory::new();
/// let c = Candle::opening(Timestamp::from_secs(60), Timeframe::M1, 100.into(), 1.into());
/// history.upsert_candles(&Symbol::new("BTCUSDT"), &[c.clone(), c.clone()]).await?;
/// assert_eq!(history.candles(&Query::new("BTCUSDT"), Timeframe::M1).await?, vec![c]);
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct MemoryHistory {
    candles: Mutex<HashMap<Key, BTreeMap<i64, Candle>>>,
}

impl MemoryHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, BTreeMap<i64, Candle>>> {
        self.candles.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl CandleHistory for MemoryHistory {
    async fn upsert_candles(
        &self,
        instrument: &Symbol,
        candles: &[Candle],
    ) -> Result<(), StoreError> {
        let mut all = self.lock();
        for candle in candles {
            all.entry((instrument.clone(), candle.timeframe))
                .or_default()
                .insert(candle.open_time.millis(), candle.clone());
        }
        Ok(())
    }

    async fn candles(
        &self,
        query: &Query,
        timeframe: Timeframe,
    ) -> Result<Vec<Candle>, StoreError> {
        let all = self.lock();
        let found = all
            .get(&(query.instrument.clone(), timeframe))
            .map(|series| {
                series
                    .range(query.from.millis()..query.to.millis())
                    .map(|(_, c)| c.clone())
                    .collect()
            })
            .unwrap_or_default();
        Ok(query.keep_newest(found))
    }
}
