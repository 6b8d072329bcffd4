//! Anthropic's messages API.
//!
//! Structured answers use a forced tool: one tool whose `input_schema` is the answer's schema,
//! and `tool_choice: {"type": "tool", "name": ...}`; the answer is the `tool_use` block's
//! `input`. Headers: `x-api-key` and `anthropic-version: 2023-06-01`. `stop_reason: refusal`
//! is [`LlmError::Refusal`], `max_tokens` a truncation; 529 `overloaded_error` is
//! [`LlmError::Overloaded`].

mod wire;

use crate::config::ProviderKind;
use crate::http::{Http, KeyHeader};
use crate::provider::settle;
use crate::{LlmError, Provider, Request, Response, SchemaMode, Secret};
use std::time::Duration;

/// The default timeout of a call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The API version sent with every call.
pub const API_VERSION: &str = "2023-06-01";

/// The Anthropic messages API.
///
/// ```
/// use tradegraph_llm::{anthropic::Anthropic, Provider};
///
/// let claude = Anthropic::new("sk-ant-...")?.with_model("claude-sonnet-4-5");
/// assert_eq!((claude.name(), claude.model()), ("anthropic", "claude-sonnet-4-5"));
/// # Ok::<(), tradegraph_llm::LlmError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Anthropic {
    http: Http,
    model: String,
    mode: SchemaMode,
    sampling: crate::Sampling,
}

impl Anthropic {
    /// Anthropic (`https://api.anthropic.com`, model `claude-haiku-4-5`).
    ///
    /// # Errors
    /// [`LlmError::Config`] when the TLS client cannot be built.
    pub fn new(key: impl Into<Secret>) -> Result<Self, LlmError> {
        let defaults = ProviderKind::Anthropic.defaults();
        let mut http = Http::new(
            "anthropic",
            defaults.base_url,
            Some(key.into()),
            KeyHeader::XApiKey,
            DEFAULT_TIMEOUT,
        )?;
        http.header("anthropic-version", API_VERSION);
        Ok(Self {
            http,
            model: defaults.model.into(),
            mode: SchemaMode::Auto,
            sampling: crate::Sampling::default(),
        })
    }

    /// Sets the base URL (`ANTHROPIC_BASE_URL`; without `/v1`).
    ///
    /// # Errors
    /// [`LlmError::Config`] unless it is `http(s)://host[:port][/path]` without a query.
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, LlmError> {
        self.http.set_base(base_url)?;
        Ok(self)
    }
}

crate::http::http_builders!(
    Anthropic,
    schema_mode =
        "Forces a schema form: [`SchemaMode::JsonMode`] and [`SchemaMode::Prompt`] put the schema
in the system prompt instead of a tool."
);

#[async_trait::async_trait]
impl Provider for Anthropic {
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
        let body = wire::body(model, request, self.mode);
        let reply = self
            .http
            .post("v1/messages", &body, request.timeout)
            .await?;
        let response =
            wire::parse(&self.http.provider, request, &reply.body)?.with_latency(reply.latency);
        settle(request, response)
    }

    async fn check_key(&self) -> Result<(), LlmError> {
        self.http.get("v1/models", None).await.map(|_| ())
    }
}
