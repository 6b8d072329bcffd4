//! A known secret (an API key, an access token) inside text.

/// Secrets shorter than this (in characters) are redacted only where they stand as a token of
/// their own.
///
/// No real credential is this short (Kite's API keys are 16 characters and its access tokens
/// 32, Finnhub's keys 20, LLM vendors issue 20 to 100+), so every real one is redacted wherever
/// it appears, even glued to other text. A shorter value is a placeholder (`EMPTY`, `none` for
/// a local OpenAI-compatible server) or a typo, and replacing it inside words would mangle
/// messages (`t` would turn "the server" into "***he server") without protecting anything.
///
/// ```
/// use tradegraph_core::redact::{secret, MIN_SECRET_CHARS};
/// assert_eq!(MIN_SECRET_CHARS, 8);
/// assert_eq!(secret("the server: bad key t", "t"), "the server: bad key ***");
/// ```
pub const MIN_SECRET_CHARS: usize = 8;

/// `text` with `secret` replaced by `***`: everywhere for a secret of [`MIN_SECRET_CHARS`] or
/// more characters, and only where it is not part of a longer word (the characters next to it
/// are not letters, digits, `_` or `-`) for a shorter one. An empty secret changes nothing.
///
/// ```
/// use tradegraph_core::redact::secret;
/// // A real key goes wherever it appears, even glued to other text.
/// assert_eq!(secret("xk1t3-long-key-0001x", "k1t3-long-key-0001"), "x***x");
/// // A short value goes only where it is a token of its own.
/// assert_eq!(secret("t-shirt t_1 (t)", "t"), "t-shirt t_1 (***)");
/// assert_eq!(secret("unchanged", ""), "unchanged");
/// ```
pub fn secret(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_owned();
    }
    if secret.chars().count() >= MIN_SECRET_CHARS {
        return text.replace(secret, "***");
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in text.match_indices(secret) {
        let end = at + secret.len();
        if word(text[..at].chars().next_back()) || word(text[end..].chars().next()) {
            continue;
        }
        out.push_str(&text[copied..at]);
        out.push_str("***");
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}
