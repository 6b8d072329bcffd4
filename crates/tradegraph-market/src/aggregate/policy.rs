//! The knobs of the aggregation policy and what happened to each tick.

use serde::{Deserialize, Serialize};

/// What to do with minutes in which nothing traded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptyMinutes {
    /// A flat candle at the previous close with zero volume (as exchanges chart it).
    #[default]
    Fill,
    /// No candle.
    Skip,
}

/// What to do with a longer candle (5 minutes to a day) that began before the first data the
/// aggregator was given (a bot started or restarted in the middle of the hour): its open, high,
/// low and volume would be those of the part it saw only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinedCandles {
    /// Emitted like any other, its open the first minute seen.
    #[default]
    Emit,
    /// Not emitted (counted in [`AggregatorStats::joined_dropped`](super::AggregatorStats)).
    /// What was seen before a restart is given back with
    /// [`CandleAggregator::resume`](super::CandleAggregator::resume), so that the candles in
    /// progress then come out whole.
    Drop,
}

/// How the aggregator treats awkward input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AggregatorPolicy {
    /// Minutes with no trades.
    pub empty_minutes: EmptyMinutes,
    /// Longer candles that began before the aggregator's first data.
    #[serde(default)]
    pub joined: JoinedCandles,
}

/// What the aggregator did with one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TickOutcome {
    /// Folded into the open minute.
    Accepted,
    /// Older than the open minute: dropped.
    Late,
    /// A trade id at or below the last accepted one: dropped.
    Duplicate,
    /// Outside the trading session: dropped.
    OutOfSession,
}
