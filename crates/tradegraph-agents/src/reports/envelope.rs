//! What our code wraps around a report: which mode made it, with which prompt.

use serde::{Deserialize, Serialize};

/// How a report was produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum AgentMode {
    /// A model answered and the answer passed the schema.
    Llm {
        /// The provider that answered.
        provider: String,
        /// The model.
        model: String,
    },
    /// Deterministic rules.
    Rule {
        /// Why rules were used (`no provider configured`, or the provider error).
        reason: String,
    },
}

impl AgentMode {
    /// Rules, because no provider is configured.
    pub fn unconfigured() -> Self {
        Self::Rule {
            reason: "no provider configured".into(),
        }
    }

    /// Whether rules produced the report.
    pub fn is_rule(&self) -> bool {
        matches!(self, Self::Rule { .. })
    }
}

/// A report with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReport<T> {
    /// The report.
    pub report: T,
    /// How it was produced.
    #[serde(flatten)]
    pub mode: AgentMode,
    /// The version of the prompt (a hash of the template) the agent used.
    pub prompt_version: String,
}
