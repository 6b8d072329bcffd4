//! [`Secret`]: an API key, token or password that never shows itself: the one secret type of
//! every tradegraph crate (model keys, venue keys, feed tokens).

use super::MIN_SECRET_CHARS;
use crate::redact;
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::sync::Arc;

/// How long a run of the key's characters may survive [`Secret::redact`].
const MAX_SURVIVING_RUN: usize = 8;

/// An API key or token.
///
/// `Debug` and `Display` print `***`. It is deliberately not `Serialize`, so it cannot reach a
/// cache record, a store or a snapshot by accident; the only way to read it is
/// [`Secret::expose`], which the HTTP layer calls to set the one header that needs it.
///
/// ```
/// use tradegraph_core::redact::Secret;
///
/// let key = Secret::new("sk-live-0123456789abcdef");
/// assert_eq!(format!("{key} {key:?}"), "*** ***");
/// assert_eq!(key.expose(), "sk-live-0123456789abcdef");
/// assert_eq!(key.redact("echo: sk-live-0123456789abcdef"), "echo: ***");
/// // Partial echoes (vendors print the start or the end of a rejected key) go too.
/// assert_eq!(key.redact("key sk-live-01234567... rejected"), "key ***... rejected");
/// // A value shorter than MIN_SECRET_CHARS goes only where it is a token of its own.
/// assert_eq!(Secret::new("t").redact("the server: bad key t"), "the server: bad key ***");
/// ```
#[derive(Clone, Default)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret (surrounding whitespace is dropped: keys pasted from files often carry a
    /// newline).
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Arc::from(secret.into().trim()))
    }

    /// The secret itself, for the request header that needs it. Nothing else should call this.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (an unset key given as an empty string).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `text` with the secret replaced by `***`, and with every run of more than eight of its
    /// characters replaced too: vendors echo rejected keys in their error bodies, often
    /// partly masked (`sk-proj-abc…wxyz`). A secret shorter than [`MIN_SECRET_CHARS`] is
    /// replaced only where it stands as a token of its own (not inside a word), so that it
    /// does not cut letters out of unrelated text.
    pub fn redact(&self, text: &str) -> String {
        let secret: &str = &self.0;
        if secret.is_empty() {
            return text.to_owned();
        }
        if secret.chars().count() < MIN_SECRET_CHARS {
            return redact::secret(text, secret);
        }
        // Mark every byte of `text` covered by the secret or by a run of more than
        // MAX_SURVIVING_RUN of its characters, then write each marked stretch as one `***`.
        let mut masked = vec![false; text.len()];
        let mut mark = |needle: &str| {
            for (at, _) in text.match_indices(needle) {
                masked[at..at + needle.len()]
                    .iter_mut()
                    .for_each(|m| *m = true);
            }
        };
        mark(secret);
        let window = MAX_SURVIVING_RUN + 1;
        let starts: Vec<usize> = secret.char_indices().map(|(i, _)| i).collect();
        for (n, &start) in starts.iter().enumerate() {
            let Some(&end) = starts
                .get(n + window)
                .or((n + window == starts.len()).then_some(&secret.len()))
            else {
                break;
            };
            mark(&secret[start..end]);
        }
        if !masked.contains(&true) {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut in_mask = false;
        for (i, c) in text.char_indices() {
            if masked[i] {
                if !in_mask {
                    out.push_str("***");
                }
                in_mask = true;
            } else {
                out.push(c);
                in_mask = false;
            }
        }
        out
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        // Length first, then every byte, without an early exit on the first difference.
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_itself() {
        let key = Secret::new("canary-abc-123456");
        assert_eq!(format!("{key:?}"), "***");
        assert_eq!(key.to_string(), "***");
        assert!(!format!("{:?}", Some(key.clone())).contains("canary"));
    }

    #[test]
    fn short_secrets_are_not_redacted_everywhere() {
        // A one-letter "key" would otherwise redact every matching letter of an error message.
        assert_eq!(Secret::new("a").redact("abc"), "abc");
    }

    #[test]
    fn partial_echoes_are_redacted() {
        let key = Secret::new("sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
        let echo = "Incorrect API key provided: sk-proj-ABCDEFGH************************2345.";
        let red = key.redact(echo);
        assert_eq!(
            red,
            "Incorrect API key provided: ***************************2345."
        );
        // The suffix is 4 characters: below the run length, it may stay (it identifies nothing).
        let tail = key.redact("...TUVWXYZ012345");
        assert_eq!(tail, "...***");
    }

    #[test]
    fn equality_compares_values_and_whitespace_is_trimmed() {
        assert_eq!(Secret::new(" k3y-value\n"), Secret::new("k3y-value"));
        assert_ne!(Secret::new("k3y-value"), Secret::new("k3y-valuf"));
        assert!(Secret::new("  ").is_empty());
    }

    #[test]
    fn short_secret_redaction_mangles_unrelated_text() {
        // The issue's example (`--access-token t`), and a four-letter one that matched inside
        // words: neither may eat letters of an unrelated message.
        assert_eq!(Secret::new("t").redact("the server"), "the server");
        assert_eq!(
            Secret::new("rver").redact("the server said rver"),
            "the server said ***"
        );
        // Where the short value stands as a token of its own, it still goes.
        assert_eq!(
            Secret::new("t").redact("bad key t; Bearer t"),
            "bad key ***; Bearer ***"
        );
        assert_eq!(
            Secret::new("t").redact("/news?token=t&x=1"),
            "/news?token=***&x=1"
        );
        // A real key goes wherever it appears, even glued to other text.
        let key = Secret::new("sk-live-0123456789abcdef");
        assert_eq!(key.redact("xsk-live-0123456789abcdefx"), "x***x");
    }
}
