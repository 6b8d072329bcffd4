//! Instruments and the sessions they trade in.

mod presets;
mod session;

pub use session::{parse_holidays, ExchangeSession, TradingSession};

use crate::{CoreError, Price, Quantity};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// An instrument's symbol as used in store keys and documents (`BTCUSDT`, `BANKNIFTY`, `NIFTY50`).
///
/// Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Symbol(Arc<str>);

impl Symbol {
    /// A symbol.
    pub fn new(symbol: impl AsRef<str>) -> Self {
        Self(Arc::from(symbol.as_ref()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Symbol {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for Symbol {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

/// Where an instrument trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Exchange {
    /// Binance spot.
    Binance,
    /// National Stock Exchange of India.
    Nse,
    /// BSE (Bombay Stock Exchange).
    Bse,
}

/// The market segment, which decides contract rules and (for Kite) price scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Segment {
    /// Crypto spot.
    Spot,
    /// An index (quoted, not traded itself).
    Index,
    /// Cash equities.
    Equity,
    /// Futures and options.
    Derivatives,
    /// Currency derivatives.
    Currency,
    /// Commodities.
    Commodity,
}

/// The currency prices and money are quoted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Currency {
    /// Tether, Binance's quote currency for BTCUSDT.
    Usdt,
    /// US dollar.
    Usd,
    /// Indian rupee.
    Inr,
}

impl Currency {
    /// The currency's code, exactly as it is serialized: `USDT`, `USD` or `INR`.
    ///
    /// ```
    /// use tradegraph_core::Currency;
    ///
    /// assert_eq!(Currency::Inr.as_str(), "INR");
    /// assert_eq!(serde_json::to_value(Currency::Usdt)?, Currency::Usdt.as_str());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Usdt => "USDT",
            Self::Usd => "USD",
            Self::Inr => "INR",
        }
    }

    /// Default paper capital in this currency: 100,000 (USDT, USD), ₹10 crore (INR: the guard
    /// sizes by notional, and one index-futures lot is ₹15–18 lakh). The one source of the
    /// figures for the runtime's configuration default and the agents' sample desk.
    ///
    /// ```
    /// use tradegraph_core::{Currency, Decimal};
    ///
    /// assert_eq!(Currency::Usdt.default_paper_cash(), Decimal::from(100_000));
    /// assert_eq!(Currency::Inr.default_paper_cash(), Decimal::from(100_000_000));
    /// ```
    pub fn default_paper_cash(self) -> rust_decimal::Decimal {
        match self {
            Self::Inr => rust_decimal::Decimal::from(100_000_000),
            Self::Usdt | Self::Usd => rust_decimal::Decimal::from(100_000),
        }
    }
}

/// Everything the system needs to know about a tradable (or watchable) instrument.
///
/// ```
/// use tradegraph_core::{Instrument, Timestamp};
/// let bank_nifty: Instrument = "BANKNIFTY".parse()?;
/// // 10:00 in Kolkata on a Monday: open. 16:00: closed.
/// assert!(bank_nifty.session.is_open("2025-01-06T04:30:00Z".parse()?));
/// assert!(!bank_nifty.session.is_open("2025-01-06T10:30:00Z".parse()?));
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// The symbol used in keys and documents.
    pub symbol: Symbol,
    /// The exchange.
    pub exchange: Exchange,
    /// The segment.
    pub segment: Segment,
    /// The smallest price step.
    pub tick_size: Price,
    /// The smallest tradable quantity (a contract's lot for futures).
    pub lot_size: Quantity,
    /// The quote currency.
    pub currency: Currency,
    /// When it trades.
    pub session: TradingSession,
}

impl Instrument {
    /// Rounds a price to the nearest tick (half away from zero); a price too large to round is
    /// returned as it is.
    pub fn round_to_tick(&self, price: Price) -> Price {
        if self.tick_size.is_zero() {
            return price;
        }
        price
            .checked_div(self.tick_size)
            .and_then(|ticks| ticks.round().checked_mul(self.tick_size))
            .unwrap_or(price)
    }
}

impl FromStr for Instrument {
    type Err = CoreError;

    /// One of the presets, by symbol (case-insensitive; `BTC`, `NIFTY`, `NIFTY 50` also work).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_uppercase();
        match key.as_str() {
            "BTC" | "BTCUSDT" | "BTCUSD" | "BITCOIN" => Ok(Self::btc_usdt()),
            "BANKNIFTY" | "NIFTYBANK" => Ok(Self::bank_nifty()),
            "NIFTY" | "NIFTY50" => Ok(Self::nifty_50()),
            _ => Err(CoreError::Instrument(s.chars().take(32).collect())),
        }
    }
}
