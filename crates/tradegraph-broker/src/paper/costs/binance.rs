//! Binance spot: maker/taker commission on the notional, optionally 25% less paid in BNB.

use rust_decimal::RoundingStrategy;
use serde::{Deserialize, Serialize};
use tradegraph_core::money::{Bps, Money};
use tradegraph_core::order::{Charge, ChargeKind, Liquidity};
use tradegraph_core::Decimal;

/// Binance spot's commission. The defaults ([`vip0`](Self::vip0)) are Binance's published
/// regular-user (VIP 0) spot rates as of 2026-12-05: 0.1000% maker, 0.1000% taker, and 25% off
/// when fees are paid in BNB (0.0750%). A paper account keeps every fee in the quote currency:
/// with `pay_in_bnb` the fee is the discounted amount's value, as if the BNB had been bought at
/// that price.
///
/// ```
/// use tradegraph_broker::paper::BinanceSpotFees;
/// use tradegraph_core::{order::Liquidity, Decimal};
/// let fees = BinanceSpotFees::vip0();
/// let notional = Decimal::from(30_000); // 0.5 BTC at 60 000
/// assert_eq!(fees.fee(notional, Liquidity::Taker), Some(Decimal::from(30)));
/// let bnb = BinanceSpotFees { pay_in_bnb: true, ..fees };
/// assert_eq!(bnb.fee(notional, Liquidity::Taker), Some(Decimal::new(225, 1)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BinanceSpotFees {
    /// Rate for fills of resting limit orders (VIP 0: 10 bp).
    pub maker: Bps,
    /// Rate for fills that take liquidity (VIP 0: 10 bp).
    pub taker: Bps,
    /// Whether fees are paid in BNB, at the discount below.
    pub pay_in_bnb: bool,
    /// The discount for paying in BNB, in percent (25).
    pub bnb_discount_pct: Decimal,
    /// Decimal places fees are rounded up to (8).
    pub decimals: u32,
}

impl BinanceSpotFees {
    /// Binance's regular-user spot rates: 0.1% maker and taker, fees not paid in BNB.
    pub fn vip0() -> Self {
        Self {
            maker: Bps::whole(10),
            taker: Bps::whole(10),
            pay_in_bnb: false,
            bnb_discount_pct: Decimal::from(25),
            decimals: 8,
        }
    }

    /// The rate a fill of `liquidity` pays, after the BNB discount when it applies.
    pub fn rate(&self, liquidity: Liquidity) -> Option<Decimal> {
        let rate = match liquidity {
            Liquidity::Maker => self.maker,
            Liquidity::Taker => self.taker,
        }
        .fraction();
        if !self.pay_in_bnb {
            return Some(rate);
        }
        let kept = Decimal::ONE_HUNDRED.checked_sub(self.bnb_discount_pct)?;
        rate.checked_mul(kept)?.checked_div(Decimal::ONE_HUNDRED)
    }

    /// The commission on a fill of `notional`, rounded up to `decimals` places; `None` on
    /// overflow.
    pub fn fee(&self, notional: Money, liquidity: Liquidity) -> Option<Money> {
        let fee = notional.abs().checked_mul(self.rate(liquidity)?)?;
        Some(
            fee.round_dp_with_strategy(self.decimals, RoundingStrategy::AwayFromZero)
                .normalize(),
        )
    }

    /// The fee as its one charge: commission.
    pub fn charges(&self, notional: Money, liquidity: Liquidity) -> Option<Vec<Charge>> {
        Some(vec![Charge::new(
            ChargeKind::Commission,
            self.fee(notional, liquidity)?,
        )])
    }

    /// Why it cannot work, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if self.maker.value() < Decimal::ZERO || self.taker.value() < Decimal::ZERO {
            return Some(format!(
                "binance_spot: maker {} and taker {} cannot be negative",
                self.maker, self.taker
            ));
        }
        if self.bnb_discount_pct < Decimal::ZERO || self.bnb_discount_pct > Decimal::ONE_HUNDRED {
            return Some(format!(
                "binance_spot: bnb_discount_pct {} must be between 0 and 100",
                self.bnb_discount_pct
            ));
        }
        None
    }
}

impl Default for BinanceSpotFees {
    fn default() -> Self {
        Self::vip0()
    }
}
