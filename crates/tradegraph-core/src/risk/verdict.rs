//! The guard's answer: the status, the order to place, and every clamp and rejection with its
//! reason.

use super::{Action, RiskReason};
use crate::order::{DecisionId, IntentPurpose, OrderIntent};
use crate::{Symbol, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What happened to the proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum VerdictStatus {
    /// Goes through as proposed (quantities rounded to the lot, prices to the tick).
    Approved,
    /// Goes through in a safer form: smaller, with a derived or tighter stop, or reduced to a
    /// close.
    Clamped,
    /// Does not go through. The verdict may still carry an order the guard requires (a close).
    Rejected,
}

/// What one finding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Changed a figure of the proposal.
    Clamped,
    /// Refused the proposal's entry.
    Rejected,
    /// Closes the open position whatever was proposed.
    ForcedClose,
}

/// One clamp, rejection or forced close, with its typed reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What it did.
    pub effect: Effect,
    /// Why.
    pub reason: RiskReason,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let effect = match self.effect {
            Effect::Clamped => "clamped",
            Effect::Rejected => "rejected",
            Effect::ForcedClose => "forced close",
        };
        write!(f, "{effect}: {}", self.reason)
    }
}

/// The risk guard's verdict on one proposal.
///
/// `intent` is the only thing to execute: the (possibly clamped) entry, a close, or `None`. A
/// rejected verdict can still carry a close the guard requires (daily loss, square-off, kill
/// switch). `findings` lists every clamp, rejection and forced close with its reason.
///
/// ```
/// # use tradegraph_core::order::DecisionId;
/// # use tradegraph_core::position::Account;
/// # use tradegraph_core::risk::*;
/// # use tradegraph_core::{Currency, Decimal, Instrument, Timestamp};
/// # let btc = Instrument::btc_usdt();
/// # let now: Timestamp = "2024-01-01T10:15:00Z".parse()?;
/// # let account = Account::flat(Currency::Usdt, Decimal::from(100_000), now);
/// # let ctx = RiskContext::new(&btc, &account, Decimal::from(40_000), now);
/// let mut guard = RiskGuard::default();
/// let verdict = guard.evaluate(&Proposal::new(DecisionId::new("d1"), Action::Buy, 50.0), &ctx);
/// assert_eq!(verdict.status, VerdictStatus::Clamped);
/// let messages: Vec<String> = verdict.findings.iter().map(|f| f.to_string()).collect();
/// assert_eq!(messages, [
///     "clamped: size 50% of equity cut to the 5% maximum",
///     "clamped: no stop-loss given: set to 39200 (percent)",
/// ]);
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The decision judged.
    pub decision_id: DecisionId,
    /// The instrument.
    pub symbol: Symbol,
    /// When.
    pub at: Timestamp,
    /// What was proposed.
    pub action: Action,
    /// Approved, clamped or rejected.
    pub status: VerdictStatus,
    /// The order to place, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<OrderIntent>,
    /// Every clamp, rejection and forced close, in the order the rules ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

impl Verdict {
    /// Whether it went through unchanged.
    pub fn is_approved(&self) -> bool {
        self.status == VerdictStatus::Approved
    }

    /// Whether the proposal was refused.
    pub fn is_rejected(&self) -> bool {
        self.status == VerdictStatus::Rejected
    }

    /// Whether the guard orders a close the proposal did not ask for.
    pub fn is_forced_close(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.effect == Effect::ForcedClose)
    }

    /// The entry to place, if the intent opens or adds to a position.
    pub fn entry(&self) -> Option<&OrderIntent> {
        self.intent
            .as_ref()
            .filter(|i| i.purpose == IntentPurpose::Open)
    }

    /// The reasons of the findings with `effect`.
    pub fn reasons(&self, effect: Effect) -> impl Iterator<Item = &RiskReason> {
        self.findings
            .iter()
            .filter(move |f| f.effect == effect)
            .map(|f| &f.reason)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            VerdictStatus::Approved => "APPROVED",
            VerdictStatus::Clamped => "CLAMPED",
            VerdictStatus::Rejected => "REJECTED",
        };
        write!(f, "{status} {} {}", self.action, self.symbol)?;
        match &self.intent {
            Some(intent) => write!(f, " -> {intent}")?,
            None => f.write_str(" -> no order")?,
        }
        for finding in &self.findings {
            write!(f, "; {finding}")?;
        }
        Ok(())
    }
}
