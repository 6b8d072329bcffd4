//! An entry's exits, placed once it has filled: stop and target as one OCO order list
//! (`POST /api/v3/orderList/oco`), a lone stop, target or trailing stop as one order. Their
//! client ids derive from the entry's (`ClientOrderId::child`).
//!
//! Binance spot holds two legs per OCO and locks the position once for both, so a trailing
//! distance takes the stop's place as the OCO's stop leg (the fixed stop is then not placed,
//! and a warning says so). Exits cover the whole position the bot holds (the base balance less
//! `reserved_base`, on the lot step) after a buy, the entry's filled quantity after a sell; a
//! later entry's exits replace the working ones (the earlier OCO cancelled as one list), and a
//! later buy without exits carries the working ones over (same prices, the whole position).
//!
//! An entry's exits are placed once, across restarts too: the entries whose exits the venue has
//! are kept in the book's `venue_state`, and before placing any the venue is asked for the
//! legs' client ids (whatever their status): a leg it knows is tracked, not placed again. Exit
//! operations take turns (see `close`), and a sell that is no exit checks that exits are not
//! left working once the position is flat.

use super::broker::Inner;
use super::orders;
use super::rest::Outcome;
use super::sign::Query;
use super::wire::WireOrder;
use crate::live::VenueReason;
use crate::BrokerError;
use reqwest::Method;
use std::sync::Arc;
use tradegraph_core::order::{
    ClientOrderId, Exits, Leg, Order, OrderId, OrderKind, OrderRequest, OrderSide, OrderStatus,
};
use tradegraph_core::{Decimal, Timestamp};

/// Places the exits of `client_id` if it is an entry with exits that has filled, partly filled
/// (resized as it fills) or ended with a fill, and they were not placed yet (kept trying until
/// they are: see `owed`). A buy without exits that fills while another entry's
/// exits are working grows the position: those exits (the same prices) are placed again for
/// the whole position, as this entry's. Runs in the background.
pub(crate) fn after_update(inner: &Arc<Inner>, client_id: &ClientOrderId) {
    let Some(entry) = inner.book.order(client_id) else {
        return;
    };
    let done = entry.status == OrderStatus::Filled
        || (entry.status.is_terminal() && entry.filled_quantity > Decimal::ZERO);
    let own_exits = entry.parent.is_none() && entry.request.exits.is_some_and(|e| !e.is_empty());
    // A partly filled entry with exits has its filled part protected now (and resized as
    // it fills), not only once it is done.
    let partly = own_exits
        && entry.status == OrderStatus::PartiallyFilled
        && entry.filled_quantity > Decimal::ZERO;
    if !done && !partly {
        return;
    }
    let adds = entry.request.side == OrderSide::Buy
        && !entry.request.reduce_only
        && entry.parent.is_none();
    let no_exits = entry.request.exits.is_none_or(|e| e.is_empty());
    if entry.request.side == OrderSide::Sell && entry.parent.is_none() && no_exits {
        // A sell that is no exit (a close, a sale by hand at the venue): once the position is
        // flat, no exit may be left working.
        if inner.exits.claim(client_id) {
            let inner = inner.clone();
            let pending = inner.exits.begin();
            tokio::spawn(async move {
                let _pending = pending;
                let _turn = inner.exits.turn().await;
                if let Err(e) = super::close::cancel_if_flat(&inner).await {
                    tracing::error!(order = %entry.client_id(), error = %e, "a sell filled; whether exits are left working with no position could not be checked");
                }
            });
        }
        return;
    }
    let exits = match entry.request.exits.filter(|e| !e.is_empty()) {
        Some(exits) => exits,
        None if adds => match working_exits(inner, entry.client_id()) {
            Some(exits) => exits,
            None => return,
        },
        None => return,
    };
    if !inner.exits.claim(client_id) {
        if own_exits {
            super::owed::resize_if_grown(inner, entry, exits);
        }
        return;
    }
    let pending = inner.exits.begin();
    super::owed::keep_trying(
        inner,
        entry,
        super::owed::Owed::Entry(exits),
        pending,
        false,
    );
}

/// Whether the venue knows one of `entry`'s exit legs (by their client ids, whatever their
/// status): those it knows are tracked as the entry's.
pub(super) async fn placed_before(
    inner: &Arc<Inner>,
    entry: &Order,
    exits: &Exits,
) -> Result<bool, BrokerError> {
    let stop = match (exits.trailing_distance, exits.stop_loss) {
        (Some(_), _) => Some(Leg::TrailingStop),
        (None, Some(_)) => Some(Leg::StopLoss),
        (None, None) => None,
    };
    let target = exits.take_profit.map(|_| Leg::TakeProfit);
    let mut known = false;
    for leg in [stop, target].into_iter().flatten() {
        let child = entry.client_id().child(leg);
        if inner
            .book
            .order(&child)
            .is_some_and(|o| !o.id.as_str().is_empty())
        {
            known = true;
            continue;
        }
        let symbol = inner.symbol.as_str().to_owned();
        let client = child.as_str().to_owned();
        let params = move |q: &mut Query| {
            q.push("symbol", &symbol).push("origClientOrderId", &client);
        };
        match inner
            .rest
            .signed(Method::GET, "/api/v3/order", 4, &params)
            .await?
        {
            Outcome::Done(body) => {
                let wire: WireOrder = inner.parse("GET /api/v3/order", &body)?;
                let request = wire.request(&inner.symbol, inner.reference().unwrap_or_default());
                let mut order = wire.to_order(request);
                order.parent = Some(entry.client_id().clone());
                tracing::info!(entry = %entry.client_id(), leg = %child, status = %order.status, "the venue has this exit already: not placed again");
                inner.book.track(order);
                known = true;
            }
            Outcome::Unknown => {}
            Outcome::Refused(r) => return Err(inner.rest.error(r)),
            Outcome::Conflict(body) => {
                return Err(inner.rest.error(orders::conflict_reason(&body)))
            }
            Outcome::Duplicate => known = true,
        }
    }
    Ok(known)
}

pub(super) fn leg_request(
    entry: &Order,
    leg: Leg,
    side: OrderSide,
    quantity: Decimal,
    kind: OrderKind,
) -> OrderRequest {
    let mut request = OrderRequest::new(
        entry.client_id().child(leg),
        entry.request.symbol.clone(),
        side,
        quantity,
        kind,
    );
    request.reduce_only = true;
    request
}

pub(super) async fn exit_quantity(
    inner: &Arc<Inner>,
    entry: &Order,
) -> Result<Decimal, BrokerError> {
    if entry.request.side == OrderSide::Sell {
        return Ok(entry.filled_quantity);
    }
    super::account::base_in_lots(inner).await
}

pub(super) async fn place(
    inner: &Arc<Inner>,
    entry: &Order,
    exits: Exits,
) -> Result<(), BrokerError> {
    // A later entry's exits replace the working ones (the new ones cover the whole position).
    // A cancel that fails stops here: the earlier exits still working keep protecting the
    // position (they lock it, so new ones would be refused), and the placement is tried again.
    let earlier = cancel_earlier_exits(inner, entry).await?;
    let side = entry.request.side.opposite();
    let placed = match exit_quantity(inner, entry).await {
        Ok(quantity) if quantity < inner.rules.dust() || quantity <= Decimal::ZERO => {
            tracing::info!(entry = %entry.client_id(), "the entry filled but no position is left to protect: no exits placed");
            return Ok(());
        }
        Ok(quantity) => place_legs(inner, entry, side, quantity, exits).await,
        Err(e) => Err(e),
    };
    if placed.is_err() {
        if let Some((owner, old)) = earlier {
            // The old exits come back at once while the new ones are tried again.
            restore(inner, &owner, side, old).await;
        }
    }
    placed
}

/// Places `owner`'s cancelled exits again, for the whole position (Binance frees a client
/// order id once its order is not open, so the legs keep their ids).
async fn restore(inner: &Arc<Inner>, owner: &Order, side: OrderSide, exits: Exits) {
    let held = match super::account::base_in_lots(inner).await {
        Ok(held) => held,
        Err(e) => {
            tracing::error!(owner = %owner.client_id(), error = %e, "the new exits were refused and the old ones cannot be placed again (the position is unknown): unprotected until the new ones are placed");
            return;
        }
    };
    if held <= Decimal::ZERO || held < inner.rules.dust() {
        return;
    }
    match place_legs(inner, owner, side, held, exits).await {
        Ok(()) => {
            tracing::warn!(owner = %owner.client_id(), "the new exits were refused: the old ones are working again until the new ones are placed")
        }
        Err(e) => {
            tracing::error!(owner = %owner.client_id(), error = %e, "the new exits were refused and the old ones could not be placed again: unprotected until the new ones are placed")
        }
    }
}

/// Places `exits` (`side`, for `quantity`) as `owner`'s children: an OCO for a stop and a
/// target, one order for a lone leg.
pub(crate) async fn place_legs(
    inner: &Arc<Inner>,
    entry: &Order,
    side: OrderSide,
    quantity: Decimal,
    exits: Exits,
) -> Result<(), BrokerError> {
    let stop = match (exits.trailing_distance, exits.stop_loss) {
        (Some(distance), fixed) => {
            if fixed.is_some() {
                tracing::warn!(entry = %entry.client_id(), "Binance holds two legs per OCO: the trailing stop takes the fixed stop's place");
            }
            Some((Leg::TrailingStop, OrderKind::TrailingStop { distance }))
        }
        (None, Some(trigger)) => Some((Leg::StopLoss, OrderKind::Stop { trigger })),
        (None, None) => None,
    };
    let target = exits
        .take_profit
        .map(|price| (Leg::TakeProfit, OrderKind::Limit { price }));
    match (stop, target) {
        (Some(stop), Some(target)) => {
            super::oco::place(inner, entry, side, quantity, stop, target).await
        }
        (Some((leg, kind)), None) | (None, Some((leg, kind))) => {
            let mut request = leg_request(entry, leg, side, quantity, kind);
            request.exits = None;
            // A leg that is over (cancelled for a resize, expired) is history under its id:
            // the venue refuses an id only among working orders, and the leg is placed again
            // under it, as an OCO's legs are. A leg still working or of unknown outcome stays,
            // so asking again never places it twice.
            if inner
                .book
                .order(&request.client_id)
                .is_some_and(|known| known.status.is_terminal())
            {
                inner.book.forget(&request.client_id);
            }
            let order = orders::submit(inner, request).await?;
            let mut tracked = order;
            tracked.parent = Some(entry.client_id().clone());
            inner.book.track(tracked);
            Ok(())
        }
        (None, None) => Ok(()),
    }
}

/// The exits other entries have working (their prices), if any.
pub(crate) fn working_exits(inner: &Inner, except: &ClientOrderId) -> Option<Exits> {
    let mut exits = Exits::default();
    for leg in inner.book.open_orders() {
        if leg.parent.is_none() || leg.parent.as_ref() == Some(except) {
            continue;
        }
        match leg.request.kind {
            OrderKind::Stop { trigger } => exits.stop_loss = Some(trigger),
            OrderKind::Limit { price } => exits.take_profit = Some(price),
            OrderKind::TrailingStop { distance } => exits.trailing_distance = Some(distance),
            _ => {}
        }
    }
    (!exits.is_empty()).then_some(exits)
}

/// Cancels the working exits of other entries and returns the newest one's entry and prices
/// (to place again should the new exits fail). Cancelling one leg of an OCO cancels its list
/// at the venue, so the other legs of the same entry are then asked about (their cancellation
/// booked at once), not cancelled a second time. An order that already ended counts as
/// cancelled.
///
/// # Errors
/// The first cancel (or query) that fails: the caller places nothing new.
async fn cancel_earlier_exits(
    inner: &Arc<Inner>,
    entry: &Order,
) -> Result<Option<(Order, Exits)>, BrokerError> {
    let mut done: Vec<ClientOrderId> = Vec::new();
    let mut newest: Option<(Order, Exits)> = None;
    for old in inner.book.open_orders() {
        let Some(parent) = old.parent.clone() else {
            continue;
        };
        if &parent == entry.client_id() {
            continue;
        }
        let outcome = if done.contains(&parent) {
            orders::query(inner, old.client_id()).await.map(|_| ())
        } else {
            done.push(parent.clone());
            match orders::cancel(inner, old.client_id()).await {
                Ok(_) | Err(BrokerError::NotCancellable { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        };
        if let Err(e) = outcome {
            tracing::warn!(exit = %old.client_id(), error = %e, "could not cancel an earlier exit: the new exits are not placed now (the earlier ones keep protecting the position) and are tried again");
            return Err(e);
        }
        if let Some(owner) = inner.book.order(&parent) {
            let prices = newest
                .take()
                .filter(|(o, _)| o.client_id() == &parent)
                .map_or_else(Exits::default, |(_, e)| e);
            newest = Some((owner, with_leg(prices, &old)));
        }
    }
    Ok(newest)
}

/// `exits` with `leg`'s price.
pub(super) fn with_leg(mut exits: Exits, leg: &Order) -> Exits {
    match leg.request.kind {
        OrderKind::Stop { trigger } => exits.stop_loss = Some(trigger),
        OrderKind::Limit { price } => exits.take_profit = Some(price),
        OrderKind::TrailingStop { distance } => exits.trailing_distance = Some(distance),
        _ => {}
    }
    exits
}

pub(super) fn reject(inner: &Inner, entry: &Order, request: OrderRequest, reason: &VenueReason) {
    let mut order = Order::new(
        OrderId::new(""),
        request,
        Timestamp::from_millis(inner.rest.server_now()),
    );
    order.status = OrderStatus::Rejected;
    order.parent = Some(entry.client_id().clone());
    order.reason = Some(inner.rest.masker().mask(&reason.to_string()));
    inner.book.track(order);
}
