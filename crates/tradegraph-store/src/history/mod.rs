//! Candle history: every closed candle by instrument, timeframe and time, for backtests,
//! charts and long look-backs. [`MemoryHistory`] is the default; `MongoStore` (feature
//! `mongodb`) keeps it in `ohlc_history`.

mod memory;

pub use memory::MemoryHistory;

use crate::{Query, StoreError};
use async_trait::async_trait;
use tradegraph_core::{Candle, Symbol, Timeframe};

/// Stored candles. Writing a candle again (same instrument, timeframe and open time) replaces
/// it, so replaying data never duplicates.
#[async_trait]
pub trait CandleHistory: Send + Sync + 'static {
    /// Stores candles of one instrument (any timeframes, any order).
    async fn upsert_candles(
        &self,
        instrument: &Symbol,
        candles: &[Candle],
    ) -> Result<(), StoreError>;

    /// The candles of a timeframe whose open time is in the query's range, oldest first.
    async fn candles(&self, query: &Query, timeframe: Timeframe)
        -> Result<Vec<Candle>, StoreError>;
}
