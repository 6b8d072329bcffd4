//! Order updates into the book: from the ticker WebSocket's `{"type":"order"}` messages and
//! from polling `GET /orders` while it is down, through the same [`Inner::sync`].

use super::broker::Inner;
use super::now;
use super::order::KiteOrder;
use super::rest::VENUE;
use super::KiteError;
use crate::live::venue::{connect_websocket, VenueTrade, VenueUpdate};
use crate::BrokerError;
use futures::future::BoxFuture;
use futures::StreamExt;
use rust_decimal::Decimal;
use tokio_tungstenite::tungstenite::Message;
use tradegraph_core::order::{
    ClientOrderId, Fill, Liquidity, Order, OrderId, OrderKind, OrderRequest, OrderSide, OrderStatus,
};
use tradegraph_market::feed::kite::parse_text;

/// The request an order placed elsewhere (by hand, by a GTT, before a crash) stands for.
fn request_of(order: &KiteOrder, client_id: ClientOrderId, inner: &Inner) -> OrderRequest {
    let side = if order.transaction_type == "SELL" {
        OrderSide::Sell
    } else {
        OrderSide::Buy
    };
    let kind = match order.order_type.as_str() {
        "LIMIT" => OrderKind::Limit { price: order.price },
        "SL" | "SL-M" => OrderKind::Stop {
            trigger: order.trigger_price,
        },
        _ => OrderKind::Market,
    };
    OrderRequest::new(client_id, inner.symbol.clone(), side, order.quantity, kind)
}

/// A client order id for an order without our tag.
fn untagged(order_id: &str) -> ClientOrderId {
    let clean: String = order_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(ClientOrderId::MAX_LEN - 5)
        .collect();
    ClientOrderId::new(format!("kite-{clean}")).unwrap_or_else(|_| {
        ClientOrderId::derive(
            &tradegraph_core::Symbol::new("kite"),
            &tradegraph_core::order::DecisionId::new(order_id),
            tradegraph_core::order::Leg::Other(0),
        )
    })
}

/// Our text for Kite's reason of a rejected or cancelled order.
fn reason_text(order: &KiteOrder) -> Option<String> {
    let message = order.status_message.clone()?;
    if order.order_status() != OrderStatus::Rejected {
        return Some(message);
    }
    let typed = KiteError {
        error_type: "OrderException".into(),
        message: message.clone(),
    }
    .reason(400, None);
    Some(format!("{typed} (Kite: {message})"))
}

impl Inner {
    /// Our client order id of a Kite order: its tag, an order tracked under its id, a GTT leg,
    /// or `kite-<order id>` for one placed elsewhere.
    async fn client_of(&self, order: &KiteOrder) -> ClientOrderId {
        if let Some(id) = order
            .tag
            .as_deref()
            .and_then(|t| ClientOrderId::new(t).ok())
        {
            return id;
        }
        let order_id = OrderId::new(&order.order_id);
        if let Some(id) = self.book.client_id_of(&order_id) {
            return id;
        }
        match self.gtt_child(&order.order_id).await {
            Ok(Some(id)) => id,
            Ok(None) => untagged(&order.order_id),
            Err(e) => {
                tracing::warn!(venue = VENUE, order_id = %order.order_id, error = %e, "could not read the GTTs for an order without a tag");
                untagged(&order.order_id)
            }
        }
    }

    /// An order under the tag of one the book tracks as ended unfilled, that the book has not
    /// seen: a newer order under the same tag (an exit stop placed again; Kite lists the day's
    /// orders oldest first). The book follows it, so that a book that lost track of the stop
    /// placed again (a restart from an older snapshot) does not place it once more.
    fn follow_newer(&self, client_id: &ClientOrderId, order: &KiteOrder) {
        let order_id = OrderId::new(&order.order_id);
        let Some(known) = self.book.order(client_id) else {
            return;
        };
        let dead = super::lapse::dead(&known);
        if !dead || known.id.as_str().is_empty() || self.book.client_id_of(&order_id).is_some() {
            return;
        }
        // The request is the dead one's as Kite holds the newer order (its size may differ).
        let mut request = known.request.clone();
        request.quantity = order.quantity;
        let mut newer = Order::new(order_id, request, now());
        if !order.trigger_price.is_zero() {
            newer.trigger_price = Some(order.trigger_price);
        }
        self.book.track(newer);
    }

    /// Applies Kite's state of one order: new trades (from `GET /orders/{id}/trades`, booked
    /// once by trade id) become numbered fills, then its status; exits follow a filled entry.
    pub(crate) fn sync<'a>(
        &'a self,
        order: &'a KiteOrder,
    ) -> BoxFuture<'a, Result<Vec<Fill>, BrokerError>> {
        // Boxed: placing the exits of a filled entry may sync again.
        Box::pin(self.sync_now(order))
    }

    async fn sync_now(&self, order: &KiteOrder) -> Result<Vec<Fill>, BrokerError> {
        if !order.tradingsymbol.is_empty() && order.tradingsymbol != self.tradingsymbol() {
            return Ok(Vec::new());
        }
        let guard = self.syncing.lock().await;
        let client_id = self.client_of(order).await;
        self.follow_newer(&client_id, order);
        let tracked = self.book.order(&client_id);
        // Listed at last after its answer was lost: the request as sent (its exits) stands.
        // (A late report of an order forgotten to be placed again under the client id is not
        // the one sent.)
        let order_id = OrderId::new(&order.order_id);
        let lost = if self.book.is_forgotten(&client_id, &order_id) {
            None
        } else {
            self.lock_lost().remove(&client_id)
        };
        let request = match (&tracked, lost) {
            (Some(o), _) => o.request.clone(),
            (None, Some(lost)) => lost.request,
            (None, None) => request_of(order, client_id.clone(), self),
        };
        let filled = tracked.map_or(Decimal::ZERO, |o| o.filled_quantity);
        let at = now();
        let mut fills = Vec::new();
        if order.filled_quantity > filled {
            for trade in self.rest.trades(&order.order_id).await? {
                if self.book.has_trade(&trade.trade_id) {
                    continue;
                }
                let update = VenueUpdate {
                    request: request.clone(),
                    order_id: order_id.clone(),
                    status: OrderStatus::PartiallyFilled,
                    trade: Some(VenueTrade {
                        trade_id: trade.trade_id,
                        quantity: trade.quantity,
                        price: trade.average_price,
                        fee: Decimal::ZERO,
                        fee_in_asset: Decimal::ZERO,
                        liquidity: Liquidity::Taker,
                        ts: trade.filled_at.unwrap_or(at),
                    }),
                    reason: None,
                    at,
                };
                if let Some(fill) = self.book.apply(&update)? {
                    if order.product.is_empty() || order.product == self.config.product.as_str() {
                        let signed = match fill.side {
                            OrderSide::Buy => fill.quantity,
                            OrderSide::Sell => -fill.quantity,
                        };
                        self.keep().net.booked(signed);
                    }
                    tracing::info!(venue = VENUE, client_id = %fill.client_id, seq = fill.seq, quantity = %fill.quantity, price = %fill.price, "Kite fill");
                    fills.push(fill);
                }
            }
        }
        // Kite's order book may show an order finished before its trade book has every
        // trade: the order stays open here (its exits wait) and is read again until it has.
        let before = self.book.order(&client_id).map(|o| o.status);
        let booked = self
            .book
            .order(&client_id)
            .map_or(Decimal::ZERO, |o| o.filled_quantity);
        let mut status = order.order_status();
        if status.is_terminal() && booked < order.filled_quantity {
            tracing::warn!(venue = VENUE, client_id = %client_id, kite = %order.filled_quantity, booked = %booked, "Kite shows the order {} before all its trades: reading them again", order.status);
            status = if booked.is_zero() {
                OrderStatus::Open
            } else {
                OrderStatus::PartiallyFilled
            };
            self.keep().lagging.insert(client_id.clone());
        } else {
            self.keep().lagging.remove(&client_id);
        }
        self.book.apply(&VenueUpdate {
            request,
            order_id,
            status,
            trade: None,
            reason: reason_text(order),
            at,
        })?;
        drop(guard);
        // Only an update about the order the book tracks under the id ends it (a late report of
        // one forgotten there does not).
        let current = self
            .book
            .order(&client_id)
            .is_some_and(|o| o.id.as_str() == order.order_id);
        let ended_now = current && status.is_terminal() && !before.is_some_and(|s| s.is_terminal());
        self.after_stop_update(&client_id, ended_now).await;
        self.after_update(&client_id).await;
        if let Some(fill) = fills.first() {
            // The position moved: exits on the fill's side larger than it would open a reverse
            // position. Fitted by the keeper once a read can show the fill
            // (`KiteConfig::position_settle`), at each round until done.
            self.keep().fits_owed.insert(fill.side);
        }
        Ok(fills)
    }

    /// `GET /orders`, syncing every order of the instrument that changed since the book saw it.
    pub(crate) async fn poll(&self) -> Result<(), BrokerError> {
        let orders = self.rest.orders().await?;
        let mut first_error = None;
        for order in &orders {
            if !order.tradingsymbol.is_empty() && order.tradingsymbol != self.tradingsymbol() {
                continue;
            }
            let known = order
                .tag
                .as_deref()
                .and_then(|t| ClientOrderId::new(t).ok())
                .or_else(|| self.book.client_id_of(&OrderId::new(&order.order_id)))
                .and_then(|id| self.book.order(&id));
            let unchanged = known.is_some_and(|k| {
                k.id.as_str() == order.order_id
                    && k.filled_quantity == order.filled_quantity
                    && (k.status == order.order_status() || k.status.is_terminal())
            });
            if unchanged {
                continue;
            }
            if let Err(e) = self.sync(order).await {
                tracing::warn!(venue = VENUE, order_id = %order.order_id, error = %e, "could not sync a Kite order");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// One session of the ticker WebSocket: connect, then take its order updates until it ends.
    pub(crate) async fn session(&self) -> Result<(), BrokerError> {
        let masker = self.rest.http.masker().clone();
        let separator = if self.config.ws_url.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!(
            "{}{separator}api_key={}&access_token={}",
            with_path(&self.config.ws_url),
            percent(self.config.api_key.expose()),
            percent(self.config.access_token.expose())
        );
        let mut socket = connect_websocket(VENUE, &url, self.config.http.timeout, &masker).await?;
        self.link.up();
        tracing::info!(venue = VENUE, "order updates streaming");
        loop {
            // Kite sends a heartbeat every second: a silent socket is a dead one (a half-open
            // connection would otherwise keep the link up and polling off for ever).
            let next = tokio::time::timeout(self.config.silence_timeout, socket.next()).await;
            let Ok(next) = next else {
                return Err(self
                    .rest
                    .error(crate::live::VenueReason::Unavailable(format!(
                    "the order-update socket was silent for {:?}: reconnecting (polling meanwhile)",
                    self.config.silence_timeout
                ))));
            };
            let Some(message) = next else { break };
            if self.link.is_stopped() {
                break;
            }
            match message {
                Ok(Message::Text(text)) => self.on_text(text.as_str()).await,
                Ok(Message::Close(_)) => break,
                Ok(_) => {}
                Err(e) => {
                    return Err(self.rest.error(crate::live::VenueReason::Unavailable(
                        masker.mask(&format!("the order-update socket failed: {e}")),
                    )))
                }
            }
        }
        Ok(())
    }

    async fn on_text(&self, text: &str) {
        let message = match parse_text(text) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(venue = VENUE, error = %e, "unreadable text message on the order-update socket");
                return;
            }
        };
        match message.kind.as_str() {
            "order" => {
                let order = serde_json::from_str(&message.payload)
                    .map_err(|e| e.to_string())
                    .and_then(|v| KiteOrder::from_value(&v));
                match order {
                    Ok(order) => {
                        if let Err(e) = self.sync(&order).await {
                            tracing::warn!(venue = VENUE, order_id = %order.order_id, error = %e, "could not apply an order update; polling will");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(venue = VENUE, error = %e, "unreadable order update")
                    }
                }
            }
            "error" => {
                let shown = self.rest.http.masker().mask(&message.payload);
                tracing::warn!(venue = VENUE, message = %shown, "Kite reported an error on the order-update socket");
            }
            _ => {}
        }
    }
}

/// Percent-encodes a query value.
fn percent(value: &str) -> String {
    let form = super::rest::encode(&[("v", value.to_owned())]);
    form.trim_start_matches("v=").to_owned()
}

/// The URL with a path (`wss://ws.kite.trade` becomes `wss://ws.kite.trade/`): a request line
/// needs one before the query.
fn with_path(url: &str) -> String {
    let host_at = url.find("://").map_or(0, |i| i + 3);
    match url[host_at..].find(['/', '?']) {
        Some(i) if url[host_at + i..].starts_with('/') => url.to_owned(),
        Some(i) => format!("{}/{}", &url[..host_at + i], &url[host_at + i..]),
        None => format!("{url}/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_get_a_path_before_their_query() {
        assert_eq!(with_path("wss://ws.kite.trade"), "wss://ws.kite.trade/");
        assert_eq!(with_path("ws://127.0.0.1:9?x=1"), "ws://127.0.0.1:9/?x=1");
        assert_eq!(with_path("wss://h/path?x=1"), "wss://h/path?x=1");
        assert_eq!(percent("a b&c"), "a%20b%26c");
    }
}
