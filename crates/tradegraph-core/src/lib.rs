//! The trading domain of tradegraph: what every other trading crate agrees on.
//!
//! | module | what |
//! |---|---|
//! | [`time`] | [`Timestamp`] (UTC milliseconds) and [`Timeframe`] (1m, 5m, 15m, 1h, daily) |
//! | [`instrument`] | [`Instrument`], [`Symbol`], exchanges, segments, and [`TradingSession`] (24/7 or an exchange session with holidays) |
//! | [`market`] | ticks, trades, candles, the top-5 [`Book`] and [`OrderFlow`] figures |
//!
//! Prices, quantities and money are exact decimals ([`Price`], [`Quantity`]); `f64` is kept for
//! analytics. This crate does no I/O.

pub mod error;
pub mod instrument;
pub mod market;
pub mod time;

pub use error::CoreError;
pub use instrument::{
    Currency, Exchange, ExchangeSession, Instrument, Segment, Symbol, TradingSession,
};
pub use market::{Book, BookLevel, Candle, OrderFlow, Side, Tick, Trade};
pub use rust_decimal::Decimal;
pub use time::{Timeframe, Timestamp};

/// A price: an exact decimal in the instrument's quote currency.
pub type Price = Decimal;
/// A quantity: an exact decimal in the instrument's base unit (coins, index units, lots).
pub type Quantity = Decimal;
