//! Brokers for tradegraph: where orders go.
//!
//! | module | what |
//! |---|---|
//! | [`Broker`] | the trait execution uses: submit (idempotent by client order id), cancel, orders, positions, account, fills, and market data ([`PriceEvent`]) for brokers that match orders themselves |
//! | [`paper`] | the paper broker: fills against the price stream with itemised fees from configurable tables ([`CostModel`]: Binance spot, Zerodha's futures charge sheet, basis points), a [`SlippageModel`], market orders at the next bar's open or at once ([`FillTiming`]), stop-loss, take-profit and trailing stops; saved and restored across restarts ([`PaperSnapshot`]); the default |
//! | [`live`] | the explicit opt-in for real money: [`live::Live`] needs a [`live::LiveTradingEnabled`] token |
//! | [`OrderRefusal`], [`AmendRefusal`], [`IntentFailure`] | why an order, an amendment or an order's intent is refused, typed (`Display` gives the message) |
//!
//! | feature | default | what |
//! |---|---|---|
//! | `binance` | no | `live::binance`: the Binance spot broker (signed REST orders, exchange filters, the user data stream), see [`live`] |
//! | `kite` | no | `live::kite`: the Zerodha Kite Connect broker (orders, GTT, order updates on the ticker WebSocket, instruments), see [`live`] |
//! | `venue` | no | `live::venue`: the layer the venue brokers share (signed HTTP, rate limits, the order book of a venue broker); enabled by `binance` and `kite`, of no use alone |
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
mod refusal;

pub use amend::Amendment;
pub use broker::Broker;
pub use error::BrokerError;
pub use event::PriceEvent;
pub use paper::{
    CostModel, ExecutionModel, FeeModel, FillTiming, PaperBroker, PaperConfig, PaperEngine,
    PaperSnapshot, SlippageModel,
};
pub use refusal::{AmendRefusal, IntentFailure, OrderRefusal, Placement, PriceField};
