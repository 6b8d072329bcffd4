//! The trading domain of tradegraph: what every other trading crate agrees on.
//!
//! | module | what |
//! |---|---|
//! | [`time`] | [`Timestamp`] (UTC milliseconds) and [`Timeframe`] (1m, 5m, 15m, 1h, daily) |
//! | [`instrument`] | [`Instrument`], [`Symbol`], exchanges, segments, and [`TradingSession`] (24/7 or an exchange session with holidays) |
//! | [`market`] | ticks, trades, candles, the top-5 [`Book`] and [`OrderFlow`] figures |
//! | [`money`] | [`Money`], basis points, checked decimal arithmetic, lot and tick rounding |
//! | [`order`] | sides, kinds, time in force, deterministic client order ids, requests, the order lifecycle, fills, order intents |
//! | [`position`] | [`Position`], the [`Portfolio`] ledger and [`Account`] snapshots: cash, equity, realized and unrealized P&L, exposure |
//! | [`risk`] | the [`RiskGuard`]: hard risk rules in code, typed verdicts with every clamp and rejection |
//!
//! Prices, quantities and money are exact decimals ([`Price`], [`Quantity`]); `f64` is kept for
//! analytics. This crate does no I/O.

pub mod error;
pub mod instrument;
pub mod market;
pub mod money;
pub mod order;
pub mod position;
pub mod risk;
pub mod time;

pub use error::CoreError;
pub use instrument::{
    Currency, Exchange, ExchangeSession, Instrument, Segment, Symbol, TradingSession,
};
pub use market::{Book, BookLevel, Candle, OrderFlow, Side, Tick, Trade};
pub use money::Money;
pub use order::{
    ClientOrderId, DecisionId, Exits, Fill, Order, OrderIntent, OrderKind, OrderRequest, OrderSide,
    OrderStatus, TimeInForce,
};
pub use position::{Account, Portfolio, Position};
pub use risk::{Proposal, RiskContext, RiskGuard, RiskLimits, Verdict, VerdictStatus};
pub use rust_decimal::Decimal;
pub use time::{Timeframe, Timestamp};

/// A price: an exact decimal in the instrument's quote currency.
pub type Price = Decimal;
/// A quantity: an exact decimal in the instrument's base unit (coins, index units, lots).
pub type Quantity = Decimal;
