//! The paper broker: fills against the price stream, with fees, slippage and attached exits, in
//! exact decimals that reconcile at every step. The default broker everywhere.
//!
//! - [`PaperEngine`]: the synchronous, deterministic engine (a backtest can drive it directly).
//! - [`PaperBroker`]: the engine behind a mutex, implementing the async [`Broker`](crate::Broker).
//! - [`PaperConfig`]: cash, instruments, fees, slippage, fill timing, leverage, square-off.
//! - [`costs`]: what a fill costs, as configurable tables ([`CostModel`]: Binance spot's
//!   maker/taker with the BNB discount, Zerodha's futures charge sheet, or [`FeeModel`]'s basis
//!   points), each fill's fee itemised by [`ChargeKind`](tradegraph_core::order::ChargeKind).
//! - [`SlippageModel`]: fixed bp, fixed ticks, a share of the spread, or volume-based impact.
//! - [`FillTiming`]: market orders at the next bar's open (backtests) or at once;
//!   [`ExecutionModel`] ([`PaperConfig::describe`]) states all three for reports.
//! - [`PaperSnapshot`]: the account, orders and fills saved, to continue after a restart.
//!
#![doc = include_str!("fills.md")]

mod amend;
mod broker;
mod compact;
mod config;
pub mod costs;
mod engine;
mod execute;
mod exits;
mod matching;
mod slippage;
mod snapshot;
mod submit;
mod timing;

pub use broker::PaperBroker;
pub use config::{FeeModel, PaperConfig};
pub use costs::{BinanceSpotFees, CostModel, ZerodhaCharges};
pub use engine::PaperEngine;
pub use slippage::SlippageModel;
pub use snapshot::PaperSnapshot;
pub use timing::{ExecutionModel, FillTiming};

#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod timing_tests;
