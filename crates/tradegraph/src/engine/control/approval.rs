//! Approval: when the configuration asks for it, every entry waits for an operator.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tradegraph_core::order::OrderSide;
use tradegraph_core::risk::{Verdict, VerdictStatus};
use tradegraph_core::Timestamp;

/// Whether entries wait for an operator (`[bot] approval` in the configuration file).
///
/// With `Required`, a cycle whose verdict opens or adds to a position pauses before its order
/// goes out (a graph interrupt raised by the execution node): the order waits until an operator
/// approves or rejects it, or `timeout` passes (then it is rejected as expired), or the next
/// decision cycle comes (then it is rejected as superseded). The bot processes market events
/// meanwhile. Closes (a CLOSE, a forced close of the kill switch, the daily loss limit or the
/// square-off) never wait: they only lower the risk. An approved order still passes the risk
/// guard's re-check on the market as it is then.
///
/// ```
/// use std::time::Duration;
/// use tradegraph::engine::Approval;
/// let approval = Approval::Required { timeout: Duration::from_secs(60) };
/// assert!(approval.is_required());
/// assert!(!Approval::default().is_required());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Approval {
    /// Orders go out as the guard lets them (the default).
    #[default]
    None,
    /// Entries wait for an operator, at most `timeout`.
    Required {
        /// How long an entry waits before it is rejected as expired.
        timeout: Duration,
    },
}

impl Approval {
    /// Whether entries wait for an operator.
    pub fn is_required(self) -> bool {
        matches!(self, Self::Required { .. })
    }
}

/// An order waiting for approval, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalView {
    /// The approval's id: its decision's id.
    pub id: String,
    /// The order's client id (it is sent under this id once approved).
    pub client_id: String,
    /// Buy or sell.
    pub side: OrderSide,
    /// How much.
    pub quantity: Decimal,
    /// The price the guard sized it at.
    pub reference_price: Decimal,
    /// Its stop-loss.
    pub stop_loss: Option<Decimal>,
    /// Its take-profit.
    pub take_profit: Option<Decimal>,
    /// The guard's verdict.
    pub verdict: VerdictStatus,
    /// The guard's findings, in words.
    pub reasons: Vec<String>,
    /// When it started waiting (wall clock).
    pub requested_at: Timestamp,
    /// When it expires (wall clock).
    pub expires_at: Timestamp,
}

impl ApprovalView {
    /// The view of `verdict`'s entry, waiting from `now` for `timeout`; `None` when the verdict
    /// opens nothing.
    pub(crate) fn of(verdict: &Verdict, now: Timestamp, timeout: Duration) -> Option<Self> {
        let intent = verdict.entry()?;
        let timeout = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        Some(Self {
            id: verdict.decision_id.as_str().to_owned(),
            client_id: intent.client_id().as_str().to_owned(),
            side: intent.side,
            quantity: intent.quantity,
            reference_price: intent.reference_price,
            stop_loss: intent.exits.stop_loss,
            take_profit: intent.exits.take_profit,
            verdict: verdict.status,
            reasons: verdict.findings.iter().map(|f| f.to_string()).collect(),
            requested_at: now,
            expires_at: now.add_millis(timeout),
        })
    }
}

/// How an approval ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// An operator approved it.
    Approved,
    /// An operator rejected it.
    Rejected(Option<String>),
    /// Nobody answered in time.
    Expired,
    /// The next decision cycle came first.
    Superseded,
}

impl Resolution {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected(_) => "rejected",
            Self::Expired => "expired",
            Self::Superseded => "superseded",
        }
    }

    /// The answer the execution node reads on resume.
    pub(crate) fn answer(&self, by: Option<&str>) -> serde_json::Value {
        let reason = match self {
            Self::Rejected(reason) => reason.clone(),
            _ => None,
        };
        serde_json::json!({
            "approved": *self == Self::Approved,
            "outcome": self.as_str(),
            "by": by,
            "reason": reason,
        })
    }
}

/// An order waiting for approval, as saved in the bot's state (part `approvals`): the paused
/// run's checkpoint with it, so that a restarted bot can still send or refuse it, once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingApproval {
    pub(crate) view: ApprovalView,
    /// The cycle's number.
    pub(crate) seq: u64,
    /// The cycle's market time.
    pub(crate) as_of: Timestamp,
    /// Closed trades handed to the cycle's learner.
    pub(crate) learned: usize,
    /// The paused run's checkpoint (`Checkpoint<TradingState>` as JSON).
    pub(crate) checkpoint: serde_json::Value,
}
