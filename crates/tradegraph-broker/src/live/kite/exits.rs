//! An entry's exits at Kite, placed at its first fill and resized as it fills further: stop
//! and target as a GTT OCO (`two-leg`) for NRML, or for MIS (Kite documents GTTs for CNC and
//! NRML only) as an SL order and a LIMIT target of which one filling cancels the other; a stop
//! alone as an SL order, a target alone as a LIMIT order, and trailing stops as an SL order
//! whose trigger is modified as the price moves (with the target, if any, cancelled when the
//! stop fills and the other way round). A GTT stop leg is a LIMIT order past its trigger by a
//! protection band, watched once triggered (see the keeper).

use super::broker::Inner;
use super::now;
use super::params::gtt_stop_limit;
use super::rest::{Cost, VENUE};
use super::rules::KiteRules;
use super::{gtt_oco_form, KiteProduct};
use crate::BrokerError;
use reqwest::Method;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use tradegraph_core::order::{
    ClientOrderId, Exits as OrderExits, Leg, Order, OrderId, OrderRequest, OrderSide, OrderStatus,
};

/// The step of [`Inner::resize_exits`] that places exits of their own for the rest of an
/// entry (its record holds the level the earlier exits covered).
const OWN_EXITS: &str = "own exits";

/// Kite allows 25 modifications of an order; a trailing stop stops moving before that.
pub(crate) const MAX_MODIFICATIONS: u32 = 24;

/// A trailing stop at Kite: an SL order whose trigger follows the best price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Trail {
    pub(crate) side: OrderSide,
    pub(crate) quantity: Decimal,
    pub(crate) distance: Decimal,
    pub(crate) best: Decimal,
    pub(crate) trigger: Decimal,
    pub(crate) modifications: u32,
}

/// A GTT OCO waiting for its trigger: its legs' requests (stop first), and what it was placed
/// with (to find it at Kite again, or to place it again for a smaller position).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Gtt {
    pub(crate) trigger_id: String,
    pub(crate) legs: [OrderRequest; 2],
    pub(crate) created_at: tradegraph_core::Timestamp,
    /// The exits' side (opposite the entry's).
    pub(crate) side: OrderSide,
    pub(crate) quantity: Decimal,
    /// The stop-loss and take-profit trigger values.
    pub(crate) stop: Decimal,
    pub(crate) target: Decimal,
    /// The entry whose exits they are (none in a book saved before it was kept).
    #[serde(default)]
    pub(crate) entry: Option<ClientOrderId>,
}

/// The exits the broker still has to place or watch. Kept in the book's
/// [`venue_state`](crate::live::venue::VenueBookSnapshot::venue_state) (every change is saved
/// there), so that a broker restored from a snapshot goes on managing them.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Exits {
    /// Entries whose exits go out once they fill (kept until they are placed).
    pub(crate) plans: HashMap<ClientOrderId, OrderExits>,
    pub(crate) trails: HashMap<ClientOrderId, Trail>,
    /// One exit filling cancels the other (trailing stop and target).
    pub(crate) siblings: HashMap<ClientOrderId, ClientOrderId>,
    pub(crate) gtts: Vec<Gtt>,
    /// Entries whose exits may already be at Kite although not recorded here (a restart, or
    /// an answer lost while placing them): Kite is asked for them before placing.
    #[serde(default)]
    pub(crate) lookup: HashSet<ClientOrderId>,
    /// Every GTT trigger id this broker placed or took over (never another trade's exits).
    #[serde(default)]
    pub(crate) gtt_ids: HashSet<String>,
    /// The stop legs of triggered GTTs (LIMIT orders at Kite) and their limit at Kite now,
    /// watched until they fill.
    #[serde(default)]
    pub(crate) gtt_stops: HashMap<ClientOrderId, Decimal>,
    /// Entries partly filled whose exits are placed: the quantity they cover.
    #[serde(default)]
    pub(crate) covered: HashMap<ClientOrderId, Decimal>,
    /// Exit stops that ended unfilled while their position was open, and the request that
    /// places them again (see `lapse.rs`).
    #[serde(default)]
    pub(crate) lapsed: HashMap<ClientOrderId, OrderRequest>,
    /// The exit stops this broker placed (SL orders) while they work or wait to be placed
    /// again: only these are placed again when they end unfilled (never a close of the
    /// caller's, which is placed once).
    #[serde(default)]
    pub(crate) stops: HashSet<ClientOrderId>,
    /// Entries whose exits are being grown to a further fill: each step done (a GTT, an exit
    /// order, exits of their own) and the fill level it reached; dropped once they cover it.
    #[serde(default)]
    pub(crate) resized: HashMap<ClientOrderId, HashMap<String, Decimal>>,
    /// Exit orders this broker asked Kite to cancel, until their end is seen: no lapse.
    #[serde(default)]
    pub(crate) cancelling: HashSet<ClientOrderId>,
    /// Entries whose exits, and exit stops, being placed now (not saved: a restart looks at
    /// the venue).
    #[serde(skip)]
    pub(crate) placing: HashSet<ClientOrderId>,
    /// Entries being submitted now: their plan waits for the placement's answer.
    #[serde(skip)]
    pub(crate) submitting: HashSet<ClientOrderId>,
}

/// The trigger `distance` behind `best` on the grid (below for a sell stop, above for a buy).
pub(crate) fn trail_trigger(
    rules: &KiteRules,
    side: OrderSide,
    best: Decimal,
    distance: Decimal,
) -> Decimal {
    match side {
        OrderSide::Sell => rules.to_grid(best - distance, true).max(rules.tick_size),
        OrderSide::Buy => rules.to_grid(best + distance, false),
    }
}

impl Exits {
    pub(crate) fn plan(&mut self, entry: &OrderRequest, exits: OrderExits) {
        self.plans.insert(entry.client_id.clone(), exits);
    }

    pub(crate) fn forget(&mut self, client_id: &ClientOrderId) {
        self.plans.remove(client_id);
        self.trails.remove(client_id);
    }

    pub(crate) fn trail(
        &mut self,
        client_id: &ClientOrderId,
        side: OrderSide,
        quantity: Decimal,
        distance: Decimal,
        best: Decimal,
        trigger: Decimal,
    ) {
        let trail = Trail {
            side,
            quantity,
            distance,
            best,
            trigger,
            modifications: 0,
        };
        // A stop already trailing keeps its trail (the exits tried again after a leg failed
        // find the stop placed: starting its trail over from the fill would move it back).
        self.trails.entry(client_id.clone()).or_insert(trail);
    }

    fn leg_order(gtt: &Gtt, leg: &OrderRequest) -> Order {
        let mut order = Order::new(
            OrderId::new(format!("gtt:{}", gtt.trigger_id)),
            leg.clone(),
            gtt.created_at,
        );
        order.status = OrderStatus::Open;
        // An exit, not a close: the entry it protects is its parent.
        order.parent = gtt.entry.clone();
        // The stop leg is a limit past its trigger: the trigger is the stop.
        if gtt.legs[0].client_id == leg.client_id {
            order.trigger_price = Some(gtt.stop);
        }
        order
    }

    /// Whether any exit of `entry` is planned, placed or watched here.
    pub(crate) fn knows_exits_of(&self, entry: &ClientOrderId) -> bool {
        let legs = [Leg::StopLoss, Leg::TakeProfit, Leg::TrailingStop].map(|l| entry.child(l));
        self.plans.contains_key(entry)
            || self.trails.contains_key(entry)
            || self.covered.contains_key(entry)
            || self.gtts.iter().any(|g| {
                g.entry.as_ref() == Some(entry)
                    || g.legs.iter().any(|l| legs.contains(&l.client_id))
            })
            || legs.iter().any(|l| {
                self.trails.contains_key(l)
                    || self.lapsed.contains_key(l)
                    || self.siblings.contains_key(l)
                    || self.gtt_stops.contains_key(l)
            })
    }

    /// A GTT leg not triggered yet, as a working order (`gtt:<trigger id>`).
    pub(crate) fn gtt_leg(&self, client_id: &ClientOrderId) -> Option<Order> {
        self.gtts.iter().find_map(|g| {
            g.legs
                .iter()
                .find(|l| &l.client_id == client_id)
                .map(|l| Self::leg_order(g, l))
        })
    }

    /// Every GTT leg not triggered yet.
    pub(crate) fn gtt_legs(&self) -> Vec<Order> {
        self.gtts
            .iter()
            .flat_map(|g| g.legs.iter().map(move |l| Self::leg_order(g, l)))
            .collect()
    }
}

impl Inner {
    /// What follows an update: a filled (or finished, partly filled) entry gets its exits; a
    /// filled exit cancels its sibling; a finished order stops trailing.
    pub(crate) async fn after_update(&self, client_id: &ClientOrderId) {
        let Some(order) = self.book.order(client_id) else {
            return;
        };
        let filled = order.filled_quantity;
        let done = order.status.is_terminal();
        // The exits cover what filled so far: placed at the first fill, resized at the next
        // ones (a resting entry filling in parts is protected part by part).
        let plan = {
            let mut all = self.exits();
            let covered = all.covered.get(client_id).copied().unwrap_or(Decimal::ZERO);
            match all.plans.get(client_id).copied() {
                Some(_) if done && filled.is_zero() => {
                    // Finished without a fill: nothing to protect.
                    all.plans.remove(client_id);
                    None
                }
                Some(_) if done && filled == covered => {
                    all.plans.remove(client_id);
                    all.covered.remove(client_id);
                    None
                }
                Some(plan) if filled > covered && all.placing.insert(client_id.clone()) => {
                    Some((plan, covered))
                }
                _ => None,
            }
        };
        if let Some((exits, covered)) = plan {
            let placed = if covered.is_zero() {
                self.place_exits(&order, exits, filled).await
            } else {
                self.resize_exits(&order, covered, exits).await
            };
            let mut all = self.exits();
            all.placing.remove(client_id);
            match placed {
                Ok(()) => {
                    all.lookup.remove(client_id);
                    all.resized.remove(client_id);
                    if done {
                        all.plans.remove(client_id);
                        all.covered.remove(client_id);
                    } else {
                        all.covered.insert(client_id.clone(), filled);
                    }
                    drop(all);
                    self.owed_paid(client_id);
                }
                Err(e) => {
                    // Kite may have carried out what failed (an answer lost, or one that
                    // could not be read): it is asked first next time.
                    all.lookup.insert(client_id.clone());
                    drop(all);
                    let delay = self.owe_exits(client_id);
                    tracing::error!(venue = VENUE, client_id = %client_id, error = %e, retry_in = ?delay, "the exits of a filled entry could not be placed: the position is UNPROTECTED at Kite until they are; trying again");
                }
            }
        }
        // A partly filled exit leaves its sibling working (fitted to what is left of the
        // position after the fill); a filled one cancels it.
        if order.status == OrderStatus::Filled {
            let sibling = self.exits().siblings.remove(client_id);
            if let Some(sibling) = sibling {
                self.exits().siblings.remove(&sibling);
                self.exits().trails.remove(&sibling);
                if let Some(other) = self
                    .book
                    .order(&sibling)
                    .filter(|o| !o.status.is_terminal())
                {
                    let path = format!("/orders/regular/{}", other.id.as_str());
                    self.exits().cancelling.insert(sibling.clone());
                    match self
                        .rest
                        .call(Method::DELETE, &path, None, Cost::Write)
                        .await
                    {
                        Ok(_) => {
                            tracing::info!(venue = VENUE, filled = %client_id, cancelled = %sibling, "one exit filled: the other was cancelled")
                        }
                        Err(e) => {
                            self.cancel_settled(&sibling, &Err(&e));
                            tracing::error!(venue = VENUE, client_id = %sibling, error = %e, "an exit filled but its sibling could not be cancelled: cancel it at Kite")
                        }
                    }
                }
            }
        }
        if order.status.is_terminal() {
            // A lapsed stop placed again goes on trailing.
            let mut all = self.exits();
            if !all.lapsed.contains_key(client_id) {
                all.trails.remove(client_id);
            }
        }
    }

    /// Places `entry`'s exits for `quantity` of it.
    async fn place_exits(
        &self,
        entry: &Order,
        exits: OrderExits,
        quantity: Decimal,
    ) -> Result<(), BrokerError> {
        let side = entry.request.side.opposite();
        let filled_at = entry.average_fill_price.unwrap_or_default();
        let id = entry.client_id();
        let symbol = self.symbol.clone();
        let limit = |leg: Leg, price: Decimal| {
            OrderRequest::limit(id.child(leg), symbol.clone(), side, quantity, price).reduce_only()
        };
        if let Some(distance) = exits.trailing_distance {
            let mut trigger = trail_trigger(&self.rules(), side, filled_at, distance);
            if let Some(stop) = exits.stop_loss {
                trigger = match side {
                    OrderSide::Sell => trigger.max(stop),
                    OrderSide::Buy => trigger.min(stop),
                };
            }
            let stop_id = id.child(Leg::TrailingStop);
            let stop = OrderRequest::stop(stop_id.clone(), symbol.clone(), side, quantity, trigger)
                .reduce_only();
            // A stop not placed does not keep the target from going out; the exits stay owed.
            let placed = self.place_stop(stop).await;
            if placed.is_ok() {
                self.exits()
                    .trail(&stop_id, side, quantity, distance, filled_at, trigger);
            }
            if let Some(target) = exits.take_profit {
                let target = self.place_exit(limit(Leg::TakeProfit, target)).await?;
                let mut all = self.exits();
                all.siblings
                    .insert(stop_id.clone(), target.client_id().clone());
                all.siblings.insert(target.client_id().clone(), stop_id);
            }
            return placed.map(drop);
        }
        match (exits.stop_loss, exits.take_profit) {
            (Some(stop), Some(target)) if self.config.product == KiteProduct::Mis => {
                // Kite documents GTTs for CNC and NRML only: an intraday position's exits are
                // an SL order and a LIMIT target, one filling cancels the other (the broker).
                let stop_id = id.child(Leg::StopLoss);
                let request =
                    OrderRequest::stop(stop_id.clone(), symbol.clone(), side, quantity, stop)
                        .reduce_only();
                let placed = self.place_stop(request).await;
                let target = self.place_exit(limit(Leg::TakeProfit, target)).await?;
                let mut all = self.exits();
                all.siblings
                    .insert(stop_id.clone(), target.client_id().clone());
                all.siblings.insert(target.client_id().clone(), stop_id);
                drop(all);
                placed?;
                tracing::info!(venue = VENUE, client_id = %id, "stop (SL) and target (LIMIT) placed; one filling cancels the other");
            }
            (Some(stop), Some(target)) => {
                let last = self.last_price().unwrap_or(filled_at);
                let form = gtt_oco_form(
                    &self.config_now(),
                    &self.rules(),
                    side,
                    quantity,
                    stop,
                    target,
                    last,
                );
                let form = match form {
                    Ok(form) => form,
                    Err(reason) => {
                        // The price already left the band: the stop alone protects the
                        // position (an SL order triggers at once if it is passed).
                        tracing::error!(venue = VENUE, client_id = %id, %reason, "no GTT for the exits: placing the stop alone, without the target");
                        let request = OrderRequest::stop(
                            id.child(Leg::StopLoss),
                            symbol,
                            side,
                            quantity,
                            stop,
                        )
                        .reduce_only();
                        self.place_stop(request).await?;
                        return Ok(());
                    }
                };
                // Placed before a restart or a lost answer? Kite has it then (looked for only
                // in those cases, and never another trade's GTT).
                let existing = if self.exits().lookup.contains(id) {
                    self.existing_gtt(entry, side, quantity, stop, target)
                        .await?
                } else {
                    None
                };
                let trigger_id = match existing {
                    Some(found) => {
                        tracing::info!(venue = VENUE, client_id = %id, trigger_id = %found, "the exits' GTT is already at Kite: not placed again");
                        found
                    }
                    None => self.post_gtt(&form).await?,
                };
                let stop_price = gtt_stop_limit(&self.config, &self.rules(), side, stop);
                let mut stop_leg = limit(Leg::StopLoss, stop_price);
                stop_leg.kind = tradegraph_core::order::OrderKind::Limit { price: stop_price };
                tracing::info!(venue = VENUE, client_id = %id, trigger_id = %trigger_id, "stop and target placed as a GTT OCO");
                let mut all = self.exits();
                all.gtt_ids.insert(trigger_id.clone());
                all.gtts.push(Gtt {
                    trigger_id,
                    legs: [stop_leg, limit(Leg::TakeProfit, target)],
                    created_at: now(),
                    side,
                    quantity,
                    stop,
                    target,
                    entry: Some(id.clone()),
                });
            }
            (Some(stop), None) => {
                let request =
                    OrderRequest::stop(id.child(Leg::StopLoss), symbol, side, quantity, stop)
                        .reduce_only();
                self.place_stop(request).await?;
            }
            (None, Some(target)) => {
                self.place_exit(limit(Leg::TakeProfit, target)).await?;
            }
            (None, None) => {}
        }
        Ok(())
    }

    /// Grows an entry's exits by what filled of it since they covered `covered` (a GTT in
    /// place, exit orders by modifying their quantity). When none works any more (the first
    /// part's exits traded, or ended), the rest gets exits of its own: the ended legs are
    /// history under their ids, placed again. Each step is recorded with the fill level it
    /// reached ([`Exits::resized`]), so that a try after a failure grows nothing twice and
    /// finishes exits of their own it began.
    async fn resize_exits(
        &self,
        entry: &Order,
        covered: Decimal,
        exits: OrderExits,
    ) -> Result<(), BrokerError> {
        let id = entry.client_id();
        let filled = entry.filled_quantity;
        let legs = [Leg::StopLoss, Leg::TakeProfit, Leg::TrailingStop].map(|l| id.child(l));
        let works = |o: &Order| !o.status.is_terminal() && !o.id.as_str().is_empty();
        // What each step already grew to (the covered level before any).
        let reached = |step: &str| {
            self.exits()
                .resized
                .get(id)
                .and_then(|steps| steps.get(step).copied())
                .unwrap_or(covered)
        };
        let done = |step: String| {
            self.exits()
                .resized
                .entry(id.clone())
                .or_default()
                .insert(step, filled);
        };
        let own_begun = self
            .exits()
            .resized
            .get(id)
            .is_some_and(|steps| steps.contains_key(OWN_EXITS));
        if !own_begun {
            // Before the GTT is grown: an SL order replacing it there already covers the total.
            let working: Vec<Order> = legs
                .iter()
                .filter_map(|c| self.book.order(c).filter(works))
                .collect();
            let gtt = self
                .exits()
                .gtts
                .iter()
                .find(|g| g.legs[0].client_id == legs[0])
                .cloned();
            if let Some(gtt) = gtt {
                let step = format!("gtt:{}", gtt.trigger_id);
                let more = filled - reached(&step);
                if more > Decimal::ZERO {
                    self.resize_gtt(&gtt, gtt.quantity + more).await?;
                    done(step);
                    // An SL order that replaced it was placed for the total.
                    done(legs[0].to_string());
                }
            }
            for order in &working {
                let child = order.client_id();
                let more = filled - reached(child.as_str());
                if more <= Decimal::ZERO {
                    continue;
                }
                let total = order.request.quantity + more;
                self.amend(child, crate::Amendment::quantity(total)).await?;
                done(child.to_string());
                if let Some(trail) = self.exits().trails.get_mut(child) {
                    trail.quantity = total;
                }
            }
            let protected = self
                .exits()
                .gtts
                .iter()
                .any(|g| g.legs[0].client_id == legs[0])
                || legs
                    .iter()
                    .any(|c| self.book.order(c).is_some_and(|o| works(&o)));
            if protected {
                tracing::info!(venue = VENUE, client_id = %id, quantity = %filled, "the entry filled further: its exits now cover it");
                return Ok(());
            }
            for child in &legs {
                if self
                    .book
                    .order(child)
                    .is_some_and(|o| o.status.is_terminal())
                {
                    self.book.forget(child);
                }
            }
            self.exits()
                .resized
                .entry(id.clone())
                .or_default()
                .insert(OWN_EXITS.to_owned(), covered);
        }
        // Exits of their own for what filled since: placed once each (a leg placed by an
        // earlier try is found working; one refused goes out again).
        let more = filled - reached(OWN_EXITS);
        self.place_exits(entry, exits, more).await?;
        tracing::warn!(venue = VENUE, client_id = %id, quantity = %more, "the entry filled further after its first exits were over: the rest got exits of its own");
        Ok(())
    }

    /// The client order id of `order_id` when a GTT of ours placed it (the GTT's legs are
    /// tracked as orders from then on).
    pub(crate) async fn gtt_child(
        &self,
        order_id: &str,
    ) -> Result<Option<ClientOrderId>, BrokerError> {
        let pending: Vec<Gtt> = self.exits().gtts.clone();
        for gtt in pending {
            let path = format!("/gtt/triggers/{}", gtt.trigger_id);
            let data = self.rest.call(Method::GET, &path, None, Cost::Read).await?;
            let status = data.get("status").and_then(Value::as_str).unwrap_or("");
            if status == "active" {
                continue;
            }
            self.exits().gtts.retain(|g| g.trigger_id != gtt.trigger_id);
            let orders = data
                .get("orders")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut found = None;
            // Kite's legs are the low trigger's then the high's: the stop first for a sell.
            let legs = match gtt.side {
                OrderSide::Sell => [&gtt.legs[0], &gtt.legs[1]],
                OrderSide::Buy => [&gtt.legs[1], &gtt.legs[0]],
            };
            for (leg, result) in legs.into_iter().zip(orders.iter()) {
                let placed = result
                    .pointer("/result/order_result/order_id")
                    .and_then(super::order::value_text);
                if let Some(placed) = placed.filter(|p| !p.is_empty()) {
                    // Pending until Kite says (its checks may still reject it).
                    self.book
                        .track(Order::new(OrderId::new(&placed), leg.clone(), now()));
                    if leg.client_id == gtt.legs[0].client_id {
                        // The stop leg: a LIMIT order that a gap can leave behind; watched.
                        let limit = leg.kind.limit_price().unwrap_or_default();
                        self.exits().gtt_stops.insert(leg.client_id.clone(), limit);
                    }
                    if placed == order_id {
                        found = Some(leg.client_id.clone());
                    }
                }
            }
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// Cancels a GTT whose leg is `client_id` (`DELETE /gtt/triggers/{id}`): both legs end.
    pub(crate) async fn cancel_gtt_leg(
        &self,
        client_id: &ClientOrderId,
    ) -> Result<Option<Order>, BrokerError> {
        let Some(mut leg) = self.exits().gtt_leg(client_id) else {
            return Ok(None);
        };
        let trigger_id = leg.id.as_str().trim_start_matches("gtt:").to_owned();
        let path = format!("/gtt/triggers/{trigger_id}");
        self.rest
            .call(Method::DELETE, &path, None, Cost::Write)
            .await?;
        self.exits().gtts.retain(|g| g.trigger_id != trigger_id);
        leg.status = OrderStatus::Cancelled;
        leg.updated_at = now();
        Ok(Some(leg))
    }
}
