//! What every agent node shares: prompts, the optional model, the rule-mode knobs.

use crate::model::ReportModel;
use crate::prompt::Prompts;
use crate::rules::RuleConfig;
use std::sync::Arc;

/// The shared equipment of the agent nodes.
#[derive(Debug, Clone)]
pub struct Brain {
    /// The prompt templates.
    pub prompts: Arc<Prompts>,
    /// The model, or `None` for rule mode throughout.
    pub model: Option<Arc<dyn ReportModel>>,
    /// Rule-mode knobs, also the decision timeframe the prompts show.
    pub rules: RuleConfig,
}

impl Brain {
    /// Rule mode with the embedded prompts (the prompts still version every report).
    ///
    /// # Errors
    /// [`AgentError::Prompt`](crate::AgentError::Prompt) when an embedded template is broken.
    pub fn rules_only() -> Result<Self, crate::AgentError> {
        Ok(Self {
            prompts: Arc::new(Prompts::embedded()?),
            model: None,
            rules: RuleConfig::default(),
        })
    }

    /// The same, answering through `model`.
    pub fn with_model(mut self, model: Arc<dyn ReportModel>) -> Self {
        self.model = Some(model);
        self
    }
}
