//! What an agent asks a model through: one narrow trait, so any LLM stack (the
//! `tradegraph-llm` fallback chain, a local server, a scripted test peer) can answer.

#[cfg(feature = "llm")]
mod llm;

#[cfg(feature = "llm")]
pub use llm::LlmModel;

use crate::prompt::RenderedPrompt;
use crate::reports::Spend;
use async_trait::async_trait;

/// A model's answer: JSON that is still to be checked against the report's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAnswer {
    /// The JSON value.
    pub value: serde_json::Value,
    /// Which provider answered (after any fallback).
    pub provider: String,
    /// Which model.
    pub model: String,
    /// What the answer cost.
    pub spend: Spend,
    /// The answer as the model gave it, before its JSON was taken out (the audit trail keeps
    /// it; [`value`](Self::value) is what was read from it); empty when not known.
    pub raw: String,
}

impl ModelAnswer {
    /// `value` from `provider`'s `model`, answered as its JSON text, at no recorded cost (a
    /// scripted or local model; set [`spend`](Self::spend) and [`raw`](Self::raw) when known).
    ///
    /// ```
    /// use tradegraph_agents::model::ModelAnswer;
    /// let a = ModelAnswer::new(serde_json::json!({"signal": "BUY"}), "script", "m1");
    /// assert_eq!(a.raw, r#"{"signal":"BUY"}"#);
    /// ```
    pub fn new(
        value: serde_json::Value,
        provider: impl Into<String>,
        model: impl Into<String>,
    ) -> Self {
        Self {
            raw: value.to_string(),
            value,
            provider: provider.into(),
            model: model.into(),
            spend: Spend::default(),
        }
    }
}

/// Why a model gave no usable answer. The agent falls back to rule mode and records this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModelFailure(pub String);

/// Answers an agent's prompt with JSON following `schema`.
///
/// Implementations must never put secrets in a [`ModelFailure`]: its text is stored with the
/// report.
#[async_trait]
pub trait ReportModel: Send + Sync + std::fmt::Debug {
    /// Asks for an answer.
    ///
    /// # Errors
    /// [`ModelFailure`] when no provider produced an answer.
    async fn answer(
        &self,
        prompt: &RenderedPrompt,
        schema: &serde_json::Value,
    ) -> Result<ModelAnswer, ModelFailure>;

    /// Asks for an answer that the caller waits for at most `within` (its share of the
    /// cycle's deadline; the caller drops the call then). A model with timeouts of its own
    /// (a chain of providers) should end its attempts inside it, so that a provider that hangs
    /// is recorded as timed out (its breaker opens, later calls go to the next provider)
    /// rather than dropped unseen. By default, [`answer`](Self::answer).
    ///
    /// # Errors
    /// As [`answer`](Self::answer).
    async fn answer_within(
        &self,
        prompt: &RenderedPrompt,
        schema: &serde_json::Value,
        within: std::time::Duration,
    ) -> Result<ModelAnswer, ModelFailure> {
        let _ = within;
        self.answer(prompt, schema).await
    }

    /// A decision cycle at `as_of` begins (the engine calls this before each cycle's graph
    /// runs): a model with budgets per cycle or per day opens them. Nothing by default.
    fn begin_cycle(&self, as_of: tradegraph_core::Timestamp) {
        let _ = as_of;
    }
}
