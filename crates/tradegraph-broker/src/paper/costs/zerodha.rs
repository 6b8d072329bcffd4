//! Zerodha's charge sheet for NSE index futures.

use super::{round_dp, round_to, total};
use serde::{Deserialize, Serialize};
use tradegraph_core::money::{Bps, Money};
use tradegraph_core::order::{Charge, ChargeKind, OrderSide};
use tradegraph_core::{Decimal, Price, Quantity, Timestamp};

/// Rupees in a crore: SEBI's fee is published per crore of turnover.
const CRORE: i64 = 10_000_000;

/// Zerodha's charges on NSE futures, per executed order.
///
/// The defaults ([`nse_futures`](Self::nse_futures)) are the rates on Zerodha's charges page
/// (zerodha.com/charges, "F&O - Futures") in force from 2026-04-01, when the Finance Act 2026
/// raised STT on futures from 0.02% to 0.05%; looked up on 2026-12-05:
///
/// | charge | rate | side |
/// |---|---|---|
/// | brokerage | 0.03% or ₹20 per executed order, whichever is lower | both |
/// | STT | 0.05% (0.02% before 2026-04-01, 0.0125% before 2024-10-01: [`stt_sell_before`](Self::stt_sell_before)) | sell |
/// | exchange transaction charges | NSE 0.00183% of the turnover | both |
/// | SEBI fees | ₹10 per crore of turnover | both |
/// | stamp duty | 0.002% (₹200 per crore) | buy |
/// | GST | 18% of brokerage + exchange transaction charges + SEBI fees | both |
///
/// These are the published rates with our rounding, not figures taken from Zerodha's brokerage
/// calculator: every charge to the paisa, STT then to the rupee. That is the calculator's method
/// as public copies of its script show it (`Math.round` on STT, `toFixed(2)` on stamp duty:
/// `cal_futures` in github.com/shiveshnavin/stocksmate `brokerage.js`; STT to the rupee also on
/// tradingqna.com/t/stt-tax-in-zerodha-brokerage-calculator/88483); no source was found for
/// rounding stamp duty to the rupee, so it stays to the paisa. Rates change (budgets, exchange
/// circulars): every one is a field.
///
/// ```
/// use tradegraph_broker::paper::ZerodhaCharges;
/// use tradegraph_core::Decimal;
/// // One Bank Nifty lot (30) bought at 52 000 and sold at 52 200.
/// let trip = ZerodhaCharges::nse_futures()
///     .round_trip(Decimal::from(52_000), Decimal::from(52_200), Decimal::from(30))
///     .unwrap();
/// assert_eq!(trip.total, "932.60".parse::<Decimal>().unwrap());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZerodhaCharges {
    /// Brokerage as a share of the order's value (3 bp: 0.03%) ...
    pub brokerage_rate: Bps,
    /// ... capped at this much per executed order (₹20).
    pub brokerage_cap: Money,
    /// Securities transaction tax on the sell side (5 bp: 0.05%), in force from the last
    /// change in [`stt_sell_before`](Self::stt_sell_before).
    pub stt_sell: Bps,
    /// The STT rates in force before: each applies to the sells of the trading days (India)
    /// before its `until` and on or after the previous one's, oldest first. Unset, the
    /// published history when `stt_sell` is the published rate
    /// ([`published_stt_history`](Self::published_stt_history): 0.0125% before 2024-10-01,
    /// when Finance Act 2024 raised it to 0.02%, 0.02% until 2026-04-01), so a backtest of
    /// 2025 pays 2025's STT; and none when `stt_sell` was set to another rate, which is then
    /// the STT of every date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stt_sell_before: Option<Vec<DatedRate>>,
    /// The exchange's transaction charges on the turnover (0.183 bp: 0.00183%).
    pub exchange_transaction: Bps,
    /// SEBI's turnover fee per crore (₹10).
    pub sebi_per_crore: Money,
    /// Stamp duty on the buy side (0.2 bp: 0.002%).
    pub stamp_duty_buy: Bps,
    /// GST in percent (18) of brokerage, exchange transaction charges and SEBI fees.
    pub gst_pct: Decimal,
    /// STT is rounded to a multiple of this (₹1).
    pub stt_rounding: Money,
    /// Stamp duty is rounded to a multiple of this (₹0.01: the paisa).
    pub stamp_duty_rounding: Money,
    /// When the rates were published, for reports.
    pub rates_as_of: String,
}

/// A rate in force until a day (exclusive): the sells of earlier trading days pay it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedRate {
    /// The first trading day (India, `YYYY-MM-DD`) it no longer applies to.
    pub until: String,
    /// The rate.
    pub rate: Bps,
}

/// A buy and a sell of the same quantity charged on the trade's whole turnover, the way Zerodha's
/// brokerage calculator lays them out (exchange charges, SEBI fees and GST on the turnover), at
/// the sheet's rates with our rounding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoundTrip {
    /// Buy value plus sell value.
    pub turnover: Money,
    /// Brokerage of both orders.
    pub brokerage: Money,
    /// STT (sell side).
    pub stt: Money,
    /// Exchange transaction charges.
    pub exchange_transaction: Money,
    /// SEBI fees.
    pub sebi_fee: Money,
    /// Stamp duty (buy side).
    pub stamp_duty: Money,
    /// GST.
    pub gst: Money,
    /// Everything.
    pub total: Money,
}

impl ZerodhaCharges {
    /// Zerodha's NSE futures rates in force from 2026-04-01 (see the table above).
    pub fn nse_futures() -> Self {
        Self {
            brokerage_rate: Bps::whole(3),
            brokerage_cap: Decimal::from(20),
            stt_sell: Self::published_stt(),
            stt_sell_before: None,
            exchange_transaction: Bps::new(Decimal::new(183, 3)),
            sebi_per_crore: Decimal::from(10),
            stamp_duty_buy: Bps::new(Decimal::new(2, 1)),
            gst_pct: Decimal::from(18),
            stt_rounding: Decimal::ONE,
            stamp_duty_rounding: Decimal::new(1, 2),
            rates_as_of: "2026-04-01".to_owned(),
        }
    }

    /// The brokerage of one order of `value`: the rate, to the paisa, at most the cap.
    fn brokerage(&self, value: Money) -> Option<Money> {
        let fee = round_dp(self.brokerage_rate.of(value)?, 2);
        Some(fee.min(self.brokerage_cap))
    }

    /// SEBI's fee on `turnover`, to the paisa.
    fn sebi(&self, turnover: Money) -> Option<Money> {
        let fee = turnover
            .checked_mul(self.sebi_per_crore)?
            .checked_div(Decimal::from(CRORE))?;
        Some(round_dp(fee, 2))
    }

    /// GST on the taxable charges, to the paisa.
    fn gst(&self, taxable: Money) -> Option<Money> {
        let gst = taxable
            .checked_mul(self.gst_pct)?
            .checked_div(Decimal::ONE_HUNDRED)?;
        Some(round_dp(gst, 2))
    }

    /// The published STT rate on futures sells in force from 2026-04-01 (5 bp).
    fn published_stt() -> Bps {
        Bps::whole(5)
    }

    /// The published STT rates on futures sells before the one in force from 2026-04-01
    /// (5 bp): 1.25 bp before 2024-10-01, 2 bp until 2026-04-01.
    pub fn published_stt_history() -> Vec<DatedRate> {
        vec![
            DatedRate {
                until: "2024-10-01".to_owned(),
                rate: Bps::new(Decimal::new(125, 2)),
            },
            DatedRate {
                until: "2026-04-01".to_owned(),
                rate: Bps::whole(2),
            },
        ]
    }

    /// The STT rate on the sells of the trading day (India) of `at`: the one in force then.
    pub fn stt_sell_at(&self, at: Timestamp) -> Bps {
        let day = at.in_india().format("%Y-%m-%d").to_string();
        let earlier = |history: &[DatedRate]| {
            history
                .iter()
                .find(|r| day.as_str() < r.until.as_str())
                .map(|r| r.rate)
        };
        let rate = match &self.stt_sell_before {
            Some(history) => earlier(history),
            None if self.stt_sell == Self::published_stt() => {
                earlier(&Self::published_stt_history())
            }
            None => None,
        };
        rate.unwrap_or(self.stt_sell)
    }

    /// The charges on one executed order of `value` on `side`, by kind, at the rates in force
    /// now ([`stt_sell`](Self::stt_sell)).
    pub fn order_charges(&self, side: OrderSide, value: Money) -> Option<Vec<Charge>> {
        self.order_charges_with(side, value, self.stt_sell)
    }

    /// [`order_charges`](Self::order_charges) of an order executed at `at`: the STT in force
    /// that day.
    pub fn order_charges_at(
        &self,
        side: OrderSide,
        value: Money,
        at: Timestamp,
    ) -> Option<Vec<Charge>> {
        self.order_charges_with(side, value, self.stt_sell_at(at))
    }

    fn order_charges_with(
        &self,
        side: OrderSide,
        value: Money,
        stt_sell: Bps,
    ) -> Option<Vec<Charge>> {
        let value = value.abs();
        let brokerage = self.brokerage(value)?;
        let exchange = round_dp(self.exchange_transaction.of(value)?, 2);
        let sebi = self.sebi(value)?;
        let gst = self.gst(brokerage.checked_add(exchange)?.checked_add(sebi)?)?;
        let (stt, stamp) = match side {
            OrderSide::Sell => {
                let stt = round_dp(stt_sell.of(value)?, 2);
                (round_to(stt, self.stt_rounding)?, Money::ZERO)
            }
            OrderSide::Buy => {
                let stamp = round_dp(self.stamp_duty_buy.of(value)?, 2);
                (Money::ZERO, round_to(stamp, self.stamp_duty_rounding)?)
            }
        };
        Some(vec![
            Charge::new(ChargeKind::Brokerage, brokerage),
            Charge::new(ChargeKind::Stt, stt),
            Charge::new(ChargeKind::ExchangeTransaction, exchange),
            Charge::new(ChargeKind::SebiFee, sebi),
            Charge::new(ChargeKind::StampDuty, stamp),
            Charge::new(ChargeKind::Gst, gst),
        ])
    }

    /// A buy at `buy` and a sell at `sell` of `quantity`, charged on their whole turnover as the
    /// brokerage calculator lays them out. Charging the two orders one by one ([`order_charges`](Self::order_charges), what
    /// the paper broker does) can differ from this by a paisa per charge rounded on the
    /// turnover (exchange charges, SEBI fees, GST). `None` on overflow.
    pub fn round_trip(&self, buy: Price, sell: Price, quantity: Quantity) -> Option<RoundTrip> {
        let buy_value = buy.checked_mul(quantity)?.abs();
        let sell_value = sell.checked_mul(quantity)?.abs();
        let turnover = round_dp(buy_value.checked_add(sell_value)?, 2);
        let brokerage = round_dp(
            self.brokerage(buy_value)?
                .checked_add(self.brokerage(sell_value)?)?,
            2,
        );
        let stt = round_to(
            round_dp(self.stt_sell.of(sell_value)?, 2),
            self.stt_rounding,
        )?;
        let exchange_transaction = round_dp(self.exchange_transaction.of(turnover)?, 2);
        let sebi_fee = self.sebi(turnover)?;
        let gst = self.gst(
            brokerage
                .checked_add(exchange_transaction)?
                .checked_add(sebi_fee)?,
        )?;
        let stamp_duty = round_to(
            round_dp(self.stamp_duty_buy.of(buy_value)?, 2),
            self.stamp_duty_rounding,
        )?;
        let parts = [
            Charge::new(ChargeKind::Brokerage, brokerage),
            Charge::new(ChargeKind::Stt, stt),
            Charge::new(ChargeKind::ExchangeTransaction, exchange_transaction),
            Charge::new(ChargeKind::SebiFee, sebi_fee),
            Charge::new(ChargeKind::StampDuty, stamp_duty),
            Charge::new(ChargeKind::Gst, gst),
        ];
        Some(RoundTrip {
            turnover,
            brokerage,
            stt,
            exchange_transaction,
            sebi_fee,
            stamp_duty,
            gst,
            total: total(&parts)?,
        })
    }

    /// Why it cannot work, if it cannot.
    pub fn problem(&self) -> Option<String> {
        let rates = [
            ("brokerage_rate", self.brokerage_rate.value()),
            ("brokerage_cap", self.brokerage_cap),
            ("stt_sell", self.stt_sell.value()),
            ("exchange_transaction", self.exchange_transaction.value()),
            ("sebi_per_crore", self.sebi_per_crore),
            ("stamp_duty_buy", self.stamp_duty_buy.value()),
            ("gst_pct", self.gst_pct),
            ("stt_rounding", self.stt_rounding),
            ("stamp_duty_rounding", self.stamp_duty_rounding),
        ];
        if let Some((name, value)) = rates.iter().find(|(_, v)| *v < Decimal::ZERO) {
            return Some(format!(
                "zerodha_futures: {name} {value} cannot be negative"
            ));
        }
        let mut previous: Option<&str> = None;
        for (i, r) in self.stt_sell_before.iter().flatten().enumerate() {
            let is_day = r.until.len() == 10
                && format!("{}T00:00:00Z", r.until)
                    .parse::<Timestamp>()
                    .is_ok();
            if !is_day {
                return Some(format!(
                    "zerodha_futures: stt_sell_before[{i}].until {:?} is not a date (YYYY-MM-DD)",
                    r.until
                ));
            }
            if r.rate.value() < Decimal::ZERO {
                return Some(format!(
                    "zerodha_futures: stt_sell_before[{i}].rate {} cannot be negative",
                    r.rate.value()
                ));
            }
            if previous.is_some_and(|p| p >= r.until.as_str()) {
                return Some(format!(
                    "zerodha_futures: stt_sell_before[{i}].until {} is not after the one before it: oldest first",
                    r.until
                ));
            }
            previous = Some(&r.until);
        }
        (self.gst_pct > Decimal::ONE_HUNDRED)
            .then(|| format!("zerodha_futures: gst_pct {} is above 100", self.gst_pct))
    }
}

impl Default for ZerodhaCharges {
    fn default() -> Self {
        Self::nse_futures()
    }
}
