//! The bot engine end to end: the trading graph on replayed bars with the paper broker, the
//! portfolio manager's decisions scripted (every other agent runs its rules). One binary, so
//! linking happens once; each test uses its own data file, symbol, keys or database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    missing_docs
)]

#[path = "../support/mod.rs"]
mod shared;
mod support;

mod approvals;
mod checkpoint;
mod closes;
mod crash;
mod fills;
mod gaps;
mod gauges;
mod ids;
mod instance;
mod kill;
mod kinds;
mod learned;
#[cfg(feature = "live")]
mod lost_book;
mod reconcile;
mod refine;
mod restart;
mod scenarios;
mod stale;
#[cfg(feature = "live")]
mod unprotected;
mod wrapped;
