//! The instruments tradegraph ships bots for.

use super::{Currency, Exchange, ExchangeSession, Instrument, Segment, Symbol, TradingSession};
use rust_decimal::Decimal;

impl Instrument {
    /// Bitcoin against Tether on Binance spot: 24/7 in UTC, tick 0.01, step 0.00001 BTC.
    pub fn btc_usdt() -> Self {
        Self {
            symbol: Symbol::new("BTCUSDT"),
            exchange: Exchange::Binance,
            segment: Segment::Spot,
            tick_size: Decimal::new(1, 2),
            lot_size: Decimal::new(1, 5),
            currency: Currency::Usdt,
            session: TradingSession::AlwaysOpen,
        }
    }

    /// The Nifty Bank index on NSE (traded through its futures): tick 0.05, lot 30 (NSE's lot
    /// size from its 2025 revision; set `lot_size` for the contract you trade), 09:15–15:30
    /// Asia/Kolkata on NSE trading days.
    pub fn bank_nifty() -> Self {
        Self {
            symbol: Symbol::new("BANKNIFTY"),
            exchange: Exchange::Nse,
            segment: Segment::Index,
            tick_size: Decimal::new(5, 2),
            lot_size: Decimal::from(30),
            currency: Currency::Inr,
            session: TradingSession::Exchange(ExchangeSession::nse()),
        }
    }

    /// The Nifty 50 index on NSE (traded through its futures): tick 0.05, lot 75 (NSE's lot size
    /// from its 2025 revision; set `lot_size` for the contract you trade), 09:15–15:30
    /// Asia/Kolkata on NSE trading days.
    pub fn nifty_50() -> Self {
        Self {
            symbol: Symbol::new("NIFTY50"),
            exchange: Exchange::Nse,
            segment: Segment::Index,
            tick_size: Decimal::new(5, 2),
            lot_size: Decimal::from(75),
            currency: Currency::Inr,
            session: TradingSession::Exchange(ExchangeSession::nse()),
        }
    }
}
