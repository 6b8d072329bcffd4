//! What each agent reports: typed, with a JSON Schema that every model answer must pass.
//!
//! The report types are exactly what a model is asked to produce. What our code adds (which mode
//! produced it, the prompt version) lives in [`AgentReport`] around them, so a model can never
//! claim to be a rule or forge a version.

mod analysts;
mod debate;
mod decision;
mod envelope;
mod read;
mod risk;
mod schema;

pub use analysts::{
    FundamentalReport, KeyLevels, MacroReport, Regime, SentimentReport, TechnicalReport,
};
pub use debate::{DebateTurn, Stance};
pub use decision::{Action, PortfolioDecision};
pub use envelope::{AgentMode, AgentReport, Exchange, RuleReason, Spend};
pub use read::{answer_schema, read_answer, ReadAnswer};
pub use risk::{LessonDraft, RiskAssessment};
pub use schema::Report;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A directional view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Signal {
    /// Expect the price to rise.
    Buy,
    /// Expect the price to fall.
    Sell,
    /// No edge either way.
    Hold,
}

impl Signal {
    /// +1 for buy, -1 for sell, 0 for hold.
    pub fn direction(self) -> f64 {
        match self {
            Self::Buy => 1.0,
            Self::Sell => -1.0,
            Self::Hold => 0.0,
        }
    }

    /// The signal of a score in `[-1, 1]`, with a dead band of `threshold` around zero.
    pub fn from_score(score: f64, threshold: f64) -> Self {
        if score > threshold {
            Self::Buy
        } else if score < -threshold {
            Self::Sell
        } else {
            Self::Hold
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
            Self::Hold => "HOLD",
        })
    }
}
