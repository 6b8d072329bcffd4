//! Binance spot market data over WebSocket (feature `binance`).
//!
//! One combined-stream connection
//! (`wss://stream.binance.com:9443/stream?streams=btcusdt@trade/btcusdt@kline_1m/btcusdt@depth5@100ms`)
//! carries, for one symbol:
//!
//! | stream | becomes |
//! |---|---|
//! | `<symbol>@trade` or `<symbol>@aggTrade` | [`MarketEvent::Trade`](crate::MarketEvent::Trade): exact decimal price and quantity, aggressor [`Side::Sell`](tradegraph_core::Side::Sell) when the buyer is the maker (`m`), trade id (`t` or `a`); an aggregate trade's first and last trade ids (`f`, `l`) |
//! | `<symbol>@kline_1m` | [`MarketEvent::Candle`](crate::MarketEvent::Candle): OHLC, volume, number of trades (`n`), quote volume (`q`), taker buy base and quote volumes (`V`, `Q`); `closed` from `x` |
//! | `<symbol>@depth5@100ms` | [`MarketEvent::Book`](crate::MarketEvent::Book), `update_id` from `lastUpdateId`, stamped with the clock (the payload has no time) |
//!
//! Pings are answered with their payload. [`BinanceFeed`] reconnects after failures, replaces
//! each connection before the 24-hour limit, and reports connections, trade-id gaps and
//! malformed frames as [`FeedNotice`](crate::FeedNotice)s. [`Decoder`] is the frame parser on
//! its own (for replaying captured frames, benchmarks and fuzzing).

mod config;
mod connect;
mod decode;
mod envelope;
mod feed;
mod frames;
mod gaps;
mod messages;
mod rollover;
#[cfg(test)]
mod tests;

pub use config::{BinanceConfig, TradeStream};
pub use decode::{Decoded, Decoder};
pub use feed::BinanceFeed;
