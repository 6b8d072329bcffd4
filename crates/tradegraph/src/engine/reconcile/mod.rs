//! Reconciliation with the broker: at start (service mode, after the order intents are
//! reconciled) and each time a venue broker re-established its order-update link, the bot
//! compares the broker's word — its working orders, positions, account and fills — with its
//! own state: the order intents, the trade ledger's open trade and the fills the ledger read.
//!
//! `compare` is the pure part: it turns the two views into typed [`Discrepancy`]s (an order
//! the bot did not send, a position that differs from the ledger's by at least the
//! instrument's quantity step, a fill of an order the bot does not know or that the ledger
//! missed, cash below what the working entries need). Any discrepancy raises the
//! `reconciliation` alert and a [`BotEvent::Reconciliation`](crate::engine::BotEvent), shows in
//! the status, and holds the bot in `reducing` — entries refused, exits, stops and closes go on
//! — until a person confirms ([`Command::ConfirmReconciliation`](crate::engine::Command),
//! `POST /api/v1/reconciliation/confirm` with the `at` of the report the person read,
//! `tradegraph bot confirm-reconciliation --at ...`). The hold is
//! saved ([`Reconciliation`], the `reconciliation` state part) and survives a restart.

mod check;
mod compare;
mod discrepancy;
mod hold;
mod shared;

pub(crate) use compare::{compare, BotView, VenueView};
pub use discrepancy::Discrepancy;
pub use hold::{ReconcileReport, ReconcileTrigger, Reconciliation};
pub(crate) use shared::SharedHold;
