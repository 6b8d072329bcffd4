//! The ten agents, by name.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One of the ten agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentName {
    /// Candles and indicators.
    Technical,
    /// Adoption, constituents, earnings.
    Fundamental,
    /// News.
    Sentiment,
    /// Rates, inflation, regime.
    Macro,
    /// Argues for.
    Bull,
    /// Argues against.
    Bear,
    /// Sizes the risk.
    RiskManager,
    /// Decides.
    PortfolioManager,
    /// Turns an approved decision into orders.
    Execution,
    /// Learns from closed positions.
    Learning,
}

impl AgentName {
    /// All ten, in the order of the graph.
    pub const ALL: [Self; 10] = [
        Self::Technical,
        Self::Fundamental,
        Self::Sentiment,
        Self::Macro,
        Self::Bull,
        Self::Bear,
        Self::RiskManager,
        Self::PortfolioManager,
        Self::Execution,
        Self::Learning,
    ];

    /// The four analysts, whose signals the portfolio manager weighs.
    pub const ANALYSTS: [Self; 4] = [
        Self::Technical,
        Self::Fundamental,
        Self::Sentiment,
        Self::Macro,
    ];

    /// The name used in graphs, prompts and stores.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Technical => "technical",
            Self::Fundamental => "fundamental",
            Self::Sentiment => "sentiment",
            Self::Macro => "macro",
            Self::Bull => "bull",
            Self::Bear => "bear",
            Self::RiskManager => "risk_manager",
            Self::PortfolioManager => "portfolio_manager",
            Self::Execution => "execution",
            Self::Learning => "learning",
        }
    }
}

impl fmt::Display for AgentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown agent name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown agent `{0}`; expected one of technical, fundamental, sentiment, macro, bull, bear, risk_manager, portfolio_manager, execution, learning")]
pub struct UnknownAgent(pub String);

impl FromStr for AgentName {
    type Err = UnknownAgent;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAgent(s.to_owned()))
    }
}
