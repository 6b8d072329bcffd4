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
        // The canonical JSON of the document below (keys sorted, serde_json's escaping and
        // numbers), written straight into the hash without building it:
        // {"endpoint"?, "max_tokens", "messages": [[role, content], ...], "model", "provider",
        //  "schema", "seed", "temperature", "v"}. A test checks it against the document built.
        let mut hash = HashWriter(Sha256::new());
        let out = &mut hash;
        out.put(b"{");
        if let Some(endpoint) = endpoint {
            out.put(b"\"endpoint\":");
            out.scalar(&endpoint);
            out.put(b",");
        }
        out.put(b"\"max_tokens\":");
        out.scalar(&self.max_tokens);
        out.put(b",\"messages\":[");
        for (i, m) in self.messages.iter().enumerate() {
            out.put(if i == 0 { b"[" } else { b",[" });
            out.scalar(m.role.as_str());
            out.put(b",");
            out.scalar(&m.content);
            out.put(b"]");
        }
        out.put(b"],\"model\":");
        out.scalar(self.model_or(default_model));
        out.put(b",\"provider\":");
        out.scalar(provider);
        out.put(b",\"schema\":");
        out.scalar(&self.schema.as_deref().map(|s| s.hash()));
        out.put(b",\"seed\":");
        out.scalar(&self.seed);
        // widened to f64, as the JSON value the document held printed it
        out.put(b",\"temperature\":");
        out.scalar(&self.temperature.map(f64::from));
        out.put(b",\"v\":");
        out.scalar(&key_version);
        out.put(b"}");
        crate::structured::hex(&hash.0.finalize())
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

/// Bytes written into a SHA-256.
struct HashWriter(sha2::Sha256);

impl HashWriter {
    fn put(&mut self, bytes: &[u8]) {
        sha2::Digest::update(&mut self.0, bytes);
    }
    /// `value` as serde_json writes it.
    fn scalar<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        // writing into a hash cannot fail, and these values always serialize
        let _ = serde_json::to_writer(&mut *self, value);
    }
}

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.put(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The digest as it was first written: the document built as a JSON value, printed
    /// canonically, hashed. The streamed digest must give the same keys, or every record and
    /// cache made before would miss.
    fn built_digest(
        request: &Request,
        key_version: u32,
        provider: &str,
        endpoint: Option<Option<&str>>,
        default_model: &str,
    ) -> String {
        use sha2::{Digest, Sha256};
        let messages: Vec<_> = request
            .messages
            .iter()
            .map(|m| serde_json::json!([m.role.as_str(), m.content]))
            .collect();
        let mut doc = serde_json::json!({
            "v": key_version,
            "provider": provider,
            "model": request.model_or(default_model),
            "messages": messages,
            "schema": request.schema.as_deref().map(|s| s.hash()),
            "temperature": request.temperature,
            "seed": request.seed,
            "max_tokens": request.max_tokens,
        });
        if let (Some(endpoint), Some(fields)) = (endpoint, doc.as_object_mut()) {
            fields.insert("endpoint".into(), serde_json::json!(endpoint));
        }
        crate::structured::hex(&Sha256::digest(
            crate::structured::canonical(&doc).as_bytes(),
        ))
    }

    /// Pinned with every input set, odd text included: a change to the bytes hashed (a key's
    /// order, a number's or a string's printing, after a serde_json upgrade too) fails here.
    #[test]
    fn the_pinned_digest_holds() {
        let request = Request::new(vec![
            Message::system("Rules: \"quote\", tab\t, back\\slash."),
            Message::user("Prix 42 000 € — 上昇 \u{1F4C8}\u{0007}"),
            Message::assistant("{\"a\": 1}"),
        ])
        .model("m-2")
        .temperature(0.7)
        .seed(42)
        .max_tokens(512)
        .schema(Arc::new(
            PreparedSchema::from_value("x", serde_json::json!({"type": "object"})).unwrap(),
        ));
        assert_eq!(
            request.digest(3, "p", Some(None), "m"),
            "0871cb065669927ba8fcc0e1a95cd90ae0b8f721869678a180bcd898d1f6a0b7"
        );
        assert_eq!(
            request.digest(3, "p", Some(Some("http://h:1/v1")), "m"),
            "bb93c4d1668aaa52c359c6762bf75424214bf1a219953b599f41b30083c11626"
        );
        assert_eq!(
            request.digest(3, "p", None, "m"),
            built_digest(&request, 3, "p", None, "m")
        );
    }

    fn role() -> impl Strategy<Value = Role> {
        prop_oneof![Just(Role::System), Just(Role::User), Just(Role::Assistant)]
    }

    proptest! {
        #[test]
        fn the_streamed_digest_is_the_built_documents(
            messages in proptest::collection::vec((role(), any::<String>()), 0..4),
            model in proptest::option::of(any::<String>()),
            temperature in proptest::option::of(any::<f32>()),
            seed in proptest::option::of(any::<u32>()),
            max_tokens in proptest::option::of(any::<u32>()),
            schema in any::<bool>(),
            endpoint in proptest::option::of(proptest::option::of(any::<String>())),
            provider in any::<String>(),
            default_model in any::<String>(),
            key_version in any::<u32>(),
        ) {
            let request = Request {
                messages: messages
                    .into_iter()
                    .map(|(role, content)| Message { role, content })
                    .collect(),
                model,
                temperature,
                seed,
                max_tokens,
                schema: schema.then(|| {
                    Arc::new(
                        PreparedSchema::from_value("x", serde_json::json!({"type": "object"}))
                            .unwrap(),
                    )
                }),
                timeout: None,
                agent: Some("technical".into()),
            };
            let endpoint = endpoint.as_ref().map(|e| e.as_deref());
            prop_assert_eq!(
                request.digest(key_version, &provider, endpoint, &default_model),
                built_digest(&request, key_version, &provider, endpoint, &default_model)
            );
        }
    }
}
