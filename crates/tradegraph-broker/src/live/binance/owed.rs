//! Exits owed to a position: placed in the background and tried again (waits doubling up to
//! a limit, each failure an error in the log: the position is unprotected meanwhile) until
//! they are at the venue, the position is flat, or the broker is dropped; and an entry's exits
//! resized as it fills in parts.

use super::broker::Inner;
use super::exits::{exit_quantity, place, place_legs, placed_before};
use super::saved::Pending;
use crate::BrokerError;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_core::money::floor_to_step;
use tradegraph_core::order::{Exits, Order, OrderSide};
use tradegraph_core::Decimal;

/// Resizes `entry`'s working exits when it has filled more than they were placed for.
pub(super) fn resize_if_grown(inner: &Arc<Inner>, entry: Order, exits: Exits) {
    let id = entry.client_id().clone();
    if !inner.exits.is_placed(&id) {
        // Being placed: that placement looks at the fills again once it is done.
        return;
    }
    match inner.exits.covered(&id) {
        // Placed before a restart: they cover the fills known then.
        None => {
            inner.exits.cover(&id, entry.filled_quantity);
            return;
        }
        Some(covered) if covered >= entry.filled_quantity => return,
        Some(_) => {}
    }
    if !inner.exits.claim_resize(&id) {
        return;
    }
    let pending = inner.exits.begin();
    keep_trying(inner, entry, Owed::Resize(exits), pending, false);
}

/// Exits the broker owes a position until they are at the venue.
pub(crate) enum Owed {
    /// An entry's exits (asked about at the venue first; the whole position after a buy).
    Entry(Exits),
    /// An entry's working exits cancelled and placed again for what it has filled since.
    Resize(Exits),
    /// Exits placed again as the owner's children (after a close that left a position): on
    /// `side`, for the position less what the owner itself still has resting.
    Again {
        /// The side of the exit legs.
        side: OrderSide,
        /// Their prices.
        exits: Exits,
    },
}

/// The first wait before an owed placement is tried again; it doubles up to [`OWED_MAX`].
const OWED_FIRST: Duration = Duration::from_millis(200);
/// The longest wait between two tries of an owed placement.
const OWED_MAX: Duration = Duration::from_secs(30);

/// Places `owed` for `owner` in the background and keeps trying (waits doubling up to
/// [`OWED_MAX`], each failure logged as an error: the position is unprotected) until they are
/// placed, the position is flat, or the broker is dropped. Each try takes the exits' turn, so
/// a close can run between two tries.
/// `tried`: a first try already failed (the first one here waits).
pub(crate) fn keep_trying(
    inner: &Arc<Inner>,
    owner: Order,
    owed: Owed,
    first: Pending,
    tried: bool,
) {
    let inner = inner.clone();
    tokio::spawn(async move {
        let mut owed = owed;
        let id = owner.client_id().clone();
        let mut pending = Some(first);
        let mut wait = OWED_FIRST;
        let mut tries: u32 = u32::from(tried);
        if tried {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(OWED_MAX);
        }
        loop {
            tries += 1;
            let (outcome, filled) = {
                let _pending = pending.take().unwrap_or_else(|| inner.exits.begin());
                let _turn = inner.exits.turn().await;
                let owner = inner.book.order(&id).unwrap_or_else(|| owner.clone());
                (attempt(&inner, &owner, &owed).await, owner.filled_quantity)
            };
            match outcome {
                Ok(()) => {
                    inner.exits.placed(&inner.book, &id);
                    if tries > 1 {
                        tracing::info!(owner = %id, tries, "the exits owed are at the venue now");
                    }
                    let exits = match owed {
                        Owed::Entry(e) | Owed::Resize(e) => e,
                        Owed::Again { .. } => return,
                    };
                    inner.exits.cover(&id, filled);
                    // Filled more while they were placed: resized at once.
                    let grown = inner
                        .book
                        .order(&id)
                        .is_some_and(|o| o.filled_quantity > filled);
                    let resizing = matches!(owed, Owed::Resize(_));
                    if grown && (resizing || inner.exits.claim_resize(&id)) {
                        owed = Owed::Resize(exits);
                        tries = 0;
                        wait = OWED_FIRST;
                        continue;
                    }
                    if resizing {
                        inner.exits.end_resize(&id);
                    }
                    return;
                }
                Err(e) => {
                    tracing::error!(owner = %id, tries, retry_in_ms = wait.as_millis() as u64, error = %e, "exits are owed but could not be placed: the position is unprotected until they are; trying again");
                }
            }
            if inner.link.is_stopped() {
                break;
            }
            tokio::time::sleep(wait).await;
            if inner.link.is_stopped() {
                break;
            }
            wait = (wait * 2).min(OWED_MAX);
        }
        match owed {
            Owed::Entry(_) => inner.exits.unclaim(&id),
            Owed::Resize(_) => inner.exits.end_resize(&id),
            Owed::Again { .. } => {}
        }
    });
}

/// One try at placing `owed` for `owner` (the caller holds the exits' turn).
pub(crate) async fn attempt(
    inner: &Arc<Inner>,
    owner: &Order,
    owed: &Owed,
) -> Result<(), BrokerError> {
    match owed {
        Owed::Entry(exits) => {
            // The legs' client ids are the entry's children: a venue that has one has them
            // all (placed before a restart or by a try whose answer was lost).
            if placed_before(inner, owner, exits).await? {
                return Ok(());
            }
            place(inner, owner, *exits).await
        }
        Owed::Resize(exits) => {
            let legs: Vec<Order> = inner
                .book
                .open_orders()
                .into_iter()
                .filter(|o| o.parent.as_ref() == Some(owner.client_id()))
                .collect();
            // A cancel that fails stops here (the legs still working keep protecting the
            // part they cover); the resize is tried again.
            super::close::cancel_legs(inner, &legs).await?;
            let quantity = exit_quantity(inner, owner).await?;
            if quantity < inner.rules.dust() || quantity <= Decimal::ZERO {
                return Ok(());
            }
            let side = owner.request.side.opposite();
            place_legs(inner, owner, side, quantity, *exits).await
        }
        Owed::Again { side, exits } => {
            // Exits working on the side already (the owner's, placed by an earlier try, or
            // another entry's, placed meanwhile) protect the position and lock it: nothing
            // more is placed.
            let working = super::close::working_legs(inner, *side)
                .iter()
                .any(|o| !o.id.as_str().is_empty());
            if working {
                return Ok(());
            }
            // What the owner still has resting (an order whose outcome is unknown counts as
            // none: if it rests, the venue refuses the exits for balance and they are tried
            // again once it is known).
            let resting = if owner.status.is_terminal() || owner.id.as_str().is_empty() {
                Decimal::ZERO
            } else {
                owner.request.quantity - owner.filled_quantity
            };
            let held = super::account::base_position(inner).await?;
            let left = floor_to_step(held - resting, inner.rules.dust());
            if left <= Decimal::ZERO || left < inner.rules.dust() {
                return Ok(());
            }
            place_legs(inner, owner, *side, left, *exits).await
        }
    }
}
