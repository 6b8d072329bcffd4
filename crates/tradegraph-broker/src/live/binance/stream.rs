//! Order and fill updates: the user data stream over the WebSocket API
//! (`userDataStream.subscribe.signature`), and REST polling (`openOrders`, `myTrades?fromId=`)
//! while it is down and once after each reconnect. Both end in [`apply`], so an update is
//! booked the same way whichever way it came, and a trade once.

use super::broker::Inner;
use super::exits;
use super::wire::{overflows, ExecutionReport, WireOrder, WireTrade};
use crate::live::venue::{
    connect_websocket, keep_streaming, poll_while_down, VenueTrade, VenueUpdate,
};
use crate::live::VenueReason;
use crate::BrokerError;
use futures::{SinkExt, StreamExt};
use reqwest::Method;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tradegraph_core::backoff::Backoff;
use tradegraph_core::order::{Liquidity, OrderId, OrderStatus};
use tradegraph_core::Timestamp;

/// Sets the `myTrades` cursor: after the newest trade the book knows, or after the venue's
/// newest trade on a fresh start.
pub(crate) async fn start_cursor(inner: &Arc<Inner>) -> Result<(), BrokerError> {
    let known = inner
        .book
        .snapshot()
        .trade_ids
        .iter()
        .filter_map(|t| t.parse::<u64>().ok())
        .max();
    let next = match known {
        Some(id) => id + 1,
        None => {
            let symbol = inner.symbol.as_str().to_owned();
            let body = inner
                .must(Method::GET, "/api/v3/myTrades", 20, &move |q| {
                    q.push("symbol", &symbol).push_num("limit", 1);
                })
                .await?;
            let trades: Vec<WireTrade> = inner.parse("GET /api/v3/myTrades", &body)?;
            trades.iter().map(|t| t.id + 1).max().unwrap_or(0)
        }
    };
    inner.next_trade_id.store(next, Ordering::Release);
    Ok(())
}

/// At a start from a kept book, what happened while the bot was down: the trades of every
/// order the book had working (the stream sent them to no one, and the `myTrades` cursor may
/// start after them), each one's status from the venue, the exits of entries that filled
/// (the venue is asked for their legs before any is placed), and exits cancelled meanwhile
/// while the position is still held placed again (see `close::restore_cancelled`).
pub(crate) async fn catch_up(inner: &Arc<Inner>) -> Result<(), BrokerError> {
    let kept = inner.book.open_orders();
    for order in kept.iter().cloned() {
        let mut id = order.id.to_string();
        if id.is_empty() {
            // Sent before the crash with no answer kept: the venue's word, by client id.
            super::orders::query(inner, order.client_id()).await?;
            id = inner
                .book
                .order(order.client_id())
                .map(|o| o.id.to_string())
                .unwrap_or_default();
        }
        let Ok(order_id) = id.parse::<u64>() else {
            continue;
        };
        book_trades_of(inner, order_id).await?;
        super::orders::query(inner, order.client_id()).await?;
    }
    for order in inner.book.snapshot().orders {
        // Entries with their own exits only: a carry-over of working exits to a buy without
        // them is for a fill seen live (the orders working at the start were seen above).
        let own_exits = order.request.exits.is_some_and(|e| !e.is_empty());
        if own_exits && order.parent.is_none() {
            exits::after_update(inner, order.client_id());
        }
    }
    let legs: Vec<_> = kept.into_iter().filter(|o| o.parent.is_some()).collect();
    super::close::restore_cancelled(inner, &legs).await;
    Ok(())
}

/// Books every trade of the venue's order `order_id` not booked yet (`myTrades?orderId=`,
/// weight 5): the fills of an order learned of after they happened (a restart, a lost answer).
pub(crate) async fn book_trades_of(inner: &Arc<Inner>, order_id: u64) -> Result<(), BrokerError> {
    let symbol = inner.symbol.as_str().to_owned();
    let body = inner
        .must(Method::GET, "/api/v3/myTrades", 5, &move |q| {
            q.push("symbol", &symbol).push_num("orderId", order_id);
        })
        .await?;
    let trades: Vec<WireTrade> = inner.parse("GET /api/v3/myTrades", &body)?;
    for trade in &trades {
        book_trade(inner, trade).await?;
    }
    Ok(())
}

/// Starts the stream and the poller.
pub(crate) fn spawn(inner: &Arc<Inner>) -> Vec<JoinHandle<()>> {
    let (s, p) = (inner.clone(), inner.clone());
    let backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
    vec![
        tokio::spawn(keep_streaming(
            "binance",
            inner.link.clone(),
            backoff,
            move || {
                let inner = s.clone();
                async move { session(&inner).await }
            },
        )),
        tokio::spawn(poll_while_down(
            "binance",
            inner.link.clone(),
            inner.config.poll_every,
            move || {
                let inner = p.clone();
                async move { poll(&inner).await }
            },
        )),
    ]
}

/// One WebSocket session: connect, subscribe with a signature, read events until it ends.
async fn session(inner: &Arc<Inner>) -> Result<(), BrokerError> {
    let masker = inner.rest.masker();
    let mut ws = connect_websocket(
        "binance",
        &inner.config.ws_api_url,
        inner.config.http.timeout,
        masker,
    )
    .await?;
    let request = serde_json::json!({
        "id": "tg-subscribe",
        "method": "userDataStream.subscribe.signature",
        "params": inner.rest.ws_subscribe_params(inner.config.api_key.expose()),
    });
    let down = |what: String| inner.rest.error(VenueReason::Unavailable(what));
    // Logged like every REST request: the key masked, the signature replaced.
    let mut shown = request.clone();
    shown["params"]["signature"] = serde_json::Value::from("***");
    tracing::debug!(venue = "binance", request = %masker.mask(&shown.to_string()), "venue request");
    ws.send(Message::text(request.to_string()))
        .await
        .map_err(|e| down(format!("subscribing to the user data stream: {e}")))?;
    // A half-open connection sends nothing and fails nothing: the broker pings, and a socket
    // that says nothing (not even a pong) for `stream_idle_timeout` is taken as dead, so
    // polling covers and a new session starts.
    let idle = inner.config.stream_idle_timeout;
    let mut ping = tokio::time::interval(idle / 3);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut deadline = tokio::time::Instant::now() + idle;
    loop {
        let message = tokio::select! {
            _ = ping.tick() => {
                ws.send(Message::Ping(Default::default()))
                    .await
                    .map_err(|e| down(format!("pinging the user data stream: {e}")))?;
                continue;
            }
            () = tokio::time::sleep_until(deadline) => {
                return Err(down(format!(
                    "the user data stream said nothing (not even a pong) for {} ms: the connection is taken as dead",
                    idle.as_millis()
                )));
            }
            message = ws.next() => message,
        };
        deadline = tokio::time::Instant::now() + idle;
        let text = match message {
            None => return Ok(()),
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) => return Ok(()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(down(format!("the user data stream: {e}"))),
        };
        if !on_message(inner, &text)? {
            return Ok(());
        }
    }
}

/// One message of the user data stream; `false` when the venue ended the subscription.
fn on_message(inner: &Arc<Inner>, text: &str) -> Result<bool, BrokerError> {
    let masker = inner.rest.masker();
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "a user data stream message is not JSON; skipped");
            return Ok(true);
        }
    };
    if value.get("id").and_then(|i| i.as_str()) == Some("tg-subscribe") {
        if value.get("status").and_then(serde_json::Value::as_u64) == Some(200) {
            inner.caught_up.store(false, Ordering::Release);
            inner.link.up();
            tracing::info!(
                reconnections = inner.link.reconnections(),
                "binance user data stream subscribed"
            );
            return Ok(true);
        }
        let code = value
            .pointer("/error/code")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0);
        let msg = value
            .pointer("/error/msg")
            .and_then(|m| m.as_str())
            .unwrap_or("");
        let reason = match super::codes::classify(400, code, &masker.mask(msg), None) {
            super::codes::Classified::Reason(r) => r,
            _ => VenueReason::Other {
                code: code.to_string(),
                message: masker.mask(msg),
            },
        };
        return Err(inner.rest.error(reason));
    }
    let Some(event) = value.get("event") else {
        return Ok(true);
    };
    match event.get("e").and_then(|e| e.as_str()) {
        Some("executionReport") => {}
        Some("eventStreamTerminated") => {
            // The venue ended the subscription (the session's key logged out, ...): no more
            // events come on this socket.
            tracing::warn!("binance ended the user data stream subscription (eventStreamTerminated): polling until a new one is up");
            return Ok(false);
        }
        _ => return Ok(true),
    }
    match serde_json::from_value::<ExecutionReport>(event.clone()) {
        Ok(report) => on_report(inner, &report)?,
        Err(e) => {
            tracing::warn!(error = %e, "an executionReport is not as Binance documents it; polling will cover it")
        }
    }
    Ok(true)
}

/// One `executionReport`.
fn on_report(inner: &Arc<Inner>, report: &ExecutionReport) -> Result<(), BrokerError> {
    if report.symbol != inner.symbol.as_str() {
        return Ok(());
    }
    let client = report.order_client_id();
    let tracked = inner.book.order(&client);
    // A cancel-replace keeps the client id: the old order's last events are not the new one's.
    let older = tracked.as_ref().is_some_and(|t| {
        t.id.as_str()
            .parse::<u64>()
            .is_ok_and(|id| id > report.order_id)
    });
    if older && report.execution != "TRADE" {
        return Ok(());
    }
    let request = match tracked {
        Some(t) => t.request,
        None => super::wire::request_of(
            &inner.symbol,
            client.clone(),
            &report.side,
            &report.kind,
            report.quantity,
            report.price,
            report.stop_price,
            report.trailing_delta,
            inner.reference().unwrap_or_default(),
            &report.time_in_force,
        ),
    };
    if report.execution == "TRADE" {
        inner.saw_price(report.last_price);
    }
    let update = report
        .to_update(request, &inner.rules, &inner.fee_prices())
        .map_err(|reason| inner.rest.error(reason))?;
    apply(inner, &update)
}

/// Books an update (stream or polling), then places exits an entry's fill calls for.
pub(crate) fn apply(inner: &Arc<Inner>, update: &VenueUpdate) -> Result<(), BrokerError> {
    if let Some(fill) = inner.book.apply(update)? {
        tracing::info!(seq = fill.seq, client_id = %fill.client_id, quantity = %fill.quantity, price = %fill.price, "binance fill");
    }
    exits::after_update(inner, &update.request.client_id);
    Ok(())
}

/// One round of polling: new trades since the cursor, then the working orders' statuses.
pub(crate) async fn poll(inner: &Arc<Inner>) -> Result<(), BrokerError> {
    let up = inner.link.is_up();
    poll_trades(inner).await?;
    poll_orders(inner).await?;
    if up {
        inner.caught_up.store(true, Ordering::Release);
    }
    Ok(())
}

async fn poll_trades(inner: &Arc<Inner>) -> Result<(), BrokerError> {
    loop {
        let from = inner.next_trade_id.load(Ordering::Acquire);
        let symbol = inner.symbol.as_str().to_owned();
        let body = inner
            .must(Method::GET, "/api/v3/myTrades", 20, &move |q| {
                q.push("symbol", &symbol)
                    .push_num("fromId", from)
                    .push_num("limit", 1000);
            })
            .await?;
        let trades: Vec<WireTrade> = inner.parse("GET /api/v3/myTrades", &body)?;
        for trade in &trades {
            book_trade(inner, trade).await?;
            inner
                .next_trade_id
                .fetch_max(trade.id + 1, Ordering::AcqRel);
        }
        if trades.len() < 1000 {
            return Ok(());
        }
    }
}

/// Books one trade from `myTrades` (an order the book does not track is asked about first).
async fn book_trade(inner: &Arc<Inner>, trade: &WireTrade) -> Result<(), BrokerError> {
    let prices = inner.fee_prices();
    let order_id = OrderId::new(trade.order_id.to_string());
    let tracked = match inner
        .book
        .client_id_of(&order_id)
        .and_then(|c| inner.book.order(&c))
    {
        Some(order) => order,
        None => match order_by_id(inner, trade.order_id).await? {
            Some(order) => order,
            None => return Ok(()),
        },
    };
    let filled = if inner.book.has_trade(&trade.id.to_string()) {
        tracked.filled_quantity
    } else {
        tracked
            .filled_quantity
            .checked_add(trade.qty)
            .ok_or_else(|| {
                inner
                    .rest
                    .error(overflows(format_args!("a trade's quantity {}", trade.qty)))
            })?
    };
    let status = if filled >= tracked.request.quantity {
        OrderStatus::Filled
    } else {
        OrderStatus::PartiallyFilled
    };
    inner.saw_price(trade.price);
    apply(
        inner,
        &VenueUpdate {
            request: tracked.request.clone(),
            order_id,
            status,
            trade: Some(VenueTrade {
                trade_id: trade.id.to_string(),
                quantity: trade.qty,
                price: trade.price,
                fee: super::wire::fee_value(
                    &inner.rules,
                    &prices,
                    trade.commission,
                    &trade.commission_asset,
                    trade.price,
                )
                .map_err(|reason| inner.rest.error(reason))?,
                fee_in_asset: super::wire::fee_in_base(
                    &inner.rules,
                    trade.commission,
                    &trade.commission_asset,
                ),
                liquidity: if trade.is_maker {
                    Liquidity::Maker
                } else {
                    Liquidity::Taker
                },
                ts: Timestamp::from_millis(trade.time),
            }),
            reason: None,
            at: Timestamp::from_millis(trade.time),
        },
    )
}

/// An order the book does not track, from the venue, tracked from now on.
async fn order_by_id(
    inner: &Arc<Inner>,
    order_id: u64,
) -> Result<Option<tradegraph_core::order::Order>, BrokerError> {
    let symbol = inner.symbol.as_str().to_owned();
    let params = move |q: &mut super::sign::Query| {
        q.push("symbol", &symbol).push_num("orderId", order_id);
    };
    match inner
        .rest
        .signed(Method::GET, "/api/v3/order", 4, &params)
        .await?
    {
        super::rest::Outcome::Done(body) => {
            let wire: WireOrder = inner.parse("GET /api/v3/order", &body)?;
            // An order sent whose answer was lost is tracked under its client id already,
            // with the request as sent (its exits): that request stands.
            let client = super::wire::client_id(&wire.client_order_id, wire.order_id);
            let request = match inner.book.order(&client) {
                Some(kept) if kept.id.as_str().is_empty() => kept.request,
                _ => wire.request(&inner.symbol, inner.reference().unwrap_or_default()),
            };
            let mut order = wire.to_order(request);
            order.status = OrderStatus::Open;
            order.filled_quantity = tradegraph_core::Decimal::ZERO;
            order.average_fill_price = None;
            Ok(Some(inner.book.track(order)))
        }
        _ => Ok(None),
    }
}

async fn poll_orders(inner: &Arc<Inner>) -> Result<(), BrokerError> {
    let symbol = inner.symbol.as_str().to_owned();
    let body = inner
        .must(Method::GET, "/api/v3/openOrders", 6, &move |q| {
            q.push("symbol", &symbol);
        })
        .await?;
    let open: Vec<WireOrder> = inner.parse("GET /api/v3/openOrders", &body)?;
    for wire in &open {
        let client = super::wire::client_id(&wire.client_order_id, wire.order_id);
        if inner.book.order(&client).is_none() {
            let request = wire.request(&inner.symbol, inner.reference().unwrap_or_default());
            super::orders::book_answer(inner, wire, &request)?;
        }
    }
    // Orders the book has working that the venue no longer lists: their end, from the venue.
    for order in inner.book.open_orders() {
        let listed = open
            .iter()
            .any(|w| w.order_id.to_string() == order.id.as_str());
        if listed {
            continue;
        }
        if order.id.as_str().is_empty() {
            // Sent, its answer lost: asked about by client id until the venue shows it.
            if order.status == OrderStatus::Pending && !inner.is_sending(order.client_id()) {
                super::orders::query(inner, order.client_id()).await?;
            }
            continue;
        }
        if let Some(now) = super::orders::query(inner, order.client_id()).await? {
            let venue = now.status;
            if venue.is_terminal() && !matches!(venue, OrderStatus::Filled) {
                tracing::debug!(client_id = %order.client_id(), status = %venue, "an order ended at the venue while the stream was down");
            }
        }
    }
    Ok(())
}
