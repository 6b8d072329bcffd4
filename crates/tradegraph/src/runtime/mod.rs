//! The runtime: a bot for one instrument, from a feed through the trading graph to a broker.
//!
//! [`backtest`] replays a file of one-minute bars (or a recording) on a simulated clock: the
//! aggregator builds every timeframe, the paper broker checks stops on every bar, and each closed
//! candle of the decision timeframe runs one decision cycle of the graph (four analysts in
//! parallel, the debate, risk manager, portfolio manager, risk guard, execution, learning).
//! The cycle is feed-agnostic (any `Feed` of market events can drive it), but today the runtime's
//! entry point is [`backtest`]; a loop over a live Binance or Kite feed is not built yet.

mod backtest;
mod config;
mod env;
mod error;
mod example;
mod persist;
mod report;
mod summary;

pub use backtest::backtest;
pub use config::{BotConfig, InstrumentKey};
pub use env::DotEnv;
pub use error::RuntimeError;
pub use example::example_main;
pub use report::describe_cycle;
pub use summary::{BotSummary, EquityPoint};
