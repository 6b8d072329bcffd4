//! [`ReportModel`] over a `tradegraph-llm` client: the fallback chain, schema adaptation per
//! provider, validation and the repair loop all happen there.

use super::{ModelAnswer, ModelFailure, ReportModel};
use crate::prompt::RenderedPrompt;
use crate::reports::Spend;
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

    /// One structured call, each provider attempt bounded by `attempt` when given.
    async fn ask(
        &self,
        prompt: &RenderedPrompt,
        schema: &serde_json::Value,
        attempt: Option<std::time::Duration>,
    ) -> Result<ModelAnswer, ModelFailure> {
        // Prepared once per schema content and reused by every later call.
        let prepared = PreparedSchema::cached(prompt.agent.as_str(), schema)
            .map_err(|e| ModelFailure(e.to_string()))?;
        let mut request = Request::chat(prompt.system.clone(), prompt.user.clone())
            .temperature(self.temperature)
            .max_tokens(self.max_tokens)
            .agent(prompt.agent.as_str());
        if let Some(attempt) = attempt {
            request = request.timeout(attempt);
        }
        let out = self
            .llm
            .structured_json(request, prepared)
            .await
            .map_err(|e| ModelFailure(e.to_string()))?;
        let usage = out.response.usage;
        // Empty when not known (an answer cached before answers were kept as they came).
        let raw = out.response.raw.unwrap_or_default();
        Ok(ModelAnswer {
            raw,
            value: out.value,
            provider: out.response.provider,
            model: out.response.model,
            spend: Spend {
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
                cached_input_tokens: usage.cached_input_tokens,
                cost: out.response.cost,
            },
        })
    }
}

#[async_trait]
impl ReportModel for LlmModel {
    async fn answer(
        &self,
        prompt: &RenderedPrompt,
        schema: &serde_json::Value,
    ) -> Result<ModelAnswer, ModelFailure> {
        self.ask(prompt, schema, None).await
    }

    /// With several providers a call could go to now (not disabled, not behind an open
    /// breaker), each provider attempt may take `within` over their number: a provider that
    /// hangs times out (its breaker counts it, so later calls go to the next provider) and the
    /// next one is asked in the time left. With one there is nowhere else to go: the caller's
    /// deadline alone ends the call (a provider disabled or shut out takes no share).
    async fn answer_within(
        &self,
        prompt: &RenderedPrompt,
        schema: &serde_json::Value,
        within: std::time::Duration,
    ) -> Result<ModelAnswer, ModelFailure> {
        let providers = self.llm.askable_provider_count();
        let attempt = (providers > 1).then(|| {
            let n = u32::try_from(providers).unwrap_or(u32::MAX);
            (within / n).max(std::time::Duration::from_millis(1))
        });
        self.ask(prompt, schema, attempt).await
    }

    /// Opens the client's cycle on the UTC day of `as_of`: the cycle's and the day's budgets
    /// (`[llm.cycle_budget]`, `[llm.day_budget]`) count from here.
    fn begin_cycle(&self, as_of: tradegraph_core::Timestamp) {
        self.llm.begin_cycle(as_of.millis().div_euclid(86_400_000));
    }
}
