//! What the Kite feed connects to, with which credentials, and how it behaves.

use crate::feed::Backoff;
use crate::MarketError;
use std::fmt;
use std::time::Duration;
use tradegraph_core::Symbol;

/// A credential. `Debug` and `Display` print `***`; only [`expose`](Self::expose) gives the
/// text, and the feed uses it for nothing but the connection URL.
///
/// ```
/// use tradegraph_market::feed::kite::Secret;
/// let key = Secret::new("abc123");
/// assert_eq!(format!("{key} {key:?}"), "*** ***");
/// assert_eq!(key.expose(), "abc123");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The credential itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

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

/// How much Kite sends per instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KiteMode {
    /// Last traded price only (8-byte packets).
    Ltp,
    /// Price, quantities and OHLC (44 bytes; 28 for an index).
    Quote,
    /// Quote plus times, open interest and 5+5 depth (184 bytes; 32 for an index).
    #[default]
    Full,
}

impl KiteMode {
    /// The name Kite uses in `mode` messages: `ltp`, `quote`, `full`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ltp => "ltp",
            Self::Quote => "quote",
            Self::Full => "full",
        }
    }
}

impl fmt::Display for KiteMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Configuration of [`KiteFeed`](super::KiteFeed).
///
/// ```
/// use tradegraph_market::feed::kite::{KiteConfig, KiteMode};
///
/// let config = KiteConfig {
///     mode: KiteMode::Quote,
///     ..KiteConfig::new("my_key", "my_token", vec![(256265, "NIFTY50".into())])
/// };
/// assert_eq!(
///     config.redacted_url(),
///     "wss://ws.kite.trade/?api_key=***&access_token=***"
/// );
/// assert!(!format!("{config:?}").contains("my_token"));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KiteConfig {
    /// The endpoint, without credentials (`wss://ws.kite.trade`, or a local `ws://` server).
    pub url: String,
    /// The Kite Connect API key.
    pub api_key: Secret,
    /// The session's access token.
    pub access_token: Secret,
    /// Instrument tokens to subscribe to, with the symbol their events carry.
    pub tokens: Vec<(u32, Symbol)>,
    /// What Kite sends for each of them.
    pub mode: KiteMode,
    /// A connection that receives nothing, not even the 1-byte heartbeat Kite sends every
    /// second, for this long is considered dead.
    pub silence_timeout: Duration,
    /// How long a connection attempt (TCP, TLS, handshake, subscription) may take.
    pub connect_timeout: Duration,
    /// Delays between reconnection attempts.
    pub backoff: Backoff,
}

impl KiteConfig {
    /// Kite's endpoint.
    pub const DEFAULT_URL: &'static str = "wss://ws.kite.trade";

    /// A configuration for these credentials and instruments, with the defaults: Kite's
    /// endpoint, full mode, 10 s of silence, 10 s to connect, default backoff.
    pub fn new(
        api_key: impl Into<String>,
        access_token: impl Into<String>,
        tokens: Vec<(u32, Symbol)>,
    ) -> Self {
        Self {
            url: Self::DEFAULT_URL.to_owned(),
            api_key: Secret::new(api_key),
            access_token: Secret::new(access_token),
            tokens,
            mode: KiteMode::default(),
            silence_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            backoff: Backoff::default(),
        }
    }

    /// Checks what cannot work.
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] naming the field: a URL that is not `ws://` or `wss://`, an
    /// empty credential, no tokens, or a zero timeout.
    pub fn validate(&self) -> Result<(), MarketError> {
        let fail = |what: &str| Err(MarketError::Config(format!("kite: {what}")));
        if !(self.url.starts_with("wss://") || self.url.starts_with("ws://")) {
            return fail("url must start with wss:// or ws://");
        }
        if self.api_key.expose().is_empty() || self.access_token.expose().is_empty() {
            return fail("api_key and access_token must be set");
        }
        if self.tokens.is_empty() {
            return fail("tokens is empty: subscribe to at least one instrument token");
        }
        if self.silence_timeout.is_zero() || self.connect_timeout.is_zero() {
            return fail("silence_timeout and connect_timeout must be more than zero");
        }
        Ok(())
    }

    /// The URL with credentials. Never log it; use [`redacted_url`](Self::redacted_url).
    pub(super) fn url_with_credentials(&self) -> String {
        self.build_url(
            &encode(self.api_key.expose()),
            &encode(self.access_token.expose()),
        )
    }

    /// The URL as logs and events show it: `...?api_key=***&access_token=***`.
    pub fn redacted_url(&self) -> String {
        self.build_url("***", "***")
    }

    /// The URL plus the credentials query; a URL without a path gets `/` (the request line
    /// needs one: `wss://ws.kite.trade/?api_key=..`).
    fn build_url(&self, key: &str, token: &str) -> String {
        let (base, query) = match self.url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (self.url.as_str(), None),
        };
        let authority_only = base
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.contains('/'));
        let slash = if authority_only { "/" } else { "" };
        let query = query.map_or_else(String::new, |q| format!("{q}&"));
        format!("{base}{slash}?{query}api_key={key}&access_token={token}")
    }

    /// `text` with every occurrence of a credential (plain or URL-encoded) replaced by `***`:
    /// for errors and server messages before they reach logs or events.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in [&self.api_key, &self.access_token] {
            let plain = secret.expose();
            if plain.is_empty() {
                continue;
            }
            out = out.replace(plain, "***");
            let encoded = encode(plain);
            if encoded != plain {
                out = out.replace(&encoded, "***");
            }
        }
        out
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_only_reach_the_connection_url() {
        let mut config = KiteConfig::new("k&y", "s3cr3t", vec![(1, "X".into())]);
        config.url = "ws://127.0.0.1:9/ws?v=3".into();
        assert_eq!(
            config.url_with_credentials(),
            "ws://127.0.0.1:9/ws?v=3&api_key=k%26y&access_token=s3cr3t"
        );
        config.url = "ws://127.0.0.1:9".into();
        assert_eq!(
            config.redacted_url(),
            "ws://127.0.0.1:9/?api_key=***&access_token=***"
        );
        let shown = format!("{config:?} {}", config.redacted_url());
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("k&y"),
            "{shown}"
        );
        assert_eq!(
            config.redact("bad token s3cr3t for k%26y"),
            "bad token *** for ***"
        );
    }

    #[test]
    fn validation_names_the_field() {
        let config = KiteConfig::new("k", "", vec![]);
        let err = config.validate().err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("access_token")));
        let config = KiteConfig::new("k", "t", vec![]);
        let err = config.validate().err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("tokens")));
    }
}
