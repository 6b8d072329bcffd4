//! Identifiers: the decision an order comes from, the client order id derived from it, and the
//! broker's order id.

use crate::{CoreError, Symbol, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The identity of one trading decision (one graph cycle for one instrument).
///
/// Any stable text works (a run id and step, a UUID); [`DecisionId::at`] builds the usual one
/// from the instrument and the decision's as-of time at millisecond resolution, so a replay of
/// the same data yields the same ids. One decision id names the graph thread, seeds the client
/// order ids and keys the stored decision.
///
/// ```
/// use tradegraph_core::{order::DecisionId, Symbol, Timestamp};
/// let t: Timestamp = "2024-01-01T10:15:00Z".parse()?;
/// assert_eq!(DecisionId::at(&Symbol::new("BTCUSDT"), t).as_str(), "BTCUSDT-20240101T101500.000Z");
/// // Two decisions within one second are two decisions.
/// assert_ne!(DecisionId::at(&Symbol::new("BTCUSDT"), t.add_millis(1)), DecisionId::at(&Symbol::new("BTCUSDT"), t));
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DecisionId(Arc<str>);

impl DecisionId {
    /// A decision id from any text.
    pub fn new(id: impl AsRef<str>) -> Self {
        Self(Arc::from(id.as_ref()))
    }

    /// `SYMBOL-YYYYMMDDTHHMMSS.mmmZ` ([`Timestamp::compact_millis`]): one decision per
    /// instrument and millisecond.
    pub fn at(symbol: &Symbol, as_of: Timestamp) -> Self {
        Self::new(format!("{symbol}-{}", as_of.compact_millis()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DecisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which order of a decision: the entry, its protective exits, or a closing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Leg {
    /// The order that opens or adds to a position.
    Entry,
    /// An order that closes a position on the decision's request (CLOSE, or a guard-forced close).
    Exit,
    /// The protective stop-loss attached to an entry.
    StopLoss,
    /// The take-profit attached to an entry.
    TakeProfit,
    /// The trailing stop attached to an entry.
    TrailingStop,
    /// A close before the session ends.
    SquareOff,
    /// Any further leg, numbered by the caller.
    Other(u16),
}

impl Leg {
    /// The tag that goes into the hash.
    fn tag(self) -> String {
        match self {
            Self::Entry => "entry".into(),
            Self::Exit => "exit".into(),
            Self::StopLoss => "sl".into(),
            Self::TakeProfit => "tp".into(),
            Self::TrailingStop => "trail".into(),
            Self::SquareOff => "squareoff".into(),
            Self::Other(n) => format!("leg{n}"),
        }
    }
}

/// The client order id: chosen by us, sent to the exchange, and the key of idempotency (a broker
/// given the same id twice returns the first order and never fills twice).
///
/// [`ClientOrderId::derive`] makes it deterministic: the same instrument, decision and leg always
/// give the same id, so a retried or replayed decision cannot double an order. Derived ids are
/// `tg` and 16 hex digits (a 64-bit FNV-1a hash), which fits Binance's `newClientOrderId`
/// (≤ 36 of `[.A-Za-z0-9:/_-]`) and Kite's `tag` (≤ 20 alphanumerics).
///
/// ```
/// use tradegraph_core::order::{ClientOrderId, DecisionId, Leg};
/// use tradegraph_core::Symbol;
/// let decision = DecisionId::new("BTCUSDT-20240101T101500.000Z");
/// let btc = Symbol::new("BTCUSDT");
/// let entry = ClientOrderId::derive(&btc, &decision, Leg::Entry);
/// assert_eq!(entry, ClientOrderId::derive(&btc, &decision, Leg::Entry));
/// assert_ne!(entry, ClientOrderId::derive(&btc, &decision, Leg::StopLoss));
/// assert_eq!(entry.as_str().len(), 18);
/// // The exits of an entry derive from it.
/// assert_eq!(entry.child(Leg::StopLoss), entry.child(Leg::StopLoss));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientOrderId(Arc<str>);

impl ClientOrderId {
    /// The longest id accepted (Binance's limit).
    pub const MAX_LEN: usize = 36;

    /// An id from text: 1 to 36 characters of `A-Z a-z 0-9 . : / _ -`.
    pub fn new(id: impl AsRef<str>) -> Result<Self, CoreError> {
        let id = id.as_ref();
        let bad = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/' | '_' | '-')));
        let reason = if id.is_empty() {
            Some("it is empty".to_owned())
        } else if id.len() > Self::MAX_LEN {
            Some(format!(
                "it has {} characters, more than {}",
                id.len(),
                Self::MAX_LEN
            ))
        } else {
            bad.map(|c| {
                format!(
                    "`{}` is not one of A-Z a-z 0-9 . : / _ -",
                    c.escape_default()
                )
            })
        };
        match reason {
            Some(reason) => Err(CoreError::ClientOrderId {
                id: id.chars().take(48).collect(),
                reason,
            }),
            None => Ok(Self(Arc::from(id))),
        }
    }

    /// The deterministic id of `leg` of `decision` on `symbol`.
    pub fn derive(symbol: &Symbol, decision: &DecisionId, leg: Leg) -> Self {
        Self::hashed(&[symbol.as_str(), decision.as_str(), &leg.tag()])
    }

    /// The deterministic id of a leg that belongs to this order (its stop-loss, take-profit,
    /// trailing stop).
    pub fn child(&self, leg: Leg) -> Self {
        Self::hashed(&[self.as_str(), "child", &leg.tag()])
    }

    fn hashed(parts: &[&str]) -> Self {
        // FNV-1a, 64-bit: stable across platforms, releases and runs (std's hasher is not).
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                hash ^= 0x1f;
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
            for byte in part.bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        Self(Arc::from(format!("tg{hash:016x}")))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ClientOrderId {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<ClientOrderId> for String {
    fn from(id: ClientOrderId) -> Self {
        id.0.to_string()
    }
}

impl std::str::FromStr for ClientOrderId {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// The broker's id of an order (the exchange's order id; `P-…` for the paper broker).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(Arc<str>);

impl OrderId {
    /// An order id.
    pub fn new(id: impl AsRef<str>) -> Self {
        Self(Arc::from(id.as_ref()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_fit_the_exchanges() {
        let d = DecisionId::new("BANKNIFTY-20250106T041500Z");
        let s = Symbol::new("BANKNIFTY");
        let id = ClientOrderId::derive(&s, &d, Leg::Entry);
        // Pinned: a change of the hash would break idempotency across releases.
        assert_eq!(id.as_str(), "tg64423bf07e4cab36");
        assert!(id.as_str().len() <= 20 && id.as_str().chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(ClientOrderId::new(id.as_str()).is_ok());
        let legs = [
            Leg::Entry,
            Leg::Exit,
            Leg::StopLoss,
            Leg::TakeProfit,
            Leg::TrailingStop,
            Leg::SquareOff,
            Leg::Other(1),
            Leg::Other(2),
        ];
        let ids: std::collections::BTreeSet<_> = legs
            .iter()
            .map(|l| ClientOrderId::derive(&s, &d, *l))
            .collect();
        assert_eq!(ids.len(), legs.len());
        // Field boundaries matter: ("ab", "c") and ("a", "bc") differ.
        assert_ne!(
            ClientOrderId::derive(&Symbol::new("ab"), &DecisionId::new("c"), Leg::Entry),
            ClientOrderId::derive(&Symbol::new("a"), &DecisionId::new("bc"), Leg::Entry)
        );
    }

    #[test]
    fn decision_ids_carry_milliseconds() {
        let s = Symbol::new("BANKNIFTY");
        let t: Timestamp = "2025-01-06T04:15:00.125Z".parse().unwrap();
        assert_eq!(
            DecisionId::at(&s, t).as_str(),
            "BANKNIFTY-20250106T041500.125Z"
        );
        let whole: Timestamp = "2025-01-06T04:15:00Z".parse().unwrap();
        assert_eq!(
            DecisionId::at(&s, whole).as_str(),
            "BANKNIFTY-20250106T041500.000Z"
        );
        // Within one second, different decisions derive different orders.
        assert_ne!(
            ClientOrderId::derive(&s, &DecisionId::at(&s, whole), Leg::Entry),
            ClientOrderId::derive(&s, &DecisionId::at(&s, t), Leg::Entry)
        );
    }

    #[test]
    fn hand_made_ids_are_checked() {
        assert!(ClientOrderId::new("my-order_1").is_ok());
        let err = ClientOrderId::new("has space").unwrap_err();
        assert!(err.to_string().contains("` `"), "{err}");
        assert!(ClientOrderId::new("").is_err());
        assert!(ClientOrderId::new("x".repeat(37)).is_err());
        let json = serde_json::to_string(&ClientOrderId::new("abc").unwrap()).unwrap();
        assert_eq!(json, "\"abc\"");
        assert!(serde_json::from_str::<ClientOrderId>("\"a b\"").is_err());
    }
}
