use super::{Message, Role};
use crate::structured::PreparedSchema;
use std::sync::Arc;
use std::time::Duration;

/// What to ask a provider.
///
/// ```
/// use tradegraph_llm::{Message, Request};
///
/// let req = Request::new(vec![Message::system("Be brief."), Message::user("Hi")])
///     .temperature(0.0)
///     .max_tokens(64);
/// assert_eq!(req.system_text().as_deref(), Some("Be brief."));
/// assert_eq!(req.turns().count(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The conversation. System messages may appear anywhere; providers with a separate system
    /// field (Anthropic, Gemini) receive them joined.
    pub messages: Vec<Message>,
    /// A model overriding the provider's configured one.
    pub model: Option<String>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// The sampling seed, for providers that take one (OpenAI `seed`, Gemini
    /// `generationConfig.seed`, Ollama `options.seed`; Anthropic has none and ignores it).
    pub seed: Option<u32>,
    /// The answer's token limit. Providers that require one (Anthropic) send
    /// [`Request::DEFAULT_MAX_TOKENS`] when it is unset.
    pub max_tokens: Option<u32>,
    /// The JSON Schema the answer must follow; `None` asks for text. Set it with
    /// [`Request::schema`]; [`Llm::structured`](crate::Llm::structured) sets it for you.
    pub schema: Option<Arc<PreparedSchema>>,
    /// A timeout for this call, overriding the provider's.
    pub timeout: Option<Duration>,
    /// Who asks (`technical`, `risk_manager`, ...): the `agent` label of the call's metrics.
    /// A short fixed name, never free text; it is not sent to the provider.
    pub agent: Option<String>,
}

impl Request {
    /// The SHA-256, in hex, of what decides this request's answer: the key version
    /// `key_version`, the provider's name, its endpoint when the key includes one (`Some`), the
    /// model (the request's, or `default_model`), the messages, the schema's hash, temperature,
    /// seed and token limit. The one hash behind the cache's and the record's keys
    /// ([`CacheKey`](crate::cache::CacheKey), [`RecordKey`](crate::record::RecordKey)).
    pub(crate) fn digest(
        &self,
        key_version: u32,
        provider: &str,
        endpoint: Option<Option<&str>>,
        default_model: &str,
    ) -> String {
        use sha2::{Digest, Sha256};
        let messages: Vec<_> = self
            .messages
            .iter()
            .map(|m| serde_json::json!([m.role.as_str(), m.content]))
            .collect();
        let mut doc = serde_json::json!({
            "v": key_version,
            "provider": provider,
            "model": self.model_or(default_model),
            "messages": messages,
            "schema": self.schema.as_deref().map(|s| s.hash()),
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
        });
        if let (Some(endpoint), Some(fields)) = (endpoint, doc.as_object_mut()) {
            fields.insert("endpoint".into(), serde_json::json!(endpoint));
        }
        crate::structured::hex(&Sha256::digest(
            crate::structured::canonical(&doc).as_bytes(),
        ))
    }

    /// The token limit sent to providers that require one when the request has none.
    pub const DEFAULT_MAX_TOKENS: u32 = 1024;

    /// A request with these messages.
    pub fn new(messages: Vec<Message>) -> Self {
        Self {
            messages,
            ..Self::default()
        }
    }
    /// A request with one system and one user message.
    pub fn chat(system: impl Into<String>, user: impl Into<String>) -> Self {
        Self::new(vec![Message::system(system), Message::user(user)])
    }
    /// Sets the model.
    #[must_use]
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
    /// Sets the temperature.
    #[must_use]
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }
    /// Sets the sampling seed (see [`Request::seed`](Self#structfield.seed)).
    #[must_use]
    pub fn seed(mut self, seed: u32) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Sets the answer's token limit.
    #[must_use]
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }
    /// Sets the answer's schema.
    #[must_use]
    pub fn schema(mut self, schema: Arc<PreparedSchema>) -> Self {
        self.schema = Some(schema);
        self
    }
    /// Sets this call's timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// Names who asks, for the metrics (see [`crate::metrics`]).
    ///
    /// ```
    /// use tradegraph_llm::Request;
    /// let req = Request::chat("Be brief.", "Hi").agent("technical");
    /// assert_eq!(req.agent.as_deref(), Some("technical"));
    /// ```
    #[must_use]
    pub fn agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = Some(agent.into());
        self
    }

    /// The system messages joined with blank lines, for APIs that take the system prompt apart.
    pub fn system_text(&self) -> Option<String> {
        let parts: Vec<&str> = self
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        (!parts.is_empty()).then(|| parts.join("\n\n"))
    }

    /// The messages that are not system messages, in order.
    pub fn turns(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(|m| m.role != Role::System)
    }

    /// The model to use: the request's, or `default`.
    pub fn model_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.model.as_deref().unwrap_or(default)
    }

    /// A rough size in tokens (characters / 4, plus the answer limit), for tokens-per-minute
    /// limits and budgets before the real usage is known.
    pub fn estimated_tokens(&self) -> u64 {
        let chars: usize = self.messages.iter().map(|m| m.content.len()).sum();
        (chars as u64).div_ceil(4) + u64::from(self.max_tokens.unwrap_or(Self::DEFAULT_MAX_TOKENS))
    }
}
