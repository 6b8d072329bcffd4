use super::CandleHistory;
use crate::{Query, StoreError};
use async_trait::async_trait;
use std::collections::HashMap;
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
    candles: Mutex<HashMap<Key, Series>>,
}

/// One instrument's candles of one timeframe, in time order, one per open time. Candles come
/// in time order almost always (a feed, a replay): the newest is appended or replaced in
/// place; an older one is found by binary search, and a new older one is inserted, moving the
/// newer ones (a backfill under a long series is best written oldest first, in one batch
/// after another).
#[derive(Default)]
struct Series(Vec<Candle>);

impl Series {
    fn upsert(&mut self, candle: &Candle) {
        let at = candle.open_time;
        match self.0.last_mut() {
            None => self.0.push(candle.clone()),
            Some(last) if last.open_time < at => self.0.push(candle.clone()),
            Some(last) if last.open_time == at => candle.clone_into(last),
            Some(_) => match self.0.binary_search_by_key(&at, |c| c.open_time) {
                Ok(i) => candle.clone_into(&mut self.0[i]),
                Err(i) => self.0.insert(i, candle.clone()),
            },
        }
    }

    /// The candles opened in `from..to` (milliseconds).
    fn range(&self, from: i64, to: i64) -> &[Candle] {
        let start = self.0.partition_point(|c| c.open_time.millis() < from);
        let end = self.0.partition_point(|c| c.open_time.millis() < to);
        self.0.get(start..end.max(start)).unwrap_or_default()
    }
}

impl MemoryHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Series>> {
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
            let key = (instrument.clone(), candle.timeframe);
            all.entry(key).or_default().upsert(candle);
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
                    .range(query.from.millis(), query.to.millis())
                    .to_vec()
            })
            .unwrap_or_default();
        Ok(query.keep_newest(found))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use tradegraph_core::{Decimal, Timestamp};

    proptest! {
        /// Any order of upserts, the same candle again or a revised one: the series holds what
        /// a map by open time holds, and a range is the map's range (empty when it ends
        /// before it starts).
        #[test]
        fn a_series_is_a_map_by_open_time(
            upserts in prop::collection::vec((0_i64..40, 1_i64..1_000), 0..120),
            from in 0_i64..45,
            to in 0_i64..45,
        ) {
            let mut series = Series::default();
            let mut model = BTreeMap::new();
            for (minute, price) in upserts {
                let candle = Candle::opening(
                    Timestamp::from_millis(minute * 60_000),
                    Timeframe::M1,
                    Decimal::from(price),
                    Decimal::ONE,
                );
                series.upsert(&candle);
                model.insert(minute * 60_000, candle);
            }
            prop_assert_eq!(&series.0, &model.values().cloned().collect::<Vec<_>>());
            let (from, to) = (from * 60_000, to * 60_000);
            // an empty range when it ends before it starts (a map's `range` would panic)
            let expected: Vec<Candle> = if from <= to {
                model.range(from..to).map(|(_, c)| c.clone()).collect()
            } else {
                Vec::new()
            };
            prop_assert_eq!(series.range(from, to), &expected[..]);
        }
    }
}
