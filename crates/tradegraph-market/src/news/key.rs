//! API keys that do not print.

use std::fmt;

/// An API key. Debug and Display print `***`; only [`ApiKey::expose`] gives the value, for the
/// one place that puts it on the wire.
///
/// ```
/// use tradegraph_market::news::ApiKey;
/// let key = ApiKey::new("sk-very-secret");
/// assert_eq!(format!("{key} {key:?}"), "*** ApiKey(***)");
/// assert_eq!(key.expose(), "sk-very-secret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps `key`.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the key is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `text` with the key replaced by `***`: everywhere it appears, or, for a value shorter
    /// than 8 characters (no real key is: Finnhub's have 20), only where it stands as a token
    /// of its own, so that it cannot cut letters out of unrelated words.
    pub(crate) fn redact(&self, text: &str) -> String {
        tradegraph_core::redact::secret(text, &self.0)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        Self(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        Self(key.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_key_redaction_mangles_unrelated_text() {
        // The issue's example: a one-letter key must not eat every `t` of a message.
        let key = ApiKey::new("t");
        assert_eq!(key.redact("the server"), "the server");
        // Where it stands as a token of its own, it still goes.
        assert_eq!(key.redact("bad token t, retry"), "bad token ***, retry");
        assert_eq!(key.redact("/news?token=t&x=1"), "/news?token=***&x=1");
        let key = ApiKey::new("rver");
        assert_eq!(key.redact("the server said rver"), "the server said ***");
    }

    #[test]
    fn real_keys_are_redacted_wherever_they_appear() {
        let key = ApiKey::new("c1a2b3c4d5e6f7g8h9i0");
        assert_eq!(
            key.redact("token=c1a2b3c4d5e6f7g8h9i0; xc1a2b3c4d5e6f7g8h9i0x"),
            "token=***; x***x"
        );
    }
}
