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

/// How the aggregator treats awkward input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AggregatorPolicy {
    /// Minutes with no trades.
    pub empty_minutes: EmptyMinutes,
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
