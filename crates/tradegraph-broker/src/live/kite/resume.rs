//! The exits across restarts: every change to them is saved in the book's venue state, an exit
//! is placed at most once (Kite is asked first: its orders by tag; its GTTs, after a restart
//! or a lost answer only, by what they hold and when they were made), and a broker restored
//! from a snapshot picks up where the last one stopped.

use super::broker::Inner;
use super::exits::Exits;
use super::order::{decimal, text_of};
use super::rest::{encode, Cost, VENUE};
use super::{side_of, Form};
use crate::live::venue::VenueBook;
use crate::BrokerError;
use reqwest::Method;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tradegraph_core::order::{ClientOrderId, Order, OrderRequest, OrderSide, OrderStatus};

/// The exits, locked; saved into the book's venue state when let go, with the orders of
/// unknown outcome.
pub(crate) struct ExitsGuard<'a> {
    pub(crate) exits: MutexGuard<'a, Exits>,
    pub(crate) book: &'a VenueBook,
    /// Orders sent with their answers lost that Kite has not listed since (locked after the
    /// exits, never the other way round).
    pub(crate) lost: &'a Mutex<HashMap<ClientOrderId, Order>>,
}

/// What the Kite broker keeps in the book's venue state: its exits and its orders of unknown
/// outcome, so that a restart while Kite still lags does not send in their place.
#[derive(Serialize)]
struct Kept<'a> {
    #[serde(flatten)]
    exits: &'a Exits,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    lost: &'a HashMap<ClientOrderId, Order>,
}

/// The orders of unknown outcome as kept ([`Kept::lost`]; none in a book saved before they
/// were kept).
#[derive(Deserialize)]
struct KeptLost {
    #[serde(default)]
    lost: HashMap<ClientOrderId, Order>,
}

impl Deref for ExitsGuard<'_> {
    type Target = Exits;
    fn deref(&self) -> &Exits {
        &self.exits
    }
}

impl DerefMut for ExitsGuard<'_> {
    fn deref_mut(&mut self) -> &mut Exits {
        &mut self.exits
    }
}

impl Drop for ExitsGuard<'_> {
    fn drop(&mut self) {
        let lost = self.lost.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = Kept {
            exits: &self.exits,
            lost: &lost,
        };
        if let Err(e) = self.book.set_venue_state(&kept) {
            tracing::error!(venue = VENUE, error = %e, "the exits could not be saved with the book: after a restart they would not be managed");
        }
    }
}

/// The orders of unknown outcome kept in `book` that it does not track (those Kite listed
/// since are the book's).
///
/// # Errors
/// [`BrokerError::Snapshot`] when the book holds a state this version cannot read.
pub(crate) fn restored_lost(
    book: &VenueBook,
) -> Result<HashMap<ClientOrderId, Order>, BrokerError> {
    let kept = book.venue_state::<KeptLost>().map_err(|e| {
        BrokerError::Snapshot(format!(
            "{e}: the Kite broker's orders of unknown outcome cannot be read from the saved book; check today's orders at Kite, then start with a book without them"
        ))
    })?;
    let mut lost = kept.map(|k| k.lost).unwrap_or_default();
    lost.retain(|id, _| book.order(id).is_none());
    Ok(lost)
}

/// The exits kept in `book` (none for a new book).
///
/// # Errors
/// [`BrokerError::Snapshot`] when the book holds a state this version cannot read: starting
/// without it would leave GTTs and stops at Kite that nothing manages.
pub(crate) fn restored_exits(book: &VenueBook) -> Result<Exits, BrokerError> {
    match book.venue_state::<Exits>() {
        Ok(exits) => {
            let mut exits = exits.unwrap_or_default();
            // Placed before the restart but not saved? Kite is asked before placing them.
            let planned: Vec<ClientOrderId> = exits.plans.keys().cloned().collect();
            exits.lookup.extend(planned);
            // A GTT kept by a version that did not keep its entry: found by its legs' ids.
            for gtt in exits.gtts.iter_mut().filter(|g| g.entry.is_none()) {
                gtt.entry = gtt.legs.iter().find_map(|l| book.entry_of(&l.client_id));
            }
            Ok(exits)
        }
        Err(e) => Err(BrokerError::Snapshot(format!(
            "{e}: the Kite broker's exits (GTTs, stops) cannot be read from the saved book; check them at Kite, then start with a book without them"
        ))),
    }
}

impl Inner {
    /// Places an exit unless Kite already has it (its tag in today's orders).
    pub(crate) async fn place_exit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
        if let Some(known) = self.book.order(&request.client_id) {
            return Ok(known);
        }
        if let Some(found) = self.find(&request.client_id).await? {
            tracing::info!(venue = VENUE, client_id = %found.client_id(), "the exit is already at Kite: not placed again");
            return Ok(found);
        }
        if let Some(lost) = self.lost_order(&request.client_id) {
            if lost.status == OrderStatus::Pending {
                // Sent before with its answer lost, not listed yet: placed again it could be
                // twice at Kite. It stays owed, and is asked about at the next try.
                return Err(self
                    .rest
                    .error(crate::live::VenueReason::Unavailable(format!(
                        "exit {} was sent with its answer lost and Kite does not list it yet",
                        request.client_id
                    ))));
            }
            // Taken as never received: placed again under its id (Kite has no order under it).
        }
        self.place(request, None).await
    }

    /// `POST /gtt/triggers`: the new trigger's id.
    pub(crate) async fn post_gtt(&self, form: &Form) -> Result<String, BrokerError> {
        let data = self
            .rest
            .call(
                Method::POST,
                "/gtt/triggers",
                Some(encode(form)),
                Cost::Write,
            )
            .await?;
        text_of(&data, "trigger_id")
            .ok_or_else(|| self.rest.unreadable("POST /gtt/triggers", "no trigger_id"))
    }

    /// The id of a GTT at Kite (`GET /gtt/triggers`) that is `entry`'s exits, placed by an
    /// earlier try whose answer was lost or that a restart did not save: the instrument, the
    /// side and quantity, the stop and target, active or triggered, created no earlier than
    /// the entry's first fill, and not one of the GTTs this broker already knows (another
    /// trade's exits are never taken for these).
    pub(crate) async fn existing_gtt(
        &self,
        entry: &Order,
        side: OrderSide,
        quantity: Decimal,
        stop: Decimal,
        target: Decimal,
    ) -> Result<Option<String>, BrokerError> {
        let data = self
            .rest
            .call(Method::GET, "/gtt/triggers", None, Cost::Read)
            .await?;
        let (low, high) = match side {
            OrderSide::Sell => (stop, target),
            OrderSide::Buy => (target, stop),
        };
        let filled_at = self
            .book
            .fills_since(0)
            .iter()
            .filter(|f| &f.client_id == entry.client_id())
            .map(|f| f.ts.millis())
            .min()
            .unwrap_or(entry.created_at.millis());
        // Kite's times are whole seconds.
        let filled_at = filled_at - filled_at.rem_euclid(1000);
        let known = self.exits().gtt_ids.clone();
        let symbol = self.tradingsymbol();
        let same = |gtt: &Value| -> Result<bool, String> {
            let status = gtt.get("status").and_then(Value::as_str).unwrap_or("");
            let condition = gtt.get("condition").cloned().unwrap_or(Value::Null);
            let id = gtt.get("id").and_then(super::order::value_text);
            let created = gtt
                .get("created_at")
                .and_then(Value::as_str)
                .and_then(super::order::kite_time);
            if !matches!(status, "active" | "triggered")
                || condition.get("tradingsymbol").and_then(Value::as_str) != Some(symbol.as_str())
                || id.is_none_or(|id| known.contains(&id))
                || created.is_none_or(|at| at.millis() < filled_at)
            {
                return Ok(false);
            }
            let values = condition
                .get("trigger_values")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let values = values
                .iter()
                .map(|v| decimal(Some(v), "trigger_values"))
                .collect::<Result<Vec<_>, _>>()?;
            let first = gtt.pointer("/orders/0").cloned().unwrap_or(Value::Null);
            Ok(values == [low, high]
                && first.get("transaction_type").and_then(Value::as_str) == Some(side_of(side))
                && decimal(first.get("quantity"), "quantity")? == quantity)
        };
        for gtt in data.as_array().map(Vec::as_slice).unwrap_or_default() {
            if same(gtt).map_err(|e| self.rest.unreadable("GET /gtt/triggers", &e))? {
                return Ok(gtt.get("id").and_then(super::order::value_text));
            }
        }
        Ok(None)
    }

    /// At start, for a broker restored from a snapshot: what happened while it was down (an
    /// entry that filled gets its exits, a GTT leg that triggered is booked under its leg's
    /// client id), then the exits are fitted to the position.
    pub(crate) async fn resume(&self) {
        let planned: Vec<ClientOrderId> = {
            let exits = self.exits();
            if exits.is_empty() {
                return;
            }
            exits.plans.keys().cloned().collect()
        };
        if let Err(e) = self.poll().await {
            tracing::warn!(venue = VENUE, error = %e, "could not read Kite's orders at start; the exits are checked again as updates arrive");
        }
        for entry in planned {
            if let Some(order) = self.book.order(&entry) {
                if !order.status.is_terminal() {
                    if let Err(e) = self.refresh(&order).await {
                        tracing::warn!(venue = VENUE, client_id = %entry, error = %e, "could not read an entry's state at start");
                    }
                }
            }
            self.after_update(&entry).await;
        }
        if let Err(e) = self.fit_exits(None).await {
            tracing::warn!(venue = VENUE, error = %e, "could not check the exits against the position at start");
        }
    }
}

impl Exits {
    /// Nothing to place or watch.
    pub(crate) fn is_empty(&self) -> bool {
        self.plans.is_empty()
            && self.trails.is_empty()
            && self.gtts.is_empty()
            && self.lapsed.is_empty()
            && self.gtt_stops.is_empty()
    }
}
