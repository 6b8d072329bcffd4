//! Backtests people can check: metrics, baselines, report files, walk-forward, recorded model
//! answers and the paper broker's execution.
//!
//! [`metrics`] computes every figure of a run as empyrical defines it, with the annualization
//! stated, and its [`baselines`] on the same data: buy-and-hold and the graph in rule mode. The
//! engine's replay itself is [`engine::backtest`](crate::engine::backtest); `tradegraph
//! backtest` prints its summary. `report` (feature `report`) writes the files of `tradegraph
//! backtest --out DIR` (`summary.json`, CSVs, SVG plots, a self-contained `report.html`);
//! `walk` (feature `report`) runs walk-forward windows (`--split N`) and single backtests with
//! their reports. [`answers`] records or replays the models'
//! answers (`--record FILE`, `--replay FILE`) and says when a model may have seen the period.
//! [`execution`] is how the paper broker executes (`[paper]`: cost tables, slippage, market
//! orders at the next bar's open).

pub mod answers;
pub mod execution;
pub mod metrics;
#[cfg(feature = "report")]
pub mod report;
#[cfg(feature = "report")]
pub mod walk;

pub use metrics::{baselines, compute, Annualization, Baselines, Metrics, Period};
