//! Reducing a position while its exits are working. Binance locks the base asset for a
//! working sell OCO, so a reduce-only sell (a close, the kill switch's close) sent beside it is
//! refused for insufficient balance. The working exits are cancelled first (one `DELETE`: an
//! order list goes with any of its legs), the order is sent, and whatever position is left
//! (the order reduced it only, rests, or was refused) gets its exits again at the same prices,
//! as the order's children. A position that went flat another way (a sale by hand at the
//! venue) has its exits cancelled: none is left working with nothing to protect.

use super::broker::Inner;
use super::{account, orders, owed};
use crate::BrokerError;
use std::sync::Arc;
use tradegraph_core::order::{
    Exits, Order, OrderId, OrderKind, OrderRequest, OrderSide, OrderStatus,
};
use tradegraph_core::{Decimal, Timestamp};

/// The exit legs working on `side` (the sells protecting a long).
pub(super) fn working_legs(inner: &Inner, side: OrderSide) -> Vec<Order> {
    inner
        .book
        .open_orders()
        .into_iter()
        .filter(|o| o.parent.is_some() && o.request.side == side)
        .collect()
}

/// The prices of `legs`.
fn prices(legs: &[Order]) -> Exits {
    let mut exits = Exits::default();
    for leg in legs {
        match leg.request.kind {
            OrderKind::Stop { trigger } => exits.stop_loss = Some(trigger),
            OrderKind::Limit { price } => exits.take_profit = Some(price),
            OrderKind::TrailingStop { distance } => exits.trailing_distance = Some(distance),
            _ => {}
        }
    }
    exits
}

/// Cancels `legs`: the first with a `DELETE` (the venue cancels its whole order list), the
/// others asked about (their end booked), a lone order each with its own `DELETE`.
pub(super) async fn cancel_legs(inner: &Arc<Inner>, legs: &[Order]) -> Result<(), BrokerError> {
    let mut lists_done: Vec<_> = Vec::new();
    for leg in legs {
        let Some(parent) = leg.parent.clone() else {
            continue;
        };
        if lists_done.contains(&parent) {
            if let Some(now) = orders::query(inner, leg.client_id()).await? {
                if !now.status.is_terminal() {
                    orders::cancel(inner, leg.client_id()).await?;
                }
            }
            continue;
        }
        match orders::cancel(inner, leg.client_id()).await {
            Ok(_) | Err(BrokerError::NotCancellable { .. }) => {}
            Err(e) => return Err(e),
        }
        lists_done.push(parent);
    }
    Ok(())
}

/// `Broker::submit`: a reduce-only order while exits on its side are working cancels them
/// first and places them again for what is left; any other order goes as it is.
pub(crate) async fn submit(
    inner: &Arc<Inner>,
    request: OrderRequest,
) -> Result<Order, BrokerError> {
    let reduces = request.reduce_only
        && request.exits.is_none_or(|e| e.is_empty())
        && inner.book.order(&request.client_id).is_none();
    if !reduces {
        return orders::submit(inner, request).await;
    }
    // An exit placement under way finishes first: its OCO would lock the position.
    inner.exits.settled().await;
    let turn = inner.exits.turn().await;
    let legs = working_legs(inner, request.side);
    if legs.is_empty() {
        let request = match fit_to_holding(inner, request).await {
            Ok(Fitted::Send(request)) => request,
            Ok(Fitted::Nothing(answer)) => return Ok(*answer),
            Err(e) => return Err(e),
        };
        drop(turn);
        return orders::submit(inner, request).await;
    }
    let exits = prices(&legs);
    let exit_side = legs[0].request.side;
    tracing::info!(client_id = %request.client_id, legs = legs.len(), "a reduce-only order while exits are working: cancelling them first");
    if let Err(e) = cancel_legs(inner, &legs).await {
        // Nothing is sent on top of exits half cancelled. Whatever was cancelled is placed
        // again for the position (legs still working keep protecting it).
        tracing::error!(client_id = %request.client_id, error = %e, "the exits could not all be cancelled before a reduce-only order: it is not sent");
        let still_working = working_legs(inner, exit_side);
        if still_working.is_empty() && !exits.is_empty() {
            let owner = stand_in(inner, &request);
            place_again(inner, owner, exit_side, exits).await;
        }
        drop(turn);
        return Err(e);
    }
    let request = match fit_to_holding(inner, request.clone()).await {
        Ok(Fitted::Send(request)) => request,
        // Flat: an exit filled (its fill unheard of yet); none is placed again.
        Ok(Fitted::Nothing(answer)) => return Ok(*answer),
        Err(e) => {
            tracing::error!(client_id = %request.client_id, error = %e, "the holding could not be read once the exits were lifted: the reduce-only order is not sent; placing them again");
            if !exits.is_empty() {
                let owner = stand_in(inner, &request);
                place_again(inner, owner, exit_side, exits).await;
            }
            return Err(e);
        }
    };
    // From here on the position keeps its exits whatever the order comes to: what is left
    // (less what the order itself still has resting) gets them again, tried until placed.
    let sent = orders::submit(inner, request.clone()).await;
    let owner = match &sent {
        Ok(order) => order.clone(),
        Err(e) => {
            tracing::error!(client_id = %request.client_id, error = %e, "a reduce-only order failed after its position's exits were cancelled: placing them again");
            inner
                .book
                .order(&request.client_id)
                .unwrap_or_else(|| stand_in(inner, &request))
        }
    };
    if !exits.is_empty() {
        place_again(inner, owner, exit_side, exits).await;
    }
    drop(turn);
    sent
}

/// A reduce-only order [`fit_to_holding`] let go (cut to the holding), or its answer when
/// nothing is left to reduce.
enum Fitted {
    Send(OrderRequest),
    Nothing(Box<Order>),
}

/// A reduce-only sell is sized by a position read before it (the engine's, or the operator's):
/// an exit may have filled since, its fill not heard of yet. Read once the exits are lifted
/// (nothing locked for them), the bot's holding caps it: the venue would otherwise sell asset
/// in the account that is not the bot's (`reserved_base`). Nothing held: it is not sent, and
/// its answer is a rejection saying so (the venue never sees it).
async fn fit_to_holding(
    inner: &Arc<Inner>,
    mut request: OrderRequest,
) -> Result<Fitted, BrokerError> {
    if request.side != OrderSide::Sell {
        return Ok(Fitted::Send(request));
    }
    let held = account::base_in_lots(inner).await?;
    if held.is_zero() {
        tracing::warn!(client_id = %request.client_id, asked = %request.quantity, "a reduce-only sell with nothing left to close (an exit filled since it was sized): not sent");
        let mut answer = stand_in(inner, &request);
        answer.status = OrderStatus::Rejected;
        answer.reason = Some(format!(
            "nothing left to close: the bot holds no {} now (an exit filled since the order was sized); not sent",
            inner.rules.base_asset
        ));
        return Ok(Fitted::Nothing(Box::new(answer)));
    }
    if request.quantity > held {
        tracing::warn!(client_id = %request.client_id, asked = %request.quantity, %held, "a reduce-only sell larger than the bot's holding now (an exit filled since it was sized): cut to the holding");
        request.quantity = held;
    }
    Ok(Fitted::Send(request))
}

/// Places `exits` again as `owner`'s children (the caller holds the exits' turn): now, and,
/// should that fail, in the background until they are placed or the position is flat.
async fn place_again(inner: &Arc<Inner>, owner: Order, side: OrderSide, exits: Exits) {
    let owed = owed::Owed::Again { side, exits };
    match owed::attempt(inner, &owner, &owed).await {
        Ok(()) => inner.exits.placed(&inner.book, owner.client_id()),
        Err(e) => {
            tracing::error!(client_id = %owner.client_id(), error = %e, "exits are owed but could not be placed: the position is unprotected until they are; trying again");
            let first = inner.exits.begin();
            owed::keep_trying(inner, owner, owed, first, true);
        }
    }
}

/// `request` as an order the venue never saw (the owner of exits placed again for it).
fn stand_in(inner: &Inner, request: &OrderRequest) -> Order {
    Order::new(
        OrderId::new(""),
        request.clone(),
        Timestamp::from_millis(inner.rest.server_now()),
    )
}

/// At a start from a kept book: exits the book had working (`kept`) that the venue has
/// cancelled since the book was kept, none of their legs filled, while the position is held
/// and no exit works on their side, are placed again at the same prices for the position. A
/// close cancels the working exits before it is sent (see [`submit`]); a crash between the two
/// leaves a position without them, and the kept book, saved before the close, cannot tell that
/// cancel from one made by hand at the venue after it was kept. Either way a held position gets
/// its exits back.
pub(crate) async fn restore_cancelled(inner: &Arc<Inner>, kept: &[Order]) {
    let mut owners: Vec<&tradegraph_core::order::ClientOrderId> = Vec::new();
    for leg in kept {
        if let Some(parent) = &leg.parent {
            if !owners.contains(&parent) {
                owners.push(parent);
            }
        }
    }
    for parent in owners {
        let Some(legs) = kept
            .iter()
            .filter(|k| k.parent.as_ref() == Some(parent))
            .map(|k| inner.book.order(k.client_id()))
            .collect::<Option<Vec<Order>>>()
        else {
            continue;
        };
        let cancelled = legs.iter().all(|l| {
            l.status == tradegraph_core::order::OrderStatus::Cancelled
                && l.filled_quantity.is_zero()
        });
        if !cancelled {
            continue;
        }
        let side = legs[0].request.side;
        let _turn = inner.exits.turn().await;
        if !working_legs(inner, side).is_empty() {
            continue;
        }
        let owner = inner.book.order(parent).unwrap_or_else(|| {
            // Gone from the book (finished long ago): the legs' owner by its id alone.
            let mut request = legs[0].request.clone();
            request.client_id = parent.clone();
            request.side = side.opposite();
            request.reduce_only = false;
            stand_in(inner, &request)
        });
        tracing::warn!(owner = %parent, legs = legs.len(), "exits working when the book was kept were cancelled while the bot was down (a close cut short by a crash, or by hand): placing them again for the position held");
        place_again(inner, owner, side, prices(&legs)).await;
    }
}

/// When the bot holds no position, cancels the sell exits still working.
pub(crate) async fn cancel_if_flat(inner: &Arc<Inner>) -> Result<(), BrokerError> {
    let legs = working_legs(inner, OrderSide::Sell);
    if legs.is_empty() {
        return Ok(());
    }
    if account::base_position(inner).await? > Decimal::ZERO {
        return Ok(());
    }
    tracing::warn!(
        legs = legs.len(),
        "the position is flat but exits are working: cancelling them"
    );
    cancel_legs(inner, &legs).await
}
