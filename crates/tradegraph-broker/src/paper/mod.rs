//! The paper broker: fills against the price stream, with fees, slippage and attached exits, in
//! exact decimals that reconcile at every step. The default broker everywhere.
//!
//! - [`PaperEngine`]: the synchronous, deterministic engine (a backtest can drive it directly).
//! - [`PaperBroker`]: the engine behind a mutex, implementing the async [`Broker`](crate::Broker).
//! - [`PaperConfig`] and [`FeeModel`]: cash, instruments, fees, slippage, leverage, square-off.
//! - [`PaperSnapshot`]: the account, orders and fills saved, to continue after a restart.
//!
#![doc = include_str!("fills.md")]

mod amend;
mod broker;
mod compact;
mod config;
mod engine;
mod execute;
mod exits;
mod matching;
mod snapshot;
mod submit;

pub use broker::PaperBroker;
pub use config::{FeeModel, PaperConfig};
pub use engine::PaperEngine;
pub use snapshot::PaperSnapshot;

#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;
