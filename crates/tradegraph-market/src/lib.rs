//! Market data for tradegraph.
//!
//! | module | what |
//! |---|---|
//! | [`aggregate`] | ticks and trades into 1m, 5m, 15m, 1h and daily candles at once, session-aligned |
//! | [`flow`] | aggressor volume, cumulative volume delta, book imbalance, session VWAP |
//! | [`indicators`] | SMA, EMA, RSI, MACD, Bollinger, ATR, Stochastic, ADX, OBV, VWAP: incremental, TA-Lib-exact |
//! | [`feed`] | market event streams: replay, synthetic, recorder; Binance and Kite WebSockets (features) |
//! | `history` | historical bars from Binance klines and Kite historical candles into the replay's candle CSV (feature `history`) |
//!
//! | feature | default | what |
//! |---|---|---|
//! | `binance` | yes | Binance spot WebSocket feed |
//! | `kite` | yes | Zerodha Kite WebSocket feed and binary packet parser |
//! | `news` | yes | [`news`]: Finnhub and EODHD news clients, bundled news fixtures, macro snapshots |
//! | `history` | no | `history`: Binance klines and Kite historical candles downloaded into the candle CSV replay reads, resumable and rate-limit aware |
//! | `tls` | no | `feed::tls`: the TLS configuration of every connection to a market; enabled by `binance`, `kite`, `news` and `history` |

pub mod aggregate;
pub mod clock;
mod error;
pub mod event;
pub mod feed;
pub mod flow;
#[cfg(feature = "history")]
pub mod history;
pub mod indicators;
pub mod metrics;
#[cfg(feature = "news")]
pub mod news;

pub use clock::{Clock, SimulatedClock, SystemClock};
pub use error::MarketError;
pub use event::{FeedNotice, GapKind, MarketEvent};
