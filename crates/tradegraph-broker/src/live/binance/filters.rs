//! The symbol's trading rules from `exchangeInfo` and the check every order passes before it is
//! sent: pure functions, no I/O.
//!
//! Quantities are rounded down to the lot step (an order never grows); prices are rounded to the
//! tick toward the side that does not make the order worse for us (a buy limit down, a sell
//! limit up; a sell stop up and a buy stop down, so a protective stop fires no later than asked).
//! What cannot be made to pass by such rounding is refused with a [`FilterRefusal`] naming the
//! filter and the numbers.

use rust_decimal::Decimal;
use std::fmt;
use tradegraph_core::money::{ceil_to_step, floor_to_step, is_multiple_of};
use tradegraph_core::order::OrderSide;

/// `PRICE_FILTER`: bounds and tick of prices (a zero bound or tick is not checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PriceFilter {
    /// `minPrice`.
    pub min: Decimal,
    /// `maxPrice`.
    pub max: Decimal,
    /// `tickSize`.
    pub tick: Decimal,
}

/// `LOT_SIZE` or `MARKET_LOT_SIZE`: bounds and step of quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LotFilter {
    /// `minQty`.
    pub min: Decimal,
    /// `maxQty`.
    pub max: Decimal,
    /// `stepSize`.
    pub step: Decimal,
}

/// `NOTIONAL` (or the older `MIN_NOTIONAL`): bounds of `price × quantity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NotionalFilter {
    /// `minNotional`.
    pub min: Decimal,
    /// `maxNotional` (`None` for `MIN_NOTIONAL`, which has none).
    pub max: Option<Decimal>,
    /// Whether the minimum applies to market orders.
    pub min_to_market: bool,
    /// Whether the maximum applies to market orders.
    pub max_to_market: bool,
    /// `NOTIONAL` or `MIN_NOTIONAL`: the name the refusal gives.
    pub name: &'static str,
}

/// `PERCENT_PRICE_BY_SIDE`: a price must lie within multipliers of the average price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PercentPriceBySide {
    /// `bidMultiplierUp`.
    pub bid_up: Decimal,
    /// `bidMultiplierDown`.
    pub bid_down: Decimal,
    /// `askMultiplierUp`.
    pub ask_up: Decimal,
    /// `askMultiplierDown`.
    pub ask_down: Decimal,
}

/// `TRAILING_DELTA`: bounds of `trailingDelta` (BIPS). "Above" applies to orders whose trigger
/// lies above the market (`STOP_LOSS`/`STOP_LOSS_LIMIT` BUY, `TAKE_PROFIT`/`TAKE_PROFIT_LIMIT`
/// SELL), "below" to those whose trigger lies below it (`STOP_LOSS*` SELL, `TAKE_PROFIT*` BUY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrailingDeltaFilter {
    /// `minTrailingAboveDelta`.
    pub min_above: u32,
    /// `maxTrailingAboveDelta`.
    pub max_above: u32,
    /// `minTrailingBelowDelta`.
    pub min_below: u32,
    /// `maxTrailingBelowDelta`.
    pub max_below: u32,
}

impl TrailingDeltaFilter {
    /// Checks a trailing order's `trailingDelta` (BIPS): `stop_loss` is true for `STOP_LOSS*`
    /// types, false for `TAKE_PROFIT*`. The refusal names the filter, the bound and the numbers.
    ///
    /// ```
    /// use tradegraph_broker::live::binance::filters::TrailingDeltaFilter;
    /// use tradegraph_core::order::OrderSide;
    /// let f = TrailingDeltaFilter { min_above: 10, max_above: 2000, min_below: 10, max_below: 2000 };
    /// assert!(f.check(OrderSide::Sell, true, 200).is_ok());
    /// let refusal = f.check(OrderSide::Sell, true, 2500).unwrap_err();
    /// assert_eq!(refusal.filter, "TRAILING_DELTA");
    /// assert!(refusal.detail.contains("maxTrailingBelowDelta 2000"));
    /// ```
    pub fn check(&self, side: OrderSide, stop_loss: bool, bips: u32) -> Result<(), FilterRefusal> {
        const NAME: &str = "TRAILING_DELTA";
        let above = (side == OrderSide::Buy) == stop_loss;
        let (min, max, which) = if above {
            (self.min_above, self.max_above, "Above")
        } else {
            (self.min_below, self.max_below, "Below")
        };
        if bips < min {
            return Err(refuse(
                NAME,
                format!("trailingDelta {bips} BIPS is below minTrailing{which}Delta {min}"),
            ));
        }
        if bips > max {
            return Err(refuse(
                NAME,
                format!("trailingDelta {bips} BIPS is above maxTrailing{which}Delta {max}"),
            ));
        }
        Ok(())
    }
}

/// A symbol's rules: its assets, the order types it takes and its filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SymbolRules {
    /// The symbol (`BTCUSDT`).
    pub symbol: String,
    /// The base asset (`BTC`).
    pub base_asset: String,
    /// The quote asset (`USDT`).
    pub quote_asset: String,
    /// The order types the symbol takes (`MARKET`, `LIMIT`, `STOP_LOSS`, ...).
    pub order_types: Vec<String>,
    /// Whether OCO order lists are allowed.
    pub oco_allowed: bool,
    /// Whether `trailingDelta` is allowed.
    pub trailing_allowed: bool,
    /// `PRICE_FILTER`.
    pub price: Option<PriceFilter>,
    /// `LOT_SIZE`.
    pub lot: Option<LotFilter>,
    /// `MARKET_LOT_SIZE` (a zero step means "use LOT_SIZE's").
    pub market_lot: Option<LotFilter>,
    /// `NOTIONAL` or `MIN_NOTIONAL`.
    pub notional: Option<NotionalFilter>,
    /// `PERCENT_PRICE_BY_SIDE`.
    pub percent_price: Option<PercentPriceBySide>,
    /// `TRAILING_DELTA`.
    pub trailing_delta: Option<TrailingDeltaFilter>,
}

/// An order as the filters see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Buy or sell.
    pub side: OrderSide,
    /// Whether it is a market order (`MARKET_LOT_SIZE` and the market flags of `NOTIONAL`).
    pub market: bool,
    /// The quantity asked for.
    pub quantity: Decimal,
    /// The limit price, if any.
    pub price: Option<Decimal>,
    /// The stop (trigger) price, if any.
    pub stop_price: Option<Decimal>,
    /// The reference price for notional and percent checks (the last price), if known.
    pub reference: Option<Decimal>,
}

/// The order after the filters: quantity and prices on the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// The quantity, rounded down to the step.
    pub quantity: Decimal,
    /// The limit price on the tick.
    pub price: Option<Decimal>,
    /// The stop price on the tick.
    pub stop_price: Option<Decimal>,
}

/// Why the filters refuse an order: the filter's name and what failed, with the numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterRefusal {
    /// The Binance filter (`LOT_SIZE`, `PRICE_FILTER`, `NOTIONAL`, ...).
    pub filter: &'static str,
    /// What failed, with the numbers.
    pub detail: String,
}

impl fmt::Display for FilterRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter {} failed: {}", self.filter, self.detail)
    }
}

impl std::error::Error for FilterRefusal {}

fn refuse(filter: &'static str, detail: String) -> FilterRefusal {
    FilterRefusal { filter, detail }
}

/// `value` on the grid `min + k × step`, rounded down (or up when `up`); `None` on overflow.
fn to_grid(value: Decimal, min: Decimal, step: Decimal, up: bool) -> Option<Decimal> {
    // Below the grid's start there is nothing to round to: the bound check refuses it.
    if step <= Decimal::ZERO || value < min {
        return Some(value);
    }
    let offset = value.checked_sub(min)?;
    let rounded = if up {
        ceil_to_step(offset, step)?
    } else {
        floor_to_step(offset, step)
    };
    rounded.checked_add(min).map(|v| v.normalize())
}

impl SymbolRules {
    /// Checks `order` against every filter, rounding where that is safe.
    ///
    /// ```
    /// use tradegraph_broker::live::binance::filters::{Candidate, LotFilter, SymbolRules};
    /// use tradegraph_core::{order::OrderSide, Decimal};
    /// let rules = SymbolRules {
    ///     lot: Some(LotFilter { min: Decimal::new(1, 5), max: Decimal::from(9000), step: Decimal::new(1, 5) }),
    ///     ..SymbolRules::default()
    /// };
    /// let order = Candidate { side: OrderSide::Buy, market: true, quantity: Decimal::new(123_456, 8),
    ///     price: None, stop_price: None, reference: None };
    /// assert_eq!(rules.check(&order)?.quantity, Decimal::new(123, 5)); // 0.00123456 -> 0.00123
    /// let dust = Candidate { quantity: Decimal::new(1, 6), ..order };
    /// assert_eq!(rules.check(&dust).unwrap_err().filter, "LOT_SIZE");
    /// # Ok::<(), tradegraph_broker::live::binance::filters::FilterRefusal>(())
    /// ```
    pub fn check(&self, order: &Candidate) -> Result<Checked, FilterRefusal> {
        let quantity = self.check_quantity(order)?;
        let price = order
            .price
            .map(|p| self.check_price(p, order.side == OrderSide::Sell, "price"))
            .transpose()?;
        // A sell stop (below the market) is rounded up, a buy stop down: it fires no later.
        let stop_price = order
            .stop_price
            .map(|p| self.check_price(p, order.side == OrderSide::Sell, "stopPrice"))
            .transpose()?;
        let at = price.or(stop_price).or(order.reference);
        if let Some(at) = at {
            self.check_notional(order.market, quantity, at)?;
        }
        if let (Some(pps), Some(reference)) = (self.percent_price, order.reference) {
            if let Some(p) = price {
                check_percent(&pps, order.side, p, reference)?;
            }
        }
        Ok(Checked {
            quantity,
            price,
            stop_price,
        })
    }

    fn check_quantity(&self, order: &Candidate) -> Result<Decimal, FilterRefusal> {
        // LOT_SIZE applies to every order; MARKET_LOT_SIZE as well to market orders (its zero
        // step or bounds are not checked).
        let mut q = order.quantity;
        if let Some(lot) = self.lot {
            q = lot_check("LOT_SIZE", lot, q)?;
        }
        if let (true, Some(m)) = (order.market, self.market_lot) {
            q = lot_check("MARKET_LOT_SIZE", m, q)?;
        }
        if q <= Decimal::ZERO {
            return Err(refuse("LOT_SIZE", format!("quantity {q} is not positive")));
        }
        Ok(q)
    }

    fn check_price(&self, p: Decimal, up: bool, field: &str) -> Result<Decimal, FilterRefusal> {
        let Some(f) = self.price else {
            return Ok(p);
        };
        const NAME: &str = "PRICE_FILTER";
        if p <= Decimal::ZERO {
            return Err(refuse(NAME, format!("{field} {p} is not positive")));
        }
        let on = if is_multiple_of(p - f.min, f.tick) {
            p
        } else {
            to_grid(p, f.min, f.tick, up)
                .ok_or_else(|| refuse(NAME, format!("{field} {p} overflows")))?
        };
        if !f.min.is_zero() && on < f.min {
            return Err(refuse(
                NAME,
                format!("{field} {on} is below minPrice {}", f.min),
            ));
        }
        if !f.max.is_zero() && on > f.max {
            return Err(refuse(
                NAME,
                format!("{field} {on} is above maxPrice {}", f.max),
            ));
        }
        Ok(on)
    }

    fn check_notional(&self, market: bool, q: Decimal, at: Decimal) -> Result<(), FilterRefusal> {
        let Some(f) = self.notional else {
            return Ok(());
        };
        let notional = q
            .checked_mul(at)
            .ok_or_else(|| refuse(f.name, format!("{q} × {at} overflows")))?;
        if (!market || f.min_to_market) && notional < f.min {
            return Err(refuse(
                f.name,
                format!(
                    "notional {q} × {at} = {notional} is below minNotional {}",
                    f.min
                ),
            ));
        }
        if let Some(max) = f.max {
            if (!market || f.max_to_market) && !max.is_zero() && notional > max {
                return Err(refuse(
                    f.name,
                    format!("notional {q} × {at} = {notional} is above maxNotional {max}"),
                ));
            }
        }
        Ok(())
    }

    /// Checks a trailing stop's `trailingDelta` against `TRAILING_DELTA` (if the symbol has it).
    ///
    /// # Errors
    /// The filter's refusal, naming the bound and the numbers.
    pub fn check_trailing(
        &self,
        side: OrderSide,
        stop_loss: bool,
        bips: u32,
    ) -> Result<(), FilterRefusal> {
        self.trailing_delta
            .map_or(Ok(()), |f| f.check(side, stop_loss, bips))
    }

    /// The base-asset quantity below which a balance is dust (the `LOT_SIZE` step).
    pub fn dust(&self) -> Decimal {
        self.lot.map_or(Decimal::ZERO, |l| l.step)
    }

    /// Whether the symbol takes this order type.
    pub fn allows(&self, order_type: &str) -> bool {
        self.order_types.is_empty() || self.order_types.iter().any(|t| t == order_type)
    }
}

fn lot_check(
    filter: &'static str,
    f: LotFilter,
    quantity: Decimal,
) -> Result<Decimal, FilterRefusal> {
    if quantity <= Decimal::ZERO {
        return Err(refuse(
            filter,
            format!("quantity {quantity} is not positive"),
        ));
    }
    let q = to_grid(quantity, f.min, f.step, false)
        .ok_or_else(|| refuse(filter, format!("quantity {quantity} overflows")))?;
    if q < f.min || q <= Decimal::ZERO {
        return Err(refuse(
            filter,
            format!(
                "quantity {quantity} (rounded down to step {}: {q}) is below minQty {}",
                f.step.normalize(),
                f.min.normalize()
            ),
        ));
    }
    if !f.max.is_zero() && q > f.max {
        return Err(refuse(
            filter,
            format!("quantity {q} is above maxQty {}", f.max.normalize()),
        ));
    }
    Ok(q)
}

fn check_percent(
    f: &PercentPriceBySide,
    side: OrderSide,
    price: Decimal,
    reference: Decimal,
) -> Result<(), FilterRefusal> {
    const NAME: &str = "PERCENT_PRICE_BY_SIDE";
    let (up, down) = match side {
        OrderSide::Buy => (f.bid_up, f.bid_down),
        OrderSide::Sell => (f.ask_up, f.ask_down),
    };
    let high = reference.checked_mul(up);
    let low = reference.checked_mul(down);
    if let Some(high) = high.filter(|_| !up.is_zero()) {
        if price > high {
            return Err(refuse(
                NAME,
                format!("price {price} is above {reference} × {up} = {high}"),
            ));
        }
    }
    if let Some(low) = low {
        if price < low {
            return Err(refuse(
                NAME,
                format!("price {price} is below {reference} × {down} = {low}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "filters_tests.rs"]
pub(super) mod tests;
