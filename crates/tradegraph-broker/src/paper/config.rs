//! The paper broker's configuration: cash, instruments, fees, slippage, fill timing, leverage,
//! square-off.

use super::{CostModel, ExecutionModel, FillTiming, SlippageModel};
use crate::BrokerError;
use rust_decimal::RoundingStrategy;
use serde::{Deserialize, Serialize};
use tradegraph_core::money::{Bps, Money};
use tradegraph_core::order::{Charge, ChargeKind, Liquidity};
use tradegraph_core::{Currency, Decimal, Instrument, TradingSession};

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
///
/// Read from a configuration, `taker` and `maker` are required (a table that names one rate
/// is an error, not a zero for the other); `flat_per_fill` defaults to none and `decimals`
/// to 8.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeModel {
    /// Rate for fills that take liquidity (market, stop, marketable limit).
    pub taker: Bps,
    /// Rate for fills of resting limit orders.
    pub maker: Bps,
    /// A flat amount per fill (brokerage per executed order, like Zerodha's ₹20).
    #[serde(default)]
    pub flat_per_fill: Money,
    /// Decimal places fees are rounded up to.
    #[serde(default = "default_fee_decimals")]
    pub decimals: u32,
}

/// The decimal places of [`FeeModel::bps`]: serde's default for `decimals`.
fn default_fee_decimals() -> u32 {
    FeeModel::zero().decimals
}

impl Default for FeeModel {
    /// No fees.
    fn default() -> Self {
        Self::zero()
    }
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

    /// A rough approximation of Zerodha index futures: ₹20 per executed order plus 2 bp for
    /// exchange charges and taxes, rounded up to the paisa. The full charge sheet is
    /// [`ZerodhaCharges`](super::ZerodhaCharges), the default for NSE.
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
        let fee = self
            .rate_part(notional, liquidity)?
            .checked_add(self.flat_per_fill)?;
        Some(self.round(fee))
    }

    /// The fee as charges: the rate's part as commission, the flat part as brokerage. Their
    /// sum is [`fee`](Self::fee) (the rounding lands on the commission).
    pub fn charges(&self, notional: Money, liquidity: Liquidity) -> Option<Vec<Charge>> {
        let fee = self.fee(notional, liquidity)?;
        let commission = fee.checked_sub(self.flat_per_fill)?;
        Some(vec![
            Charge::new(ChargeKind::Commission, commission.normalize()),
            Charge::new(ChargeKind::Brokerage, self.flat_per_fill),
        ])
    }

    fn rate_part(&self, notional: Money, liquidity: Liquidity) -> Option<Money> {
        let rate = match liquidity {
            Liquidity::Taker => self.taker,
            Liquidity::Maker => self.maker,
        };
        rate.of(notional.abs())
    }

    fn round(&self, fee: Money) -> Money {
        fee.round_dp_with_strategy(self.decimals, RoundingStrategy::AwayFromZero)
            .normalize()
    }
}

/// How the paper broker behaves.
///
/// ```
/// use tradegraph_broker::paper::{FillTiming, SlippageModel, ZerodhaCharges};
/// use tradegraph_broker::PaperConfig;
/// use tradegraph_core::{money::Bps, Decimal, Instrument};
/// let config = PaperConfig::new(Instrument::bank_nifty(), Decimal::from(50_000_000))
///     .with_instrument(Instrument::nifty_50())
///     .fees(ZerodhaCharges::nse_futures())
///     .slippage(SlippageModel::Ticks { ticks: 2 })
///     .fill_timing(FillTiming::NextOpen);
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
    /// What each fill costs, itemised by kind. Also reads the form saved before cost tables (a
    /// bare [`FeeModel`] with all four fields), as [`CostModel::Bps`].
    #[serde(deserialize_with = "legacy::fees")]
    pub fees: CostModel,
    /// Slippage on taker fills (market, stop, trailing stop, marketable limit): the fill price
    /// is moved against the order by the model, then rounded to the tick against it too. Also
    /// reads the form saved before slippage models (basis points), as [`SlippageModel::Bps`].
    #[serde(deserialize_with = "legacy::slippage")]
    pub slippage: SlippageModel,
    /// When market orders (and limit orders marketable when placed) fill: at once (the
    /// default here) or at the next price event's first price (backtests' default).
    #[serde(default = "immediate")]
    pub fill_timing: FillTiming,
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
    /// Whether the feed sends again, after a restart, what it sent before (a bot replaying a
    /// file from its start). A [restored](super::PaperEngine::restore) engine then skips, at
    /// the latest millisecond, as many trades and ticks as it had taken there: they are the same
    /// events. Off, a restored engine takes every event at that millisecond as new (a live feed
    /// goes on).
    #[serde(default)]
    pub feed_resends: bool,
}

impl PaperConfig {
    /// Trading `instrument` with `initial_cash` in its currency: the venue's fees
    /// ([`CostModel::for_instrument`]: Zerodha's futures charge sheet for NSE and rupees,
    /// Binance spot's VIP 0 otherwise), 2 bp slippage, immediate fills, no leverage, square-off
    /// 10 minutes before an exchange close.
    pub fn new(instrument: Instrument, initial_cash: Money) -> Self {
        let fees = CostModel::for_instrument(&instrument);
        Self {
            currency: instrument.currency,
            initial_cash,
            instruments: vec![instrument],
            fees,
            slippage: SlippageModel::default(),
            fill_timing: FillTiming::Immediate,
            max_leverage: Decimal::ONE,
            square_off_minutes: Some(10),
            day_session: None,
            feed_resends: false,
        }
    }

    /// Adds an instrument.
    pub fn with_instrument(mut self, instrument: Instrument) -> Self {
        self.instruments.push(instrument);
        self
    }

    /// Sets the fees: a [`CostModel`], or a [`FeeModel`], [`BinanceSpotFees`] or
    /// [`ZerodhaCharges`].
    ///
    /// [`BinanceSpotFees`]: super::BinanceSpotFees
    /// [`ZerodhaCharges`]: super::ZerodhaCharges
    pub fn fees(mut self, fees: impl Into<CostModel>) -> Self {
        self.fees = fees.into();
        self
    }

    /// Sets the slippage: a [`SlippageModel`], or basis points.
    pub fn slippage(mut self, slippage: impl Into<SlippageModel>) -> Self {
        self.slippage = slippage.into();
        self
    }

    /// Sets when market orders fill.
    pub fn fill_timing(mut self, timing: FillTiming) -> Self {
        self.fill_timing = timing;
        self
    }

    /// The fees, the slippage and the fill timing, for reports.
    pub fn describe(&self) -> ExecutionModel {
        ExecutionModel {
            fees: self.fees.clone(),
            slippage: self.slippage.clone(),
            fill_timing: self.fill_timing,
        }
    }

    /// Says whether the feed sends again, after a restart, what it sent before (see
    /// [`feed_resends`](Self::feed_resends)).
    pub fn feed_resends(mut self, resends: bool) -> Self {
        self.feed_resends = resends;
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
        if let Some(problem) = self.fees.problem() {
            return bad(problem);
        }
        if let Some(problem) = self.slippage.problem() {
            return bad(problem);
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

/// Serde's default for a configuration saved before fill timing existed: immediate fills, as
/// then.
fn immediate() -> FillTiming {
    FillTiming::Immediate
}

/// The forms `PaperConfig` was saved in before cost tables and slippage models.
mod legacy {
    use super::{CostModel, FeeModel, SlippageModel};
    use serde::{Deserialize, Deserializer};
    use tradegraph_core::money::{Bps, Money};

    /// The old `FeeModel`, every field required (so a half-written table is an error, not zero
    /// fees).
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct OldFees {
        taker: Bps,
        maker: Bps,
        flat_per_fill: Money,
        decimals: u32,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Fees {
        Now(CostModel),
        Old(OldFees),
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Slippage {
        Now(SlippageModel),
        Old(Bps),
    }

    pub(super) fn fees<'de, D: Deserializer<'de>>(d: D) -> Result<CostModel, D::Error> {
        Ok(match Fees::deserialize(d)? {
            Fees::Now(model) => model,
            Fees::Old(old) => CostModel::Bps(FeeModel {
                taker: old.taker,
                maker: old.maker,
                flat_per_fill: old.flat_per_fill,
                decimals: old.decimals,
            }),
        })
    }

    pub(super) fn slippage<'de, D: Deserializer<'de>>(d: D) -> Result<SlippageModel, D::Error> {
        Ok(match Slippage::deserialize(d)? {
            Slippage::Now(model) => model,
            Slippage::Old(bps) => SlippageModel::Bps { bps },
        })
    }
}
