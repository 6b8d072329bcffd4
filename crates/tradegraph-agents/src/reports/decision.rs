//! The portfolio manager's decision.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What to do: the risk guard's own action type, so the decision reaches the guard unchanged.
pub use tradegraph_core::risk::Action;

/// The portfolio manager's decision. A proposal: the risk guard decides what may happen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortfolioDecision {
    /// What to do.
    pub action: Action,
    /// Position size in percent of equity.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub size_pct: f64,
    /// Stop-loss price.
    pub stop_loss: Option<f64>,
    /// Take-profit price.
    pub take_profit: Option<f64>,
    /// Trailing-stop distance in percent of the price.
    pub trailing_pct: Option<f64>,
    /// How sure, from 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub confidence: f64,
    /// Why, in a few sentences.
    #[schemars(length(min = 1, max = 2000))]
    pub rationale: String,
}
