//! Placing an order at Kite and finding it again: the state of one order, from the venue.

use super::broker::Inner;
use super::now;
use super::place_form;
use super::rest::{Cost, KiteRest, VENUE};
use super::resume::ExitsGuard;
use super::rules::tag_of;
use crate::live::VenueReason;
use crate::BrokerError;
use reqwest::Method;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::PoisonError;
use tradegraph_core::order::{ClientOrderId, Order, OrderId, OrderKind, OrderRequest, OrderStatus};

impl Inner {
    /// The exits, locked; every change is saved in the book's venue state.
    pub(crate) fn exits(&self) -> ExitsGuard<'_> {
        ExitsGuard {
            exits: self.exits.lock().unwrap_or_else(PoisonError::into_inner),
            book: &self.book,
            lost: &self.lost,
        }
    }

    pub(crate) fn last_price(&self) -> Option<Decimal> {
        *self.price.borrow()
    }

    /// An order refused before or by the venue: `Rejected`, with the reason's text (masked).
    pub(crate) fn rejected(&self, request: OrderRequest, reason: &VenueReason) -> Order {
        let mut order = Order::new(OrderId::new(""), request, now());
        order.status = OrderStatus::Rejected;
        order.reason = Some(self.rest.http.masker().mask(&reason.to_string()));
        tracing::warn!(venue = VENUE, client_id = %order.client_id(), reason = %reason, kind = reason.kind(), "Kite refused the order");
        self.book.track(order)
    }

    /// Places `request` (`POST /orders/regular`); a trailing stop starts at `trailing_trigger`.
    pub(crate) async fn place(
        &self,
        request: OrderRequest,
        trailing_trigger: Option<Decimal>,
    ) -> Result<Order, BrokerError> {
        let form = match place_form(
            &self.config_now(),
            &self.rules(),
            &request,
            trailing_trigger,
        ) {
            Ok(form) => form,
            Err(reason) => return Ok(self.rejected(request, &reason)),
        };
        let sent = self
            .rest
            .send(
                Method::POST,
                "/orders/regular",
                Some(super::rest::encode(&form)),
                Cost::Order,
                None,
            )
            .await;
        let reply = match sent {
            Ok(reply) => reply,
            Err(BrokerError::Venue {
                reason: VenueReason::Unavailable(what),
                ..
            }) => {
                return self
                    .placed_or(&request, VenueReason::Unavailable(what))
                    .await
            }
            Err(e) => return Err(e),
        };
        if !reply.is_success() {
            let reason = KiteRest::reason_of(&reply);
            if reason.is_refusal() {
                return Ok(self.rejected(request, &reason));
            }
            if matches!(reason, VenueReason::Unavailable(_)) {
                return self.placed_or(&request, reason).await;
            }
            return Err(self.rest.error(reason));
        }
        let data = self.rest.data("POST /orders/regular", &reply)?;
        let order_id = super::order::text_of(&data, "order_id")
            .ok_or_else(|| self.rest.unreadable("POST /orders/regular", "no order_id"))?;
        // Kite took the request; its checks (margins, RMS) may still reject the order, which
        // an update reports: `Pending` until then.
        let mut order = Order::new(OrderId::new(order_id), request, now());
        if let OrderKind::Stop { trigger } = order.request.kind {
            order.trigger_price = Some(trigger);
        }
        if let Some(trigger) = trailing_trigger {
            order.trigger_price = Some(trigger);
        }
        // An update may have come first (the socket is quick): the book's state is newer.
        let _syncing = self.syncing.lock().await;
        match self.book.order(order.client_id()) {
            Some(mut known) if known.id == order.id => {
                // Tracked from the update as an order of unknown origin: the request is ours
                // (an exit only reduces, its trigger).
                if known.request != order.request {
                    known.request = order.request;
                    known.trigger_price = known.trigger_price.or(order.trigger_price);
                    known = self.book.track(known);
                }
                Ok(known)
            }
            _ => Ok(self.book.track(order)),
        }
    }

    /// After a failed answer to a placement: the order if Kite has it under its tag, else the
    /// failure (its outcome stays unknown to the caller, who asks again).
    async fn placed_or(
        &self,
        request: &OrderRequest,
        reason: VenueReason,
    ) -> Result<Order, BrokerError> {
        if let Ok(Some(order)) = self.find(&request.client_id).await {
            return Ok(order);
        }
        // Kite may not list it yet: of unknown outcome until it does, or until
        // `unknown_outcome_after` has passed ([`Self::lost_order`]).
        self.lock_lost().insert(
            request.client_id.clone(),
            Order::new(OrderId::new(""), request.clone(), now()),
        );
        // Kept with the book (saved with the exits): a restart while Kite still lags knows it.
        drop(self.exits());
        Err(self.rest.error(reason))
    }

    /// An order sent with its answer lost that Kite has not listed since: pending (of unknown
    /// outcome: never sent again, nothing sent in its place) until
    /// [`KiteConfig::unknown_outcome_after`] has passed since the answer was lost, then taken as
    /// never received (booked `Rejected`, saying so), so that what it was for (a close) may be
    /// tried under another id. `None`: no such order.
    pub(crate) fn lost_order(&self, client_id: &ClientOrderId) -> Option<Order> {
        let pending = self.lock_lost().get(client_id).cloned()?;
        if let Some(known) = self.book.order(client_id) {
            // Listed since (an order update, a poll): the book's order is the answer.
            self.lock_lost().remove(client_id);
            return Some(known);
        }
        match self
            .book
            .never_received(&pending, now(), self.config.unknown_outcome_after)
        {
            Some(gone) => {
                self.lock_lost().remove(client_id);
                Some(gone)
            }
            None => Some(pending),
        }
    }

    /// The order `client_id` as Kite lists it today (by its tag), else as this broker
    /// remembers it after its answer was lost ([`Self::lost_order`]).
    pub(crate) async fn find_or_lost(
        &self,
        client_id: &ClientOrderId,
    ) -> Result<Option<Order>, BrokerError> {
        match self.find(client_id).await? {
            Some(order) => Ok(Some(order)),
            None => Ok(self.lost_order(client_id)),
        }
    }

    /// The orders sent with their answers lost that Kite has not listed since and that are
    /// not yet taken as never received: pending, of unknown outcome (maybe working).
    pub(crate) fn lost_pending(&self) -> Vec<Order> {
        let ids: Vec<ClientOrderId> = self.lock_lost().keys().cloned().collect();
        ids.iter()
            .filter_map(|id| self.lost_order(id))
            .filter(|o| o.status == OrderStatus::Pending && o.id.as_str().is_empty())
            .collect()
    }

    /// The orders sent with their answers lost, not listed by Kite since.
    pub(crate) fn lock_lost(&self) -> std::sync::MutexGuard<'_, HashMap<ClientOrderId, Order>> {
        self.lost.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The order `client_id` as Kite has it today (by its tag), synced into the book.
    pub(crate) async fn find(
        &self,
        client_id: &ClientOrderId,
    ) -> Result<Option<Order>, BrokerError> {
        let Ok(tag) = tag_of(client_id) else {
            return Ok(None);
        };
        let orders = self.rest.orders().await?;
        // The latest under the tag (Kite lists the day's orders oldest first): an exit stop
        // that ended unfilled is placed again under its tag.
        match orders
            .iter()
            .rev()
            .find(|o| o.tag.as_deref() == Some(tag.as_str()))
        {
            Some(order) => {
                self.sync(order).await?;
                Ok(self.book.order(client_id))
            }
            None => Ok(None),
        }
    }

    /// Asks Kite for the order's state now and syncs it.
    pub(crate) async fn refresh(&self, order: &Order) -> Result<Option<Order>, BrokerError> {
        if order.id.as_str().is_empty() || order.id.as_str().starts_with("gtt:") {
            return Ok(self.book.order(order.client_id()));
        }
        if let Some(state) = self.rest.order(order.id.as_str()).await? {
            self.sync(&state).await?;
        }
        Ok(self.book.order(order.client_id()))
    }
}
