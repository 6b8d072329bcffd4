//! Google Gemini's `generateContent`.
//!
//! Structured answers set `generationConfig.responseMimeType: application/json` and a
//! `responseSchema` converted to the OpenAPI subset Gemini accepts
//! ([`PreparedSchema::gemini`](crate::PreparedSchema::gemini)); schemas it cannot express
//! (maps, free-form values, recursion) go as JSON mode plus the schema in the system
//! instruction. The key travels in the `x-goog-api-key` header, never in the URL.
//! `promptFeedback.blockReason` and `finishReason: SAFETY` (and its kin) are
//! [`LlmError::ContentFilter`]; `MAX_TOKENS` is a truncation. Gemini 2.5 counts its thinking
//! against `maxOutputTokens`, so a request's answer limit is kept for the answer: Flash models
//! are asked not to think (`thinkingConfig.thinkingBudget: 0`), and Pro, which always thinks,
//! gets a budget of 1,024 tokens on top of the limit.

mod wire;

use crate::config::ProviderKind;
use crate::http::{Http, KeyHeader};
use crate::provider::settle;
use crate::{LlmError, Provider, Request, Response, SchemaMode, Secret};
use std::time::Duration;

/// The default timeout of a call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The Gemini API (Google AI Studio keys).
///
/// ```
/// use tradegraph_llm::{gemini::Gemini, Provider};
///
/// let gemini = Gemini::new("AIza...")?.with_model("gemini-2.5-pro");
/// assert_eq!((gemini.name(), gemini.model()), ("gemini", "gemini-2.5-pro"));
/// # Ok::<(), tradegraph_llm::LlmError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Gemini {
    http: Http,
    model: String,
    mode: SchemaMode,
    sampling: crate::Sampling,
}

impl Gemini {
    /// Gemini (`https://generativelanguage.googleapis.com`, API `v1beta`, model
    /// `gemini-2.5-flash`).
    ///
    /// # Errors
    /// [`LlmError::Config`] when the TLS client cannot be built.
    pub fn new(key: impl Into<Secret>) -> Result<Self, LlmError> {
        let defaults = ProviderKind::Gemini.defaults();
        let http = Http::new(
            "gemini",
            defaults.base_url,
            Some(key.into()),
            KeyHeader::XGoogApiKey,
            DEFAULT_TIMEOUT,
        )?;
        Ok(Self {
            http,
            model: defaults.model.into(),
            mode: SchemaMode::Auto,
            sampling: crate::Sampling::default(),
        })
    }

    /// Sets the base URL (`GEMINI_BASE_URL`; without `/v1beta`).
    ///
    /// # Errors
    /// [`LlmError::Config`] unless it is `http(s)://host[:port][/path]` without a query.
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, LlmError> {
        self.http.set_base(base_url)?;
        Ok(self)
    }
}

crate::http::http_builders!(
    Gemini,
    schema_mode = "Forces a schema form instead of `responseSchema`."
);

#[async_trait::async_trait]
impl Provider for Gemini {
    fn name(&self) -> &str {
        &self.http.provider
    }

    fn model(&self) -> &str {
        &self.model
    }
    fn sampling(&self) -> crate::Sampling {
        self.sampling
    }

    fn endpoint(&self) -> Option<&str> {
        Some(self.http.endpoint())
    }

    async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
        let request = self.sampling.apply(request);
        let request = request.as_ref();
        let model = request.model_or(&self.model);
        let model = model.strip_prefix("models/").unwrap_or(model);
        let body = wire::body(request, model, self.mode);
        let path = format!("v1beta/models/{model}:generateContent");
        let reply = self.http.post(&path, &body, request.timeout).await?;
        let response =
            wire::parse(&self.http.provider, model, &reply.body)?.with_latency(reply.latency);
        settle(request, response)
    }

    async fn check_key(&self) -> Result<(), LlmError> {
        self.http.get("v1beta/models", None).await.map(|_| ())
    }
}
