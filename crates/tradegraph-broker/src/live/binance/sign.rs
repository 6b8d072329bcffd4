//! Signed requests: the query string, built in one buffer, and its HMAC-SHA256 signature.

use ring::hmac;
use std::fmt::Write as _;
use tradegraph_core::redact::Secret;

/// Builds a query string in one buffer: `a=1&b=2`. Values must be query-safe (symbols,
/// decimals, numbers, client order ids, Binance's enums); anything else is percent-encoded.
///
/// ```
/// use tradegraph_broker::live::binance::Query;
/// let mut q = Query::with_capacity(64);
/// q.push("symbol", "BTCUSDT").push("quantity", "0.001").push_num("recvWindow", 5000);
/// assert_eq!(q.as_str(), "symbol=BTCUSDT&quantity=0.001&recvWindow=5000");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Query {
    buf: String,
}

impl Query {
    /// An empty query with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: String::with_capacity(capacity),
        }
    }

    fn key(&mut self, key: &str) {
        if !self.buf.is_empty() {
            self.buf.push('&');
        }
        self.buf.push_str(key);
        self.buf.push('=');
    }

    /// Appends `key=value`, percent-encoding what is not unreserved.
    pub fn push(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                self.buf.push(char::from(b));
            } else {
                let _ = write!(self.buf, "%{b:02X}");
            }
        }
        self
    }

    /// Appends `key=value` for anything displayed without reserved characters (decimals, numbers).
    pub fn push_num(&mut self, key: &str, value: impl std::fmt::Display) -> &mut Self {
        self.key(key);
        let _ = write!(self.buf, "{value}");
        self
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    /// The text.
    pub fn into_string(self) -> String {
        self.buf
    }
}

/// Signs with the API secret: HMAC-SHA256, lowercase hex. Its `Debug` shows no key.
#[derive(Clone)]
pub struct Signer {
    key: hmac::Key,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(***)")
    }
}

impl Signer {
    /// A signer for `secret`.
    pub fn new(secret: &Secret) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes()),
        }
    }

    /// The signature of `payload`, as 64 lowercase hex digits.
    ///
    /// ```
    /// use tradegraph_broker::live::binance::Signer;
    /// use tradegraph_core::redact::Secret;
    /// // The example of Binance's "SIGNED endpoint examples".
    /// let secret = Secret::new("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j");
    /// let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    /// assert_eq!(Signer::new(&secret).signature(payload),
    ///     "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
    /// ```
    pub fn signature(&self, payload: &str) -> String {
        let mut out = String::with_capacity(64);
        self.write_signature(payload, &mut out);
        out
    }

    fn write_signature(&self, payload: &str, out: &mut String) {
        let tag = hmac::sign(&self.key, payload.as_bytes());
        push_hex(tag.as_ref(), out);
    }

    /// Appends `&signature=<hex>` to the query, signing what it holds.
    pub fn sign(&self, query: &mut Query) {
        let tag = hmac::sign(&self.key, query.buf.as_bytes());
        query.buf.push_str("&signature=");
        push_hex(tag.as_ref(), &mut query.buf);
    }
}

fn push_hex(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
}
