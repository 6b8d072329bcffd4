//! The stable key of a request on a provider.

use crate::{Provider, Request};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Bumped when the key's inputs change, so old records are not served for new requests
/// (2: the provider's endpoint joined them; 3: the seed).
const KEY_VERSION: u32 = 3;

/// The SHA-256, in hex, of the provider, its endpoint (base URL, for HTTP providers), the
/// model, the messages, the schema's hash and the sampling parameters (temperature, seed, max
/// tokens; a provider's configured [`Sampling`](crate::Sampling) in place of the request's). The timeout is not part of it, nor the API key. Only the hash is stored, so
/// neither the endpoint nor the prompt can be read back from a key.
///
/// ```
/// use tradegraph_llm::cache::CacheKey;
/// use tradegraph_llm::Request;
///
/// let req = Request::chat("You are terse.", "Trade?").temperature(0.0);
/// let a = CacheKey::new("openai", "gpt-4.1-mini", &req);
/// assert_eq!(a, CacheKey::new("openai", "gpt-4.1-mini", &req.clone()));
/// assert_ne!(a, CacheKey::new("groq", "gpt-4.1-mini", &req));
/// assert_ne!(a, CacheKey::new("openai", "gpt-4.1-mini", &req.clone().temperature(0.7)));
/// assert_eq!(a.as_str().len(), 64);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key of `request` on a provider named `provider` with no endpoint (an in-process
    /// provider; its model is the request's, or `default_model`). HTTP providers get theirs
    /// from [`CacheKey::for_provider`].
    pub fn new(provider: &str, default_model: &str, request: &Request) -> Self {
        Self::compute(provider, None, default_model, request)
    }

    /// The key of `request` on `provider`: its name, its [endpoint](Provider::endpoint)
    /// (so two base URLs under one name never share answers) and its default model.
    ///
    /// ```
    /// # #[cfg(feature = "openai")] {
    /// use tradegraph_llm::cache::CacheKey;
    /// use tradegraph_llm::openai::OpenAi;
    /// use tradegraph_llm::Request;
    ///
    /// let req = Request::chat("You are terse.", "Trade?");
    /// let at = |base: &str| OpenAi::compatible("local", base, None).unwrap().with_model("m");
    /// let a = CacheKey::for_provider(&at("http://127.0.0.1:8000/v1"), &req);
    /// assert_eq!(a, CacheKey::for_provider(&at("http://127.0.0.1:8000/v1/"), &req));
    /// assert_ne!(a, CacheKey::for_provider(&at("http://127.0.0.1:9000/v1"), &req));
    /// # }
    /// ```
    pub fn for_provider(provider: &dyn Provider, request: &Request) -> Self {
        Self::compute(
            provider.name(),
            provider.endpoint().map(|e| e.trim_end_matches('/')),
            provider.model(),
            &provider.sampling().apply(request),
        )
    }

    fn compute(
        provider: &str,
        endpoint: Option<&str>,
        default_model: &str,
        request: &Request,
    ) -> Self {
        Self(request.digest(KEY_VERSION, provider, Some(endpoint), default_model))
    }

    /// The key in hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, PreparedSchema};
    use std::sync::Arc;

    #[test]
    fn every_input_counts_and_nothing_else() {
        let base = Request::new(vec![Message::system("s"), Message::user("u")]);
        let k = |r: &Request| CacheKey::new("p", "m", r);
        let schema = Arc::new(
            PreparedSchema::from_value("x", serde_json::json!({"type": "object"})).unwrap(),
        );
        let variants = [
            base.clone().model("other"),
            base.clone().max_tokens(10),
            base.clone().temperature(0.1),
            base.clone().seed(7),
            base.clone().schema(schema),
            Request::new(vec![Message::user("s"), Message::user("u")]),
            Request::new(vec![Message::system("s"), Message::user("u2")]),
        ];
        for v in &variants {
            assert_ne!(k(v), k(&base), "{v:?}");
        }
        assert_eq!(
            k(&base.clone().timeout(std::time::Duration::from_secs(1))),
            k(&base)
        );
        assert_eq!(
            k(&base.clone().model("m")),
            k(&base),
            "the default model is the model"
        );
        // Pinned: a change to the key's inputs must bump KEY_VERSION.
        assert_eq!(
            k(&base).as_str(),
            "9b589aaa69b6f914f8b28fd69848033c224c96fbe377e5f7bcd264bf5a821733"
        );
    }

    /// A provider with an endpoint, and nothing else.
    #[derive(Debug)]
    struct At(Option<&'static str>);

    #[async_trait::async_trait]
    impl Provider for At {
        fn name(&self) -> &str {
            "p"
        }
        fn model(&self) -> &str {
            "m"
        }
        fn endpoint(&self) -> Option<&str> {
            self.0
        }
        async fn complete(&self, _request: &Request) -> Result<crate::Response, crate::LlmError> {
            Err(crate::LlmError::Config("not called".into()))
        }
    }

    #[test]
    fn the_endpoint_is_part_of_the_key_and_a_trailing_slash_is_not() {
        let req = Request::chat("s", "u");
        let k = |endpoint| CacheKey::for_provider(&At(endpoint), &req);
        let a = k(Some("http://127.0.0.1:8000/v1"));
        assert_ne!(a, k(Some("http://127.0.0.1:9000/v1")));
        assert_ne!(a, k(None));
        assert_eq!(a, k(Some("http://127.0.0.1:8000/v1/")));
        assert_eq!(k(None), CacheKey::new("p", "m", &req));
    }
}
