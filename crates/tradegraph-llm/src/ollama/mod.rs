//! Ollama's native `/api/chat`.
//!
//! Structured answers set `format` to the schema (and give it in the instructions too, as
//! Ollama recommends), with `stream: false`. An empty answer — Ollama's silent failure, e.g. a
//! thinking model that spent its budget on thoughts, or a model only just loaded — is
//! [`LlmError::EmptyAnswer`], never a result. The key check lists `/api/tags` and confirms the
//! model is pulled.

mod wire;

use crate::config::ProviderKind;
use crate::http::{Http, KeyHeader};
use crate::provider::settle;
use crate::{LlmError, Provider, Request, Response, SchemaMode, Secret};
use serde_json::Value;
use std::time::Duration;

/// The default timeout of a call (local models can be slow to load).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// A local (or remote) Ollama server.
///
/// ```
/// use tradegraph_llm::{ollama::Ollama, Provider};
///
/// let ollama = Ollama::new("http://127.0.0.1:11434")?.with_model("qwen2.5:7b");
/// assert_eq!((ollama.name(), ollama.model()), ("ollama", "qwen2.5:7b"));
/// # Ok::<(), tradegraph_llm::LlmError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Ollama {
    http: Http,
    model: String,
    mode: SchemaMode,
    sampling: crate::Sampling,
}

impl Ollama {
    /// The default local server.
    pub const DEFAULT_BASE_URL: &'static str = ProviderKind::Ollama.defaults().base_url;

    /// A server at `base_url` (`OLLAMA_BASE_URL`), model `llama3.2`.
    ///
    /// # Errors
    /// [`LlmError::Config`] for a bad base URL.
    pub fn new(base_url: &str) -> Result<Self, LlmError> {
        let http = Http::new("ollama", base_url, None, KeyHeader::Bearer, DEFAULT_TIMEOUT)?;
        Ok(Self {
            http,
            model: ProviderKind::Ollama.defaults().model.into(),
            mode: SchemaMode::Auto,
            sampling: crate::Sampling::default(),
        })
    }

    /// Sends `Authorization: Bearer KEY` (Ollama's cloud, or a server behind an authenticating
    /// proxy).
    #[must_use]
    pub fn with_key(mut self, key: impl Into<Secret>) -> Self {
        self.http.set_key(Some(key.into()));
        self
    }
}

crate::http::http_builders!(
    Ollama,
    schema_mode = "Forces a schema form: [`SchemaMode::JsonMode`] sends `format: \"json\"`,
[`SchemaMode::Prompt`] no `format`."
);

#[async_trait::async_trait]
impl Provider for Ollama {
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
        let reply = self.http.post("api/chat", &body, request.timeout).await?;
        let response =
            wire::parse(&self.http.provider, model, &reply.body)?.with_latency(reply.latency);
        settle(request, response)
    }

    async fn check_key(&self) -> Result<(), LlmError> {
        let reply = self.http.get("api/tags", None).await?;
        let pulled = reply
            .body
            .get("models")
            .and_then(Value::as_array)
            .is_some_and(|models| models.iter().any(|m| wire::same_model(m, &self.model)));
        if pulled {
            Ok(())
        } else {
            Err(LlmError::BadRequest {
                provider: self.http.provider.clone(),
                status: 404,
                message: format!(
                    "model `{}` is not pulled; run `ollama pull {}`",
                    self.model, self.model
                ),
            })
        }
    }
}
