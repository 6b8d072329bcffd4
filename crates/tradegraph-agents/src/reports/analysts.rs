//! The four analysts' reports.

use super::Signal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Price levels the technical analyst watches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyLevels {
    /// Support levels, nearest first.
    #[schemars(length(max = 5))]
    pub support: Vec<f64>,
    /// Resistance levels, nearest first.
    #[schemars(length(max = 5))]
    pub resistance: Vec<f64>,
}

/// The technical analyst's view, from candles and indicators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TechnicalReport {
    /// Direction.
    pub signal: Signal,
    /// How sure, from 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub confidence: f64,
    /// Why, in a few sentences.
    #[schemars(length(min = 1, max = 2000))]
    pub reasoning: String,
    /// Levels that matter now.
    pub key_levels: KeyLevels,
}

/// The fundamental analyst's view: adoption and on-chain context for BTC, constituents and
/// earnings for the Indian indices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FundamentalReport {
    /// The thesis, in a few sentences.
    #[schemars(length(min = 1, max = 2000))]
    pub thesis: String,
    /// Direction.
    pub signal: Signal,
    /// How sure, from 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub confidence: f64,
}

/// The sentiment analyst's reading of the news.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentimentReport {
    /// From -1 (very negative) to 1 (very positive).
    #[schemars(range(min = -1.0, max = 1.0))]
    pub score: f64,
    /// How sure, from 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub confidence: f64,
    /// What drives it: short phrases.
    #[schemars(length(max = 8))]
    pub drivers: Vec<String>,
}

impl SentimentReport {
    /// The signal the score implies (dead band ±0.15).
    pub fn signal(&self) -> Signal {
        Signal::from_score(self.score, 0.15)
    }
}

/// Risk appetite across markets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Regime {
    /// Money seeks risk.
    RiskOn,
    /// Neither.
    Neutral,
    /// Money flees risk.
    RiskOff,
}

/// The macro analyst's regime call (RBI policy and inflation for India).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MacroReport {
    /// The regime.
    pub regime: Regime,
    /// How sure, from 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub confidence: f64,
    /// The factors behind it: short phrases.
    #[schemars(length(max = 8))]
    pub factors: Vec<String>,
}

impl MacroReport {
    /// The signal the regime implies for a risk asset.
    pub fn signal(&self) -> Signal {
        match self.regime {
            Regime::RiskOn => Signal::Buy,
            Regime::Neutral => Signal::Hold,
            Regime::RiskOff => Signal::Sell,
        }
    }
}
