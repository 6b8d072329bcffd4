//! The paper broker's configuration: cash, instruments, fees, slippage, leverage, square-off.

use crate::BrokerError;
use rust_decimal::RoundingStrategy;
use serde::{Deserialize, Serialize};
use tradegraph_core::money::{Bps, Money};
use tradegraph_core::order::Liquidity;
use tradegraph_core::{Currency, Decimal, Exchange, Instrument, TradingSession};

/// Fees per fill: basis points of the notional (maker or taker) plus a flat amount, rounded up
/// to `decimals` places.
///
/// ```
/// use tradegraph_broker::FeeModel;
/// use tradegraph_core::{money::Bps, order::Liquidity, Decimal};
/// let fees = FeeModel::bps(Bps::whole(10), Bps::whole(2)).with_flat(Decimal::from(20));
/// // 10 bp of 1 000 000 is 1 000; plus 20 flat.
/// assert_eq!(fees.fee(Decimal::from(1_000_000), Liquidity::Taker), Some(Decimal::from(1_020)));
/// assert_eq!(fees.fee(Decimal::from(1_000_000), Liquidity::Maker), Some(Decimal::from(220)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeModel {
    /// Rate for fills that take liquidity (market, stop, marketable limit).
    pub taker: Bps,
    /// Rate for fills of resting limit orders.
    pub maker: Bps,
    /// A flat amount per fill (brokerage per executed order, like Zerodha's ₹20).
    pub flat_per_fill: Money,
    /// Decimal places fees are rounded up to.
    pub decimals: u32,
}

impl FeeModel {
    /// No fees.
    pub fn zero() -> Self {
        Self::bps(Bps::ZERO, Bps::ZERO)
    }

    /// Taker and maker rates, no flat part, rounded up to 8 places.
    pub fn bps(taker: Bps, maker: Bps) -> Self {
        Self {
            taker,
            maker,
            flat_per_fill: Money::ZERO,
            decimals: 8,
        }
    }

    /// Binance spot's standard rate: 0.1% maker and taker.
    pub fn binance_spot() -> Self {
        Self::bps(Bps::whole(10), Bps::whole(10))
    }

    /// An approximation of Zerodha index futures: ₹20 per executed order plus 2 bp for exchange
    /// charges and taxes, rounded up to the paisa.
    pub fn zerodha_futures() -> Self {
        Self {
            flat_per_fill: Decimal::from(20),
            decimals: 2,
            ..Self::bps(Bps::whole(2), Bps::whole(2))
        }
    }

    /// Adds a flat amount per fill.
    pub fn with_flat(mut self, flat: Money) -> Self {
        self.flat_per_fill = flat;
        self
    }

    /// The fee on a fill of `notional`, `None` on overflow.
    pub fn fee(&self, notional: Money, liquidity: Liquidity) -> Option<Money> {
        let rate = match liquidity {
            Liquidity::Taker => self.taker,
            Liquidity::Maker => self.maker,
        };
        let fee = rate.of(notional.abs())?.checked_add(self.flat_per_fill)?;
        Some(
            fee.round_dp_with_strategy(self.decimals, RoundingStrategy::AwayFromZero)
                .normalize(),
        )
    }
}

/// How the paper broker behaves.
///
/// ```
/// use tradegraph_broker::{FeeModel, PaperConfig};
/// use tradegraph_core::{money::Bps, Decimal, Instrument};
/// let config = PaperConfig::new(Instrument::bank_nifty(), Decimal::from(50_000_000))
///     .with_instrument(Instrument::nifty_50())
///     .fees(FeeModel::zerodha_futures())
///     .slippage(Bps::whole(1));
/// config.validate()?;
/// # Ok::<(), tradegraph_broker::BrokerError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperConfig {
    /// The account's currency (every instrument must be quoted in it).
    pub currency: Currency,
    /// Starting cash.
    pub initial_cash: Money,
    /// The instruments it trades.
    pub instruments: Vec<Instrument>,
    /// Fees.
    pub fees: FeeModel,
    /// Slippage on taker fills (market, stop, trailing stop, marketable limit): the fill price
    /// is moved this much against the order, then rounded to the tick against it too.
    pub slippage: Bps,
    /// Gross exposure allowed after a fill that opens or adds, as a multiple of equity (1: no
    /// leverage). Orders past it are rejected.
    pub max_leverage: Decimal,
    /// Closes open positions (and cancels working orders) this many minutes before an exchange
    /// session's close, as brokers do for intraday positions (Zerodha MIS: 15:20, 10 minutes).
    /// `None` keeps them. Ignored for 24/7 instruments.
    pub square_off_minutes: Option<u32>,
    /// What a trading day is, for the daily P&L (the base of the daily loss limit); `None` uses
    /// the first instrument's session (UTC days for crypto, the NSE session for the indices).
    pub day_session: Option<TradingSession>,
}

impl PaperConfig {
    /// Trading `instrument` with `initial_cash` in its currency: Binance spot fees for Binance,
    /// the Zerodha approximation for NSE, 2 bp slippage, no leverage, square-off 10 minutes
    /// before an exchange close.
    pub fn new(instrument: Instrument, initial_cash: Money) -> Self {
        let fees = match instrument.exchange {
            Exchange::Nse | Exchange::Bse => FeeModel::zerodha_futures(),
            _ => FeeModel::binance_spot(),
        };
        Self {
            currency: instrument.currency,
            initial_cash,
            instruments: vec![instrument],
            fees,
            slippage: Bps::whole(2),
            max_leverage: Decimal::ONE,
            square_off_minutes: Some(10),
            day_session: None,
        }
    }

    /// Adds an instrument.
    pub fn with_instrument(mut self, instrument: Instrument) -> Self {
        self.instruments.push(instrument);
        self
    }

    /// Sets the fees.
    pub fn fees(mut self, fees: FeeModel) -> Self {
        self.fees = fees;
        self
    }

    /// Sets the slippage.
    pub fn slippage(mut self, slippage: Bps) -> Self {
        self.slippage = slippage;
        self
    }

    /// Sets the leverage limit.
    pub fn max_leverage(mut self, leverage: Decimal) -> Self {
        self.max_leverage = leverage;
        self
    }

    /// Sets (or, with `None`, turns off) the automatic square-off.
    pub fn square_off_minutes(mut self, minutes: Option<u32>) -> Self {
        self.square_off_minutes = minutes;
        self
    }

    /// The session that defines trading days.
    pub fn trading_day(&self) -> TradingSession {
        self.day_session
            .clone()
            .or_else(|| self.instruments.first().map(|i| i.session.clone()))
            .unwrap_or(TradingSession::AlwaysOpen)
    }

    /// Checks that it can work.
    pub fn validate(&self) -> Result<(), BrokerError> {
        let bad = |what: String| Err(BrokerError::Config(what));
        if self.initial_cash <= Money::ZERO {
            return bad(format!(
                "initial cash {} is not positive",
                self.initial_cash
            ));
        }
        if self.instruments.is_empty() {
            return bad("no instrument to trade".into());
        }
        for i in &self.instruments {
            if i.currency != self.currency {
                return bad(format!(
                    "{} is quoted in {:?}, the account is in {:?}",
                    i.symbol, i.currency, self.currency
                ));
            }
            if i.tick_size <= Decimal::ZERO || i.lot_size <= Decimal::ZERO {
                return bad(format!(
                    "{}: tick {} and lot {} must be positive",
                    i.symbol, i.tick_size, i.lot_size
                ));
            }
        }
        let negative = [self.fees.taker, self.fees.maker, self.slippage]
            .iter()
            .any(|b| b.value() < Decimal::ZERO);
        if negative || self.fees.flat_per_fill < Money::ZERO {
            return bad("fees and slippage cannot be negative".into());
        }
        if self.slippage.value() >= Decimal::from(10_000) {
            return bad(format!("slippage {} is 100% or more", self.slippage));
        }
        if self.max_leverage <= Decimal::ZERO {
            return bad(format!(
                "max leverage {} is not positive",
                self.max_leverage
            ));
        }
        Ok(())
    }
}
