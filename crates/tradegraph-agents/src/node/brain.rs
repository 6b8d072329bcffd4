//! What every agent node shares: prompts, the optional model, the rule-mode knobs.

use crate::learning::RefinePolicy;
use crate::model::ReportModel;
use crate::prompt::Prompts;
use crate::rules::RuleConfig;
use std::sync::Arc;

/// The shared equipment of the agent nodes: the prompt templates, the model (none: rule mode
/// throughout) and the rule-mode knobs.
///
/// ```
/// use std::sync::Arc;
/// use tradegraph_agents::node::Brain;
/// use tradegraph_agents::prompt::Prompts;
/// use tradegraph_core::Timeframe;
///
/// let brain = Brain::rules_only()?
///     .with_prompts(Arc::new(Prompts::embedded()?))
///     .with_timeframe(Timeframe::M15);
/// assert!(brain.model().is_none());
/// assert_eq!(brain.rules().timeframe, Timeframe::M15);
/// # Ok::<(), tradegraph_agents::AgentError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Brain {
    prompts: Arc<Prompts>,
    model: Option<Arc<dyn ReportModel>>,
    rules: RuleConfig,
    refine: RefinePolicy,
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
            refine: RefinePolicy::default(),
        })
    }

    /// The same, answering through `model`.
    #[must_use]
    pub fn with_model(mut self, model: Arc<dyn ReportModel>) -> Self {
        self.model = Some(model);
        self
    }

    /// The same, with `prompts` (the embedded templates with a directory's overrides, say).
    #[must_use]
    pub fn with_prompts(mut self, prompts: Arc<Prompts>) -> Self {
        self.prompts = prompts;
        self
    }

    /// The same, with the rule-mode knobs `rules`.
    #[must_use]
    pub fn with_rules(mut self, rules: RuleConfig) -> Self {
        self.rules = rules;
        self
    }

    /// The same, deciding on candles of `timeframe` (the agents read, and the prompts show,
    /// the candles whose close runs a cycle).
    #[must_use]
    pub fn with_timeframe(mut self, timeframe: tradegraph_core::Timeframe) -> Self {
        self.rules.timeframe = timeframe;
        self
    }

    /// The same, proposing prompt amendments under `refine` ([`RefinePolicy::off`]: none).
    #[must_use]
    pub fn with_refine(mut self, refine: RefinePolicy) -> Self {
        self.refine = refine;
        self
    }

    /// When the learning agent proposes prompt amendments (only with a model: the rules read
    /// no prompt).
    pub fn refine(&self) -> RefinePolicy {
        self.refine
    }

    /// The prompt templates.
    pub fn prompts(&self) -> &Arc<Prompts> {
        &self.prompts
    }

    /// The model, or `None` for rule mode throughout.
    pub fn model(&self) -> Option<&Arc<dyn ReportModel>> {
        self.model.as_ref()
    }

    /// The rule-mode knobs, also the decision timeframe the prompts show.
    pub fn rules(&self) -> RuleConfig {
        self.rules
    }
}
