use super::Usage;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A natural end (or a forced tool call completed).
    Stop,
    /// The token limit cut the answer. Only text answers come back with it; a structured
    /// request gets [`LlmError::Truncated`](crate::LlmError::Truncated) instead.
    Length,
    /// Anything else the vendor reported.
    Other(String),
}

/// The answer's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    /// Text (also JSON returned as text, extracted later).
    Text(String),
    /// JSON the vendor returned as a structure (Anthropic's `tool_use` input).
    Json(serde_json::Value),
}

impl Content {
    /// The body as text (JSON is serialized).
    pub fn to_text(&self) -> String {
        match self {
            Self::Text(t) => t.clone(),
            Self::Json(v) => v.to_string(),
        }
    }

    /// Whether there is nothing in it (empty or whitespace text, or JSON `null`).
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Text(t) => t.trim().is_empty(),
            Self::Json(v) => v.is_null(),
        }
    }
}

/// A provider's answer.
///
/// ```
/// use std::time::Duration;
/// use tradegraph_llm::{Content, FinishReason, Response, Usage};
///
/// let r = Response::new("openai", "gpt-4.1-mini", Content::Text("hi".into()))
///     .with_usage(Usage::new(12, 3))
///     .with_latency(Duration::from_millis(420));
/// assert_eq!((r.text(), r.usage.total(), r.finish), ("hi".to_owned(), 15, FinishReason::Stop));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// The answer.
    pub content: Content,
    /// Tokens used (for a structured answer: summed over the repair turns).
    pub usage: Usage,
    /// Wall time of the exchange (for a structured answer: over the repair turns; zero for a
    /// cache hit).
    #[serde(with = "duration_ms")]
    pub latency: Duration,
    /// The provider's name (`openai`, `groq`, ...).
    pub provider: String,
    /// The model that answered, as the vendor named it.
    pub model: String,
    /// Why it stopped.
    pub finish: FinishReason,
    /// Whether this answer came from the cache.
    #[serde(default)]
    pub cached: bool,
    /// For a structured answer, the model's answer as it came (its text, or the JSON a vendor
    /// returned as a structure, serialized), before the JSON was taken out of it and checked:
    /// what an audit re-reads. `None` for other answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// What the call cost, from the [price table](crate::budget::PriceTable) (`None` when the
    /// model is unpriced, or before accounting; zero for a cache hit). Not recorded in caches.
    #[serde(skip)]
    pub cost: Option<rust_decimal::Decimal>,
}

impl Response {
    /// An answer that stopped normally, with no usage and no latency yet.
    pub fn new(provider: impl Into<String>, model: impl Into<String>, content: Content) -> Self {
        Self {
            content,
            usage: Usage::default(),
            latency: Duration::ZERO,
            provider: provider.into(),
            model: model.into(),
            finish: FinishReason::Stop,
            cached: false,
            raw: None,
            cost: None,
        }
    }
    /// Sets the usage.
    #[must_use]
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }
    /// Sets the latency.
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
    /// Sets the finish reason.
    #[must_use]
    pub fn with_finish(mut self, finish: FinishReason) -> Self {
        self.finish = finish;
        self
    }
    /// The answer as text.
    pub fn text(&self) -> String {
        self.content.to_text()
    }
}

mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
