//! [`VenueBook`]: a venue broker's record of its orders and of their fills, numbered.

use crate::BrokerError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tradegraph_core::order::{
    ClientOrderId, Fill, Leg, Liquidity, Order, OrderId, OrderRequest, OrderStatus,
};
use tradegraph_core::{Money, Price, Quantity, Timestamp};

/// Fills kept for readers that are behind (the runtime's trade ledger reads as they come).
const KEEP_FILLS: usize = 5_000;
/// Trade ids remembered, so that a trade reported twice (stream and polling) is booked once.
const KEEP_TRADE_IDS: usize = 20_000;
/// Finished orders kept (working ones are always kept).
const KEEP_FINISHED: usize = 500;

/// An execution the venue reported: one trade of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueTrade {
    /// The venue's trade id (Binance's `t`, Kite's `trade_id`): a trade id seen before is not
    /// booked again.
    pub trade_id: String,
    /// The quantity traded.
    pub quantity: Quantity,
    /// The price.
    pub price: Price,
    /// The fee, in the account's currency.
    pub fee: Money,
    /// The part of the fee charged in the traded asset itself (Binance's commission in BTC on
    /// a buy of BTCUSDT), valued in `fee` too: the position gets that much less of the asset
    /// on a buy (gives that much more on a sell), and the fill says so (zero otherwise).
    pub fee_in_asset: Quantity,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// When.
    pub ts: Timestamp,
}

/// What the venue says about one order, from its order-update stream or from polling (the same
/// type either way, so both go through [`VenueBook::apply`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueUpdate {
    /// The order as the venue describes it (its client order id, side, quantity, kind): an
    /// order the book does not track yet (placed by hand, or before a crash) is tracked from
    /// it.
    pub request: OrderRequest,
    /// The venue's order id.
    pub order_id: OrderId,
    /// Its status now.
    pub status: OrderStatus,
    /// A trade, when the update reports one.
    pub trade: Option<VenueTrade>,
    /// The venue's reason, for a rejection or cancellation.
    pub reason: Option<String>,
    /// When the venue sent it.
    pub at: Timestamp,
}

/// A tracked order, as kept in a [`VenueBookSnapshot`].
pub type TrackedOrder = Order;

/// What a [`VenueBook`] keeps across a restart (the runtime saves it as the broker's state):
/// the orders, the newest fills, the fill counter and the trade ids already booked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueBookSnapshot {
    /// The orders tracked, working and the newest finished.
    pub orders: Vec<TrackedOrder>,
    /// The newest fills, oldest first.
    pub fills: Vec<Fill>,
    /// The `seq` of the last fill booked.
    pub last_seq: u64,
    /// Trade ids already booked, oldest first.
    pub trade_ids: Vec<String>,
    /// What the venue's broker keeps beside the orders (Kite's GTT trigger ids and trailing
    /// stops, the exits already placed), in its own serde form; `null` for nothing.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub venue_state: serde_json::Value,
    /// The trading day's start and the equity first seen on it: the venues keep no opening
    /// equity, so the book does, for the daily-loss limit (see [`VenueBook::opening_equity`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_open: Option<(Timestamp, Money)>,
    /// Venue orders another took the place of under the same client id (a cancel-replace, an
    /// order placed again), newest last: their late reports are booked under that client id
    /// without taking the place of the order that works now, also after a restart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<(ClientOrderId, OrderId)>,
}

#[derive(Debug, Default)]
struct State {
    venue_state: serde_json::Value,
    day_open: Option<(Timestamp, Money)>,
    orders: BTreeMap<ClientOrderId, Order>,
    fills: VecDeque<Fill>,
    last_seq: u64,
    trade_ids: HashSet<String>,
    trade_order: VecDeque<String>,
    /// Orders forgotten to be placed again under their client id (the newest
    /// [`KEEP_REPLACED`]): their late updates are not the new order's.
    replaced: VecDeque<(ClientOrderId, OrderId)>,
}

/// How many forgotten orders' ids are remembered (see `State::replaced`).
const KEEP_REPLACED: usize = 64;

/// The orders a venue broker placed or saw, and their fills numbered in the order it learned
/// of them (the [`Broker`](crate::Broker) contract: `seq` one above the previous, never
/// repeated, across restarts too when the runtime keeps the [`snapshot`](Self::snapshot)).
///
/// ```
/// use tradegraph_broker::live::venue::{VenueBook, VenueTrade, VenueUpdate};
/// use tradegraph_core::order::{ClientOrderId, Liquidity, OrderId, OrderRequest, OrderSide, OrderStatus};
/// use tradegraph_core::{Decimal, Symbol, Timestamp};
///
/// let book = VenueBook::new("binance");
/// let id = ClientOrderId::new("tg0123456789abcdef")?;
/// let request = OrderRequest::market(id.clone(), Symbol::new("BTCUSDT"), OrderSide::Buy, Decimal::new(2, 3));
/// let trade = VenueTrade {
///     trade_id: "77".into(), quantity: Decimal::new(2, 3), price: Decimal::from(40_000),
///     fee: Decimal::new(8, 2), fee_in_asset: Decimal::ZERO, liquidity: Liquidity::Taker,
///     ts: Timestamp::from_millis(1),
/// };
/// let update = VenueUpdate {
///     request, order_id: OrderId::new("9001"), status: OrderStatus::Filled,
///     trade: Some(trade), reason: None, at: Timestamp::from_millis(1),
/// };
/// assert_eq!(book.apply(&update)?.map(|f| f.seq), Some(1));
/// // The same trade again (polling after the stream): not booked twice.
/// assert_eq!(book.apply(&update)?, None);
/// assert_eq!(book.order(&id).map(|o| o.status), Some(OrderStatus::Filled));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct VenueBook {
    venue: &'static str,
    state: Mutex<State>,
    revision: AtomicU64,
}

impl VenueBook {
    /// An empty book of `venue`'s broker (`binance`, `kite`: the `broker` label of its
    /// order and fill metrics).
    pub fn new(venue: &'static str) -> Self {
        Self {
            venue,
            state: Mutex::default(),
            revision: AtomicU64::new(0),
        }
    }

    /// `venue`'s book as it was when `snapshot` was taken.
    pub fn restore(venue: &'static str, snapshot: VenueBookSnapshot) -> Self {
        let mut state = State {
            venue_state: snapshot.venue_state,
            day_open: snapshot.day_open,
            last_seq: snapshot.last_seq,
            fills: snapshot.fills.into(),
            replaced: snapshot.replaced.into(),
            ..State::default()
        };
        for order in snapshot.orders {
            state.orders.insert(order.client_id().clone(), order);
        }
        for id in snapshot.trade_ids {
            if state.trade_ids.insert(id.clone()) {
                state.trade_order.push_back(id);
            }
        }
        Self {
            venue,
            state: Mutex::new(state),
            revision: AtomicU64::new(0),
        }
    }

    /// What to keep across a restart.
    pub fn snapshot(&self) -> VenueBookSnapshot {
        let state = self.lock();
        VenueBookSnapshot {
            orders: state.orders.values().cloned().collect(),
            fills: state.fills.iter().cloned().collect(),
            last_seq: state.last_seq,
            trade_ids: state.trade_order.iter().cloned().collect(),
            venue_state: state.venue_state.clone(),
            day_open: state.day_open,
            replaced: state.replaced.iter().cloned().collect(),
        }
    }

    /// The equity the trading day that started at `day_start` opened with: the first
    /// `equity` seen on that day, kept with the book (so a restart the same day keeps it). A
    /// venue broker's [`Account::day_start_equity`](tradegraph_core::Account) comes from here:
    /// the risk guard's daily-loss limit compares the equity with it. A bot that first starts
    /// in the middle of a day opens the day at the equity it first sees.
    pub fn opening_equity(&self, day_start: Timestamp, equity: Money) -> Money {
        let mut state = self.lock();
        match state.day_open {
            Some((day, opening)) if day == day_start => opening,
            _ => {
                state.day_open = Some((day_start, equity));
                drop(state);
                self.changed();
                equity
            }
        }
    }

    /// Keeps `value` as the venue broker's own state (see
    /// [`VenueBookSnapshot::venue_state`]): saved with the book, given back by
    /// [`venue_state`](Self::venue_state) after a restore.
    ///
    /// # Errors
    /// [`BrokerError::Snapshot`] when `value` cannot be serialized.
    pub fn set_venue_state<T: Serialize>(&self, value: &T) -> Result<(), BrokerError> {
        let value = serde_json::to_value(value)
            .map_err(|e| BrokerError::Snapshot(format!("the venue broker's state: {e}")))?;
        let mut state = self.lock();
        if state.venue_state == value {
            return Ok(());
        }
        state.venue_state = value;
        drop(state);
        self.changed();
        Ok(())
    }

    /// The venue broker's own state as kept (`None` when nothing was kept).
    ///
    /// # Errors
    /// [`BrokerError::Snapshot`] when the kept state does not read as a `T` (saved by another
    /// version): the broker should say so rather than start without it.
    pub fn venue_state<T: for<'de> Deserialize<'de>>(&self) -> Result<Option<T>, BrokerError> {
        let state = self.lock();
        if state.venue_state.is_null() {
            return Ok(None);
        }
        serde_json::from_value(state.venue_state.clone())
            .map(Some)
            .map_err(|e| BrokerError::Snapshot(format!("the venue broker's saved state: {e}")))
    }

    /// A number that changes whenever the book does.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn changed(&self) {
        self.revision.fetch_add(1, Ordering::AcqRel);
    }

    /// Tracks `order` as the venue reported it (an answer to a submit or a query) and returns
    /// it as the book now has it. An answer about the order the book already tracks (the same
    /// venue order id) never moves it back: the stream may have reported a fill before the
    /// submit's answer arrived, so the furthest status and the larger filled quantity, fees
    /// and average price stand. An answer about another venue order under the same client id
    /// (a replacement) replaces it, keeping its parent.
    pub fn track(&self, order: Order) -> Order {
        let state = self.lock();
        self.track_locked(state, order)
    }

    /// [`track`](Self::track), the book's lock held by the caller since it looked.
    fn track_locked(&self, mut state: MutexGuard<'_, State>, order: Order) -> Order {
        let mut replaces = None;
        let kept = match state.orders.get(order.client_id()) {
            Some(known) if known.id == order.id || order.id.as_str().is_empty() => {
                merged(known, order)
            }
            Some(known) => {
                // The venue order it replaces (an amendment's cancel-replace) is remembered, so
                // that a late report of its trades finds the client id it traded under.
                if !known.id.as_str().is_empty() {
                    replaces = Some(known.id.clone());
                }
                Order {
                    parent: order.parent.clone().or_else(|| known.parent.clone()),
                    ..order
                }
            }
            None => order,
        };
        if let Some(old) = replaces {
            state.replaced.push_back((kept.client_id().clone(), old));
            if state.replaced.len() > KEEP_REPLACED {
                state.replaced.pop_front();
            }
        }
        let mut kept = kept;
        if kept.parent.is_none() {
            kept.parent = parent_of(&state, kept.client_id());
        }
        let before = state.orders.get(kept.client_id()).map(|o| o.status);
        state.orders.insert(kept.client_id().clone(), kept.clone());
        prune(&mut state);
        drop(state);
        if before != Some(kept.status) {
            crate::metrics::order_status(self.venue, &kept);
        }
        self.changed();
        kept
    }

    /// An order sent with its answer lost (`pending`: as sent, pending, no venue id), taken as
    /// never received once `after` has passed since it was sent (at `now`) and the venue still
    /// does not show it: booked `Rejected`, saying so, and returned. `None` while it may yet
    /// show (it stays pending: never sent again, nothing sent in its place) or when `pending`
    /// is no such order.
    pub fn never_received(
        &self,
        pending: &Order,
        now: Timestamp,
        after: std::time::Duration,
    ) -> Option<Order> {
        let waited = now.millis().saturating_sub(pending.created_at.millis());
        let unknown = |o: &Order| o.status == OrderStatus::Pending && o.id.as_str().is_empty();
        if !unknown(pending) || u128::try_from(waited).unwrap_or(0) < after.as_millis() {
            return None;
        }
        // Looked at and written under one lock: an update that came meanwhile (the order
        // shown at last) is not overwritten.
        let state = self.lock();
        if state
            .orders
            .get(pending.client_id())
            .is_some_and(|known| !unknown(known))
        {
            return None;
        }
        let mut gone = pending.clone();
        gone.status = OrderStatus::Rejected;
        gone.updated_at = now;
        gone.reason = Some(format!(
            "{} does not show it {} s after it was sent with its answer lost: it never reached {}",
            self.venue,
            after.as_secs(),
            self.venue
        ));
        tracing::warn!(venue = self.venue, client_id = %pending.client_id(), "an order sent with its answer lost is still not shown by the venue: taken as never received");
        Some(self.track_locked(state, gone))
    }

    /// Forgets the order `client_id` (a Binance `cancelReplace` gives the replacement a new
    /// client order id: the book tracks that one instead).
    pub fn forget(&self, client_id: &ClientOrderId) -> Option<Order> {
        let mut state = self.lock();
        let removed = state.orders.remove(client_id);
        if let Some(order) = removed.as_ref().filter(|o| !o.id.as_str().is_empty()) {
            state
                .replaced
                .push_back((client_id.clone(), order.id.clone()));
            if state.replaced.len() > KEEP_REPLACED {
                state.replaced.pop_front();
            }
        }
        drop(state);
        if removed.is_some() {
            self.changed();
        }
        removed
    }

    /// Applies an update: the order's status moves on (never back: an older update that
    /// arrives late is ignored), and a trade not booked before becomes the next numbered fill,
    /// which is returned.
    ///
    /// # Errors
    /// [`BrokerError::Core`] when a fill's value overflows.
    pub fn apply(&self, update: &VenueUpdate) -> Result<Option<Fill>, BrokerError> {
        let mut state = self.lock();
        let client_id = update.request.client_id.clone();
        let fill = match &update.trade {
            Some(trade) if !state.trade_ids.contains(&trade.trade_id) => {
                state.last_seq += 1;
                let fill = Fill {
                    seq: state.last_seq,
                    order_id: update.order_id.clone(),
                    client_id: client_id.clone(),
                    symbol: update.request.symbol.clone(),
                    side: update.request.side,
                    // what the position gained or gave of the asset
                    quantity: match update.request.side {
                        tradegraph_core::order::OrderSide::Buy => {
                            trade.quantity.saturating_sub(trade.fee_in_asset)
                        }
                        tradegraph_core::order::OrderSide::Sell => {
                            trade.quantity.saturating_add(trade.fee_in_asset)
                        }
                    },
                    price: trade.price,
                    fee: trade.fee,
                    charges: Vec::new(),
                    liquidity: trade.liquidity,
                    ts: trade.ts,
                };
                remember(&mut state, trade.trade_id.clone());
                state.fills.push_back(fill.clone());
                while state.fills.len() > KEEP_FILLS {
                    state.fills.pop_front();
                }
                Some(fill)
            }
            _ => None,
        };
        // An exit leg of a tracked entry (its client id is the entry's child) names the entry
        // as its parent, also when the leg was seen before the entry was.
        let parent = match state.orders.get(&client_id) {
            Some(known) if known.parent.is_some() => None,
            _ => parent_of(&state, &client_id),
        };
        // An update about an order forgotten to be placed again under its client id (a late
        // report of a cancelled exit leg) is not the new order's, nor the client id's when
        // the new one is not tracked yet.
        let replaced = state
            .replaced
            .iter()
            .any(|(c, o)| *c == client_id && *o == update.order_id);
        if !state.orders.contains_key(&client_id) {
            if replaced {
                drop(state);
                if let Some(fill) = &fill {
                    crate::metrics::filled(self.venue, fill);
                }
                self.changed();
                return Ok(fill);
            }
            let order = Order::new(update.order_id.clone(), update.request.clone(), update.at);
            state.orders.insert(client_id.clone(), order);
        }
        let Some(order) = state.orders.get_mut(&client_id) else {
            return Ok(fill);
        };
        let status_before = order.status;
        if parent.is_some() {
            order.parent = parent;
        }
        // An update about an order the venue replaced under the same client id (Binance's
        // cancelReplace) speaks for the old order: its trade is booked, its status is not
        // the tracked order's. An order tracked without a venue id yet takes the update's.
        let current = (order.id.as_str().is_empty() && !replaced) || order.id == update.order_id;
        if order.id.as_str().is_empty() && !replaced {
            order.id = update.order_id.clone();
        }
        if let Some(fill) = fill.as_ref().filter(|_| current) {
            // The order's record is the venue's: what it traded, a fee taken in the asset
            // included (the fill says what the position got).
            let traded = Fill {
                quantity: update.trade.as_ref().map_or(fill.quantity, |t| t.quantity),
                ..fill.clone()
            };
            let fill = &traded;
            if let Err(e) = order.record_fill(fill) {
                // The venue's word stands: the fill is booked; the order's own record of it
                // is set from the trade as far as it can be.
                tracing::warn!(client_id = %fill.client_id, error = %e, "a venue fill does not fit the order as tracked; booked as the venue reported it");
                order.filled_quantity = order
                    .filled_quantity
                    .saturating_add(fill.quantity)
                    .min(order.request.quantity);
                order.fees = order.fees.saturating_add(fill.fee);
                order.average_fill_price.get_or_insert(fill.price);
            }
        }
        if current {
            if order.status != update.status && order.status.can_become(update.status) {
                order.status = update.status;
            }
            if order.status != status_before {
                crate::metrics::order_status(self.venue, order);
            }
            if update.at > order.updated_at {
                order.updated_at = update.at;
            }
            if let Some(reason) = &update.reason {
                order.reason = Some(reason.clone());
            }
        }
        prune(&mut state);
        drop(state);
        if let Some(fill) = &fill {
            crate::metrics::filled(self.venue, fill);
        }
        self.changed();
        Ok(fill)
    }

    /// The tracked entry whose exit leg `child` is (its stop, target or trailing stop).
    pub fn entry_of(&self, child: &ClientOrderId) -> Option<ClientOrderId> {
        parent_of(&self.lock(), child)
    }

    /// The order tracked under `client_id`.
    pub fn order(&self, client_id: &ClientOrderId) -> Option<Order> {
        self.lock().orders.get(client_id).cloned()
    }

    /// The client order id of the venue's order `order_id`, if tracked, or if it is an order
    /// the venue replaced under a tracked client id (an amendment).
    pub fn client_id_of(&self, order_id: &OrderId) -> Option<ClientOrderId> {
        let state = self.lock();
        state
            .orders
            .values()
            .find(|o| &o.id == order_id)
            .map(|o| o.client_id().clone())
            .or_else(|| {
                state
                    .replaced
                    .iter()
                    .rev()
                    .find(|(c, o)| o == order_id && state.orders.contains_key(c))
                    .map(|(c, _)| c.clone())
            })
    }

    /// Whether `order_id` is an order forgotten (or replaced) under `client_id`: its late
    /// reports are not the client id's order.
    pub fn is_forgotten(&self, client_id: &ClientOrderId, order_id: &OrderId) -> bool {
        self.lock()
            .replaced
            .iter()
            .any(|(c, o)| c == client_id && o == order_id)
    }

    /// The orders still working, oldest first.
    pub fn open_orders(&self) -> Vec<Order> {
        let mut open: Vec<Order> = self
            .lock()
            .orders
            .values()
            .filter(|o| !o.status.is_terminal())
            .cloned()
            .collect();
        open.sort_by_key(|o| o.created_at);
        open
    }

    /// The fills with `seq` above `after`, oldest first.
    pub fn fills_since(&self, after: u64) -> Vec<Fill> {
        self.lock()
            .fills
            .iter()
            .filter(|f| f.seq > after)
            .cloned()
            .collect()
    }

    /// The `seq` of the last fill booked (`0` for none).
    pub fn last_seq(&self) -> u64 {
        self.lock().last_seq
    }

    /// Whether the trade `trade_id` was booked.
    pub fn has_trade(&self, trade_id: &str) -> bool {
        self.lock().trade_ids.contains(trade_id)
    }
}

/// The exit legs a venue broker attaches to an entry: their client ids are the entry's
/// children ([`ClientOrderId::child`]).
const EXIT_LEGS: [Leg; 4] = [Leg::StopLoss, Leg::TakeProfit, Leg::TrailingStop, Leg::Exit];

/// The tracked order whose exit leg `client_id` is.
fn parent_of(state: &State, client_id: &ClientOrderId) -> Option<ClientOrderId> {
    state
        .orders
        .keys()
        .find(|entry| EXIT_LEGS.iter().any(|leg| &entry.child(*leg) == client_id))
        .cloned()
}

/// `answer` about the order `known` tracks, never moving it back.
fn merged(known: &Order, answer: Order) -> Order {
    let mut order = answer;
    if known.status != order.status && !known.status.can_become(order.status) {
        order.status = known.status;
    }
    if known.filled_quantity > order.filled_quantity {
        order.filled_quantity = known.filled_quantity;
        order.average_fill_price = known.average_fill_price;
        order.fees = known.fees.max(order.fees);
    }
    if order.id.as_str().is_empty() {
        order.id = known.id.clone();
    }
    order.parent = order.parent.or_else(|| known.parent.clone());
    order.trigger_price = order.trigger_price.or(known.trigger_price);
    order.reason = order.reason.or_else(|| known.reason.clone());
    order.created_at = known.created_at.min(order.created_at);
    order.updated_at = known.updated_at.max(order.updated_at);
    order
}

fn remember(state: &mut State, trade_id: String) {
    if state.trade_ids.insert(trade_id.clone()) {
        state.trade_order.push_back(trade_id);
    }
    while state.trade_order.len() > KEEP_TRADE_IDS {
        if let Some(old) = state.trade_order.pop_front() {
            state.trade_ids.remove(&old);
        }
    }
}

/// Drops the oldest finished orders beyond [`KEEP_FINISHED`].
fn prune(state: &mut State) {
    let finished = state
        .orders
        .values()
        .filter(|o| o.status.is_terminal())
        .count();
    if finished <= KEEP_FINISHED {
        return;
    }
    let mut by_age: Vec<(Timestamp, ClientOrderId)> = state
        .orders
        .values()
        .filter(|o| o.status.is_terminal())
        .map(|o| (o.updated_at, o.client_id().clone()))
        .collect();
    by_age.sort();
    for (_, id) in by_age.into_iter().take(finished - KEEP_FINISHED) {
        state.orders.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_core::order::OrderSide;
    use tradegraph_core::{Decimal, Symbol};

    fn update(
        client: &str,
        status: OrderStatus,
        trade: Option<(&str, i64)>,
        at: i64,
    ) -> VenueUpdate {
        let id = ClientOrderId::new(client).unwrap();
        VenueUpdate {
            request: OrderRequest::market(
                id,
                Symbol::new("BTCUSDT"),
                OrderSide::Buy,
                Decimal::from(3),
            ),
            order_id: OrderId::new(format!("v-{client}")),
            status,
            trade: trade.map(|(tid, qty)| VenueTrade {
                trade_id: tid.into(),
                quantity: Decimal::from(qty),
                price: Decimal::from(100),
                fee: Decimal::ONE,
                fee_in_asset: Decimal::ZERO,
                liquidity: Liquidity::Taker,
                ts: Timestamp::from_millis(at),
            }),
            reason: None,
            at: Timestamp::from_millis(at),
        }
    }

    #[test]
    fn partial_fills_are_numbered_once_and_status_never_goes_back() {
        let book = VenueBook::new("test");
        let a = book
            .apply(&update(
                "a",
                OrderStatus::PartiallyFilled,
                Some(("1", 1)),
                1,
            ))
            .unwrap();
        let b = book
            .apply(&update("a", OrderStatus::Filled, Some(("2", 2)), 2))
            .unwrap();
        // Polling reports the first trade again, with the older status.
        let again = book
            .apply(&update(
                "a",
                OrderStatus::PartiallyFilled,
                Some(("1", 1)),
                1,
            ))
            .unwrap();
        assert_eq!((a.unwrap().seq, b.unwrap().seq, again), (1, 2, None));
        let order = book.order(&ClientOrderId::new("a").unwrap()).unwrap();
        assert_eq!(order.status, OrderStatus::Filled);
        assert_eq!(order.filled_quantity, Decimal::from(3));
        assert_eq!(order.fees, Decimal::from(2));
        assert_eq!(book.fills_since(1).len(), 1);
        assert!(book.open_orders().is_empty());
    }

    #[test]
    fn a_restored_book_goes_on_numbering_and_knows_its_trades() {
        let book = VenueBook::new("test");
        book.apply(&update("a", OrderStatus::Filled, Some(("1", 3)), 1))
            .unwrap();
        let before = book.revision();
        book.apply(&update("b", OrderStatus::Open, None, 2))
            .unwrap();
        assert!(book.revision() > before);
        book.set_venue_state(&vec!["gtt-1".to_owned()]).unwrap();
        let restored = VenueBook::restore("test", book.snapshot());
        assert_eq!(
            restored.venue_state::<Vec<String>>().unwrap(),
            Some(vec!["gtt-1".to_owned()])
        );
        assert!(
            restored.venue_state::<u32>().is_err(),
            "a state of another shape is an error"
        );
        assert_eq!(
            restored
                .apply(&update("a", OrderStatus::Filled, Some(("1", 3)), 1))
                .unwrap(),
            None
        );
        let next = restored
            .apply(&update("b", OrderStatus::Filled, Some(("9", 3)), 3))
            .unwrap();
        assert_eq!(next.unwrap().seq, 2);
        assert_eq!(restored.fills_since(0).len(), 2);
        assert_eq!(
            restored
                .client_id_of(&OrderId::new("v-b"))
                .unwrap()
                .as_str(),
            "b"
        );
    }

    /// An order forgotten to be placed again under its client id, the new one not tracked yet
    /// (its answer awaited, or lost): a late report of the old order does not bring it back
    /// under the client id (it would be taken for the answer), while its trade is booked.
    #[test]
    fn a_late_update_of_a_forgotten_order_is_not_tracked_again() {
        let book = VenueBook::new("test");
        book.apply(&update("g", OrderStatus::Open, None, 1))
            .unwrap();
        let id = ClientOrderId::new("g").unwrap();
        book.forget(&id).unwrap();
        assert!(book.is_forgotten(&id, &OrderId::new("v-g")));
        let fill = book
            .apply(&update("g", OrderStatus::Filled, Some(("t-g", 3)), 2))
            .unwrap();
        assert!(fill.is_some(), "its trade is booked");
        assert!(book.order(&id).is_none(), "{:?}", book.order(&id));
        assert!(!book.is_forgotten(&id, &OrderId::new("v-other")));
    }

    /// An order forgotten to be placed again under its client id (a resized exit leg): the old
    /// order's late cancellation does not land on the new one, pending with no venue id yet.
    #[test]
    fn a_late_update_of_a_forgotten_order_leaves_the_one_placed_again_alone() {
        let book = VenueBook::new("test");
        book.apply(&update("f", OrderStatus::Open, None, 1))
            .unwrap();
        let id = ClientOrderId::new("f").unwrap();
        let old = book.forget(&id).unwrap();
        book.track(Order::new(
            OrderId::new(""),
            old.request.clone(),
            Timestamp::from_millis(2),
        ));
        book.apply(&update("f", OrderStatus::Cancelled, None, 3))
            .unwrap();
        let tracked = book.order(&id).unwrap();
        assert_eq!(
            (tracked.id.as_str(), tracked.status),
            ("", OrderStatus::Pending)
        );
    }

    #[test]
    fn updates_about_a_replaced_order_book_its_trades_but_leave_the_replacement_alone() {
        let book = VenueBook::new("test");
        book.apply(&update("r", OrderStatus::Open, None, 1))
            .unwrap();
        // The venue replaced the order under the same client id: the book tracks the new one.
        let mut replacement = book.order(&ClientOrderId::new("r").unwrap()).unwrap();
        replacement.id = OrderId::new("v-r-2");
        book.track(replacement);
        // The old order's cancellation arrives late: the replacement stays open.
        book.apply(&update("r", OrderStatus::Cancelled, None, 2))
            .unwrap();
        let tracked = book.order(&ClientOrderId::new("r").unwrap()).unwrap();
        assert_eq!(
            (tracked.id.as_str(), tracked.status),
            ("v-r-2", OrderStatus::Open)
        );
        // A trade of the old order, reported late, is still a fill (the venue's truth).
        let fill = book
            .apply(&update(
                "r",
                OrderStatus::PartiallyFilled,
                Some(("t1", 1)),
                3,
            ))
            .unwrap();
        assert_eq!(
            fill.map(|f| f.order_id.as_str().to_owned()),
            Some("v-r".to_owned())
        );
        let tracked = book.order(&ClientOrderId::new("r").unwrap()).unwrap();
        assert_eq!(tracked.status, OrderStatus::Open);
    }

    #[test]
    fn the_days_opening_equity_is_the_first_seen_that_day_and_survives_a_restart() {
        let book = VenueBook::new("test");
        let day1 = Timestamp::from_millis(86_400_000);
        assert_eq!(
            book.opening_equity(day1, Decimal::from(1_000)),
            Decimal::from(1_000)
        );
        // Later that day, after a loss: the day still opened at 1 000.
        assert_eq!(
            book.opening_equity(day1, Decimal::from(970)),
            Decimal::from(1_000)
        );
        let restored = VenueBook::restore("test", book.snapshot());
        assert_eq!(
            restored.opening_equity(day1, Decimal::from(960)),
            Decimal::from(1_000)
        );
        // The next day opens at what it first sees.
        let day2 = Timestamp::from_millis(2 * 86_400_000);
        assert_eq!(
            restored.opening_equity(day2, Decimal::from(960)),
            Decimal::from(960)
        );
    }

    #[test]
    fn a_late_answer_never_moves_an_order_back() {
        let book = VenueBook::new("test");
        // The stream reports the fill before the submit's answer (NEW, nothing filled) arrives.
        book.apply(&update("s", OrderStatus::Filled, Some(("1", 3)), 2))
            .unwrap();
        let mut answer = book.order(&ClientOrderId::new("s").unwrap()).unwrap();
        answer.status = OrderStatus::Open;
        answer.filled_quantity = Decimal::ZERO;
        answer.average_fill_price = None;
        let kept = book.track(answer);
        assert_eq!(kept.status, OrderStatus::Filled);
        assert_eq!(kept.filled_quantity, Decimal::from(3));
        assert!(
            book.open_orders().is_empty(),
            "a filled order is not working"
        );
    }

    #[test]
    fn an_exit_leg_the_book_never_tracked_names_its_entry() {
        let book = VenueBook::new("test");
        book.apply(&update("entry1", OrderStatus::Filled, Some(("1", 3)), 1))
            .unwrap();
        let entry = ClientOrderId::new("entry1").unwrap();
        let leg = entry.child(Leg::StopLoss);
        let mut stop = update(leg.as_str(), OrderStatus::Open, None, 2);
        stop.request.side = OrderSide::Sell;
        book.apply(&stop).unwrap();
        assert_eq!(book.order(&leg).unwrap().parent, Some(entry));
        // A leg seen before its entry names it once the entry is tracked and the leg is seen
        // again.
        let early = ClientOrderId::new("entry2").unwrap().child(Leg::TakeProfit);
        let mut target = update(early.as_str(), OrderStatus::Open, None, 2);
        target.request.side = OrderSide::Sell;
        book.apply(&target).unwrap();
        assert_eq!(book.order(&early).unwrap().parent, None);
        book.apply(&update("entry2", OrderStatus::Filled, Some(("2", 3)), 3))
            .unwrap();
        book.apply(&target).unwrap();
        assert_eq!(
            book.order(&early).unwrap().parent,
            Some(ClientOrderId::new("entry2").unwrap())
        );
        // Anything else has no parent.
        book.apply(&update("manual2", OrderStatus::Open, None, 3))
            .unwrap();
        assert_eq!(
            book.order(&ClientOrderId::new("manual2").unwrap())
                .unwrap()
                .parent,
            None
        );
    }

    #[test]
    fn an_order_the_book_never_saw_is_tracked_from_the_update() {
        let book = VenueBook::new("test");
        book.apply(&update("manual1", OrderStatus::Open, None, 5))
            .unwrap();
        let open = book.open_orders();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].client_id().as_str(), "manual1");
        assert_eq!(open[0].status, OrderStatus::Open);
    }
}
