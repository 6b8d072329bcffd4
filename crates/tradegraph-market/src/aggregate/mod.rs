//! Ticks and trades into candles of all five timeframes at once.
//!
#![doc = include_str!("policy.md")]

mod bucket;
mod policy;
mod stream;
mod tracker;

pub use bucket::bucket_start;
pub use policy::{AggregatorPolicy, EmptyMinutes, JoinedCandles, TickOutcome};
pub use stream::with_candles;
pub use tracker::{AggregatorStats, CandleAggregator};
