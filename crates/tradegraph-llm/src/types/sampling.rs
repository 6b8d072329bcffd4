use super::Request;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A provider's configured sampling: the temperature and the seed its requests are sent with.
/// Configured values win over a request's own (the agents ask at 0.2; a provider configured
/// with `temperature = 0` answers at 0). Each provider sends what its API takes: OpenAI
/// `temperature` and `seed`, Gemini `generationConfig.temperature` and `.seed`, Ollama
/// `options.temperature` and `.seed`, Anthropic `temperature` only. The effective values are
/// part of cache keys and of the record's keys.
///
/// ```
/// use tradegraph_llm::{Request, Sampling};
///
/// let sampling = Sampling { temperature: Some(0.0), seed: Some(7) };
/// let req = Request::chat("s", "u").temperature(0.2);
/// let sent = sampling.apply(&req);
/// assert_eq!((sent.temperature, sent.seed), (Some(0.0), Some(7)));
/// // nothing configured: the request as it is, not copied
/// assert!(matches!(Sampling::default().apply(&req), std::borrow::Cow::Borrowed(_)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// The temperature sent instead of the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// The seed sent instead of the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u32>,
}

impl Sampling {
    /// Whether it sets nothing.
    pub fn is_empty(&self) -> bool {
        self.temperature.is_none() && self.seed.is_none()
    }

    /// `request` with these values in place of its own (borrowed when nothing changes).
    pub fn apply<'a>(&self, request: &'a Request) -> Cow<'a, Request> {
        let temperature = self.temperature.or(request.temperature);
        let seed = self.seed.or(request.seed);
        if temperature == request.temperature && seed == request.seed {
            return Cow::Borrowed(request);
        }
        let mut owned = request.clone();
        owned.temperature = temperature;
        owned.seed = seed;
        Cow::Owned(owned)
    }
}
