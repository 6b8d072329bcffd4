//! Exit stops placed, and placed again when they end unfilled while their position is open. An SL order is a `DAY` order:
//! the exchange cancels it at the close while an NRML position is carried; Kite's risk checks
//! may reject a stop after taking it. Either leaves the position without its stop while the
//! broker took it for placed. Such a stop (one this broker did not cancel) is placed again
//! under its id, for what is left of the position on its side and at its trigger (where a
//! trailing stop had trailed to; it goes on trailing), at once the first time and then with
//! the keeper's backoff, until one works or nothing is left to close. Until then the exits are
//! owed ([`owes_exits`](super::KiteBroker::owes_exits)) and each failed try says the position
//! is unprotected.
//!
//! A stop placed again goes out under its old tag, the old order forgotten by the book: its
//! late reports, and Kite listing it under the tag, are not the new one's. When the answer is
//! lost, the new one is of unknown outcome as any order whose answer is lost: nothing is sent
//! again until Kite lists it or
//! [`unknown_outcome_after`](super::KiteConfig::unknown_outcome_after) has passed.

use super::broker::Inner;
use super::fit::room;
use super::keeper::MAX_LAPSES;
use super::now;
use super::params::gtt_stop_limit;
use super::rest::VENUE;
use crate::live::VenueReason;
use crate::{Amendment, BrokerError};
use rust_decimal::Decimal;
use std::time::{Duration, Instant};
use tradegraph_core::order::{
    ClientOrderId, Order, OrderKind, OrderRequest, OrderSide, OrderStatus,
};

/// Whether `order` ended without filling all of it (refused, rejected, cancelled, expired).
pub(crate) fn dead(order: &Order) -> bool {
    order.status.is_terminal() && order.status != OrderStatus::Filled
}

impl Inner {
    /// Places an exit's stop (an SL order) unless Kite already has it working or of unknown
    /// outcome (a second stop would sell twice). One that ended unfilled (refused when placed,
    /// rejected by Kite's checks, lapsed, taken as never received) protects nothing: it goes
    /// out again under its id.
    ///
    /// # Errors
    /// As [`place_exit`](Self::place_exit); `Unavailable` while another task places it; a
    /// venue error when the stop ends unfilled again (the position is unprotected until a
    /// later try places it).
    pub(crate) async fn place_stop(&self, request: OrderRequest) -> Result<Order, BrokerError> {
        let id = request.client_id.clone();
        if !self.exits().placing.insert(id.clone()) {
            // Another task places it now (an entry's exits, a lapsed stop): not twice.
            return Err(self.rest.error(VenueReason::Unavailable(format!(
                "the stop {id} is being placed now"
            ))));
        }
        let placed = self.place_stop_now(request).await;
        {
            let mut exits = self.exits();
            exits.placing.remove(&id);
            if placed.is_ok() {
                exits.stops.insert(id.clone());
            }
        }
        let placed = placed?;
        if dead(&placed) {
            return Err(self.rest.error(VenueReason::Other {
                code: "stop refused".into(),
                message: format!(
                    "the stop {id} is {}: {}",
                    placed.status,
                    placed.reason.clone().unwrap_or_default()
                ),
            }));
        }
        Ok(placed)
    }

    async fn place_stop_now(&self, request: OrderRequest) -> Result<Order, BrokerError> {
        if self
            .book
            .order(&request.client_id)
            .is_some_and(|o| dead(&o))
        {
            // History under its id: Kite's late reports of it are not taken for the new one
            // (nor its listing for the answer to a placement whose answer is lost).
            self.book.forget(&request.client_id);
        }
        self.place_exit(request).await
    }

    /// The request placing `order` again when it is an exit stop that ended unfilled (in
    /// part or whole): an SL order, or the LIMIT order a triggered GTT's stop leg placed (the
    /// stop was hit: the position still has to go).
    fn lapse_of(&self, order: &Order) -> Option<OrderRequest> {
        let ended = matches!(
            order.status,
            OrderStatus::Rejected | OrderStatus::Cancelled | OrderStatus::Expired
        );
        let left = super::fit::remaining(order);
        if !order.request.reduce_only || !ended || left <= Decimal::ZERO {
            return None;
        }
        let id = order.client_id();
        let request = |kind| {
            let mut again = OrderRequest::new(
                id.clone(),
                order.request.symbol.clone(),
                order.request.side,
                left,
                kind,
            );
            again.reduce_only = true;
            again
        };
        match order.request.kind {
            OrderKind::Stop { trigger } if self.exits().stops.contains(id) => {
                let trigger = self
                    .exits()
                    .trails
                    .get(id)
                    .map_or(order.trigger_price.unwrap_or(trigger), |t| t.trigger);
                Some(request(OrderKind::Stop { trigger }))
            }
            OrderKind::Limit { price }
                if self.exits().gtt_stops.contains_key(id) || self.is_gtt_stop_leg(id) =>
            {
                Some(request(OrderKind::Limit { price }))
            }
            _ => None,
        }
    }

    /// Whether `id` is the stop leg of an entry whose stop is a LIMIT order: a GTT's.
    fn is_gtt_stop_leg(&self, id: &ClientOrderId) -> bool {
        self.book
            .entry_of(id)
            .is_some_and(|entry| &entry.child(tradegraph_core::order::Leg::StopLoss) == id)
    }

    /// Follows an update of an exit stop (before the exits' own follow-up): one seen working is
    /// no longer owed; one that has just ended unfilled, and that this broker did not cancel,
    /// lapsed and is placed again (at once the first time, later by the keeper, at most
    /// [`MAX_LAPSES`] times in ten minutes); one that ended otherwise owes nothing.
    pub(crate) async fn after_stop_update(&self, id: &ClientOrderId, ended_now: bool) {
        let Some(order) = self.book.order(id).filter(|o| o.request.reduce_only) else {
            return;
        };
        if matches!(
            order.status,
            OrderStatus::Open | OrderStatus::PartiallyFilled
        ) {
            self.owed_paid(id);
            return;
        }
        if !ended_now {
            return;
        }
        let ours = self.exits().cancelling.remove(id);
        let Some(again) = self.lapse_of(&order).filter(|_| !ours) else {
            // Filled, or ended by this broker's hand: nothing owed for it.
            self.exits().stops.remove(id);
            self.owed_paid(id);
            return;
        };
        let lapses = self.keep().lapse(id);
        if lapses > MAX_LAPSES {
            self.exits().lapsed.remove(id);
            self.owe_exits(id);
            tracing::error!(venue = VENUE, client_id = %id, lapses, reason = ?order.reason, "an exit stop keeps ending unfilled at Kite: it is not placed again; the position is UNPROTECTED: protect or close it at Kite");
            return;
        }
        let delay = self.owe_after(id, lapses);
        self.exits().lapsed.insert(id.clone(), again);
        tracing::error!(venue = VENUE, client_id = %id, status = %order.status, reason = ?order.reason, lapses, retry_in = ?(lapses > 1).then_some(delay), "an exit stop ended unfilled while its position is open: the position is UNPROTECTED at Kite until it is placed again");
        if lapses == 1 {
            self.replace_lapsed(id).await;
        }
    }

    /// Settles the record of this broker's own cancel of the exit `id` (`reply`: whether Kite
    /// took the cancel): kept while the order may end by it (taken, or its answer lost), so
    /// that its end is not taken for a lapse; dropped when Kite refused it.
    pub(crate) fn cancel_settled(&self, id: &ClientOrderId, reply: &Result<bool, &BrokerError>) {
        let unknown = matches!(
            reply,
            Err(BrokerError::Venue {
                reason: VenueReason::Unavailable(_),
                ..
            })
        );
        if matches!(reply, Ok(false)) || (reply.is_err() && !unknown) {
            self.exits().cancelling.remove(id);
        }
    }

    /// Places the lapsed stop `id` again, for what is left of the position on its side (see
    /// the module), then fits the exits on its side together; forgotten when nothing is left
    /// to close. While the market is closed it waits for the session; when the price has
    /// passed its trigger (a gap at the open), it goes out as a LIMIT at the protection band
    /// past the last price, as a triggered GTT stop does.
    pub(crate) async fn replace_lapsed(&self, id: &ClientOrderId) {
        let Some(request) = self.exits().lapsed.get(id).cloned() else {
            return;
        };
        if let Some(session) = &self.config.session {
            let at = now();
            if session.session_at(at).is_none() {
                let opens = session.next_open_after(at);
                let wait = opens.map_or(Duration::from_secs(300), |o| {
                    Duration::from_millis(u64::try_from(o.millis() - at.millis()).unwrap_or(0))
                });
                let tries = self.keep().tries(id).max(1);
                self.owe_until(id, tries, Instant::now() + wait);
                tracing::warn!(venue = VENUE, client_id = %id, opens = ?opens, "the market is closed: the stop that ended unfilled goes out again when the session opens");
                return;
            }
        }
        let placed = async {
            let net = self.trusted_net().await?;
            let left = room(request.side, net).min(request.quantity);
            if left.is_zero() {
                return Ok(None);
            }
            let mut request = OrderRequest {
                quantity: left,
                ..request.clone()
            };
            if let Some(last) = self.last_price() {
                let passed = match (request.kind, request.side) {
                    (OrderKind::Stop { trigger }, OrderSide::Sell) => last <= trigger,
                    (OrderKind::Stop { trigger }, OrderSide::Buy) => last >= trigger,
                    (OrderKind::Limit { .. }, _) => true,
                    _ => false,
                };
                if passed {
                    // Hit already: the position goes at the protection band, watched.
                    let price = gtt_stop_limit(&self.config, &self.rules(), request.side, last);
                    request.kind = OrderKind::Limit { price };
                }
            }
            let limit = request.kind.limit_price();
            let side = request.side;
            let placed = self.place_stop(request).await?;
            if placed.status != OrderStatus::Pending {
                // Seen working or filled already (its update may have come first).
                self.owed_paid(id);
            }
            if let Some(price) = limit {
                self.exits().gtt_stops.insert(id.clone(), price);
            }
            Ok::<_, BrokerError>(Some((left, side)))
        }
        .await;
        match placed {
            Ok(None) => {
                let mut exits = self.exits();
                exits.lapsed.remove(id);
                exits.trails.remove(id);
                exits.stops.remove(id);
                drop(exits);
                self.owed_paid(id);
                tracing::warn!(venue = VENUE, client_id = %id, "the position is closed: the stop that ended unfilled is not placed again");
            }
            Ok(Some((left, side))) => {
                {
                    let mut exits = self.exits();
                    exits.lapsed.remove(id);
                    if let Some(trail) = exits.trails.get_mut(id) {
                        // A new order at Kite: its own allowance of modifications.
                        trail.quantity = left;
                        trail.modifications = 0;
                    }
                }
                tracing::warn!(venue = VENUE, client_id = %id, quantity = %left, "the stop that ended unfilled was placed again");
                // Sized to the position alone: the side's exits together close at most it.
                if let Err(e) = self.fit_exits(Some(side)).await {
                    self.keep().fits_owed.insert(side);
                    tracing::warn!(venue = VENUE, error = %e, "could not fit the exits to the position after a stop was placed again; trying again at each round of the keeper");
                }
            }
            Err(e) => {
                let delay = self.owe_exits(id);
                tracing::error!(venue = VENUE, client_id = %id, error = %e, retry_in = ?delay, "a stop that ended unfilled could not be placed again: the position is UNPROTECTED at Kite until it is; trying again");
            }
        }
    }

    /// The caller cancels the lapsed stop `id` (waiting to be placed again): it is not placed
    /// again. `None` when `id` is not lapsed.
    pub(crate) fn cancel_lapsed(&self, id: &ClientOrderId) -> Option<Order> {
        {
            let mut exits = self.exits();
            if exits.placing.contains(id) {
                // Being placed now: the cancel goes to the order placed (asked again).
                return None;
            }
            exits.lapsed.remove(id)?;
            exits.stops.remove(id);
        }
        self.owed_paid(id);
        tracing::info!(venue = VENUE, client_id = %id, "a stop waiting to be placed again was cancelled: it is not placed again");
        self.book.order(id)
    }

    /// The caller amends the lapsed stop `id`: it is placed again as amended. `None` when `id`
    /// is not lapsed.
    pub(crate) fn amend_lapsed(&self, id: &ClientOrderId, amendment: &Amendment) -> Option<Order> {
        let request = {
            let mut exits = self.exits();
            if exits.placing.contains(id) {
                return None;
            }
            let request = exits.lapsed.get_mut(id)?;
            if let Some(quantity) = amendment.quantity {
                request.quantity = quantity;
            }
            match &mut request.kind {
                OrderKind::Stop { trigger } => {
                    if let Some(to) = amendment.trigger {
                        *trigger = to;
                    }
                }
                OrderKind::Limit { price } => {
                    if let Some(to) = amendment.price {
                        *price = to;
                    }
                }
                _ => {}
            }
            let request = request.clone();
            if let (Some(trail), OrderKind::Stop { trigger }) =
                (exits.trails.get_mut(id), request.kind)
            {
                trail.trigger = trigger;
                trail.quantity = request.quantity;
            }
            request
        };
        let mut order = self.book.order(id)?;
        order.request = request;
        Some(order)
    }

    /// The keeper's round: the lapsed stops due are placed again.
    pub(crate) async fn retry_lapsed(&self) {
        let lapsed: Vec<ClientOrderId> = self.exits().lapsed.keys().cloned().collect();
        for id in lapsed {
            if self.keep().due(&id) {
                self.replace_lapsed(&id).await;
            }
        }
    }
}
