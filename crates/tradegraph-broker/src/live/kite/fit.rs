//! Exits never outgrow the position: Kite has no reduce-only orders, so a GTT or an SL order
//! left working after the position was closed (by a reduce-only order, by hand, by Kite's
//! square-off) would open a reverse position when it triggers. After every fill (on the
//! fill's side), and whenever the position is read, the working exits are fitted to a read
//! that shows the trades booked ([`NetWatch`]): together they close at most what is open,
//! deleted or cancelled when nothing is left on their side, cut down when it shrank (a GTT in
//! place, never deleted before what replaces it exists).

use super::broker::Inner;
use super::exits::Gtt;
use super::gtt_oco_form;
use super::rest::{encode, Cost, VENUE};
use crate::{Amendment, BrokerError};
use reqwest::Method;
use rust_decimal::Decimal;
use std::time::{Duration, Instant};
use tradegraph_core::order::{Order, OrderRequest, OrderSide};
use tradegraph_core::position::Position;

/// How long reads of the position may disagree with the trades booked, no trade booked
/// meanwhile, before one is taken as it reads (a change no trade of the bot's product shows:
/// an expiry, a conversion between products in Kite's app).
const LAG_LIMIT: Duration = Duration::from_secs(10);

/// What the broker knows of its net position at Kite: the last read it trusted, the trades
/// booked since (signed, in the bot's product) and when the last was. Kite's positions may
/// lag its trades, and the broker's book may lag Kite: a read that does not show a trade just
/// booked would leave the exits whole on a position just closed (a reverse position when they
/// trigger), or delete the exits just placed for an entry; one that shows a trade the book
/// has not booked yet would cut the wrong entry's exits. A read is acted on when it was sent
/// at least [`KiteConfig::position_settle`](super::KiteConfig::position_settle) after the last
/// trade booked and shows exactly the trades booked since the last read trusted (the first
/// read does), or once reads have disagreed for [`LAG_LIMIT`] with no trade booked.
#[derive(Debug, Default)]
pub(crate) struct NetWatch {
    trusted: Option<Decimal>,
    booked_since: Decimal,
    last_booked: Option<Instant>,
    disagreeing_since: Option<Instant>,
}

impl NetWatch {
    /// A trade booked in the bot's product (signed: bought positive).
    pub(crate) fn booked(&mut self, signed: Decimal) {
        self.booked_since += signed;
        self.last_booked = Some(Instant::now());
        // A read that disagrees now may only lag this trade: the wait starts over.
        self.disagreeing_since = None;
    }

    /// Whether the read `net`, sent at `sent`, can be acted on (see the type); trusted, it is
    /// the new base.
    fn judge(&mut self, net: Decimal, sent: Instant, settle: Duration) -> bool {
        if self
            .last_booked
            .is_some_and(|booked| sent < booked + settle)
        {
            return false;
        }
        let agrees = self
            .trusted
            .is_none_or(|base| base + self.booked_since == net);
        let now = Instant::now();
        let waited = self
            .disagreeing_since
            .is_some_and(|since| now.duration_since(since) >= LAG_LIMIT);
        if !agrees && !waited {
            self.disagreeing_since.get_or_insert(now);
            return false;
        }
        if !agrees {
            tracing::warn!(venue = VENUE, read = %net, "Kite's position has disagreed with the trades booked for a while, none booked meanwhile: taken as it reads");
        }
        self.trusted = Some(net);
        self.booked_since = Decimal::ZERO;
        self.disagreeing_since = None;
        true
    }
}

/// What exits on `side` may still close of a net position `net` (signed).
pub(crate) fn room(side: OrderSide, net: Decimal) -> Decimal {
    match side {
        OrderSide::Sell => net.max(Decimal::ZERO),
        OrderSide::Buy => (-net).max(Decimal::ZERO),
    }
}

/// What is left to trade of a working order.
pub(crate) fn remaining(order: &Order) -> Decimal {
    order.request.quantity - order.filled_quantity
}

/// Exits that close the same quantity: a GTT OCO (with the SL order replacing it, while both
/// work), or an exit order and its sibling (a stop and its target, one filling cancels the
/// other).
struct ExitGroup {
    gtt: Option<Gtt>,
    orders: Vec<Order>,
}

impl ExitGroup {
    /// What the group closes when it trades.
    fn quantity(&self) -> Decimal {
        let orders = self.orders.iter().map(remaining).max().unwrap_or_default();
        self.gtt.as_ref().map_or(orders, |g| g.quantity.max(orders))
    }

    fn created_at(&self) -> i64 {
        let orders = self.orders.iter().map(|o| o.created_at.millis());
        orders
            .chain(self.gtt.iter().map(|g| g.created_at.millis()))
            .min()
            .unwrap_or_default()
    }

    /// Whether `order` closes what this group does.
    fn takes(
        &self,
        order: &Order,
        sibling: Option<&tradegraph_core::order::ClientOrderId>,
    ) -> bool {
        let id = order.client_id();
        self.gtt
            .as_ref()
            .is_some_and(|g| g.legs.iter().any(|l| &l.client_id == id))
            || sibling.is_some_and(|s| self.orders.iter().any(|o| o.client_id() == s))
    }
}

/// The net quantity of `positions` (signed; 0 when flat).
pub(crate) fn net_of(positions: &[Position]) -> Decimal {
    positions.iter().map(|p| p.quantity).sum()
}

impl Inner {
    /// Whether any exit is working (a GTT not triggered, or a reduce-only order).
    pub(crate) fn has_working_exits(&self) -> bool {
        !self.exits().gtts.is_empty()
            || self
                .book
                .open_orders()
                .iter()
                .any(|o| o.request.reduce_only)
    }

    /// Reads the position and fits the exits on `side` (every side for `None`) to it.
    ///
    /// After a fill, only the exits on the fill's side are fitted: a fill on the other side
    /// (an entry) cannot have made them too large, and a position read that lags the fill
    /// must not cancel the exits just placed for it.
    pub(crate) async fn fit_exits(&self, side: Option<OrderSide>) -> Result<(), BrokerError> {
        if !self.has_working_exits() {
            return Ok(());
        }
        let net = self.trusted_net().await?;
        self.fit_exits_to(net, side).await
    }

    /// Reads the position; whether the read can be acted on (see [`NetWatch`]).
    pub(crate) async fn read_net(&self) -> Result<(Vec<Position>, bool), BrokerError> {
        let sent = Instant::now();
        let positions = self.positions().await?;
        let net = net_of(&positions);
        let trusted = self
            .keep()
            .net
            .judge(net, sent, self.config.position_settle);
        Ok((positions, trusted))
    }

    /// The net position read now, when it shows the trades booked.
    ///
    /// # Errors
    /// As [`positions`](Self::positions); `Unavailable` when the read does not show them yet
    /// (asked again later).
    pub(crate) async fn trusted_net(&self) -> Result<Decimal, BrokerError> {
        match self.read_net().await? {
            (positions, true) => Ok(net_of(&positions)),
            (positions, false) => {
                Err(self
                    .rest
                    .error(crate::live::VenueReason::Unavailable(format!(
                        "Kite's position ({}) does not show the trades booked yet, or was read right after one",
                        net_of(&positions)
                    ))))
            }
        }
    }

    /// Fits the working exits on `side` (every side for `None`) to a net position `net`: the
    /// exits on a side together close at most what is open on it (a GTT, or a stop and its
    /// target, counting once), the oldest kept whole and the newest cut first; a close (an
    /// order that only reduces, of no entry) is cut to the position alone.
    pub(crate) async fn fit_exits_to(
        &self,
        net: Decimal,
        side: Option<OrderSide>,
    ) -> Result<(), BrokerError> {
        let mut first_error = None;
        let sides = [OrderSide::Sell, OrderSide::Buy];
        for exits_side in sides
            .into_iter()
            .filter(|s| side.is_none_or(|only| only == *s))
        {
            let room = room(exits_side, net);
            let (groups, closes) = self.exits_on(exits_side);
            let mut left = room;
            for group in groups {
                let keep = group.quantity().min(left);
                left -= keep;
                if keep >= group.quantity() {
                    continue;
                }
                if let Some(gtt) = &group.gtt {
                    if let Err(e) = self.resize_gtt(gtt, keep).await {
                        tracing::error!(venue = VENUE, trigger_id = %gtt.trigger_id, error = %e, "a GTT larger than the position could not be deleted: delete it at Kite before it triggers");
                        first_error.get_or_insert(e);
                    }
                }
                for order in group.orders.iter().filter(|o| remaining(o) > keep) {
                    if let Err(e) = self.shrink_order(order, keep).await {
                        tracing::error!(venue = VENUE, client_id = %order.client_id(), error = %e, "an exit larger than the position could not be cancelled or cut: cancel it at Kite before it triggers");
                        first_error.get_or_insert(e);
                    }
                }
            }
            for order in closes.iter().filter(|o| remaining(o) > room) {
                if let Err(e) = self.shrink_order(order, room).await {
                    tracing::error!(venue = VENUE, client_id = %order.client_id(), error = %e, "a close larger than the position could not be cancelled or cut: cancel it at Kite");
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The working exits on `side`, oldest first (a GTT; an exit order with its sibling), and
    /// the working closes on it (orders that only reduce, of no entry).
    fn exits_on(&self, side: OrderSide) -> (Vec<ExitGroup>, Vec<Order>) {
        let exits = self.exits();
        let mut groups: Vec<ExitGroup> = exits
            .gtts
            .iter()
            .filter(|g| g.side == side)
            .map(|g| ExitGroup {
                gtt: Some(g.clone()),
                orders: Vec::new(),
            })
            .collect();
        let mut closes = Vec::new();
        let working = self.book.open_orders().into_iter().filter(|o| {
            o.request.reduce_only && !o.id.as_str().is_empty() && o.request.side == side
        });
        for order in working {
            let sibling = exits.siblings.get(order.client_id());
            if let Some(group) = groups.iter_mut().find(|g| g.takes(&order, sibling)) {
                group.orders.push(order);
            } else if order.parent.is_some() || sibling.is_some() {
                groups.push(ExitGroup {
                    gtt: None,
                    orders: vec![order],
                });
            } else {
                closes.push(order);
            }
        }
        drop(exits);
        groups.sort_by_key(ExitGroup::created_at);
        (groups, closes)
    }

    /// Sets a GTT's quantity to `allowed` in place (`PUT /gtt/triggers/{id}`: it protects the
    /// position all along; cut when the position shrank, grown when an entry filled further),
    /// or deletes it when nothing is left to close. When the price has left its
    /// band (no GTT can be made now), an SL order for `allowed` is placed first and the GTT
    /// deleted after. Any failure leaves the GTT as it was (larger than the position: an
    /// error says to cut it at Kite).
    pub(crate) async fn resize_gtt(&self, gtt: &Gtt, allowed: Decimal) -> Result<(), BrokerError> {
        let path = format!("/gtt/triggers/{}", gtt.trigger_id);
        let status = self.rest.call(Method::GET, &path, None, Cost::Read).await?;
        let active = status.get("status").and_then(serde_json::Value::as_str) == Some("active");
        if !active {
            // It triggered: its leg is an order now, fitted with the orders.
            self.exits().gtts.retain(|g| g.trigger_id != gtt.trigger_id);
            return Ok(());
        }
        if allowed.is_zero() {
            self.rest
                .call(Method::DELETE, &path, None, Cost::Write)
                .await?;
            self.exits().gtts.retain(|g| g.trigger_id != gtt.trigger_id);
            tracing::warn!(venue = VENUE, trigger_id = %gtt.trigger_id, "the position is closed: its GTT (stop and target) was deleted");
            return Ok(());
        }
        let last = self
            .last_price()
            .unwrap_or((gtt.stop + gtt.target) / Decimal::TWO);
        let form = gtt_oco_form(
            &self.config_now(),
            &self.rules(),
            gtt.side,
            allowed,
            gtt.stop,
            gtt.target,
            last,
        );
        match form {
            Ok(form) => {
                self.rest
                    .call(Method::PUT, &path, Some(encode(&form)), Cost::Write)
                    .await?;
                let mut all = self.exits();
                if let Some(kept) = all.gtts.iter_mut().find(|g| g.trigger_id == gtt.trigger_id) {
                    kept.quantity = allowed;
                    for leg in &mut kept.legs {
                        leg.quantity = allowed;
                    }
                }
                tracing::warn!(venue = VENUE, trigger_id = %gtt.trigger_id, quantity = %allowed, "the GTT now covers what is open");
            }
            Err(reason) => {
                // Out of the band: the stop alone, as an SL order, before the GTT goes (once,
                // and again if it ended unfilled: see `place_stop`).
                let stop = OrderRequest::stop(
                    gtt.legs[0].client_id.clone(),
                    self.symbol.clone(),
                    gtt.side,
                    allowed,
                    gtt.stop,
                )
                .reduce_only();
                // Not placed: the GTT stays, larger than the position (the caller says so).
                self.place_stop(stop).await?;
                self.rest
                    .call(Method::DELETE, &path, None, Cost::Write)
                    .await?;
                self.exits().gtts.retain(|g| g.trigger_id != gtt.trigger_id);
                tracing::error!(venue = VENUE, trigger_id = %gtt.trigger_id, %reason, quantity = %allowed, "the position shrank and its GTT could not be cut: replaced by an SL order for what is left, without the target");
            }
        }
        Ok(())
    }

    /// Cancels an exit order, or cuts it to `allowed` (Kite's quantity is the order's total).
    async fn shrink_order(&self, order: &Order, allowed: Decimal) -> Result<(), BrokerError> {
        let id = order.client_id();
        if allowed.is_zero() {
            let path = format!("/orders/regular/{}", order.id.as_str());
            self.exits().cancelling.insert(id.clone());
            let cancelled = self
                .rest
                .call(Method::DELETE, &path, None, Cost::Write)
                .await;
            self.cancel_settled(id, &cancelled.as_ref().map(|_| true));
            let now = self.refresh(order).await?;
            {
                let mut exits = self.exits();
                exits.trails.remove(id);
                if let Some(sibling) = exits.siblings.remove(id) {
                    exits.siblings.remove(&sibling);
                }
            }
            return match cancelled {
                Ok(_) => {
                    tracing::warn!(venue = VENUE, client_id = %id, "the position is closed: its exit order was cancelled");
                    Ok(())
                }
                // It finished meanwhile (filled or cancelled): nothing is left working.
                Err(_) if now.is_some_and(|o| o.status.is_terminal()) => Ok(()),
                Err(e) => Err(e),
            };
        }
        let total = order.filled_quantity + allowed;
        self.amend(id, Amendment::quantity(total)).await?;
        if let Some(trail) = self.exits().trails.get_mut(id) {
            trail.quantity = total;
        }
        tracing::warn!(venue = VENUE, client_id = %id, quantity = %total, "the position shrank: its exit order was cut to it");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_may_close_only_what_is_open_on_their_side() {
        let (long, short) = (Decimal::from(30), Decimal::from(-60));
        assert_eq!(room(OrderSide::Sell, long), long);
        assert_eq!(room(OrderSide::Buy, long), Decimal::ZERO);
        assert_eq!(room(OrderSide::Buy, short), Decimal::from(60));
        assert_eq!(room(OrderSide::Sell, short), Decimal::ZERO);
        assert_eq!(room(OrderSide::Sell, Decimal::ZERO), Decimal::ZERO);
    }
}
