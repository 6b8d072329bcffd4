//! [`Masker`]: hides a venue broker's secrets in whatever it logs or reports.

use tradegraph_core::redact::{self, Secret};

/// The secrets of one venue broker (keys, tokens), hidden with their partial echoes wherever
/// text leaves the broker: log lines, error messages, order reasons. URLs lose their
/// credentials too.
///
/// ```
/// use tradegraph_broker::live::venue::Masker;
/// use tradegraph_core::redact::Secret;
/// let masker = Masker::new([Secret::new("canary-key-0123456789")]);
/// assert_eq!(masker.mask("bad key canary-key-0123456789"), "bad key ***");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Masker {
    secrets: Vec<Secret>,
}

impl Masker {
    /// Masks `secrets` (empty ones are ignored).
    pub fn new(secrets: impl IntoIterator<Item = Secret>) -> Self {
        Self {
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
        }
    }

    /// Also masks `secret`.
    pub fn add(&mut self, secret: Secret) {
        if !secret.is_empty() {
            self.secrets.push(secret);
        }
    }

    /// `text` (JSON, as venues answer) with the value of every string field whose name speaks
    /// of a credential ([`redact::credential_name`]: `access_token`, `refresh_token`,
    /// `listenKey`, `api_key`, `secret`, `password`, ...) replaced by `***`: a credential the masker was
    /// never told about (one the venue just issued) does not reach a log line.
    ///
    /// ```
    /// use tradegraph_broker::live::venue::Masker;
    /// let masker = Masker::default();
    /// assert_eq!(
    ///     masker.mask_fields(r#"{"data":{"access_token":"xyz","user_id":"AB1234"}}"#),
    ///     r#"{"data":{"access_token":"***","user_id":"AB1234"}}"#
    /// );
    /// ```
    pub fn mask_fields(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find('"') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let Some(end) = closing_quote(after) else {
                out.push_str(&rest[start..]);
                return out;
            };
            let name = &after[..end];
            out.push('"');
            out.push_str(name);
            out.push('"');
            rest = &after[end + 1..];
            let colon = rest.trim_start();
            if !colon.starts_with(':') || !redact::credential_name(name) {
                continue;
            }
            let value = colon[1..].trim_start();
            if !value.starts_with('"') {
                continue;
            }
            let Some(value_end) = closing_quote(&value[1..]) else {
                continue;
            };
            let skipped = rest.len() - value.len();
            out.push_str(&rest[..skipped]);
            out.push_str("\"***\"");
            rest = &value[value_end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// `text` with every secret, and the credentials of every URL in it, replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        let mut out = redact::urls_in(text);
        for secret in &self.secrets {
            out = secret.redact(&out);
        }
        out
    }
}

/// Where the string starting at `text` (after its opening quote) ends: the index of its
/// closing quote, escapes skipped.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_fields_are_masked_and_others_kept() {
        let m = Masker::default();
        let body = r#"{"status":"success","data":{"user_id":"AB12","access_token":"t0k\"en","refresh_token":"", "listenKey" : "abc","api_key":"k","enctoken":null,"n":1}}"#;
        let masked = m.mask_fields(body);
        assert_eq!(
            masked,
            r#"{"status":"success","data":{"user_id":"AB12","access_token":"***","refresh_token":"***", "listenKey" : "***","api_key":"***","enctoken":null,"n":1}}"#
        );
        // Not JSON, or cut short: nothing breaks, nothing is lost.
        assert_eq!(m.mask_fields("plain text"), "plain text");
        assert_eq!(
            m.mask_fields(r#"{"access_token":"abc"#),
            r#"{"access_token":"abc"#
        );
    }
}
