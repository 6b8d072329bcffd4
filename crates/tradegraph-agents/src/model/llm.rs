//! [`ReportModel`] over a `tradegraph-llm` client: the fallback chain, schema adaptation per
//! provider, validation and the repair loop all happen there.

use super::{ModelAnswer, ModelFailure, ReportModel};
use crate::prompt::RenderedPrompt;
use async_trait::async_trait;
use tradegraph_llm::{Llm, PreparedSchema, Request};

/// Agents answered through an [`Llm`] (one provider or a chain with fallback).
#[derive(Debug, Clone)]
pub struct LlmModel {
    llm: Llm,
    temperature: f32,
    max_tokens: u32,
}

impl LlmModel {
    /// Answers through `llm` at temperature 0.2 with up to 1,200 tokens per answer.
    pub fn new(llm: Llm) -> Self {
        Self {
            llm,
            temperature: 0.2,
            max_tokens: 1_200,
        }
    }

    /// Sets the sampling temperature.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = temperature;
        self
    }

    /// Sets the answer's token limit.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// The client, for its health, accounting and events.
    pub fn llm(&self) -> &Llm {
        &self.llm
    }
}

#[async_trait]
impl ReportModel for LlmModel {
    async fn answer(
        &self,
        prompt: &RenderedPrompt,
        schema: &serde_json::Value,
    ) -> Result<ModelAnswer, ModelFailure> {
        // Prepared once per schema content and reused by every later call.
        let prepared = PreparedSchema::cached(prompt.agent.as_str(), schema)
            .map_err(|e| ModelFailure(e.to_string()))?;
        let request = Request::chat(prompt.system.clone(), prompt.user.clone())
            .temperature(self.temperature)
            .max_tokens(self.max_tokens)
            .agent(prompt.agent.as_str());
        let out = self
            .llm
            .structured_json(request, prepared)
            .await
            .map_err(|e| ModelFailure(e.to_string()))?;
        Ok(ModelAnswer {
            value: out.value,
            provider: out.response.provider,
            model: out.response.model,
        })
    }
}
