//! Slippage models: how far from the quoted price a taker fill lands.

use serde::{Deserialize, Serialize};
use tradegraph_core::money::{ceil_to_step, floor_to_step, Bps};
use tradegraph_core::order::OrderSide;
use tradegraph_core::{Decimal, Price, Quantity};

/// How much worse than the quote a taker fill (market, stop, trailing stop, marketable limit)
/// lands. The fill price is the base price moved against the order by the model's offset, then
/// rounded to the tick against the order too (a buy pays more, a sell gets less), never below
/// one tick. Resting limit orders fill at their limit, without slippage.
///
/// | model | offset |
/// |---|---|
/// | [`Bps`](Self::Bps) | `base × bp / 10 000` |
/// | [`Ticks`](Self::Ticks) | `ticks × tick size` |
/// | [`Spread`](Self::Spread) | `share × spread`, from the mid (`(bid + ask) / 2`) when the tick has a bid and an ask, and never better than the base; else from the last price with the spread `fallback_spread` bp of it |
/// | [`Volume`](Self::Volume) | `base × min(cap, impact × √(quantity / bar volume)) / 10 000`; `cap` when the volume is unknown or zero |
///
/// The volume model is the square-root law of market impact: an order of 1% of the bar's volume
/// moves the price `impact / 10`, one of 100% moves it `impact`. The bar is the candle the fill
/// happens in; a next-open fill (placed at a bar's close, filled at the next bar's open) uses the
/// last closed bar's volume instead, since the bar it fills in has not traded its volume yet.
///
/// ```
/// use tradegraph_broker::paper::SlippageModel;
/// use tradegraph_core::{money::Bps, order::OrderSide, Decimal};
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// let ticks = SlippageModel::Ticks { ticks: 2 };
/// let fill = ticks.fill_price(OrderSide::Buy, d("100"), None, d("1"), None, d("0.05")).unwrap();
/// assert_eq!(fill, d("100.10"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum SlippageModel {
    /// A fixed share of the price, in basis points.
    Bps {
        /// The share.
        bps: Bps,
    },
    /// A fixed number of ticks.
    Ticks {
        /// How many.
        ticks: u32,
    },
    /// A share of the bid-ask spread.
    Spread {
        /// The share of the spread paid (0.5: half the spread, the mid to the touch).
        share: Decimal,
        /// The spread assumed, in bp of the price, when the price event has no bid and ask
        /// (bars, trades).
        fallback_spread: Bps,
    },
    /// Impact that grows with the order's share of the bar's volume (square root).
    Volume {
        /// The impact of an order as large as the bar's whole volume, in bp.
        impact: Bps,
        /// The most it can be, in bp (also used when the volume is unknown).
        cap: Bps,
    },
}

impl Default for SlippageModel {
    fn default() -> Self {
        Self::Bps { bps: Bps::whole(2) }
    }
}

impl From<Bps> for SlippageModel {
    fn from(bps: Bps) -> Self {
        Self::Bps { bps }
    }
}

impl SlippageModel {
    /// The model's name in files: `bps`, `ticks`, `spread`, `volume`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Bps { .. } => "bps",
            Self::Ticks { .. } => "ticks",
            Self::Spread { .. } => "spread",
            Self::Volume { .. } => "volume",
        }
    }

    /// The price a taker fill of `quantity` on `side` gets, from the base price `base` (the
    /// touch, a stop's trigger), the quote's `bid` and `ask` when known (`quote`), the volume of
    /// the bar known when it fills (`bar_volume`: the bar it fills in, or the last closed bar for
    /// a next-open fill) and the instrument's `tick`. `None` on overflow.
    pub fn fill_price(
        &self,
        side: OrderSide,
        base: Price,
        quote: Option<(Price, Price)>,
        quantity: Quantity,
        bar_volume: Option<Quantity>,
        tick: Price,
    ) -> Option<Price> {
        let (from, offset) = match self {
            Self::Bps { bps } => (base, bps.of(base)?),
            Self::Ticks { ticks } => (base, tick.checked_mul(Decimal::from(*ticks))?),
            Self::Spread {
                share,
                fallback_spread,
            } => match quote {
                Some((bid, ask)) if ask >= bid => {
                    let mid = bid.checked_add(ask)?.checked_div(Decimal::TWO)?;
                    (mid, ask.checked_sub(bid)?.checked_mul(*share)?)
                }
                _ => (base, fallback_spread.of(base)?.checked_mul(*share)?),
            },
            Self::Volume { impact, cap } => (
                base,
                Self::impact(*impact, *cap, quantity, bar_volume).of(base)?,
            ),
        };
        let moved = match side {
            OrderSide::Buy => from.checked_add(offset)?,
            OrderSide::Sell => from.checked_sub(offset)?,
        };
        // Priced from a quote's mid, a taker fill is still never better than its base (the
        // touch, or a stop's trigger or the worse price it gapped to).
        let moved = match (self, side) {
            (Self::Spread { .. }, OrderSide::Buy) => moved.max(base),
            (Self::Spread { .. }, OrderSide::Sell) => moved.min(base),
            _ => moved,
        };
        let rounded = match side {
            OrderSide::Buy => ceil_to_step(moved, tick)?,
            OrderSide::Sell => floor_to_step(moved, tick),
        };
        Some(rounded.max(tick))
    }

    /// The volume model's impact in bp: `min(cap, impact × √(quantity / volume))`.
    fn impact(impact: Bps, cap: Bps, quantity: Quantity, volume: Option<Quantity>) -> Bps {
        let Some(volume) = volume.filter(|v| *v > Decimal::ZERO) else {
            return cap;
        };
        let share = quantity.abs().checked_div(volume).unwrap_or(Decimal::MAX);
        let root = sqrt(share);
        let bps = impact.value().checked_mul(root).unwrap_or(Decimal::MAX);
        Bps::new(bps.min(cap.value()))
    }

    /// Why it cannot work (a negative or absurd setting), if it cannot.
    pub fn problem(&self) -> Option<String> {
        let hundred_pct = Decimal::from(10_000);
        match self {
            Self::Bps { bps } if bps.value() < Decimal::ZERO || bps.value() >= hundred_pct => {
                Some(format!("slippage {bps} must be at least 0 and below 100%"))
            }
            Self::Spread {
                share,
                fallback_spread,
            } if *share < Decimal::ZERO
                || fallback_spread.value() < Decimal::ZERO
                || fallback_spread.value() >= hundred_pct =>
            {
                Some(format!(
                    "spread slippage: share {share} and fallback spread {fallback_spread} must not be negative (and the spread below 100%)"
                ))
            }
            Self::Volume { impact, cap }
                if impact.value() < Decimal::ZERO
                    || cap.value() < Decimal::ZERO
                    || cap.value() >= hundred_pct =>
            {
                Some(format!(
                    "volume slippage: impact {impact} and cap {cap} must not be negative (and the cap below 100%)"
                ))
            }
            _ => None,
        }
    }
}

/// The square root of a non-negative decimal (Newton's method, to about 20 significant
/// digits), 0 for anything at or below zero.
fn sqrt(x: Decimal) -> Decimal {
    if x <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    let mut guess = if x > Decimal::ONE {
        x / Decimal::TWO
    } else {
        Decimal::ONE
    };
    for _ in 0..100 {
        let Some(next) = x
            .checked_div(guess)
            .and_then(|q| guess.checked_add(q))
            .and_then(|s| s.checked_div(Decimal::TWO))
        else {
            return guess;
        };
        if (next - guess).abs() <= Decimal::new(1, 20) {
            return next;
        }
        guess = next;
    }
    guess
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn bps_moves_the_price_against_the_order_and_rounds_to_the_tick_against_it() {
        let model = SlippageModel::from(Bps::whole(2));
        // 2 bp of 40 000 is 8: a buy pays 40 008, a sell gets 39 992 (tick 0.01).
        let buy = model.fill_price(OrderSide::Buy, d("40000"), None, d("1"), None, d("0.01"));
        let sell = model.fill_price(OrderSide::Sell, d("40000"), None, d("1"), None, d("0.01"));
        assert_eq!((buy, sell), (Some(d("40008")), Some(d("39992"))));
        // 2 bp of 50 000.25 is 10.00005: rounded to the 0.05 tick against the order.
        let buy = model.fill_price(OrderSide::Buy, d("50000.25"), None, d("1"), None, d("0.05"));
        let sell = model.fill_price(
            OrderSide::Sell,
            d("50000.25"),
            None,
            d("1"),
            None,
            d("0.05"),
        );
        assert_eq!((buy, sell), (Some(d("50010.30")), Some(d("49990.20"))));
    }

    #[test]
    fn ticks_move_a_whole_number_of_ticks() {
        let model = SlippageModel::Ticks { ticks: 3 };
        let buy = model.fill_price(OrderSide::Buy, d("52000"), None, d("30"), None, d("0.05"));
        let sell = model.fill_price(OrderSide::Sell, d("52000"), None, d("30"), None, d("0.05"));
        assert_eq!((buy, sell), (Some(d("52000.15")), Some(d("51999.85"))));
    }

    #[test]
    fn spread_share_prices_from_the_mid_of_the_quote_or_a_configured_spread() {
        let model = SlippageModel::Spread {
            share: d("0.5"),
            fallback_spread: Bps::whole(4),
        };
        // Bid 99.90, ask 100.10: mid 100, half the 0.20 spread is 0.10.
        let quote = Some((d("99.90"), d("100.10")));
        let buy = model.fill_price(OrderSide::Buy, d("100.10"), quote, d("1"), None, d("0.01"));
        let sell = model.fill_price(OrderSide::Sell, d("99.90"), quote, d("1"), None, d("0.01"));
        assert_eq!((buy, sell), (Some(d("100.10")), Some(d("99.90"))));
        // A whole spread from the mid: 0.20 past it.
        let whole = SlippageModel::Spread {
            share: Decimal::ONE,
            fallback_spread: Bps::whole(4),
        };
        let buy = whole.fill_price(OrderSide::Buy, d("100.10"), quote, d("1"), None, d("0.01"));
        assert_eq!(buy, Some(d("100.20")));
        // A sell stop triggered at 99.50 (the quote not yet caught up): never better than that.
        let stop = model.fill_price(OrderSide::Sell, d("99.50"), quote, d("1"), None, d("0.01"));
        assert_eq!(stop, Some(d("99.50")));
        let stop = model.fill_price(OrderSide::Buy, d("100.40"), quote, d("1"), None, d("0.01"));
        assert_eq!(stop, Some(d("100.40")));
        // A small share stays at the touch, not inside the spread.
        let inside = SlippageModel::Spread {
            share: d("0.1"),
            fallback_spread: Bps::whole(4),
        };
        let buy = inside.fill_price(OrderSide::Buy, d("100.10"), quote, d("1"), None, d("0.01"));
        assert_eq!(buy, Some(d("100.10")));
        // A bar: no quote, so 4 bp of 40 000 is a 16 spread, half of it is 8.
        let bar = model.fill_price(OrderSide::Buy, d("40000"), None, d("1"), None, d("0.01"));
        assert_eq!(bar, Some(d("40008")));
    }

    #[test]
    fn volume_impact_grows_with_the_square_root_of_the_share_of_the_bar() {
        let model = SlippageModel::Volume {
            impact: Bps::whole(100),
            cap: Bps::whole(50),
        };
        let at = |qty: &str, volume: Option<&str>| {
            model
                .fill_price(
                    OrderSide::Buy,
                    d("10000"),
                    None,
                    d(qty),
                    volume.map(d),
                    d("0.01"),
                )
                .unwrap()
        };
        // 1% of the bar: 100 bp × √0.01 = 10 bp of 10 000 = 10.
        assert_eq!(at("1", Some("100")), d("10010"));
        // 4% of the bar: 100 bp × 0.2 = 20 bp = 20.
        assert_eq!(at("4", Some("100")), d("10020"));
        // 100% would be 100 bp: capped at 50 bp = 50.
        assert_eq!(at("100", Some("100")), d("10050"));
        // Volume unknown or zero: the cap.
        assert_eq!(at("1", None), d("10050"));
        assert_eq!(at("1", Some("0")), d("10050"));
        // Larger orders never slip less.
        assert!(at("9", Some("100")) > at("4", Some("100")));
    }

    #[test]
    fn the_square_root_is_exact_on_squares() {
        for (x, root) in [
            ("0.01", "0.1"),
            ("0.25", "0.5"),
            ("4", "2"),
            ("1", "1"),
            ("0", "0"),
        ] {
            assert_eq!(sqrt(d(x)).round_dp(12), d(root).round_dp(12), "√{x}");
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let negative = SlippageModel::Ticks { ticks: 0 };
        assert_eq!(negative.problem(), None);
        let spread = SlippageModel::Spread {
            share: d("-0.5"),
            fallback_spread: Bps::whole(4),
        };
        assert!(spread.problem().unwrap().contains("share -0.5"));
        let volume = SlippageModel::Volume {
            impact: Bps::whole(10),
            cap: Bps::whole(10_000),
        };
        assert!(volume.problem().unwrap().contains("cap"));
    }
}
