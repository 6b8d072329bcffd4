//! The risk guard: hard rules in code that no model output can bypass.
//!
//! ```
//! use tradegraph_core::order::DecisionId;
//! use tradegraph_core::position::Account;
//! use tradegraph_core::risk::{Action, Proposal, RiskContext, RiskGuard, RiskReason, VerdictStatus};
//! use tradegraph_core::{Currency, Decimal, Instrument, Timestamp};
//!
//! let bank_nifty = Instrument::bank_nifty();
//! // 15:20 in Mumbai: inside the square-off window.
//! let now: Timestamp = "2025-01-06T15:20:00+05:30".parse()?;
//! let account = Account::flat(Currency::Inr, Decimal::from(50_000_000), now);
//! let ctx = RiskContext::new(&bank_nifty, &account, Decimal::from(50_000), now);
//! let verdict = RiskGuard::default()
//!     .evaluate(&Proposal::new(DecisionId::new("d"), Action::Buy, 2.0).with_stop_loss(49_500.0), &ctx);
//! assert_eq!(verdict.status, VerdictStatus::Rejected);
//! assert!(matches!(verdict.findings[0].reason, RiskReason::SquareOff { .. }));
//! # Ok::<(), tradegraph_core::CoreError>(())
//! ```
//!
#![doc = include_str!("rules.md")]

mod context;
mod exits;
mod gates;
mod guard;
mod kill_switch;
mod limits;
mod number;
mod proposal;
mod reason;
mod recheck;
mod rule;
mod sizing;
mod verdict;

pub use context::{RiskContext, Volatility};
pub use guard::{GuardState, Headroom, RiskGuard};
pub use kill_switch::KillSwitch;
pub use limits::RiskLimits;
pub use proposal::{Action, Proposal};
pub use reason::{BadInput, NotRepeated, RiskReason, StopBasis, VolatilityTrigger};
pub use verdict::{Effect, Finding, Verdict, VerdictStatus};

#[cfg(test)]
mod tests;
