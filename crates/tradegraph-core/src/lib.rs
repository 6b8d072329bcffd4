//! The trading domain of tradegraph: what every other trading crate agrees on.
//!
//! | module | what |
//! |---|---|
//! | [`backoff`] | the exponential [`Backoff`](backoff::Backoff) schedule (with full jitter) for retries and reconnections, and the [`Attempts`](backoff::Attempts) counted between healthy moments |
//! | [`time`] | [`Timestamp`] (UTC milliseconds) and [`Timeframe`] (1m, 5m, 15m, 1h, daily) |
//! | [`instrument`] | [`Instrument`], [`Symbol`], exchanges, segments, and [`TradingSession`] (24/7 or an exchange session with holidays) |
//! | [`market`] | ticks (with the exchange's [`DayStats`]), trades, candles, the top-5 [`Book`] and [`OrderFlow`] figures |
//! | [`money`] | [`Money`], basis points, checked decimal arithmetic, lot and tick rounding |
//! | [`order`] | sides, kinds, time in force, deterministic client order ids, requests, the order lifecycle, fills, order intents |
//! | [`position`] | [`Position`], the [`Portfolio`] ledger and [`Account`] snapshots: cash, equity, realized and unrealized P&L, exposure |
//! | [`retry_after`] | the HTTP `Retry-After` header (seconds or a date) as a delay |
//! | [`risk`] | the [`RiskGuard`]: hard risk rules in code, typed verdicts with every clamp and rejection |
//! | [`redact`] | credentials out of shown text: URLs without passwords or keys, known secrets in messages |
//!
//! Prices, quantities and money are exact decimals ([`Price`], [`Quantity`]); `f64` is kept for
//! analytics. This crate does no I/O.
//!
//! | feature | default | what |
//! |---|---|---|
//! | `schemars` | no | `schemars::JsonSchema` for [`risk::Action`], the action a model proposes (tradegraph-agents shows its schema to the portfolio manager) |

pub mod backoff;
pub mod error;
pub mod instrument;
pub mod market;
pub mod money;
pub mod order;
pub mod position;
pub mod redact;
pub mod retry_after;
pub mod risk;
pub mod time;

pub use error::CoreError;
pub use instrument::{
    Currency, Exchange, ExchangeSession, Instrument, Segment, Symbol, TradingSession,
};
pub use market::{Book, BookLevel, Candle, DayStats, OrderFlow, Side, Tick, Trade};
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

/// The largest price that can be real: 10^12 (one trillion units of the quote currency per unit
/// of the instrument). No instrument we trade comes near it, and a position marked at a price far
/// above it can no longer be valued exactly (its value leaves no room for the cash's cents), so
/// the feeds report such a price as malformed, the paper broker refuses it and the risk guard
/// takes no entry at it.
///
/// ```
/// use tradegraph_core::{Decimal, MAX_PRICE};
/// assert_eq!(MAX_PRICE, Decimal::from(1_000_000_000_000_i64));
/// assert!(Decimal::new(6_500_000, 2) < MAX_PRICE);
/// ```
pub const MAX_PRICE: Price = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0);
/// A quantity: an exact decimal in the instrument's base unit (coins, index units, lots).
pub type Quantity = Decimal;
