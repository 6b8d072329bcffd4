//! What the venue checks on a signed request: the key header, the HMAC-SHA256 signature over
//! the exact parameters, and the timestamp within `recvWindow`.

use super::state::{refusal, Refusal};
use ring::hmac;

/// Decoded parameters, in order.
pub(crate) type Params = Vec<(String, String)>;

/// `a=1&b=2` into pairs.
pub(crate) fn parse(text: &str) -> Params {
    super::super::form::pairs(text)
}

/// The value of `key`.
pub(crate) fn get<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The signature of `payload` with `secret`, lowercase hex.
pub(crate) fn sign(secret: &str, payload: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    hmac::sign(&key, payload.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks the signature of a request whose raw query is `query` and body `body`: Binance signs
/// the query string followed by the body, without the `signature` parameter.
pub(crate) fn check_signature(secret: &str, query: &str, body: &str) -> Result<(), Refusal> {
    let bad = || refusal(-1022, "Signature for this request is not valid.");
    let (payload_query, given) = split_signature(query)
        .or_else(|| split_signature(body).map(|(_, s)| (query.to_owned(), s)))
        .ok_or_else(|| {
            refusal(
                -1102,
                "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
            )
        })?;
    let payload_body = split_signature(body).map_or(body.to_owned(), |(b, _)| b);
    let payload = format!("{payload_query}{payload_body}");
    if sign(secret, &payload) == given.to_ascii_lowercase() {
        Ok(())
    } else {
        Err(bad())
    }
}

fn split_signature(text: &str) -> Option<(String, String)> {
    let mut rest = Vec::new();
    let mut signature = None;
    for part in text.split('&') {
        match part.strip_prefix("signature=") {
            Some(s) => signature = Some(s.to_owned()),
            None => rest.push(part),
        }
    }
    signature.map(|s| (rest.join("&"), s))
}

/// Checks `timestamp` and `recvWindow` against the server's clock `now` (ms): a request from
/// more than 1 s in the future, or older than `recvWindow` (default 5000, at most 60000), is
/// refused with -1021.
pub(crate) fn check_timestamp(params: &Params, now: i64) -> Result<(), Refusal> {
    let ts: i64 = get(params, "timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| {
            refusal(
                -1102,
                "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
            )
        })?;
    let window: i64 = match get(params, "recvWindow") {
        Some(w) => w
            .parse()
            .ok()
            .filter(|w| (0..=60_000).contains(w))
            .ok_or_else(|| refusal(-1131, "recvWindow must be less than 60000"))?,
        None => 5_000,
    };
    if ts >= now + 1_000 {
        return Err(refusal(
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ));
    }
    if now - ts > window {
        return Err(refusal(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    Ok(())
}
