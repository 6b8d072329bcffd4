//! Order intents: an order written down before it goes to a broker, so that a restarted bot
//! reconciles by client order id and never places it twice.

use serde::{Deserialize, Serialize};
use std::fmt;
use tradegraph_core::order::{ClientOrderId, DecisionId, OrderId, OrderRequest};
use tradegraph_core::{Symbol, Timestamp};

/// Where an order intent is in its life.
///
/// `Pending` (recorded, not yet sent) → `Submitted` (the broker has it) → `Done` (filled,
/// cancelled, rejected: the broker is finished with it) or `Abandoned` (never sent, or given up
/// on after reconciliation). The last two are settled.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    /// Recorded; the broker call may or may not have happened.
    Pending,
    /// The broker accepted it.
    Submitted,
    /// The broker is finished with it.
    Done,
    /// Given up on.
    Abandoned,
}

impl IntentStatus {
    /// Whether nothing more will happen to it (`Done` or `Abandoned`).
    pub fn is_settled(self) -> bool {
        matches!(self, Self::Done | Self::Abandoned)
    }

    /// The name used in documents (`pending`, `submitted`, `done`, `abandoned`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Submitted => "submitted",
            Self::Done => "done",
            Self::Abandoned => "abandoned",
        }
    }
}

impl fmt::Display for IntentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order intent as stored: the request, where it is, and when it got there. Keyed by the
/// request's client order id; each change is a new version.
///
/// ```
/// use tradegraph_core::order::{ClientOrderId, DecisionId, OrderId, OrderRequest, OrderSide};
/// use tradegraph_core::{Decimal, Symbol, Timestamp};
/// use tradegraph_store::{IntentRecord, IntentStatus};
///
/// let request = OrderRequest::market(ClientOrderId::new("tg-demo-1")?, Symbol::new("BTCUSDT"),
///     OrderSide::Buy, "0.015".parse()?);
/// let t0 = Timestamp::from_millis(1_704_103_200_250);
/// let pending = IntentRecord::pending(request, DecisionId::new("BTCUSDT-20240101T100000Z"), t0);
/// assert_eq!((pending.version, pending.status), (1, IntentStatus::Pending));
/// let sent = pending.advance(IntentStatus::Submitted, t0.add_millis(40)).with_order_id(OrderId::new("8731"));
/// assert_eq!((sent.version, sent.created_at, sent.updated_at), (2, t0, t0.add_millis(40)));
/// assert!(!sent.status.is_settled());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentRecord {
    /// The request's client order id: the unique key.
    pub client_id: ClientOrderId,
    /// The instrument whose bot placed it.
    pub instrument: Symbol,
    /// The decision it comes from.
    pub decision_id: DecisionId,
    /// The order as sent (or to be sent).
    pub request: OrderRequest,
    /// Where it is.
    pub status: IntentStatus,
    /// Strictly increasing per client id; 1 is the first record.
    pub version: u64,
    /// When it was first recorded.
    pub created_at: Timestamp,
    /// When this version was made.
    pub updated_at: Timestamp,
    /// The venue's id, once known.
    #[serde(default)]
    pub order_id: Option<OrderId>,
    /// Why it was abandoned, the venue's rejection text, ...
    #[serde(default)]
    pub note: Option<String>,
}

impl IntentRecord {
    /// A new intent for `request` (version 1, pending, recorded `at`), keyed by its client id,
    /// for the request's instrument.
    pub fn pending(request: OrderRequest, decision_id: DecisionId, at: Timestamp) -> Self {
        Self {
            client_id: request.client_id.clone(),
            instrument: request.symbol.clone(),
            decision_id,
            request,
            status: IntentStatus::Pending,
            version: 1,
            created_at: at,
            updated_at: at,
            order_id: None,
            note: None,
        }
    }

    /// The next version: `status`, updated `at`, everything else kept.
    #[must_use]
    pub fn advance(&self, status: IntentStatus, at: Timestamp) -> Self {
        Self {
            status,
            version: self.version.saturating_add(1),
            updated_at: at,
            ..self.clone()
        }
    }

    /// The same version with the venue's order id set.
    #[must_use]
    pub fn with_order_id(mut self, order_id: OrderId) -> Self {
        self.order_id = Some(order_id);
        self
    }

    /// The same version with a note (why it was abandoned, the venue's rejection text, ...).
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_core::order::OrderSide;

    #[test]
    fn settled_means_done_or_abandoned() {
        let settled: Vec<bool> = [
            IntentStatus::Pending,
            IntentStatus::Submitted,
            IntentStatus::Done,
            IntentStatus::Abandoned,
        ]
        .iter()
        .map(|s| s.is_settled())
        .collect();
        assert_eq!(settled, [false, false, true, true]);
        assert_eq!(
            serde_json::to_string(&IntentStatus::Abandoned).unwrap(),
            "\"abandoned\""
        );
    }

    #[test]
    fn advancing_keeps_identity_and_bumps_the_version() {
        let request = OrderRequest::market(
            ClientOrderId::new("abc").unwrap(),
            Symbol::new("NIFTY50"),
            OrderSide::Sell,
            "75".parse().unwrap(),
        );
        let first = IntentRecord::pending(request, DecisionId::new("d1"), Timestamp::from_secs(1))
            .with_note("sized at 2%");
        let next = first.advance(IntentStatus::Abandoned, Timestamp::from_secs(9));
        assert_eq!(next.version, 2);
        assert_eq!(next.client_id.as_str(), "abc");
        assert_eq!(next.instrument.as_str(), "NIFTY50");
        assert_eq!(next.created_at, Timestamp::from_secs(1));
        assert_eq!(next.updated_at, Timestamp::from_secs(9));
        assert_eq!(next.note.as_deref(), Some("sized at 2%"));
        assert_eq!(first.version, 1, "the original is untouched");
    }
}
