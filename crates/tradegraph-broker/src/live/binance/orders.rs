//! Submit, query, cancel and amend: our orders to Binance and its answers into the book.

use super::broker::Inner;
use super::encode::{encode_order, Encoded};
use super::exits;
use super::rest::Outcome;
use super::wire::{overflows, status, WireOrder};
use crate::live::venue::{VenueTrade, VenueUpdate};
use crate::live::VenueReason;
use crate::{AmendRefusal, Amendment, BrokerError};
use reqwest::Method;
use std::sync::Arc;
use tradegraph_core::order::{
    ClientOrderId, Liquidity, Order, OrderId, OrderKind, OrderRequest, OrderStatus,
};
use tradegraph_core::{Decimal, Timestamp};

fn refused(inner: &Inner, request: OrderRequest, reason: &VenueReason) -> Order {
    let now = Timestamp::from_millis(inner.rest.server_now());
    let mut order = Order::new(OrderId::new(""), request, now);
    order.status = OrderStatus::Rejected;
    order.reason = Some(inner.rest.masker().mask(&reason.to_string()));
    tracing::info!(client_id = %order.client_id(), reason = order.reason.as_deref().unwrap_or(""), "binance refused the order");
    inner.book.track(order)
}

/// Books a venue's answer about an order we track under `request`: its fills (once each, by
/// trade id) and its status.
pub(crate) fn book_answer(
    inner: &Inner,
    wire: &WireOrder,
    request: &OrderRequest,
) -> Result<Order, BrokerError> {
    let client = request.client_id.clone();
    // Untracked, tracked before it reached the venue (no id yet), or an earlier order under
    // the same client id that has ended (Binance frees an id once its order is not open):
    // this venue order is the one tracked from now on.
    let venue_id = wire.order_id.to_string();
    let fresh_needed = inner.book.order(&client).is_none_or(|t| {
        t.id.as_str() != venue_id && (t.id.as_str().is_empty() || t.status.is_terminal())
    });
    if fresh_needed {
        let mut fresh = wire.to_order(request.clone());
        fresh.status = OrderStatus::Open;
        fresh.filled_quantity = Decimal::ZERO;
        fresh.average_fill_price = None;
        inner.book.track(fresh);
    }
    let prices = inner.fee_prices();
    let at = Timestamp::from_millis(
        wire.transact_time
            .or(wire.update_time)
            .unwrap_or_else(|| inner.rest.server_now()),
    );
    let tracked = inner.book.order(&client);
    let mut filled = tracked
        .as_ref()
        .map_or(Decimal::ZERO, |o| o.filled_quantity);
    let before = tracked
        .as_ref()
        .map_or(Decimal::ZERO, |o| traded_before(o, wire));
    for fill in &wire.fills {
        if inner.book.has_trade(&fill.trade_id.to_string()) {
            continue;
        }
        filled = filled.checked_add(fill.qty).ok_or_else(|| {
            inner
                .rest
                .error(overflows(format_args!("a fill's quantity {}", fill.qty)))
        })?;
        // The venue's quantity (what was sent, on the lot step) decides when it is filled,
        // with what traded before it when it replaced an order (an amendment).
        let whole = if wire.orig_qty > Decimal::ZERO {
            before.saturating_add(wire.orig_qty)
        } else {
            request.quantity
        };
        let status = if filled >= whole {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        inner.saw_price(fill.price);
        inner.book.apply(&VenueUpdate {
            request: request.clone(),
            order_id: OrderId::new(wire.order_id.to_string()),
            status,
            trade: Some(VenueTrade {
                trade_id: fill.trade_id.to_string(),
                quantity: fill.qty,
                price: fill.price,
                fee: super::wire::fee_value(
                    &inner.rules,
                    &prices,
                    fill.commission,
                    &fill.commission_asset,
                    fill.price,
                )
                .map_err(|reason| inner.rest.error(reason))?,
                fee_in_asset: super::wire::fee_in_base(
                    &inner.rules,
                    fill.commission,
                    &fill.commission_asset,
                ),
                // A `FULL` answer's fills are the trades the order made on arrival (a new
                // order's or a cancel-replace's new order's): on arrival an order takes, so
                // these are taker fills. A resting order's fills (maker) come from the stream
                // or `myTrades`, which carry `m`/`isMaker`; the answers of GET and DELETE carry
                // no fills.
                liquidity: Liquidity::Taker,
                ts: at,
            }),
            reason: None,
            at,
        })?;
    }
    let venue_status = status(&wire.status);
    // Filled and partly filled come with their trades (the answer's, the stream's, polling's);
    // the other statuses are the venue's word.
    if !matches!(
        venue_status,
        OrderStatus::Filled | OrderStatus::PartiallyFilled
    ) {
        let reason = match venue_status {
            OrderStatus::Cancelled => Some("cancelled at the venue".to_owned()),
            OrderStatus::Expired => Some("expired at the venue".to_owned()),
            _ => None,
        };
        inner.book.apply(&VenueUpdate {
            request: request.clone(),
            order_id: OrderId::new(wire.order_id.to_string()),
            status: venue_status,
            trade: None,
            reason,
            at,
        })?;
    }
    match inner.book.order(&client) {
        Some(order) => Ok(order),
        None => Err(BrokerError::UnknownOrder(client)),
    }
}

/// What `tracked` traded before the venue order `wire` took it over: an amended order's
/// replacement asks for what was left, so its quantity is the tracked quantity less what
/// traded before it (zero for an order never replaced, tracked as sent).
fn traded_before(tracked: &Order, wire: &WireOrder) -> Decimal {
    if tracked.id.as_str() != wire.order_id.to_string() || wire.orig_qty <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    tracked.request.quantity.saturating_sub(wire.orig_qty)
}

/// `request` as it goes on the wire: the quantity, price and trigger rounded to the venue's
/// steps (what the venue reports back and fills against).
pub(crate) fn as_sent(request: &OrderRequest, encoded: &Encoded) -> OrderRequest {
    let mut sent = request.clone();
    sent.quantity = encoded.quantity;
    sent.kind = match (sent.kind, encoded.price, encoded.stop_price) {
        (OrderKind::Limit { .. }, Some(price), _) => OrderKind::Limit { price },
        (OrderKind::Stop { .. }, _, Some(trigger)) => OrderKind::Stop { trigger },
        (kind, _, _) => kind,
    };
    sent
}

/// `POST /api/v3/order`, idempotent by client order id.
///
/// The request is tracked (status `Pending`, with its exits) before it is sent, so that an
/// answer lost or a crash before the book is kept never loses the entry's exits, and an id
/// whose outcome is unknown is asked about, never sent a second time.
pub(crate) async fn submit(
    inner: &Arc<Inner>,
    request: OrderRequest,
) -> Result<Order, BrokerError> {
    if request.symbol != inner.symbol {
        return Err(BrokerError::UnknownInstrument(request.symbol));
    }
    let encoded = encode_order(
        &request,
        &inner.rules,
        inner.reference(),
        inner.config.stop_limit_slippage_bps,
    );
    if let Some(known) = inner.book.order(&request.client_id) {
        let same = known.request == request
            || encoded
                .as_ref()
                .is_ok_and(|e| known.request == as_sent(&request, e));
        if !same {
            return Err(BrokerError::DuplicateClientOrderId(request.client_id));
        }
        // Asked again: the venue's word, never a second order.
        return Ok(query(inner, &request.client_id).await?.unwrap_or(known));
    }
    let encoded = match encoded {
        Ok(e) => e,
        Err(reason) => return Ok(refused(inner, request, &reason)),
    };
    let sent = as_sent(&request, &encoded);
    inner.book.track(Order::new(
        OrderId::new(""),
        sent.clone(),
        Timestamp::from_millis(inner.rest.server_now()),
    ));
    inner.lock(&inner.sending).insert(sent.client_id.clone());
    let order = send(inner, &sent, &encoded).await;
    inner.lock(&inner.sending).remove(&sent.client_id);
    let order = order?;
    exits::after_update(inner, order.client_id());
    Ok(order)
}

/// How often, and how far apart, an order whose answer was lost is asked about.
const LOST_ANSWER_QUERIES: [u64; 3] = [0, 500, 1_500];

async fn send(
    inner: &Arc<Inner>,
    request: &OrderRequest,
    encoded: &Encoded,
) -> Result<Order, BrokerError> {
    let symbol = inner.symbol.as_str().to_owned();
    let client = request.client_id.as_str().to_owned();
    let encoded2 = encoded.clone();
    let params = move |q: &mut super::sign::Query| encoded2.write(&symbol, &client, q);
    let lost = match inner
        .rest
        .signed(Method::POST, "/api/v3/order", 1, &params)
        .await
    {
        Ok(Outcome::Done(body)) => {
            let wire: WireOrder = inner.parse("POST /api/v3/order", &body)?;
            return book_answer(inner, &wire, request);
        }
        Ok(Outcome::Refused(reason)) => return Ok(refused(inner, request.clone(), &reason)),
        Ok(Outcome::Conflict(body)) => {
            return Ok(refused(inner, request.clone(), &conflict_reason(&body)))
        }
        // The id is already at the venue: that order is the answer, never a second one.
        Ok(Outcome::Duplicate) | Ok(Outcome::Unknown) => {
            "the venue says the id is a duplicate".to_owned()
        }
        Err(BrokerError::Venue {
            reason: VenueReason::Unavailable(what),
            ..
        }) => what,
        // Refused before it reached the venue, or by the venue before it took it (paced here,
        // 429, 418, the clock out of the window): nothing was placed. Tracked as pending, it
        // would be taken for an order at work (a close "still working") until it is given up
        // as never received; forgotten, the same id may be sent again.
        Err(e) => {
            inner.book.forget(&request.client_id);
            return Err(e);
        }
    };
    // The outcome is unknown. A venue that does not show the order yet has not proved it
    // was not placed (its answer may lag): ask a few times; still unknown, the order stays
    // tracked as pending, so the next submit or query asks again instead of sending it.
    tracing::warn!(client_id = %request.client_id, "the answer to an order was lost ({lost}): asking the venue whether it took it");
    for wait_ms in LOST_ANSWER_QUERIES {
        tokio::time::sleep(std::time::Duration::from_millis(wait_ms)).await;
        match query(inner, &request.client_id).await {
            Ok(Some(order)) if !order.id.as_str().is_empty() => return Ok(order),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(client_id = %request.client_id, error = %e, "asking the venue about an order whose answer was lost failed")
            }
        }
    }
    tracing::error!(client_id = %request.client_id, "the venue does not show an order whose answer was lost: it is kept as pending and asked about again, never sent a second time");
    Err(inner.rest.error(VenueReason::Unavailable(format!(
        "{lost}; the venue does not show order {} yet, so whether it was placed is unknown: it is kept as pending and asked about again (submit or query it with the same client id), never sent twice",
        request.client_id
    ))))
}

/// The reason in a `409` answer's `data.newOrderResponse` (or the answer's own message).
pub(crate) fn conflict_reason(body: &str) -> VenueReason {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let inner = value.pointer("/data/newOrderResponse").unwrap_or(&value);
    let code = inner
        .get("code")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    let msg = inner.get("msg").and_then(|m| m.as_str()).unwrap_or("");
    match super::codes::classify(400, code, msg, None) {
        super::codes::Classified::Reason(r) => r,
        _ => VenueReason::Other {
            code: code.to_string(),
            message: msg.to_owned(),
        },
    }
}

/// `GET /api/v3/order`: the venue's word on an order (`None`: the venue does not know it).
pub(crate) async fn query(
    inner: &Arc<Inner>,
    client_id: &ClientOrderId,
) -> Result<Option<Order>, BrokerError> {
    query_as(inner, client_id, None).await
}

/// [`query`] for an order whose request its caller kept (`Broker::recover`): an entry the
/// book has without exits (it lost the order with the state it kept, a crash after the send,
/// or learned of it from the venue's list of open orders) takes the request's exits, placed
/// once it has filled (`exits::after_update`, which asks the venue for legs placed before).
pub(crate) async fn recover(
    inner: &Arc<Inner>,
    request: &OrderRequest,
) -> Result<Option<Order>, BrokerError> {
    let kept = request
        .exits
        .is_some_and(|e| !e.is_empty())
        .then_some(request);
    if let (Some(kept), Some(mut tracked)) = (kept, inner.book.order(&request.client_id)) {
        if tracked.parent.is_none()
            && tracked.request.side == kept.side
            && tracked.request.exits.is_none_or(|e| e.is_empty())
        {
            tracing::warn!(client_id = %request.client_id, "an order the book kept without its exits takes them back from the request recorded before it was sent");
            tracked.request.exits = kept.exits;
            inner.book.track(tracked);
        }
    }
    query_as(inner, &request.client_id, kept).await
}

/// [`query`]; an order the book does not track takes `kept`'s exits (the same side only).
async fn query_as(
    inner: &Arc<Inner>,
    client_id: &ClientOrderId,
    kept: Option<&OrderRequest>,
) -> Result<Option<Order>, BrokerError> {
    let tracked = inner.book.order(client_id);
    let order_id = tracked
        .as_ref()
        .map(|o| o.id.to_string())
        .filter(|id| !id.is_empty());
    let symbol = inner.symbol.as_str().to_owned();
    let client = client_id.as_str().to_owned();
    let params = move |q: &mut super::sign::Query| {
        q.push("symbol", &symbol);
        match &order_id {
            Some(id) => q.push("orderId", id),
            None => q.push("origClientOrderId", &client),
        };
    };
    match inner
        .rest
        .signed(Method::GET, "/api/v3/order", 4, &params)
        .await?
    {
        Outcome::Done(body) => {
            let wire: WireOrder = inner.parse("GET /api/v3/order", &body)?;
            let request = match &tracked {
                Some(t) => t.request.clone(),
                None => {
                    let mut request =
                        wire.request(&inner.symbol, inner.reference().unwrap_or_default());
                    if let Some(kept) = kept.filter(|k| k.side == request.side) {
                        tracing::warn!(%client_id, "an order the book lost (the bot stopped after sending it) is tracked again with the exits recorded before it was sent");
                        request.exits = kept.exits;
                    }
                    request
                }
            };
            let before = tracked
                .as_ref()
                .map_or(Decimal::ZERO, |t| traded_before(t, &wire));
            let mut order = book_answer(inner, &wire, &request)?;
            // Filled further than the book has fills for (learned of after a restart, or with
            // the stream and polling behind): its trades are booked now, so that whoever reads
            // the fills (the trade ledger) sees what the venue did.
            let booked: Decimal = inner
                .book
                .fills_since(0)
                .iter()
                .filter(|f| &f.client_id == client_id)
                .map(|f| f.quantity)
                .sum();
            let executed = before.saturating_add(wire.executed_qty);
            if executed > booked {
                super::stream::book_trades_of(inner, wire.order_id).await?;
                order = inner.book.order(client_id).unwrap_or(order);
            }
            exits::after_update(inner, client_id);
            // The venue's numbers (fills not booked yet arrive from the stream or polling).
            let mut shown = order;
            shown.filled_quantity = executed;
            // An amended order's average counts its earlier venue orders' fills: the book's.
            if !wire.executed_qty.is_zero() && before.is_zero() {
                shown.average_fill_price = wire
                    .cummulative_quote_qty
                    .checked_div(wire.executed_qty)
                    .map(|p| p.normalize());
            }
            let venue_status = status(&wire.status);
            if shown.status != venue_status && shown.status.can_become(venue_status) {
                shown.status = venue_status;
            }
            Ok(Some(shown))
        }
        // Refused before it was sent, or sent with its answer lost and not shown by the venue
        // yet: the book's record (`Rejected`, or `Pending`: unknown, until
        // `unknown_outcome_after` has passed) is the answer.
        Outcome::Unknown => {
            // Not while it is being sent (its own answer may yet come).
            if let Some(kept) = tracked.as_ref().filter(|_| !inner.is_sending(client_id)) {
                let now = Timestamp::from_millis(inner.rest.server_now());
                if let Some(gone) =
                    inner
                        .book
                        .never_received(kept, now, inner.config.unknown_outcome_after)
                {
                    return Ok(Some(gone));
                }
            }
            Ok(tracked.filter(|t| {
                t.id.as_str().is_empty()
                    && matches!(t.status, OrderStatus::Rejected | OrderStatus::Pending)
            }))
        }
        Outcome::Refused(r) => Err(inner.rest.error(r)),
        Outcome::Conflict(body) => Err(inner.rest.error(conflict_reason(&body))),
        Outcome::Duplicate => Ok(tracked),
    }
}

/// `DELETE /api/v3/order`.
pub(crate) async fn cancel(
    inner: &Arc<Inner>,
    client_id: &ClientOrderId,
) -> Result<Order, BrokerError> {
    let symbol = inner.symbol.as_str().to_owned();
    let client = client_id.as_str().to_owned();
    let params = move |q: &mut super::sign::Query| {
        q.push("symbol", &symbol).push("origClientOrderId", &client);
    };
    match inner
        .rest
        .signed(Method::DELETE, "/api/v3/order", 1, &params)
        .await?
    {
        Outcome::Done(body) => {
            let wire: WireOrder = inner.parse("DELETE /api/v3/order", &body)?;
            let request = match inner.book.order(client_id) {
                Some(t) => t.request,
                None => wire.request(&inner.symbol, inner.reference().unwrap_or_default()),
            };
            book_answer(inner, &wire, &request)
        }
        Outcome::Unknown => match query(inner, client_id).await? {
            Some(order) if order.status.is_terminal() => Err(BrokerError::NotCancellable {
                client_id: client_id.clone(),
                status: order.status,
            }),
            _ => Err(BrokerError::UnknownOrder(client_id.clone())),
        },
        Outcome::Refused(r) => Err(inner.rest.error(r)),
        Outcome::Conflict(body) => Err(inner.rest.error(conflict_reason(&body))),
        Outcome::Duplicate => Err(BrokerError::UnknownOrder(client_id.clone())),
    }
}

/// Changes a working order by `cancelReplace` (`STOP_ON_FAILURE`): the replacement is a new
/// venue order under the same client id (the cancelled order is no longer open, so the id is
/// free again), so it asks only for what is left to fill (the
/// amended total less what filled), and the tracked order keeps what filled. When the old
/// order filled more between our read and the venue's cancel (the cancel's answer says how
/// much it traded), the replacement asks for too much: it is replaced again with the right
/// rest, or cancelled when nothing is left.
pub(crate) async fn amend(
    inner: &Arc<Inner>,
    client_id: &ClientOrderId,
    amendment: Amendment,
) -> Result<Order, BrokerError> {
    let current = inner
        .book
        .order(client_id)
        .ok_or_else(|| BrokerError::UnknownOrder(client_id.clone()))?;
    if current.status.is_terminal() {
        return Err(BrokerError::NotCancellable {
            client_id: client_id.clone(),
            status: current.status,
        });
    }
    let mut request = current.request.clone();
    if let Some(q) = amendment.quantity {
        if q <= current.filled_quantity {
            return Err(BrokerError::NotAmendable {
                client_id: client_id.clone(),
                reason: AmendRefusal::Quantity {
                    quantity: q,
                    filled: current.filled_quantity,
                    lot: inner.rules.dust(),
                },
            });
        }
        request.quantity = q;
    }
    request.kind = match (request.kind, amendment.price, amendment.trigger) {
        (OrderKind::Limit { .. }, Some(p), _) => OrderKind::Limit { price: p },
        (OrderKind::Stop { .. }, _, Some(t)) => OrderKind::Stop { trigger: t },
        (kind, None, None) => kind,
        (kind, _, _) => {
            return Err(inner.rest.error(VenueReason::Other {
                code: "amend".into(),
                message: format!("a {kind} order has no such price to change"),
            }))
        }
    };
    let mut current = current;
    // A second round only when the old order traded after our read; a third when the
    // replacement did too (each round learns what the venue traded).
    for round in 0..3 {
        let rest = request.quantity.saturating_sub(current.filled_quantity);
        if rest <= Decimal::ZERO {
            tracing::warn!(%client_id, "an amended order filled its whole quantity while it was replaced: its replacement is cancelled");
            return cancel(inner, client_id).await;
        }
        match replace(inner, &current, &request, rest).await {
            Ok(Replaced::Done(order)) => return Ok(order),
            Ok(Replaced::TradedMeanwhile(order)) => {
                tracing::warn!(%client_id, filled = %order.filled_quantity, "the order filled more while it was replaced: its replacement is sized again");
                current = order;
            }
            // The first replacement did not go: the order works as it did.
            Err(e) if round == 0 => return Err(e),
            // A replacement asking for too much works and cannot be sized again (what is left
            // is below the venue's minimum, or refused): it is cancelled.
            Err(e) => return cancel_oversized(inner, &request, &e.to_string()).await,
        }
    }
    cancel_oversized(
        inner,
        &request,
        "the order kept filling while it was replaced",
    )
    .await
}

/// Cancels an amended order's replacement that asks for more than is left (`why`), and says
/// so: the order (`amended`: its amended request) works no more, and the book keeps its
/// amended quantity; what it asked for beyond what filled is not bought or sold.
async fn cancel_oversized(
    inner: &Arc<Inner>,
    amended: &OrderRequest,
    why: &str,
) -> Result<Order, BrokerError> {
    let client_id = &amended.client_id;
    tracing::error!(%client_id, why, "an amended order's replacement asks for more than is left and cannot be sized again: it is cancelled");
    let mut cancelled = cancel(inner, client_id).await?;
    // The replacement was tracked with what it asked for on top of what had traded: the
    // order's own quantity is the amended one.
    cancelled.request.quantity = amended.quantity;
    let cancelled = inner.book.track(cancelled);
    let left = amended
        .quantity
        .saturating_sub(cancelled.filled_quantity)
        .max(Decimal::ZERO);
    Err(inner.rest.error(VenueReason::Other {
        code: "amend".into(),
        message: format!(
            "{why}: its replacement asked for more than was left and was cancelled ({} of {} filled, {} left)",
            cancelled.filled_quantity.normalize(),
            amended.quantity.normalize(),
            left.normalize()
        ),
    }))
}

/// What one `cancelReplace` did.
enum Replaced {
    /// The replacement asks for what is left.
    Done(Order),
    /// The old order traded more than we knew before it was cancelled: the replacement
    /// (tracked, with what the old order traded) asks for too much.
    TradedMeanwhile(Order),
}

/// Replaces `current` by `request` at the venue, the new order asking for `rest`.
async fn replace(
    inner: &Arc<Inner>,
    current: &Order,
    request: &OrderRequest,
    rest: Decimal,
) -> Result<Replaced, BrokerError> {
    let client_id = current.client_id();
    let mut asked = request.clone();
    asked.quantity = rest;
    let encoded = encode_order(
        &asked,
        &inner.rules,
        inner.reference(),
        inner.config.stop_limit_slippage_bps,
    )
    .map_err(|r| inner.rest.error(r))?;
    // Tracked as sent (on the venue's steps), its quantity counting what traded before the
    // replacement: the tracked quantity less the venue order's is what traded before it.
    let mut tracked = as_sent(&asked, &encoded);
    let symbol = inner.symbol.as_str().to_owned();
    let client = client_id.as_str().to_owned();
    let params = move |q: &mut super::sign::Query| {
        q.push("cancelReplaceMode", "STOP_ON_FAILURE")
            .push("cancelOrigClientOrderId", &client);
        encoded.write(&symbol, &client, q);
    };
    let body = match inner
        .rest
        .signed(Method::POST, "/api/v3/order/cancelReplace", 1, &params)
        .await?
    {
        Outcome::Done(body) => body,
        Outcome::Conflict(body) => return half_replaced(inner, current, &body).map(Replaced::Done),
        Outcome::Refused(r) => return Err(inner.rest.error(r)),
        Outcome::Unknown => return Err(BrokerError::UnknownOrder(client_id.clone())),
        Outcome::Duplicate => {
            return Err(inner.rest.error(VenueReason::Other {
                code: "-2010".into(),
                message: "Duplicate order sent.".into(),
            }))
        }
    };
    let answer: serde_json::Value = inner.parse("POST /api/v3/order/cancelReplace", &body)?;
    let half = |name: &str| -> Result<WireOrder, BrokerError> {
        serde_json::from_value(answer.get(name).cloned().unwrap_or_default()).map_err(|e| {
            inner.rest.error(VenueReason::Other {
                code: "cancelReplace".into(),
                message: format!("no {name} as documented: {e}"),
            })
        })
    };
    let new_order = half("newOrderResponse")?;
    // What the order traded in all: before the venue order just cancelled (a replacement's
    // quantity is what was left of the total) and that venue order itself, as cancelled;
    // our own count when the answer leaves it out.
    let old = half("cancelResponse").ok();
    let traded = old.as_ref().map_or(current.filled_quantity, |o| {
        traded_before(current, o)
            .saturating_add(o.executed_qty)
            .max(current.filled_quantity)
    });
    tracked.quantity = traded.saturating_add(tracked.quantity);
    let mut replaced = new_order.to_order(tracked.clone());
    replaced.filled_quantity = traded;
    replaced.average_fill_price = match &old {
        // What traded unseen is valued at the cancelled venue order's own average (its
        // fills, with their prices, are booked as they arrive).
        Some(o) if traded > current.filled_quantity && o.executed_qty > Decimal::ZERO => {
            let unseen = traded - current.filled_quantity;
            let seen_value = current
                .average_fill_price
                .unwrap_or_default()
                .checked_mul(current.filled_quantity);
            let unseen_value = o
                .cummulative_quote_qty
                .checked_div(o.executed_qty)
                .and_then(|p| p.checked_mul(unseen));
            seen_value
                .zip(unseen_value)
                .and_then(|(a, b)| a.checked_add(b))
                .and_then(|v| v.checked_div(traded))
                .map(|p| p.normalize())
                .or(current.average_fill_price)
        }
        _ => current.average_fill_price,
    };
    replaced.fees = current.fees;
    replaced.status = if traded > Decimal::ZERO {
        OrderStatus::PartiallyFilled
    } else {
        OrderStatus::Open
    };
    replaced.parent.clone_from(&current.parent);
    inner.book.track(replaced);
    let order = book_answer(inner, &new_order, &tracked)?;
    Ok(if traded > current.filled_quantity {
        Replaced::TradedMeanwhile(order)
    } else {
        Replaced::Done(order)
    })
}

/// A cancel-replace that half failed (HTTP 409, `-2021`): the old order was cancelled, its
/// replacement refused. The book has the old order cancelled (with the refusal as its
/// reason), which is the answer: the order no longer works.
fn half_replaced(inner: &Arc<Inner>, current: &Order, body: &str) -> Result<Order, BrokerError> {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let refusal = conflict_reason(body);
    let cancelled = value.pointer("/data/cancelResult").and_then(|r| r.as_str()) == Some("SUCCESS");
    if !cancelled {
        // Nothing changed at the venue (STOP_ON_FAILURE stops at a failed cancel).
        return Err(inner.rest.error(refusal));
    }
    let at = Timestamp::from_millis(inner.rest.server_now());
    let order_id = value
        .pointer("/data/cancelResponse/orderId")
        .and_then(serde_json::Value::as_u64)
        .map_or_else(|| current.id.clone(), |id| OrderId::new(id.to_string()));
    let reason = format!(
        "cancelled at the venue by a cancel-replace whose new order was refused: {refusal}"
    );
    inner.book.apply(&VenueUpdate {
        request: current.request.clone(),
        order_id,
        status: OrderStatus::Cancelled,
        trade: None,
        reason: Some(inner.rest.masker().mask(&reason)),
        at,
    })?;
    if current.parent.is_some() {
        tracing::error!(client_id = %current.client_id(), %refusal, "an exit was cancelled by a cancel-replace whose new order was refused: the position is unprotected by it");
    } else {
        tracing::warn!(client_id = %current.client_id(), %refusal, "a cancel-replace cancelled the order but its new order was refused");
    }
    inner
        .book
        .order(current.client_id())
        .ok_or_else(|| BrokerError::UnknownOrder(current.client_id().clone()))
}
