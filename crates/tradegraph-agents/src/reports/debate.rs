//! One turn of the bull/bear debate.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which side a researcher argues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Stance {
    /// For buying.
    Bull,
    /// Against.
    Bear,
}

impl Stance {
    /// The other side.
    pub fn opponent(self) -> Self {
        match self {
            Self::Bull => Self::Bear,
            Self::Bear => Self::Bull,
        }
    }
}

/// What a researcher says in one round: the case, and the answer to the other side's last turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DebateTurn {
    /// The case, in a few sentences.
    #[schemars(length(min = 1, max = 2000))]
    pub argument: String,
    /// The points it rests on.
    #[schemars(length(max = 6))]
    pub points: Vec<String>,
    /// The answer to the opponent's last argument (empty in the first turn).
    #[schemars(length(max = 1000))]
    pub rebuttal: String,
    /// How strongly the researcher holds the case, from 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub conviction: f64,
}
