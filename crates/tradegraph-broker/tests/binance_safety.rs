//! The Binance broker's money-safety paths, against the local venue's scripted failures: exits
//! owed are placed in the end, a close that fails leaves its exits, a replacement that fails
//! brings the old exits back, a lost answer never becomes a second order, a cancel-replace
//! that half fails is booked as the venue left it.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binance_support;

use binance_support::{d, start, start_with, wait_until, Logs};
use tradegraph_broker::live::binance::BinanceBroker;
use tradegraph_broker::{Amendment, Broker};
use tradegraph_core::order::{ClientOrderId, Exits, Leg, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::Symbol;
use tradegraph_testkit::venue::binance::{BinanceVenue, Failure, OrderView};

fn id(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT")
}

fn working(venue: &BinanceVenue) -> Vec<OrderView> {
    venue
        .orders()
        .into_iter()
        .filter(|o| o.status == "NEW")
        .collect()
}

/// `(listClientOrderId, status)` of every OCO request, oldest first.
fn ocos(venue: &BinanceVenue) -> Vec<(String, u16)> {
    venue
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v3/orderList/oco")
        .map(|r| {
            let list = r
                .query
                .split('&')
                .find_map(|kv| kv.strip_prefix("listClientOrderId="))
                .unwrap_or("")
                .to_owned();
            (list, r.status)
        })
        .collect()
}

fn buy_with_exits(client: &ClientOrderId, qty: &str, stop: &str, target: &str) -> OrderRequest {
    OrderRequest::market(client.clone(), btc(), OrderSide::Buy, d(qty))
        .with_exits(Exits::stop(d(stop)).with_take_profit(d(target)))
}

async fn entry_with_oco(venue: &BinanceVenue, broker: &BinanceBroker, entry: &ClientOrderId) {
    broker
        .submit(buy_with_exits(entry, "0.01", "39000", "42000"))
        .await
        .unwrap();
    wait_until("the first OCO is working", || async {
        working(venue).len() == 2
    })
    .await;
}

/// Finding 1: a transient error on the OCO post does not leave the position unprotected.
#[tokio::test]
async fn exits_refused_by_a_server_error_are_tried_again_until_placed() {
    let logs = Logs;
    logs.capture();
    let (venue, broker) = start().await;
    venue.fail_next("POST", "/api/v3/orderList/oco", Failure::ServerError);
    let entry = id("tg00000000000000x1");
    let order = broker
        .submit(buy_with_exits(&entry, "0.01", "39000", "42000"))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Filled);
    wait_until("the OCO is placed on a later try", || async {
        working(&venue).len() == 2
    })
    .await;
    let list = format!("{entry}-oco");
    assert_eq!(ocos(&venue), vec![(list.clone(), 503), (list, 200)]);
    for leg in [Leg::StopLoss, Leg::TakeProfit] {
        let child = entry.child(leg);
        assert!(working(&venue)
            .iter()
            .any(|o| o.client_id == child.as_str()));
    }
    assert!(logs
        .text()
        .contains("exits are owed but could not be placed"));
    logs.assert_clean();
}

/// Finding 2: a close that fails after the exits were cancelled gets them placed again.
#[tokio::test]
async fn a_close_that_fails_after_cancelling_the_exits_places_them_again() {
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000x2");
    entry_with_oco(&venue, &broker, &entry).await;
    // The close's answer is a 5xx and the venue never took it (nothing was done).
    venue.fail_next("POST", "/api/v3/order", Failure::ServerError);
    let close = id("tg00000000000000x3");
    let mut request = OrderRequest::market(close.clone(), btc(), OrderSide::Sell, d("0.01"));
    request.reduce_only = true;
    let err = broker.submit(request).await.unwrap_err();
    assert!(err.to_string().contains("pending"), "{err}");
    broker.exits_settled().await;
    wait_until("the exits are working again", || async {
        working(&venue).len() == 2
    })
    .await;
    let now = working(&venue);
    assert!(now
        .iter()
        .all(|o| o.quantity == d("0.01") && o.side == "SELL"));
    assert!(now.iter().any(|o| o.stop_price == d("39000")));
    assert!(now.iter().any(|o| o.price == d("42000")));
    assert_eq!(venue.balance("BTC"), (d("0"), d("0.01")));
}

/// Finding 3: a new OCO refused after the old one was cancelled brings the old one back at
/// once, and the new one is placed on a later try.
#[tokio::test]
async fn a_refused_replacement_brings_the_old_exits_back_then_places_the_new_ones() {
    let (venue, broker) = start().await;
    let first = id("tg00000000000000x4");
    entry_with_oco(&venue, &broker, &first).await;
    venue.fail_next(
        "POST",
        "/api/v3/orderList/oco",
        Failure::Reject {
            code: -2010,
            msg: "Account has insufficient balance for requested action.".into(),
        },
    );
    let second = id("tg00000000000000x5");
    broker
        .submit(buy_with_exits(&second, "0.02", "39500", "42500"))
        .await
        .unwrap();
    let sl = second.child(Leg::StopLoss);
    wait_until("the second entry's OCO is working", || async {
        working(&venue).iter().any(|o| o.client_id == sl.as_str())
    })
    .await;
    let (a, b) = (format!("{first}-oco"), format!("{second}-oco"));
    assert_eq!(
        ocos(&venue),
        vec![(a.clone(), 200), (b.clone(), 400), (a, 200), (b, 200)],
        "refused, the old exits back at once, then the new ones"
    );
    let now = working(&venue);
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(now.iter().all(|o| o.quantity == d("0.03")));
}

/// Finding 25: a cancel that fails keeps the old OCO and places nothing on top of it.
#[tokio::test]
async fn a_failed_cancel_keeps_the_old_exits_and_places_the_new_ones_after_it() {
    let (venue, broker) = start().await;
    let first = id("tg00000000000000x6");
    entry_with_oco(&venue, &broker, &first).await;
    venue.fail_next("DELETE", "/api/v3/order", Failure::ServerError);
    let second = id("tg00000000000000x7");
    broker
        .submit(buy_with_exits(&second, "0.02", "39500", "42500"))
        .await
        .unwrap();
    let sl = second.child(Leg::StopLoss);
    wait_until("the second entry's OCO is working", || async {
        working(&venue).iter().any(|o| o.client_id == sl.as_str())
    })
    .await;
    // The first try stopped at the failed cancel: no OCO sent on top of the locked position.
    let b = format!("{second}-oco");
    assert_eq!(
        ocos(&venue)
            .into_iter()
            .filter(|(l, _)| *l == b)
            .collect::<Vec<_>>(),
        vec![(b, 200)]
    );
    let deletes: Vec<u16> = venue
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.status)
        .collect();
    assert_eq!(deletes, vec![503, 200]);
    assert_eq!(working(&venue).len(), 2);
}

/// Finding 9: a lost answer whose order the venue does not show yet is asked about again,
/// never sent a second time.
#[tokio::test]
async fn a_lost_answer_is_asked_about_again_and_never_sent_twice() {
    let (venue, broker) = start().await;
    venue.fail_next("POST", "/api/v3/order", Failure::LoseAnswer);
    venue.fail_next(
        "GET",
        "/api/v3/order",
        Failure::Reject {
            code: -2013,
            msg: "Order does not exist.".into(),
        },
    );
    let client = id("tg00000000000000x8");
    let request = OrderRequest::market(client.clone(), btc(), OrderSide::Buy, d("0.01"));
    let order = broker.submit(request.clone()).await.unwrap();
    assert_eq!(order.status, OrderStatus::Filled);
    let again = broker.submit(request).await.unwrap();
    assert_eq!(again.status, OrderStatus::Filled);
    assert_eq!(venue.orders().len(), 1, "one order at the venue");
}

/// Findings 5 and 9: an order whose outcome stays unknown is kept (with its exits) as
/// pending and is never posted again.
#[tokio::test]
async fn an_order_of_unknown_outcome_is_kept_with_its_exits_and_not_posted_again() {
    let (venue, broker) = start().await;
    venue.fail_next("POST", "/api/v3/order", Failure::ServerError);
    let client = id("tg00000000000000x9");
    let request = buy_with_exits(&client, "0.01", "39000", "42000");
    let err = broker.submit(request.clone()).await.unwrap_err();
    assert!(err.to_string().contains("never sent twice"), "{err}");
    let kept = broker.order(&client).await.unwrap().unwrap();
    assert_eq!(kept.status, OrderStatus::Pending);
    assert!(kept.request.exits.is_some(), "the exits are kept");
    let again = broker.submit(request).await.unwrap();
    assert_eq!(again.status, OrderStatus::Pending);
    let posts = venue
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v3/order")
        .count();
    assert_eq!(posts, 1, "never posted a second time");
}

/// Finding 8: a quantity floored to the lot step fills the order, and its exits follow.
#[tokio::test]
async fn an_order_floored_to_the_lot_step_is_filled_and_gets_its_exits() {
    let (venue, broker) = start().await;
    let client = id("tg0000000000000x10");
    let order = broker
        .submit(buy_with_exits(&client, "0.0100009", "39000", "42000"))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Filled);
    assert_eq!(order.request.quantity, d("0.01"), "the quantity sent");
    wait_until("the OCO is working", || async {
        working(&venue).len() == 2
    })
    .await;
}

/// Finding 7 (and 22): a cancel-replace whose new order is refused after the cancel leaves
/// the old order cancelled, in the book too.
#[tokio::test]
async fn a_cancel_replace_that_half_fails_books_the_old_order_cancelled() {
    let (venue, broker) = start().await;
    let client = id("tg0000000000000x11");
    let limit = OrderRequest::limit(client.clone(), btc(), OrderSide::Buy, d("0.2"), d("39000"));
    let placed = broker.submit(limit).await.unwrap();
    assert_eq!(placed.status, OrderStatus::Open);
    // 0.3 at 39 000 needs 11 700 USDT; the account has 10 000.
    let amended = broker
        .amend(&client, Amendment::quantity(d("0.3")))
        .await
        .unwrap();
    assert_eq!(amended.status, OrderStatus::Cancelled);
    assert!(
        amended.reason.as_deref().unwrap_or("").contains("refused"),
        "{amended:?}"
    );
    assert!(broker.open_orders().await.unwrap().is_empty());
    let at_venue = venue.orders();
    assert_eq!(at_venue.len(), 1);
    assert_eq!(at_venue[0].status, "CANCELED");
    let replace = venue
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v3/order/cancelReplace")
        .unwrap();
    assert_eq!(replace.status, 409);
}

/// Finding 5: the bot crashed after it sent an entry and before its answer (the book kept
/// the request, with its exits, as pending): restarted from that book, it asks the venue
/// about the entry and places its exits.
#[tokio::test]
async fn an_entry_sent_before_a_crash_gets_its_exits_after_the_restart() {
    use tradegraph_broker::live::venue::VenueBook;
    use tradegraph_core::order::{Order, OrderId};
    use tradegraph_core::Timestamp;
    let (venue, broker) = start().await;
    let entry = id("tg0000000000000x12");
    let request = buy_with_exits(&entry, "0.01", "39000", "42000");
    // What reached the venue: the entry (its exits are the bot's, never sent with it).
    let mut sent = request.clone();
    sent.exits = None;
    broker.submit(sent).await.unwrap();
    drop(broker);
    // What the book kept: the request as sent, pending, no venue id yet.
    let kept = VenueBook::new("binance");
    kept.track(Order::new(
        OrderId::new(""),
        request,
        Timestamp::from_millis(1),
    ));
    let broker = BinanceBroker::connect(
        binance_support::config(&venue),
        Some(kept.snapshot()),
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    wait_until("the entry's OCO is working", || async {
        working(&venue).len() == 2
    })
    .await;
    let known = broker.order(&entry).await.unwrap().unwrap();
    assert_eq!(known.status, OrderStatus::Filled);
    assert_eq!(broker.fills_since(0).await.unwrap().len(), 1);
    assert!(working(&venue)
        .iter()
        .all(|o| o.client_id == entry.child(Leg::StopLoss).as_str()
            || o.client_id == entry.child(Leg::TakeProfit).as_str()));
    assert_eq!(venue.orders().len(), 3, "one entry, one OCO");
}

/// Finding 11: a resting entry that fills in parts has each filled part protected: its exits
/// are placed for the first part and resized as it fills.
#[tokio::test]
async fn a_partly_filled_entry_has_its_filled_part_protected_and_resized() {
    let (venue, broker) = start().await;
    let entry = id("tg0000000000000x13");
    let request = OrderRequest::limit(entry.clone(), btc(), OrderSide::Buy, d("0.02"), d("39990"))
        .with_exits(Exits::stop(d("39000")).with_take_profit(d("42000")));
    broker.submit(request).await.unwrap();
    venue.fill_partially(Some(d("0.01")));
    venue.set_price(d("39990"));
    let covering = |venue: &BinanceVenue, qty: &str| {
        let w = working(venue);
        let legs: Vec<_> = w.iter().filter(|o| o.side == "SELL").collect();
        legs.len() == 2 && legs.iter().all(|o| o.quantity == d(qty))
    };
    wait_until("the first part is protected", || async {
        covering(&venue, "0.01")
    })
    .await;
    let entry_now = broker.order(&entry).await.unwrap().unwrap();
    assert_eq!(entry_now.status, OrderStatus::PartiallyFilled);
    venue.set_price(d("39990"));
    wait_until("the exits cover the whole fill", || async {
        covering(&venue, "0.02")
    })
    .await;
    broker.exits_settled().await;
    assert_eq!(venue.balance("BTC"), (d("0"), d("0.02")));
    let sells: Vec<_> = working(&venue)
        .into_iter()
        .filter(|o| o.side == "SELL")
        .collect();
    assert_eq!(sells.len(), 2, "one OCO working: {sells:?}");
}

/// A lone exit leg (a stop, no target: no OCO) is resized as its entry fills in parts: the
/// leg is cancelled and placed again under its id for the whole fill. The id's cancelled
/// order is history, not a conflicting request (it was refused as a duplicate once, leaving
/// the position without a stop).
#[tokio::test]
async fn a_lone_stop_is_resized_as_its_entry_fills_in_parts() {
    let (venue, broker) = start().await;
    let entry = id("tg0000000000000x14");
    let request = OrderRequest::limit(entry.clone(), btc(), OrderSide::Buy, d("0.02"), d("39990"))
        .with_exits(Exits::stop(d("39000")));
    broker.submit(request).await.unwrap();
    venue.fill_partially(Some(d("0.01")));
    venue.set_price(d("39990"));
    let covering = |venue: &BinanceVenue, qty: &str| {
        let w = working(venue);
        let legs: Vec<_> = w.iter().filter(|o| o.side == "SELL").collect();
        legs.len() == 1 && legs[0].quantity == d(qty)
    };
    wait_until("the first part is protected", || async {
        covering(&venue, "0.01")
    })
    .await;
    venue.set_price(d("39990"));
    wait_until("the stop covers the whole fill", || async {
        covering(&venue, "0.02")
    })
    .await;
    broker.exits_settled().await;
    let stop = broker
        .order(&entry.child(Leg::StopLoss))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stop.request.quantity, d("0.02"));
    assert!(!stop.status.is_terminal(), "the stop works: {stop:?}");
    assert_eq!(venue.balance("BTC"), (d("0"), d("0.02")));
}

/// An order whose placement failed (a 5xx: nothing done) and that Binance still does not know
/// once `unknown_outcome_after` has passed is taken as never received: rejected, saying so
/// (a kill switch's next close attempt may go), and still never sent again under its id.
#[tokio::test]
async fn an_order_binance_never_shows_is_taken_as_never_received() {
    let (venue, broker) = start_with(|c| c.unknown_outcome_after = std::time::Duration::ZERO).await;
    venue.fail_next("POST", "/api/v3/order", Failure::ServerError);
    let client = id("tg0000000000000x15");
    let request = OrderRequest::market(client.clone(), btc(), OrderSide::Buy, d("0.01"));
    broker.submit(request.clone()).await.unwrap_err();
    let gone = broker.order(&client).await.unwrap().unwrap();
    assert_eq!(gone.status, OrderStatus::Rejected, "{gone:?}");
    assert!(
        gone.reason
            .as_deref()
            .is_some_and(|r| r.contains("never reached binance")),
        "{gone:?}"
    );
    let again = broker.submit(request).await.unwrap();
    assert_eq!(again.status, OrderStatus::Rejected);
    let posts = venue
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v3/order")
        .count();
    assert_eq!(posts, 1, "never posted a second time");
}
