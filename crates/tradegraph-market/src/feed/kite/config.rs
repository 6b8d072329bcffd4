//! What the Kite feed connects to, with which credentials, and how it behaves.

use crate::feed::Backoff;
use crate::MarketError;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;
use tradegraph_core::redact::{self, MIN_SECRET_CHARS};
use tradegraph_core::Symbol;

pub use tradegraph_core::redact::Secret;

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
///     ..KiteConfig::new("my_api_key", "my_access_token", vec![(256265, "NIFTY50".into())])
/// };
/// assert_eq!(
///     config.redacted_url(),
///     "wss://ws.kite.trade/?api_key=***&access_token=***"
/// );
/// assert!(!format!("{config:?}").contains("my_access_token"));
/// assert!(config.validate().is_ok());
/// ```
///
/// `Debug` shows the URL with any `user:password@` and key-carrying query parameter redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct KiteConfig {
    /// The endpoint, without credentials (`wss://ws.kite.trade`, or `ws://` to a loopback
    /// test server: [`validate`](Self::validate) refuses `ws://` to any other host).
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
    /// [`MarketError::Config`] naming the field: a URL that is not `wss://`, or `ws://` to a
    /// host that is not a loopback address (127.0.0.0/8, `::1`, `localhost`: the access token
    /// would travel in clear); an empty credential, or one shorter than 8 characters (Kite's
    /// API keys have 16 and its access tokens 32: a shorter value is a mistake, and could not
    /// be told apart from ordinary words when it is redacted); no tokens; a zero timeout.
    pub fn validate(&self) -> Result<(), MarketError> {
        let fail = |what: String| Err(MarketError::Config(format!("kite: {what}")));
        let shown = redact::url(&self.url);
        match self.url.split_once("://") {
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("wss") => {}
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("ws") => {
                if !loopback_host(&self.url) {
                    return fail(format!(
                        "url `{shown}` is ws://, which would send the access token in clear to a \
                         host that is not a loopback address (127.0.0.0/8, ::1, localhost); use \
                         wss:// (ws:// is for a local test server only)"
                    ));
                }
            }
            _ => {
                return fail(format!(
                    "url must start with wss:// or ws:// (ws:// to a loopback test server \
                     only), not `{shown}`"
                ))
            }
        }
        for (field, secret) in [
            ("api_key", &self.api_key),
            ("access_token", &self.access_token),
        ] {
            let chars = secret.expose().chars().count();
            if chars == 0 {
                return fail("api_key and access_token must be set".to_owned());
            }
            if chars < MIN_SECRET_CHARS {
                let unit = if chars == 1 {
                    "character"
                } else {
                    "characters"
                };
                return fail(format!(
                    "{field} is {chars} {unit} long, too short to be a Kite credential (API keys \
                     have 16 characters, access tokens 32): check the value"
                ));
            }
        }
        if self.tokens.is_empty() {
            return fail("tokens is empty: subscribe to at least one instrument token".to_owned());
        }
        if self.silence_timeout.is_zero() || self.connect_timeout.is_zero() {
            return fail("silence_timeout and connect_timeout must be more than zero".to_owned());
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

    /// The URL as logs and events show it: `...?api_key=***&access_token=***`, with any
    /// `user:password@` and key-carrying parameter of the configured URL redacted too.
    pub fn redacted_url(&self) -> String {
        redact::url(&self.build_url("***", "***"))
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
    /// for errors and server messages before they reach logs or events. A credential shorter
    /// than 8 characters (which [`validate`](Self::validate) refuses) is replaced only where it
    /// stands as a token of its own, so it cannot cut letters out of unrelated words.
    ///
    /// ```
    /// use tradegraph_market::feed::kite::KiteConfig;
    /// let config = KiteConfig::new("kite_api_key", "t", vec![]);
    /// assert_eq!(config.redact("the server: token t"), "the server: token ***");
    /// ```
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in [&self.api_key, &self.access_token] {
            let plain = secret.expose();
            out = redact::secret(&out, plain);
            let encoded = encode(plain);
            if encoded != plain {
                out = redact::secret(&out, &encoded);
            }
        }
        out
    }
}

impl fmt::Debug for KiteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KiteConfig")
            .field("url", &redact::url(&self.url))
            .field("api_key", &self.api_key)
            .field("access_token", &self.access_token)
            .field("tokens", &self.tokens)
            .field("mode", &self.mode)
            .field("silence_timeout", &self.silence_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("backoff", &self.backoff)
            .finish()
    }
}

/// Whether the host of `url` (`scheme://[user@]host[:port]/...`) is a loopback address:
/// 127.0.0.0/8, `::1` or `localhost`.
fn loopback_host(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed
            .split_once(']')
            .and_then(|(ip, _)| ip.parse::<Ipv6Addr>().ok())
            .is_some_and(|ip| ip.is_loopback());
    }
    let host = host_port.split(':').next().unwrap_or_default();
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
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
        let config = KiteConfig::new("kite_api_key", "", vec![]);
        let err = config.validate().err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("access_token")));
        let config = KiteConfig::new("kite_api_key", "kite-access-token", vec![]);
        let err = config.validate().err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("tokens")));
    }

    fn with_url(url: &str) -> KiteConfig {
        KiteConfig {
            url: url.to_owned(),
            ..KiteConfig::new(
                "kite_test_key",
                "kite-access-token-0123456789",
                vec![(1, "X".into())],
            )
        }
    }

    #[test]
    fn kite_accepts_ws_in_clear_for_a_non_loopback_host() {
        for url in [
            "ws://kite.example.com",
            "ws://kite.example.com:8080/ws",
            "ws://10.0.0.5:9000",
            "ws://127.0.0.1.nip.io/",
            "ws://localhost.example.com",
            "ws://[::2]:9000",
            "ws://127.0.0.1@kite.example.com/",
            "WS://kite.example.com",
        ] {
            let err = with_url(url).validate().unwrap_err().to_string();
            assert!(
                err.contains("url") && err.contains("ws://") && err.contains("wss://"),
                "{url}: {err}"
            );
            assert!(
                err.contains("loopback") && err.contains("in clear"),
                "{url}: {err}"
            );
        }
        for url in [
            "wss://ws.kite.trade",
            "wss://kite.example.com:443/ws",
            "ws://127.0.0.1:9/ws",
            "ws://127.8.9.10",
            "ws://localhost:9",
            "ws://LOCALHOST",
            "ws://[::1]:9/",
            "ws://user@127.0.0.1:9",
        ] {
            assert!(with_url(url).validate().is_ok(), "{url}");
        }
    }

    #[test]
    fn kite_config_debug_and_errors_echo_url_credentials() {
        let config = with_url("wss://user:pa55w0rd@kite.example.com/ws?v=3&token=qk-canary-1");
        let shown = format!("{config:?} {}", config.redacted_url());
        assert!(
            !shown.contains("pa55w0rd") && !shown.contains("qk-canary-1"),
            "{shown}"
        );
        assert!(
            shown.contains("kite.example.com") && shown.contains("v=3"),
            "{shown}"
        );
        let err = with_url("http://user:pa55w0rd@kite.example.com/?access_token=qk-canary-1")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("pa55w0rd") && !err.contains("qk-canary-1"),
            "{err}"
        );
        assert!(
            err.contains("kite.example.com") && err.contains("url"),
            "{err}"
        );
    }

    #[test]
    fn short_secret_redaction_mangles_unrelated_text() {
        // The issue's example: `--access-token t`.
        let mut config = with_url("ws://127.0.0.1:9");
        config.access_token = Secret::new("t");
        assert_eq!(
            config.redact("the server closed: token t expired"),
            "the server closed: token *** expired"
        );
        // Such a token is refused before anything connects, the field named, the value not.
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains("access_token") && err.contains("1 character"),
            "{err}"
        );
        config.access_token = Secret::new("kite-access-token-0123456789");
        config.api_key = Secret::new("tok");
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains("api_key") && err.contains("3 characters"),
            "{err}"
        );
    }
}
