//! OpenAI chat completions, and the OpenAI-compatible services: Groq, Together, OpenRouter and
//! any other server that speaks the same API.
//!
//! Structured answers use `response_format: {"type": "json_schema", "json_schema": {"strict":
//! true, ...}}` with the schema adapted to strict mode's rules
//! ([`PreparedSchema::openai_strict`](crate::PreparedSchema::openai_strict)). Services or models
//! that lack `json_schema` get JSON mode plus the schema in the instructions; a `400` that
//! rejects `response_format` makes the provider fall back to JSON mode for good (logged once).

mod preset;
mod wire;

use crate::http::{Http, KeyHeader};
use crate::provider::settle;
use crate::{LlmError, Provider, Request, Response, SchemaMode, Secret};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use preset::Preset;

/// The default timeout of a call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// An OpenAI-compatible chat completions provider.
///
/// ```
/// use std::time::Duration;
/// use tradegraph_llm::{openai::OpenAi, Provider, SchemaMode};
///
/// let openai = OpenAi::new("sk-...")?.with_model("gpt-4.1-mini").with_timeout(Duration::from_secs(30));
/// assert_eq!((openai.name(), openai.model()), ("openai", "gpt-4.1-mini"));
///
/// let groq = OpenAi::groq("gsk_...")?;
/// assert_eq!((groq.name(), groq.model()), ("groq", "llama-3.3-70b-versatile"));
///
/// let local = OpenAi::compatible("vllm", "http://127.0.0.1:8000/v1", None)?
///     .with_model("Qwen/Qwen2.5-7B-Instruct")
///     .with_schema_mode(SchemaMode::Native);
/// # Ok::<(), tradegraph_llm::LlmError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OpenAi {
    http: Http,
    preset: Preset,
    model: String,
    mode: SchemaMode,
    sampling: crate::Sampling,
    /// Set once the service rejected `json_schema`: JSON mode from then on.
    downgraded: Arc<AtomicBool>,
}

impl OpenAi {
    /// OpenAI (`https://api.openai.com/v1`, model `gpt-4.1-mini`).
    ///
    /// # Errors
    /// [`LlmError::Config`] when the TLS client cannot be built.
    pub fn new(key: impl Into<Secret>) -> Result<Self, LlmError> {
        Self::preset(preset::OPENAI, Some(key.into()))
    }

    /// Groq (`https://api.groq.com/openai/v1`, model `llama-3.3-70b-versatile`).
    ///
    /// # Errors
    /// As [`OpenAi::new`].
    pub fn groq(key: impl Into<Secret>) -> Result<Self, LlmError> {
        Self::preset(preset::GROQ, Some(key.into()))
    }

    /// Together (`https://api.together.xyz/v1`, model `meta-llama/Llama-3.3-70B-Instruct-Turbo`).
    ///
    /// # Errors
    /// As [`OpenAi::new`].
    pub fn together(key: impl Into<Secret>) -> Result<Self, LlmError> {
        Self::preset(preset::TOGETHER, Some(key.into()))
    }

    /// OpenRouter (`https://openrouter.ai/api/v1`, model `openai/gpt-4.1-mini`).
    ///
    /// # Errors
    /// As [`OpenAi::new`].
    pub fn openrouter(key: impl Into<Secret>) -> Result<Self, LlmError> {
        Self::preset(preset::OPENROUTER, Some(key.into()))
    }

    /// Any other OpenAI-compatible server, named `name`, with an optional key. Its model
    /// defaults to `default`: set one with [`OpenAi::with_model`].
    ///
    /// # Errors
    /// [`LlmError::Config`] for a bad base URL.
    pub fn compatible(name: &str, base_url: &str, key: Option<Secret>) -> Result<Self, LlmError> {
        let mut p = Self::preset(preset::COMPATIBLE, key)?;
        p.http.set_name(name);
        p.with_base_url(base_url)
    }

    fn preset(preset: Preset, key: Option<Secret>) -> Result<Self, LlmError> {
        let mut http = Http::new(
            preset.name,
            preset.base,
            key,
            KeyHeader::Bearer,
            DEFAULT_TIMEOUT,
        )?;
        if preset.name == "openrouter" {
            http.header("x-title", "tradegraph");
        }
        Ok(Self {
            http,
            preset,
            model: preset.model.to_owned(),
            mode: SchemaMode::Auto,
            sampling: crate::Sampling::default(),
            downgraded: Arc::default(),
        })
    }

    /// Sets the base URL (`OPENAI_BASE_URL`, a proxy, a local test server).
    ///
    /// # Errors
    /// [`LlmError::Config`] unless it is `http(s)://host[:port][/path]` without a query.
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, LlmError> {
        self.http.set_base(base_url)?;
        Ok(self)
    }

    /// The schema form `model` gets.
    fn mode_for(&self, model: &str) -> SchemaMode {
        if self.downgraded.load(Ordering::Relaxed) {
            return SchemaMode::JsonMode;
        }
        match self.mode {
            SchemaMode::Auto => (self.preset.auto)(model),
            forced => forced,
        }
    }

    async fn call(&self, request: &Request, mode: SchemaMode) -> Result<Response, LlmError> {
        let model = request.model_or(&self.model);
        let body = wire::body(&self.preset, model, request, mode);
        let reply = self
            .http
            .post("chat/completions", &body, request.timeout)
            .await?;
        // OpenRouter reports some upstream failures as a 200 carrying an `error` object.
        if reply.body.get("choices").is_none() {
            if let Some(code) = reply
                .body
                .pointer("/error/code")
                .and_then(serde_json::Value::as_u64)
            {
                let status = u16::try_from(code).unwrap_or(502);
                return Err(self.http.error_in_body(status, &reply.body));
            }
        }
        let response =
            wire::parse(&self.http.provider, request, &reply.body)?.with_latency(reply.latency);
        settle(request, response)
    }
}

crate::http::http_builders!(
    OpenAi,
    schema_mode = "Forces a schema form instead of the preset's choice for the model."
);

#[async_trait::async_trait]
impl Provider for OpenAi {
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
        let mode = self.mode_for(request.model_or(&self.model));
        match self.call(request, mode).await {
            Err(LlmError::SchemaUnsupported { reason, .. })
                if request.schema.is_some()
                    && matches!(mode, SchemaMode::Strict | SchemaMode::Native) =>
            {
                tracing::warn!(provider = %self.http.provider, %reason, "json_schema rejected; using JSON mode from now on");
                self.downgraded.store(true, Ordering::Relaxed);
                self.call(request, SchemaMode::JsonMode).await
            }
            other => other,
        }
    }

    async fn check_key(&self) -> Result<(), LlmError> {
        self.http
            .get(self.preset.key_check_path, None)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, PreparedSchema};
    use serde_json::json;

    #[test]
    fn bodies_follow_the_documented_api() {
        let schema = Arc::new(
            PreparedSchema::from_value(
                "Sig",
                json!({"type": "object", "properties": {"a": {"type": "string"}}}),
            )
            .unwrap(),
        );
        let req = Request::new(vec![Message::system("S"), Message::user("U")])
            .temperature(0.5)
            .max_tokens(9)
            .schema(schema);
        let strict = wire::body(&preset::OPENAI, "gpt", &req, SchemaMode::Strict);
        assert_eq!(strict["max_completion_tokens"], 9);
        assert_eq!(strict["response_format"]["json_schema"]["strict"], true);
        assert_eq!(
            strict["response_format"]["json_schema"]["schema"]["required"],
            json!(["a"])
        );
        assert_eq!(
            strict["messages"],
            json!([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
        );
        let json_mode = wire::body(&preset::TOGETHER, "m", &req, SchemaMode::JsonMode);
        assert_eq!(json_mode["max_tokens"], 9);
        assert_eq!(json_mode["response_format"], json!({"type": "json_object"}));
        assert_eq!(json_mode["messages"][1]["role"], "system");
        assert!(json_mode["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("JSON Schema"));
        let routed = wire::body(&preset::OPENROUTER, "openai/x", &req, SchemaMode::Strict);
        assert_eq!(routed["provider"], json!({"require_parameters": true}));
        let reasoning = wire::body(&preset::OPENAI, "o4-mini", &req, SchemaMode::Strict);
        assert!(
            reasoning.get("temperature").is_none(),
            "reasoning models take no temperature"
        );
        let text = wire::body(
            &preset::OPENAI,
            "gpt",
            &Request::chat("s", "u"),
            SchemaMode::Strict,
        );
        assert!(text.get("response_format").is_none() && text.get("temperature").is_none());
    }
}
