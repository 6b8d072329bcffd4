//! The key of one model call in a record.

use crate::{Provider, Request};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Bumped when the key's inputs change (then old records miss, loudly, rather than answer a
/// different question).
const KEY_VERSION: u32 = 1;

/// The SHA-256, in hex, of what decides an answer: the provider's name, the model, the
/// rendered messages, the answer schema's hash and the sampling settings actually sent
/// (temperature, seed, token limit; the provider's configured [`Sampling`](crate::Sampling)
/// in place of the request's). Not the endpoint, the timeout, the key or who asks: an answer
/// recorded against one Ollama host replays against none.
///
/// ```
/// use tradegraph_llm::record::RecordKey;
/// use tradegraph_llm::{Request, ScriptedProvider};
///
/// let p = ScriptedProvider::new("openai", "gpt-4.1-mini");
/// let req = Request::chat("You are terse.", "Trade?").temperature(0.0);
/// let key = RecordKey::of(&p, &req);
/// assert_eq!(key, RecordKey::of(&p, &req.clone().agent("technical")));
/// assert_ne!(key, RecordKey::of(&p, &req.clone().seed(7)));
/// assert_ne!(key, RecordKey::of(&p, &req.clone().model("gpt-4.1")));
/// assert_eq!(key.as_str().len(), 64);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordKey(String);

impl RecordKey {
    /// The key of `request` sent through `provider`.
    pub fn of(provider: &dyn Provider, request: &Request) -> Self {
        let sent = provider.sampling().apply(request);
        Self(sent.digest(KEY_VERSION, provider.name(), None, provider.model()))
    }

    /// The key in hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, PreparedSchema, ScriptedProvider};
    use std::sync::Arc;

    #[test]
    fn every_input_counts_and_the_pinned_key_holds() {
        let p = ScriptedProvider::new("p", "m");
        let base = Request::new(vec![Message::system("s"), Message::user("u")]);
        let k = |r: &Request| RecordKey::of(&p, r);
        let schema = Arc::new(
            PreparedSchema::from_value("x", serde_json::json!({"type": "object"})).unwrap(),
        );
        let variants = [
            base.clone().model("other"),
            base.clone().max_tokens(10),
            base.clone().temperature(0.1),
            base.clone().seed(1),
            base.clone().schema(schema),
            Request::new(vec![Message::user("s"), Message::user("u")]),
            Request::new(vec![Message::system("s"), Message::user("u2")]),
        ];
        for v in &variants {
            assert_ne!(k(v), k(&base), "{v:?}");
        }
        assert_ne!(
            RecordKey::of(&ScriptedProvider::new("q", "m"), &base),
            k(&base)
        );
        assert_eq!(k(&base.clone().model("m")), k(&base));
        assert_eq!(
            k(&base.clone().timeout(std::time::Duration::from_secs(1))),
            k(&base)
        );
        // Pinned: a change to the key's inputs must bump KEY_VERSION.
        assert_eq!(
            k(&base).as_str(),
            "7585897bd46ef809ee60a47c30ff3f7bf80e595ec7f8180797c89382c68b4ff9"
        );
    }
}
