//! Brokers for tradegraph: where orders go.
//!
//! | module | what |
//! |---|---|
//! | [`Broker`] | the trait execution uses: submit (idempotent by client order id), cancel, orders, positions, account, fills, and market data ([`PriceEvent`]) for brokers that match orders themselves |
//! | [`paper`] | the paper broker: fills against the price stream with fees, slippage, stop-loss, take-profit and trailing stops; saved and restored across restarts ([`PaperSnapshot`]); the default |
//! | [`live`] | the explicit opt-in for real money: [`live::Live`] needs a [`live::LiveTradingEnabled`] token |
//!
//! | feature | default | what |
//! |---|---|---|
//! | `binance` | – | Binance spot broker, `live::binance` (see [`live`]) |
//! | `kite` | – | Zerodha Kite Connect broker, `live::kite` (see [`live`]) |
//!
//! The domain types (orders, fills, positions, the account) live in
//! [`tradegraph_core`]; the [risk guard](tradegraph_core::risk) decides what reaches a broker.
//! Live, paper and backtest share the same code: only the broker (and the clock and the feed)
//! differ.

mod amend;
mod broker;
mod error;
mod event;
pub mod live;
pub mod metrics;
pub mod paper;

pub use amend::Amendment;
pub use broker::Broker;
pub use error::BrokerError;
pub use event::PriceEvent;
pub use paper::{FeeModel, PaperBroker, PaperConfig, PaperEngine, PaperSnapshot};
