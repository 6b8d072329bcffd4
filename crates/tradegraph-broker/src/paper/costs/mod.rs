//! What a fill costs: configurable charge tables, each fill's fee itemised by kind.
//!
//! - [`CostModel::BinanceSpot`] ([`BinanceSpotFees`]): maker/taker commission at Binance's
//!   regular-user (VIP 0) rates, with the optional 25% discount for paying fees in BNB.
//! - [`CostModel::ZerodhaFutures`] ([`ZerodhaCharges`]): Zerodha's full charge sheet for NSE
//!   index futures: brokerage, STT, exchange transaction charges, SEBI fees, stamp duty and GST.
//! - [`CostModel::Bps`] ([`FeeModel`]): basis points of the notional plus a flat
//!   amount per fill, for anything else.
//!
//! Every rate is a public field, so a configuration file can set each one; the defaults state
//! the date of the published rates they copy.

mod binance;
mod zerodha;

pub use binance::BinanceSpotFees;
pub use zerodha::{DatedRate, RoundTrip, ZerodhaCharges};

use super::FeeModel;
use rust_decimal::RoundingStrategy;
use serde::{Deserialize, Serialize};
use tradegraph_core::money::Money;
use tradegraph_core::order::{Charge, ChargeKind, Liquidity, OrderSide};
use tradegraph_core::{Currency, Decimal, Exchange, Instrument, Timestamp};

/// The `rates_as_of` of a Zerodha sheet whose rates were edited in the configuration without
/// saying when they were published: reports say "configured rates" instead of a date.
pub const CONFIGURED: &str = "configured";

/// How fills are charged: one of the tables above, chosen per venue.
///
/// ```
/// use tradegraph_broker::paper::CostModel;
/// use tradegraph_core::order::{ChargeKind, Liquidity, OrderSide};
/// use tradegraph_core::{Decimal, Exchange};
/// let nse = CostModel::for_exchange(Exchange::Nse);
/// // Selling one Bank Nifty lot (30) at 52 200: ₹1 566 000 of turnover.
/// let charges = nse.charges(OrderSide::Sell, Decimal::from(1_566_000), Liquidity::Taker).unwrap();
/// let stt = charges.iter().find(|c| c.kind == ChargeKind::Stt).unwrap();
/// assert_eq!(stt.amount, Decimal::from(783)); // 0.05% on the sell side
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum CostModel {
    /// Basis points (maker or taker) plus a flat amount per fill.
    Bps(FeeModel),
    /// Binance spot's maker/taker commission.
    BinanceSpot(BinanceSpotFees),
    /// Zerodha's charge sheet for NSE futures.
    ZerodhaFutures(ZerodhaCharges),
}

impl CostModel {
    /// The venue's own table for `instrument`, the one rule every default uses: Zerodha's
    /// futures sheet for an instrument on NSE or BSE or quoted in rupees, Binance spot's VIP 0
    /// otherwise.
    ///
    /// The Zerodha sheet is the **futures** one, whatever the instrument's segment: an NSE cash
    /// equity (STT 0.025% intraday, other exchange charges) or an option needs its own
    /// `[paper.fees]`.
    ///
    /// ```
    /// use tradegraph_broker::paper::CostModel;
    /// use tradegraph_core::Instrument;
    /// assert_eq!(CostModel::for_instrument(&Instrument::bank_nifty()).name(), "zerodha_futures");
    /// assert_eq!(CostModel::for_instrument(&Instrument::btc_usdt()).name(), "binance_spot");
    /// ```
    pub fn for_instrument(instrument: &Instrument) -> Self {
        let indian = matches!(instrument.exchange, Exchange::Nse | Exchange::Bse)
            || instrument.currency == Currency::Inr;
        if indian {
            Self::ZerodhaFutures(ZerodhaCharges::nse_futures())
        } else {
            Self::BinanceSpot(BinanceSpotFees::vip0())
        }
    }

    /// The venue's own table: Zerodha's futures sheet for NSE and BSE, Binance spot's otherwise
    /// (by exchange alone; [`for_instrument`](Self::for_instrument) also looks at the currency).
    pub fn for_exchange(exchange: Exchange) -> Self {
        match exchange {
            Exchange::Nse | Exchange::Bse => Self::ZerodhaFutures(ZerodhaCharges::nse_futures()),
            _ => Self::BinanceSpot(BinanceSpotFees::vip0()),
        }
    }

    /// No fees at all.
    pub fn zero() -> Self {
        Self::Bps(FeeModel::zero())
    }

    /// The model's name in files: `bps`, `binance_spot`, `zerodha_futures`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Bps(_) => "bps",
            Self::BinanceSpot(_) => "binance_spot",
            Self::ZerodhaFutures(_) => "zerodha_futures",
        }
    }

    /// The charges on one fill of `notional` (its absolute value is used) on `side`, by kind,
    /// leaving out the kinds that come to zero; `None` on overflow.
    pub fn charges(
        &self,
        side: OrderSide,
        notional: Money,
        liquidity: Liquidity,
    ) -> Option<Vec<Charge>> {
        let notional = notional.abs();
        let mut charges = match self {
            Self::Bps(model) => model.charges(notional, liquidity)?,
            Self::BinanceSpot(model) => model.charges(notional, liquidity)?,
            Self::ZerodhaFutures(model) => model.order_charges(side, notional)?,
        };
        charges.retain(|c| !c.amount.is_zero());
        Some(charges)
    }

    /// [`charges`](Self::charges) of a fill at `at`: the rates in force that day (the
    /// Zerodha sheet's STT has a history; the other models have one rate).
    pub fn charges_at(
        &self,
        side: OrderSide,
        notional: Money,
        liquidity: Liquidity,
        at: Timestamp,
    ) -> Option<Vec<Charge>> {
        match self {
            Self::ZerodhaFutures(model) => {
                let mut charges = model.order_charges_at(side, notional.abs(), at)?;
                charges.retain(|c| !c.amount.is_zero());
                Some(charges)
            }
            other => other.charges(side, notional, liquidity),
        }
    }

    /// [`fee`](Self::fee) of a fill at `at`: the rates in force that day.
    pub fn fee_at(
        &self,
        side: OrderSide,
        notional: Money,
        liquidity: Liquidity,
        at: Timestamp,
    ) -> Option<(Money, Vec<Charge>)> {
        let charges = self.charges_at(side, notional, liquidity, at)?;
        let total = total(&charges)?;
        Some((total, charges))
    }

    /// The total fee of one fill and its charges; `None` on overflow.
    pub fn fee(
        &self,
        side: OrderSide,
        notional: Money,
        liquidity: Liquidity,
    ) -> Option<(Money, Vec<Charge>)> {
        let charges = self.charges(side, notional, liquidity)?;
        let total = total(&charges)?;
        Some((total, charges))
    }

    /// Why it cannot work (a negative rate, a percentage past 100), if it cannot.
    pub fn problem(&self) -> Option<String> {
        match self {
            Self::Bps(model) => {
                let negative = [model.taker, model.maker]
                    .iter()
                    .any(|b| b.value() < Decimal::ZERO)
                    || model.flat_per_fill < Money::ZERO;
                negative.then(|| "fees cannot be negative".to_owned())
            }
            Self::BinanceSpot(model) => model.problem(),
            Self::ZerodhaFutures(model) => model.problem(),
        }
    }
}

impl Default for CostModel {
    fn default() -> Self {
        Self::BinanceSpot(BinanceSpotFees::vip0())
    }
}

impl From<FeeModel> for CostModel {
    fn from(model: FeeModel) -> Self {
        Self::Bps(model)
    }
}

impl From<BinanceSpotFees> for CostModel {
    fn from(model: BinanceSpotFees) -> Self {
        Self::BinanceSpot(model)
    }
}

impl From<ZerodhaCharges> for CostModel {
    fn from(model: ZerodhaCharges) -> Self {
        Self::ZerodhaFutures(model)
    }
}

/// The sum of `charges`, `None` on overflow.
pub fn total(charges: &[Charge]) -> Option<Money> {
    charges
        .iter()
        .try_fold(Money::ZERO, |sum, c| sum.checked_add(c.amount))
}

/// The charges of each kind in `charges`, summed, in the order of [`ChargeKind::ALL`] (kinds
/// absent left out): what a report shows as fees by kind. `None` on overflow.
///
/// ```
/// use tradegraph_broker::paper::costs::by_kind;
/// use tradegraph_core::order::{Charge, ChargeKind};
/// use tradegraph_core::Decimal;
/// let fills = [
///     Charge::new(ChargeKind::Brokerage, Decimal::from(20)),
///     Charge::new(ChargeKind::Stt, Decimal::from(783)),
///     Charge::new(ChargeKind::Brokerage, Decimal::from(20)),
/// ];
/// assert_eq!(
///     by_kind(fills.iter()),
///     Some(vec![(ChargeKind::Brokerage, Decimal::from(40)), (ChargeKind::Stt, Decimal::from(783))])
/// );
/// ```
pub fn by_kind<'a>(
    charges: impl IntoIterator<Item = &'a Charge>,
) -> Option<Vec<(ChargeKind, Money)>> {
    let mut sums = [Money::ZERO; ChargeKind::ALL.len()];
    let mut seen = [false; ChargeKind::ALL.len()];
    for charge in charges {
        let slot = ChargeKind::ALL.iter().position(|k| *k == charge.kind)?;
        sums[slot] = sums[slot].checked_add(charge.amount)?;
        seen[slot] = true;
    }
    Some(
        ChargeKind::ALL
            .iter()
            .zip(sums)
            .zip(seen)
            .filter(|(_, seen)| *seen)
            .map(|((kind, sum), _)| (*kind, sum))
            .collect(),
    )
}

/// `value` rounded to the nearest multiple of `step` (halves away from zero), as charge sheets
/// round; `value` itself for a step at or below zero. `None` on overflow.
pub(crate) fn round_to(value: Decimal, step: Decimal) -> Option<Decimal> {
    if step <= Decimal::ZERO {
        return Some(value);
    }
    let units = value
        .checked_div(step)?
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    units.checked_mul(step).map(|v| v.normalize())
}

/// `value` rounded to `dp` places, halves away from zero.
pub(crate) fn round_dp(value: Decimal, dp: u32) -> Decimal {
    value
        .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

#[cfg(test)]
mod tests;
