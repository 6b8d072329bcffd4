//! Our order as Binance's `POST /api/v3/order` parameters, after the symbol's filters.

use super::filters::{Candidate, SymbolRules};
use super::sign::Query;
use crate::live::VenueReason;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use tradegraph_core::order::{OrderKind, OrderRequest, OrderSide, TimeInForce};

/// An order ready to send: Binance's type and the numbers on the symbol's grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// `BUY` or `SELL`.
    pub side: &'static str,
    /// `MARKET`, `LIMIT`, `STOP_LOSS`, `STOP_LOSS_LIMIT`, ...
    pub kind: &'static str,
    /// `timeInForce`, for the types that take one.
    pub time_in_force: Option<&'static str>,
    /// The quantity, rounded down to the step.
    pub quantity: Decimal,
    /// The limit price.
    pub price: Option<Decimal>,
    /// The stop price.
    pub stop_price: Option<Decimal>,
    /// `trailingDelta` in BIPS.
    pub trailing_delta: Option<u32>,
}

/// The side's text.
pub(crate) fn side_text(side: OrderSide) -> &'static str {
    match side {
        OrderSide::Buy => "BUY",
        OrderSide::Sell => "SELL",
    }
}

fn tif(t: TimeInForce) -> Result<&'static str, VenueReason> {
    match t {
        TimeInForce::Gtc => Ok("GTC"),
        TimeInForce::Ioc => Ok("IOC"),
        TimeInForce::Fok => Ok("FOK"),
        _ => Err(VenueReason::Other {
            code: "timeInForce".into(),
            message: "Binance spot takes GTC, IOC or FOK, not DAY".into(),
        }),
    }
}

/// `distance` behind `reference` in BIPS (1/100 %), rounded to the nearest, at least 1.
///
/// ```
/// use tradegraph_broker::live::binance::trailing_bips;
/// use tradegraph_core::Decimal;
/// assert_eq!(trailing_bips(Decimal::from(800), Decimal::from(40_000)), Some(200)); // 2 %
/// assert_eq!(trailing_bips(Decimal::ONE, Decimal::ZERO), None);
/// ```
pub fn trailing_bips(distance: Decimal, reference: Decimal) -> Option<u32> {
    if reference <= Decimal::ZERO || distance <= Decimal::ZERO {
        return None;
    }
    let bips = (distance
        .checked_mul(Decimal::from(10_000))?
        .checked_div(reference)?)
    .round();
    bips.to_u32().map(|b| b.max(1))
}

/// The limit of a stop-limit `bps` beyond `trigger` (below for a sell, above for a buy).
fn stop_limit(trigger: Decimal, side: OrderSide, bps: u32) -> Decimal {
    let shift = trigger * Decimal::from(bps) / Decimal::from(10_000);
    match side {
        OrderSide::Sell => trigger - shift,
        OrderSide::Buy => trigger + shift,
    }
}

/// Encodes `request` for the symbol, checking (and rounding) it against the filters;
/// `reference` is the last price known (notional, percent-price and trailing checks), `slippage`
/// the stop-limit's distance where the symbol takes no stop-market order.
///
/// # Errors
/// The reason the order is refused before it is sent: a failed filter (named, with the
/// numbers), a time in force Binance does not offer, a trailing stop without a price yet.
pub fn encode_order(
    request: &OrderRequest,
    rules: &SymbolRules,
    reference: Option<Decimal>,
    slippage_bps: u32,
) -> Result<Encoded, VenueReason> {
    let side = request.side;
    let stop_kind = |trigger: Decimal| {
        if rules.allows("STOP_LOSS") {
            ("STOP_LOSS", None, None)
        } else {
            (
                "STOP_LOSS_LIMIT",
                Some("GTC"),
                Some(stop_limit(trigger, side, slippage_bps)),
            )
        }
    };
    let (kind, time_in_force, price, stop, trailing) = match request.kind {
        OrderKind::Market => ("MARKET", None, None, None, None),
        OrderKind::Limit { price } => (
            "LIMIT",
            Some(tif(request.time_in_force)?),
            Some(price),
            None,
            None,
        ),
        OrderKind::Stop { trigger } => {
            let (kind, tif, price) = stop_kind(trigger);
            (kind, tif, price, Some(trigger), None)
        }
        OrderKind::TrailingStop { distance } => {
            let bips = reference.and_then(|r| trailing_bips(distance, r)).ok_or_else(|| VenueReason::Other {
                code: "trailingDelta".into(),
                message: "a trailing stop needs the last price to set its distance in BIPS; none is known yet".into(),
            })?;
            if !rules.allows("STOP_LOSS") {
                return Err(VenueReason::Other {
                    code: "orderTypes".into(),
                    message: format!(
                        "{} takes no STOP_LOSS order, which a trailing stop needs",
                        rules.symbol
                    ),
                });
            }
            rules
                .check_trailing(side, true, bips)
                .map_err(|r| VenueReason::FilterFailed {
                    filter: r.filter.to_owned(),
                    detail: r.detail,
                })?;
            ("STOP_LOSS", None, None, None, Some(bips))
        }
        _ => {
            return Err(VenueReason::Other {
                code: "type".into(),
                message: format!(
                    "the order kind {} has no Binance spot equivalent",
                    request.kind
                ),
            })
        }
    };
    let checked = rules
        .check(&Candidate {
            side,
            market: kind == "MARKET",
            quantity: request.quantity,
            price,
            stop_price: stop,
            reference,
        })
        .map_err(|r| VenueReason::FilterFailed {
            filter: r.filter.to_owned(),
            detail: r.detail,
        })?;
    Ok(Encoded {
        side: side_text(side),
        kind,
        time_in_force,
        quantity: checked.quantity,
        price: checked.price,
        stop_price: checked.stop_price,
        trailing_delta: trailing,
    })
}

impl Encoded {
    /// Writes the order's parameters (`newOrderRespType=FULL`: the answer carries the fills).
    pub fn write(&self, symbol: &str, client_id: &str, query: &mut Query) {
        query
            .push("symbol", symbol)
            .push("side", self.side)
            .push("type", self.kind);
        if let Some(t) = self.time_in_force {
            query.push("timeInForce", t);
        }
        query.push_num("quantity", self.quantity.normalize());
        if let Some(p) = self.price {
            query.push_num("price", p.normalize());
        }
        if let Some(p) = self.stop_price {
            query.push_num("stopPrice", p.normalize());
        }
        if let Some(d) = self.trailing_delta {
            query.push_num("trailingDelta", d);
        }
        query
            .push("newClientOrderId", client_id)
            .push("newOrderRespType", "FULL");
    }
}
