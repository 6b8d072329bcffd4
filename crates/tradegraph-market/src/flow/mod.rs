//! Order flow: who crossed the spread, how much, and where the session's average price is.
//!
//! [`OrderFlowTracker`] folds trades, ticks and books into [`OrderFlow`] figures:
//!
//! - **Aggressor volume.** Binance says who the aggressor was (`m`, buyer is maker: the seller
//!   crossed). Kite does not; its ticks are classified by [`TradeClassifier`]: the quote rule
//!   against the best bid and ask (at or above the ask is a buy, at or below the bid a sell,
//!   otherwise by side of the mid), and the tick rule (up from the last price is a buy, down a
//!   sell, unchanged repeats the last side) when there is no quote or the price sits on the mid.
//!   Volume that cannot be classified (the first tick of a session on the mid) is counted apart.
//! - **Cumulative volume delta**: bought minus sold since the session opened.
//! - **Book imbalance** of the latest top-5 book, and **resting imbalance** from Kite's total buy
//!   and sell quantities.
//! - **Session VWAP**, exact: sum of price × quantity over sum of quantity since the open.
//!
//! Everything resets when an event belongs to a new session (the UTC day for crypto, the NSE
//! session for the indices); events outside the session are ignored and counted.
//!
//! [`OrderFlow`]: tradegraph_core::OrderFlow

mod classify;
mod tracker;

pub use classify::TradeClassifier;
pub use tracker::{FlowStats, OrderFlowTracker};
