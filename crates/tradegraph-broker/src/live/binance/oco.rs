//! An entry's stop and target as one OCO order list (`POST /api/v3/orderList/oco`): each leg
//! as Binance's type (`LIMIT_MAKER` target, `STOP_LOSS` or `STOP_LOSS_LIMIT` stop, a trailing
//! stop with `trailingDelta`), its numbers checked against the filters, the list's legs booked
//! as the entry's children.

use super::broker::Inner;
use super::filters::Candidate;
use super::orders;
use super::rest::Outcome;
use super::sign::Query;
use super::wire::WireOrder;
use crate::live::VenueReason;
use crate::BrokerError;
use reqwest::Method;
use std::sync::Arc;
use tradegraph_core::order::{Leg, Order, OrderKind, OrderRequest, OrderSide};
use tradegraph_core::Decimal;

/// The OCO's two legs, each as Binance's type and numbers on the grid.
struct OcoLeg {
    request: OrderRequest,
    kind: &'static str,
    price: Option<Decimal>,
    stop: Option<Decimal>,
    trailing: Option<u32>,
}

fn oco_leg(
    inner: &Inner,
    request: OrderRequest,
    reference: Option<Decimal>,
) -> Result<OcoLeg, VenueReason> {
    let side = request.side;
    let (kind, price, stop, trailing) = match request.kind {
        OrderKind::Limit { price } => ("LIMIT_MAKER", Some(price), None, None),
        OrderKind::Stop { trigger } if inner.rules.allows("STOP_LOSS") => {
            ("STOP_LOSS", None, Some(trigger), None)
        }
        OrderKind::Stop { trigger } => {
            let shift = trigger * Decimal::from(inner.config.stop_limit_slippage_bps)
                / Decimal::from(10_000);
            let limit = if side == OrderSide::Sell {
                trigger - shift
            } else {
                trigger + shift
            };
            ("STOP_LOSS_LIMIT", Some(limit), Some(trigger), None)
        }
        OrderKind::TrailingStop { distance } => {
            let bips = reference
                .and_then(|r| super::encode::trailing_bips(distance, r))
                .ok_or_else(|| VenueReason::Other {
                    code: "trailingDelta".into(),
                    message: "a trailing stop needs the last price; none is known".into(),
                })?;
            inner.rules.check_trailing(side, true, bips).map_err(|r| {
                VenueReason::FilterFailed {
                    filter: r.filter.to_owned(),
                    detail: r.detail,
                }
            })?;
            ("STOP_LOSS", None, None, Some(bips))
        }
        other => {
            return Err(VenueReason::Other {
                code: "type".into(),
                message: format!("{other} cannot be an OCO leg"),
            })
        }
    };
    let checked = inner
        .rules
        .check(&Candidate {
            side,
            market: false,
            quantity: request.quantity,
            price,
            stop_price: stop,
            reference,
        })
        .map_err(|r| VenueReason::FilterFailed {
            filter: r.filter.to_owned(),
            detail: r.detail,
        })?;
    Ok(OcoLeg {
        request,
        kind,
        price: checked.price,
        stop: checked.stop_price,
        trailing,
    })
}

fn write_leg(q: &mut Query, prefix: &str, leg: &OcoLeg) {
    let key = |k: &str| format!("{prefix}{k}");
    q.push(&key("Type"), leg.kind)
        .push(&key("ClientOrderId"), leg.request.client_id.as_str());
    if let Some(p) = leg.price {
        q.push_num(&key("Price"), p.normalize());
    }
    if let Some(s) = leg.stop {
        q.push_num(&key("StopPrice"), s.normalize());
    }
    if let Some(d) = leg.trailing {
        q.push_num(&key("TrailingDelta"), d);
    }
    if leg.kind == "STOP_LOSS_LIMIT" {
        q.push(&key("TimeInForce"), "GTC");
    }
}

pub(super) async fn place(
    inner: &Arc<Inner>,
    entry: &Order,
    side: OrderSide,
    quantity: Decimal,
    (stop_leg, stop_kind): (Leg, OrderKind),
    (target_leg, target_kind): (Leg, OrderKind),
) -> Result<(), BrokerError> {
    let reference = entry.average_fill_price.or(inner.reference());
    let stop = super::exits::leg_request(entry, stop_leg, side, quantity, stop_kind);
    let target = super::exits::leg_request(entry, target_leg, side, quantity, target_kind);
    let legs = oco_leg(inner, stop.clone(), reference)
        .and_then(|s| Ok((s, oco_leg(inner, target.clone(), reference)?)));
    let (stop, target) = match legs {
        Ok(legs) => legs,
        Err(reason) => {
            for request in [stop, target] {
                super::exits::reject(inner, entry, request, &reason);
            }
            return Err(inner.rest.error(reason));
        }
    };
    // A sell OCO has the target above and the stop below; a buy OCO the other way round.
    let (above, below) = if side == OrderSide::Sell {
        (&target, &stop)
    } else {
        (&stop, &target)
    };
    let symbol = inner.symbol.as_str().to_owned();
    let list_id = format!("{}-oco", entry.client_id());
    let quantity = stop.request.quantity.min(target.request.quantity);
    let side_text = super::encode::side_text(side);
    let params = |q: &mut Query| {
        q.push("symbol", &symbol)
            .push("listClientOrderId", &list_id)
            .push("side", side_text)
            .push_num("quantity", quantity.normalize());
        write_leg(q, "above", above);
        write_leg(q, "below", below);
        q.push("newOrderRespType", "RESULT");
    };
    match inner
        .rest
        .signed(Method::POST, "/api/v3/orderList/oco", 1, &params)
        .await?
    {
        Outcome::Done(body) => {
            let answer: serde_json::Value = inner.parse("POST /api/v3/orderList/oco", &body)?;
            let reports: Vec<WireOrder> =
                serde_json::from_value(answer.get("orderReports").cloned().unwrap_or_default())
                    .map_err(|e| {
                        inner.rest.error(VenueReason::Other {
                            code: "orderList/oco".into(),
                            message: format!("no orderReports as documented: {e}"),
                        })
                    })?;
            for leg in [&stop, &target] {
                if let Some(wire) = reports
                    .iter()
                    .find(|w| w.client_order_id == leg.request.client_id.as_str())
                {
                    let mut order = orders::book_answer(inner, wire, &leg.request)?;
                    order.parent = Some(entry.client_id().clone());
                    inner.book.track(order);
                }
            }
            Ok(())
        }
        Outcome::Conflict(body) => Err(inner.rest.error(orders::conflict_reason(&body))),
        Outcome::Refused(reason) => {
            for leg in [stop, target] {
                super::exits::reject(inner, entry, leg.request, &reason);
            }
            Err(inner.rest.error(reason))
        }
        Outcome::Duplicate | Outcome::Unknown => {
            for leg in [&stop, &target] {
                if let Some(mut order) = orders::query(inner, &leg.request.client_id).await? {
                    order.parent = Some(entry.client_id().clone());
                    inner.book.track(order);
                }
            }
            Ok(())
        }
    }
}
