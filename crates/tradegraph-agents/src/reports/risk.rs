//! The risk manager's assessment.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How risky a position is now, and the limits the risk manager suggests. Suggestions only:
/// the risk guard's hard limits apply whatever is written here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskAssessment {
    /// From 0 (calm) to 1 (stay out).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub risk_score: f64,
    /// Suggested largest position, in percent of equity.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub max_position_pct: f64,
    /// Suggested stop-loss distance, in percent of the price.
    #[schemars(range(min = 0.0, max = 50.0))]
    pub stop_loss_pct: f64,
    /// Suggested take-profit distance, in percent of the price.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub take_profit_pct: f64,
    /// What worries the risk manager.
    #[schemars(length(max = 8))]
    pub warnings: Vec<String>,
}

/// The learning agent's lesson from a closed position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LessonDraft {
    /// One or two sentences, specific to the situation.
    #[schemars(length(min = 1, max = 400))]
    pub text: String,
}
