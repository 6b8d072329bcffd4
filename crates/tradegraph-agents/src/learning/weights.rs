//! How much the portfolio manager trusts each analyst.

use crate::AgentName;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An analyst's record: calls that turned out right, out of calls made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HitRecord {
    /// Directional calls judged (HOLD is not judged).
    pub calls: f64,
    /// Calls that matched the outcome.
    pub hits: f64,
}

impl HitRecord {
    /// Hit rate with a Laplace prior (0.5 with no history).
    pub fn rate(&self) -> f64 {
        (self.hits + 1.0) / (self.calls + 2.0)
    }
}

/// Per-analyst weights, learned from hit rates. Every analyst starts at 1.
///
/// ```
/// use tradegraph_agents::{learning::AgentWeights, AgentName};
/// let mut w = AgentWeights::default();
/// for _ in 0..10 {
///     w.record(AgentName::Technical, true);
///     w.record(AgentName::Sentiment, false);
/// }
/// assert!(w.weight(AgentName::Technical) > 1.0);
/// assert!(w.weight(AgentName::Sentiment) < 1.0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentWeights {
    records: BTreeMap<AgentName, HitRecord>,
}

impl AgentWeights {
    /// Older records count this much less with each new one, so weights follow regime changes.
    pub const DECAY: f64 = 0.97;

    /// Records whether an analyst's call was right.
    pub fn record(&mut self, agent: AgentName, hit: bool) {
        let r = self.records.entry(agent).or_default();
        r.calls = r.calls * Self::DECAY + 1.0;
        r.hits = r.hits * Self::DECAY + if hit { 1.0 } else { 0.0 };
    }

    /// The record of an analyst.
    pub fn record_of(&self, agent: AgentName) -> HitRecord {
        self.records.get(&agent).copied().unwrap_or_default()
    }

    /// The weight: twice the hit rate, so 1 with no history, from near 0 to near 2.
    pub fn weight(&self, agent: AgentName) -> f64 {
        2.0 * self.record_of(agent).rate()
    }

    /// Every analyst's weight.
    pub fn analyst_weights(&self) -> BTreeMap<AgentName, f64> {
        AgentName::ANALYSTS
            .into_iter()
            .map(|a| (a, self.weight(a)))
            .collect()
    }
}
