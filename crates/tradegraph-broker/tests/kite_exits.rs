//! The Kite broker's exits where money is at risk: MIS exits without a GTT, exits retried
//! after a failure, a lost entry answer, a GTT cut in place (or replaced by one SL order when
//! it cannot be), a gap through a GTT stop, an order finished before its trades, another
//! trade's GTT.
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod kite_support;

use kite_support::{bank, d, id, start, start_with, wait_until, Logs, KEY, TOKEN};
use tradegraph_broker::live::kite::KiteProduct;
use tradegraph_broker::{Broker, PriceEvent};
use tradegraph_core::order::{Exits, Leg, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::{Tick, Timestamp};
use tradegraph_testkit::venue::kite::{Failure, KiteVenue};

fn entry(client_id: &str, quantity: &str) -> OrderRequest {
    OrderRequest::market(id(client_id), bank(), OrderSide::Buy, d(quantity))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")))
}

fn tagged(venue: &KiteVenue, tag: &str) -> Option<tradegraph_testkit::venue::kite::VenueOrder> {
    venue
        .orders()
        .into_iter()
        .find(|o| o.tag.as_deref() == Some(tag))
}

fn calls(venue: &KiteVenue, method: &str, prefix: &str) -> usize {
    venue
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(prefix))
        .count()
}

#[tokio::test]
async fn mis_exits_are_an_sl_order_and_a_limit_target_one_cancelling_the_other() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start_with(|c| c.product = KiteProduct::Mis).await;
    let e = id("tg00000000000000e1");
    broker.submit(entry(e.as_str(), "30")).await.unwrap();
    let (stop, target) = (e.child(Leg::StopLoss), e.child(Leg::TakeProfit));
    wait_until("the stop and the target are placed", || async {
        tagged(&venue, stop.as_str()).is_some() && tagged(&venue, target.as_str()).is_some()
    })
    .await;
    assert!(
        venue.gtts().is_empty(),
        "no GTT for MIS: {:?}",
        venue.gtts()
    );
    let s = tagged(&venue, stop.as_str()).unwrap();
    assert_eq!(
        (s.order_type.as_str(), s.trigger_price, s.product.as_str()),
        ("SL-M", d("47900"), "MIS")
    );
    let t = tagged(&venue, target.as_str()).unwrap();
    assert_eq!((t.order_type.as_str(), t.price), ("LIMIT", d("48500")));
    venue.set_price(d("48500"));
    wait_until("the target fills and the stop is cancelled", || async {
        tagged(&venue, stop.as_str()).unwrap().status == "CANCELLED"
    })
    .await;
    assert_eq!(tagged(&venue, target.as_str()).unwrap().status, "COMPLETE");
    assert_eq!(broker.fills_since(0).await.unwrap().len(), 2);
    logs.assert_clean();
}

#[tokio::test]
async fn the_venue_refuses_a_gtt_for_mis_as_kite_documents_them_for_cnc_and_nrml() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, _broker) = start().await;
    let leg = |product: &str| {
        serde_json::json!([{"exchange": "NFO", "tradingsymbol": venue.tradingsymbol(), "transaction_type": "SELL",
            "quantity": 30, "order_type": "LIMIT", "product": product, "price": 47900}])
        .to_string()
    };
    let condition = serde_json::json!({"exchange": "NFO", "tradingsymbol": venue.tradingsymbol(),
        "trigger_values": [47900], "last_price": 48200})
    .to_string();
    let post = |product: &str| {
        let form = format!(
            "type=single&condition={}&orders={}",
            percent(&condition),
            percent(&leg(product))
        );
        let url = venue.url();
        async move { raw_post(&url, "/gtt/triggers", &form).await }
    };
    let refused = post("MIS").await;
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
    assert!(refused.contains("CNC or NRML"), "{refused}");
    let taken = post("NRML").await;
    assert!(taken.starts_with("HTTP/1.1 200"), "{taken}");
    logs.assert_clean();
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A plain HTTP/1.1 POST of a form, authenticated; the whole answer as text.
async fn raw_post(base: &str, path: &str, form: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nX-Kite-Version: 3\r\nAuthorization: token {KEY}:{TOKEN}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn exits_that_failed_to_go_out_are_retried_until_placed() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    // More failures than the HTTP layer retries: the placement itself fails.
    for _ in 0..4 {
        venue.fail_next("POST", "/gtt/triggers", Failure::ServerError);
    }
    broker
        .submit(entry("tg00000000000000e2", "30"))
        .await
        .unwrap();
    wait_until("the GTT is placed after all", || async {
        venue.gtts().len() == 1
    })
    .await;
    assert_eq!(venue.gtts()[0].status, "active");
    assert!(calls(&venue, "POST", "/gtt/triggers") >= 5);
    wait_until("nothing is owed any more", || async {
        !broker.owes_exits()
    })
    .await;
    assert!(
        logs.text().contains("UNPROTECTED"),
        "the failure was alerted"
    );
    logs.assert_clean();
}

#[tokio::test]
async fn an_entry_whose_answer_was_lost_still_gets_its_exits() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    venue.fail_next("POST", "/orders/regular", Failure::LoseAnswer);
    // The look for an earlier order under the tag works; the one after the lost answer fails.
    venue.fail_next("GET", "/orders", Failure::Pass);
    for _ in 0..4 {
        venue.fail_next("GET", "/orders", Failure::ServerError);
    }
    // A resting entry: it fills later, long after the lost answer.
    let e = id("tg00000000000000e3");
    let request = OrderRequest::limit(e.clone(), bank(), OrderSide::Buy, d("30"), d("48100"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    let outcome = broker.submit(request).await;
    assert!(outcome.is_err(), "the outcome is unknown: {outcome:?}");
    venue.set_price(d("48100"));
    wait_until("the entry's exits are placed", || async {
        venue.gtts().len() == 1
    })
    .await;
    assert_eq!(venue.gtts()[0].quantities, vec![d("30"), d("30")]);
    assert_eq!(venue.orders().len(), 1, "the entry was placed once");
    logs.assert_clean();
}

#[tokio::test]
async fn a_shrinking_position_cuts_its_gtt_in_place() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    broker
        .submit(entry("tg00000000000000e4", "60"))
        .await
        .unwrap();
    wait_until("the GTT is placed", || async { venue.gtts().len() == 1 }).await;
    // Closed in part by hand: the fill's update fits the exits to what is left.
    venue.place_by_hand("SELL", d("30"));
    wait_until("the GTT is cut to 30", || async {
        venue.gtts()[0].quantities == vec![d("30"), d("30")]
    })
    .await;
    let gtts = venue.gtts();
    assert_eq!(gtts.len(), 1, "never deleted and placed again: {gtts:?}");
    assert_eq!(gtts[0].status, "active");
    assert_eq!(calls(&venue, "DELETE", "/gtt/triggers"), 0);
    assert!(calls(&venue, "PUT", "/gtt/triggers") >= 1);
    logs.assert_clean();
}

#[tokio::test]
async fn a_gap_through_the_gtt_stop_moves_its_leg_until_it_fills() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let e = id("tg00000000000000e5");
    broker.submit(entry(e.as_str(), "30")).await.unwrap();
    wait_until("the GTT is placed", || async { venue.gtts().len() == 1 }).await;
    // The price gaps past the stop leg's limit (47 660.50): the leg rests unfilled.
    let gap = d("47500");
    venue.set_price(gap);
    broker
        .on_market(
            &bank(),
            PriceEvent::Tick(&Tick::new(Timestamp::from_millis(1), gap, d("1"))),
        )
        .unwrap();
    wait_until("the stop leg fills", || async {
        broker.fills_since(0).await.unwrap().len() == 2
    })
    .await;
    let fills = broker.fills_since(0).await.unwrap();
    assert_eq!(fills[1].client_id, e.child(Leg::StopLoss));
    assert_eq!(
        (fills[1].side, fills[1].quantity),
        (OrderSide::Sell, d("30"))
    );
    assert!(logs.text().contains("rests unfilled past its limit"));
    logs.assert_clean();
}

#[tokio::test]
async fn an_order_kite_shows_complete_before_its_trades_waits_for_them() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    venue.delay_trades(true);
    let e = id("tg00000000000000e6");
    broker.submit(entry(e.as_str(), "30")).await.unwrap();
    wait_until("the venue has the order complete", || async {
        tagged(&venue, e.as_str()).is_some_and(|o| o.status == "COMPLETE")
    })
    .await;
    // Several updates and polls later, the book still waits for the trade.
    broker.open_orders().await.unwrap();
    let now = broker.order(&e).await.unwrap().unwrap();
    assert_ne!(now.status, OrderStatus::Filled, "{now:?}");
    assert!(
        venue.gtts().is_empty(),
        "no exits sized on a fill not booked"
    );
    venue.delay_trades(false);
    wait_until("the trade is booked and the exits placed", || async {
        venue.gtts().len() == 1
    })
    .await;
    let fills = broker.fills_since(0).await.unwrap();
    assert_eq!((fills.len(), fills[0].quantity), (1, d("30")));
    assert_eq!(fills[0].ts.millis() % 1000, 0, "Kite's fill_timestamp");
    assert_eq!(
        broker.order(&e).await.unwrap().unwrap().status,
        OrderStatus::Filled
    );
    assert_eq!(venue.gtts()[0].quantities, vec![d("30"), d("30")]);
    logs.assert_clean();
}

#[tokio::test]
async fn another_trades_gtt_is_never_taken_for_this_ones() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    broker
        .submit(entry("tg00000000000000e7", "30"))
        .await
        .unwrap();
    wait_until("the first GTT is placed", || async {
        venue.gtts().len() == 1
    })
    .await;
    broker
        .submit(entry("tg00000000000000e8", "30"))
        .await
        .unwrap();
    wait_until("the second trade gets its own GTT", || async {
        venue.gtts().len() == 2
    })
    .await;
    logs.assert_clean();
}

#[tokio::test]
async fn a_silent_socket_is_taken_for_dead_and_fills_arrive_by_polling() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start_with(|c| {
        c.silence_timeout = std::time::Duration::from_millis(1500);
    })
    .await;
    // Silent, not closed (a half-open connection); reconnections are refused meanwhile.
    venue.silence_streams(true);
    venue.refuse_streams(true);
    wait_until("the broker gives the silent socket up", || async {
        !broker.is_streaming()
    })
    .await;
    let order = OrderRequest::market(id("tg00000000000000e9"), bank(), OrderSide::Buy, d("30"));
    broker.submit(order).await.unwrap();
    wait_until("the fill arrives by polling", || async {
        broker.fills_since(0).await.unwrap().len() == 1
    })
    .await;
    logs.assert_clean();
}

#[tokio::test]
async fn a_resting_entry_filling_in_parts_is_protected_part_by_part() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let e = id("tg00000000000000ea");
    let request = OrderRequest::limit(e.clone(), bank(), OrderSide::Buy, d("60"), d("48100"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    broker.submit(request).await.unwrap();
    venue.fill_partially(d("30"));
    venue.set_price(d("48100"));
    wait_until("the filled half is protected", || async {
        venue.gtts().len() == 1
    })
    .await;
    assert_eq!(venue.gtts()[0].quantities, vec![d("30"), d("30")]);
    venue.set_price(d("48050"));
    wait_until("the exits grow with the rest", || async {
        venue.gtts()[0].quantities == vec![d("60"), d("60")]
    })
    .await;
    assert_eq!(venue.gtts().len(), 1, "one GTT, resized in place");
    assert_eq!(
        broker.order(&e).await.unwrap().unwrap().status,
        OrderStatus::Filled
    );
    logs.assert_clean();
}

/// An entry of 90 whose GTT is working, the bot's last price past its target (the venue's is
/// not: the GTT stays, and cannot be cut); the venue, the broker and the stop leg's id.
async fn gtt_out_of_its_band(
    client_id: &str,
) -> (
    KiteVenue,
    tradegraph_broker::live::Live<tradegraph_broker::live::kite::KiteBroker>,
    tradegraph_core::order::ClientOrderId,
) {
    let (venue, broker) = start().await;
    let e = id(client_id);
    broker.submit(entry(e.as_str(), "90")).await.unwrap();
    wait_until("the GTT is placed", || async { venue.gtts().len() == 1 }).await;
    let far = d("48600");
    broker
        .on_market(
            &bank(),
            PriceEvent::Tick(&Tick::new(Timestamp::from_millis(1), far, d("1"))),
        )
        .unwrap();
    (venue, broker, e.child(Leg::StopLoss))
}

/// A GTT that cannot be cut (the price has left its band) is replaced by an SL order, then
/// deleted. When the delete fails, the next fit finds the SL order already at Kite: it is
/// never placed a second time (two stops would sell twice, and Kite has no reduce-only).
#[tokio::test]
async fn a_gtt_replaced_by_an_sl_order_gets_one_sl_order_whatever_fails() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, _broker, stop) = gtt_out_of_its_band("tg00000000000000e9").await;
    let gtt = format!("/gtt/triggers/{}", venue.gtts()[0].id);
    venue.fail_next("DELETE", &gtt, Failure::ServerError);
    venue.place_by_hand("SELL", d("30"));
    wait_until("the SL order replacing the GTT is placed", || async {
        tagged(&venue, stop.as_str()).is_some()
    })
    .await;
    wait_until("the failed delete was tried", || async {
        calls(&venue, "DELETE", "/gtt/triggers") == 1
    })
    .await;
    assert_eq!(venue.gtts()[0].status, "active", "its delete failed");
    // The next fill fits the exits again.
    venue.place_by_hand("SELL", d("30"));
    wait_until("the GTT is deleted", || async {
        venue.gtts().iter().all(|g| g.status != "active")
    })
    .await;
    let stops: Vec<_> = venue
        .orders()
        .into_iter()
        .filter(|o| o.tag.as_deref() == Some(stop.as_str()))
        .collect();
    assert_eq!(stops.len(), 1, "one SL order: {stops:?}");
    wait_until("the SL order is cut to what is left", || async {
        tagged(&venue, stop.as_str()).is_some_and(|o| o.quantity == d("30"))
    })
    .await;
    assert!(logs.text().contains("replaced by an SL order"));
    logs.assert_clean();
}

/// The SL order replacing a GTT that cannot be cut is refused once (Kite's checks): it
/// protects nothing, so the next fit places it again, and the GTT goes once it is working.
#[tokio::test]
async fn a_refused_sl_order_replacing_a_gtt_is_placed_again_at_the_next_fit() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, _broker, stop) = gtt_out_of_its_band("tg00000000000000ea").await;
    venue.fail_next(
        "POST",
        "/orders/regular",
        Failure::Reject {
            status: 400,
            error_type: "InputException",
            message: "Trigger price for stoploss sell orders should be lower than the last price."
                .into(),
        },
    );
    venue.place_by_hand("SELL", d("30"));
    // The entry, then the refused stop.
    wait_until("the refused SL order was tried", || async {
        calls(&venue, "POST", "/orders/regular") == 2
    })
    .await;
    assert_eq!(
        venue.gtts()[0].status,
        "active",
        "kept: nothing replaced it"
    );
    assert!(tagged(&venue, stop.as_str()).is_none());
    // The next fill fits the exits again: the stop goes out, then the GTT goes.
    venue.place_by_hand("SELL", d("30"));
    wait_until("the GTT is deleted", || async {
        venue.gtts().iter().all(|g| g.status != "active")
    })
    .await;
    let sl = tagged(&venue, stop.as_str()).expect("the SL order is working");
    assert_eq!(
        (sl.quantity, sl.status.as_str()),
        (d("30"), "TRIGGER PENDING")
    );
    logs.assert_clean();
}

/// A cancel of a resting entry that Kite does not carry out (a 5xx) leaves the entry working,
/// with its exit plan: when it fills later, its stop and target are placed as for any entry.
#[tokio::test]
async fn an_entry_whose_cancel_failed_still_gets_its_exits_when_it_fills() {
    let (venue, broker) = start().await;
    let e = id("tg00000000000000cf");
    let request = OrderRequest::limit(e.clone(), bank(), OrderSide::Buy, d("30"), d("48100"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    let placed = broker.submit(request).await.unwrap();
    let path = format!("/orders/regular/{}", placed.id.as_str());
    venue.fail_next("DELETE", &path, Failure::ServerError);
    assert!(broker.cancel(&e).await.is_err(), "the cancel failed");
    venue.set_price(d("48100"));
    wait_until("the entry filled is protected", || async {
        venue.gtts().len() == 1
    })
    .await;
    assert_eq!(venue.gtts()[0].quantities, vec![d("30"), d("30")]);
}

fn stop_refused() -> Failure {
    Failure::Reject {
        status: 400,
        error_type: "InputException",
        message:
            "Trigger price for stoploss sell orders should be lower than the last traded price."
                .into(),
    }
}

/// A stop Kite refuses when it is placed protects nothing: the exits stay owed (the position
/// is unprotected until the stop works), and the next try places the stop again. The target
/// placed beside it is not placed twice.
#[tokio::test]
async fn a_refused_stop_is_owed_and_placed_again() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start_with(|c| c.product = KiteProduct::Mis).await;
    venue.fail_next("POST", "/orders/regular", Failure::Pass); // the entry
    venue.fail_next("POST", "/orders/regular", stop_refused()); // its stop
    let e = id("tg00000000000000r2");
    broker.submit(entry(e.as_str(), "30")).await.unwrap();
    let (stop, target) = (e.child(Leg::StopLoss), e.child(Leg::TakeProfit));
    wait_until("the refused stop is working after all", || async {
        tagged(&venue, stop.as_str()).is_some_and(|o| o.status == "TRIGGER PENDING")
    })
    .await;
    let s = tagged(&venue, stop.as_str()).unwrap();
    assert_eq!((s.quantity, s.trigger_price), (d("30"), d("47900")));
    let targets = venue
        .orders()
        .into_iter()
        .filter(|o| o.tag.as_deref() == Some(target.as_str()))
        .count();
    assert_eq!(targets, 1, "the target is placed once");
    wait_until("nothing is owed any more", || async {
        !broker.owes_exits()
    })
    .await;
    assert!(
        logs.text().contains("UNPROTECTED"),
        "the refusal was alerted"
    );
    logs.assert_clean();
}

/// A stop alone (an SL order, NRML) refused when placed is placed again too.
#[tokio::test]
async fn a_refused_lone_stop_is_placed_again() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    venue.fail_next("POST", "/orders/regular", Failure::Pass); // the entry
    venue.fail_next("POST", "/orders/regular", stop_refused()); // its stop
    let e = id("tg00000000000000r3");
    let request = OrderRequest::market(e.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47900")));
    broker.submit(request).await.unwrap();
    let stop = e.child(Leg::StopLoss);
    wait_until("the refused stop is working after all", || async {
        tagged(&venue, stop.as_str()).is_some_and(|o| o.status == "TRIGGER PENDING")
    })
    .await;
    assert_eq!(calls(&venue, "POST", "/orders/regular"), 3);
    wait_until("nothing is owed any more", || async {
        !broker.owes_exits()
    })
    .await;
    logs.assert_clean();
}

/// Kite creates the GTT but its answer cannot be read (no `trigger_id`): the next try looks
/// for it at Kite instead of posting a second OCO for the same position.
#[tokio::test]
async fn a_gtt_created_with_an_unreadable_answer_is_not_placed_twice() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    venue.fail_next(
        "POST",
        "/gtt/triggers",
        Failure::ExecuteThenBody(r#"{"status":"success","data":{}}"#.into()),
    );
    broker
        .submit(entry("tg00000000000000r7", "30"))
        .await
        .unwrap();
    wait_until("the exits are no longer owed", || async {
        calls(&venue, "GET", "/gtt/triggers") >= 1 && !broker.owes_exits()
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let active = venue.gtts().iter().filter(|g| g.status == "active").count();
    assert_eq!(active, 1, "one GTT: {:?}", venue.gtts());
    assert_eq!(calls(&venue, "POST", "/gtt/triggers"), 1);
    logs.assert_clean();
}

fn stops_tagged(venue: &KiteVenue, tag: &str) -> Vec<tradegraph_testkit::venue::kite::VenueOrder> {
    venue
        .orders()
        .into_iter()
        .filter(|o| o.tag.as_deref() == Some(tag))
        .collect()
}

/// An NRML entry of 30 with a stop alone, filled: its stop (an SL order) works at Kite.
async fn stop_working(
    venue: &KiteVenue,
    broker: &impl Broker,
    entry: &str,
) -> tradegraph_core::order::ClientOrderId {
    let e = id(entry);
    let request = OrderRequest::market(e.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47900")));
    broker.submit(request).await.unwrap();
    let stop = e.child(Leg::StopLoss);
    wait_until("the stop works", || async {
        tagged(venue, stop.as_str()).is_some_and(|o| o.status == "TRIGGER PENDING")
    })
    .await;
    stop
}

/// NRML stop-only exits are an SL `DAY` order: the exchange cancels it at the close while the
/// position is carried. The stop is placed again (once), for the position, at its trigger.
#[tokio::test]
async fn a_stop_cancelled_at_the_close_is_placed_again_while_the_position_is_open() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let stop = stop_working(&venue, &broker, "tg00000000000000l1").await;
    venue.close_session();
    wait_until("the stop works again", || async {
        stops_tagged(&venue, stop.as_str())
            .iter()
            .any(|o| o.status == "TRIGGER PENDING")
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let all = stops_tagged(&venue, stop.as_str());
    assert_eq!(all.len(), 2, "placed again once: {all:?}");
    let again = all.iter().find(|o| o.status == "TRIGGER PENDING").unwrap();
    assert_eq!(
        (again.quantity, again.trigger_price, again.product.as_str()),
        (d("30"), d("47900"), "NRML")
    );
    wait_until("nothing is owed", || async { !broker.owes_exits() }).await;
    let book = broker.order(&stop).await.unwrap().unwrap();
    assert_eq!(book.status, OrderStatus::Open, "{book:?}");
    logs.assert_clean();
}

/// Kite takes a stop, then its risk checks reject it: the position keeps only its target. The
/// stop is placed again; the target stays as it is.
#[tokio::test]
async fn a_stop_rejected_after_kite_took_it_is_placed_again() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start_with(|c| c.product = KiteProduct::Mis).await;
    let e = id("tg00000000000000l2");
    let request = OrderRequest::limit(e.clone(), bank(), OrderSide::Buy, d("30"), d("48100"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    broker.submit(request).await.unwrap();
    // The next order placed is the stop, once the entry fills.
    venue.reject_after_accepting("RMS: trigger price is outside the allowed range");
    venue.set_price(d("48100"));
    let (stop, target) = (e.child(Leg::StopLoss), e.child(Leg::TakeProfit));
    wait_until("the stop works after all", || async {
        stops_tagged(&venue, stop.as_str())
            .iter()
            .any(|o| o.status == "TRIGGER PENDING")
    })
    .await;
    let all = stops_tagged(&venue, stop.as_str());
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0].status, "REJECTED");
    assert_eq!(stops_tagged(&venue, target.as_str()).len(), 1);
    // One filling still cancels the other.
    venue.set_price(d("48500"));
    wait_until("the target fills and the stop is cancelled", || async {
        stops_tagged(&venue, stop.as_str())
            .iter()
            .all(|o| o.status != "TRIGGER PENDING")
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        stops_tagged(&venue, stop.as_str()).len(),
        2,
        "not placed again on a flat position"
    );
    logs.assert_clean();
}

/// A stop the bot cancels itself while the position is open is not placed again.
#[tokio::test]
async fn a_stop_cancelled_here_is_not_placed_again() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let stop = stop_working(&venue, &broker, "tg00000000000000l3").await;
    broker.cancel(&stop).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let all = stops_tagged(&venue, stop.as_str());
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].status, "CANCELLED");
    assert!(!broker.owes_exits());
    logs.assert_clean();
}

/// A trailing stop cancelled at the close goes out again where it had trailed to, and goes
/// on trailing.
#[tokio::test]
async fn a_trailing_stop_cancelled_at_the_close_is_placed_again_where_it_trailed_to() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let e = id("tg00000000000000l4");
    let request = OrderRequest::market(e.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::default().with_trailing(d("100")));
    broker.submit(request).await.unwrap();
    let trail = e.child(Leg::TrailingStop);
    wait_until("the trailing stop works", || async {
        tagged(&venue, trail.as_str()).is_some_and(|o| o.status == "TRIGGER PENDING")
    })
    .await;
    let tick = |price: &str| {
        venue.set_price(d(price));
        broker
            .on_market(
                &bank(),
                PriceEvent::Tick(&Tick::new(Timestamp::from_millis(1), d(price), d("1"))),
            )
            .unwrap();
    };
    tick("48350");
    wait_until("the stop trailed to 48250", || async {
        tagged(&venue, trail.as_str()).is_some_and(|o| o.trigger_price == d("48250"))
    })
    .await;
    venue.close_session();
    wait_until("the stop works again", || async {
        stops_tagged(&venue, trail.as_str())
            .iter()
            .any(|o| o.status == "TRIGGER PENDING")
    })
    .await;
    let again = |venue: &KiteVenue| {
        stops_tagged(venue, trail.as_str())
            .into_iter()
            .find(|o| o.status == "TRIGGER PENDING")
            .unwrap()
    };
    assert_eq!(again(&venue).trigger_price, d("48250"));
    tick("48450");
    wait_until("it trails on", || async {
        again(&venue).trigger_price == d("48350")
    })
    .await;
    logs.assert_clean();
}

/// Two entries on one side, each with its GTT, then the position halves by hand: the exits
/// are fitted as a whole (together they close at most what is open), not each against it.
#[tokio::test]
async fn exits_of_two_entries_are_fitted_together_to_the_position() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    broker
        .submit(entry("tg00000000000000s1", "30"))
        .await
        .unwrap();
    wait_until("the first GTT", || async { venue.gtts().len() == 1 }).await;
    let second = OrderRequest::market(id("tg00000000000000s2"), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47950")).with_take_profit(d("48550")));
    broker.submit(second).await.unwrap();
    wait_until("the second GTT", || async { venue.gtts().len() == 2 }).await;
    venue.place_by_hand("SELL", d("30"));
    let covered = |venue: &KiteVenue| -> rust_decimal::Decimal {
        venue
            .gtts()
            .iter()
            .filter(|g| g.status == "active")
            .map(|g| g.quantities[0])
            .sum()
    };
    wait_until("the GTTs together cover the 30 left", || async {
        covered(&venue) == d("30")
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(covered(&venue), d("30"), "{:?}", venue.gtts());
    logs.assert_clean();
}

/// The same for MIS: each entry's stop and target (one filling cancels the other) count once,
/// and the pairs together close at most what is open.
#[tokio::test]
async fn mis_exit_pairs_of_two_entries_are_fitted_together_to_the_position() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start_with(|c| c.product = KiteProduct::Mis).await;
    let working = |venue: &KiteVenue, kind: &str| -> rust_decimal::Decimal {
        venue
            .orders()
            .iter()
            .filter(|o| o.side == "SELL" && o.order_type == kind)
            .filter(|o| o.status == "TRIGGER PENDING" || o.status == "OPEN")
            .map(|o| o.quantity - o.filled)
            .sum()
    };
    broker
        .submit(entry("tg00000000000000s3", "30"))
        .await
        .unwrap();
    let second = OrderRequest::market(id("tg00000000000000s4"), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47950")).with_take_profit(d("48550")));
    broker.submit(second).await.unwrap();
    wait_until("both pairs work", || async {
        working(&venue, "SL-M") == d("60") && working(&venue, "LIMIT") == d("60")
    })
    .await;
    venue.place_by_hand("SELL", d("30"));
    wait_until("the pairs together cover the 30 left", || async {
        working(&venue, "SL-M") == d("30") && working(&venue, "LIMIT") == d("30")
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        (working(&venue, "SL-M"), working(&venue, "LIMIT")),
        (d("30"), d("30"))
    );
    logs.assert_clean();
}

/// A stop placed again after the close whose answer is lost while Kite does not list it yet:
/// the old order under its tag is not taken for the answer, and nothing is sent again until
/// Kite lists the new one (two stops would sell twice).
#[tokio::test]
async fn a_stop_placed_again_with_its_answer_lost_is_not_placed_a_third_time() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let stop = stop_working(&venue, &broker, "tg00000000000000l6").await;
    venue.lag_orders(true);
    venue.fail_next("POST", "/orders/regular", Failure::LoseAnswer);
    venue.close_session();
    wait_until("the stop is sent again", || async {
        stops_tagged(&venue, stop.as_str()).len() == 2
    })
    .await;
    // Several of the keeper's rounds while Kite does not list it.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(
        stops_tagged(&venue, stop.as_str()).len(),
        2,
        "{:?}",
        venue.orders()
    );
    assert!(broker.owes_exits(), "of unknown outcome until listed");
    venue.lag_orders(false);
    wait_until("the stop placed again is known working", || async {
        !broker.owes_exits()
    })
    .await;
    let all = stops_tagged(&venue, stop.as_str());
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[1].status, "TRIGGER PENDING");
    assert_eq!(
        broker.order(&stop).await.unwrap().unwrap().status,
        OrderStatus::Open
    );
    logs.assert_clean();
}

/// A resting entry fills 30 of 60, its GTT's target trades (flat), then the other 30 fill:
/// the exits of the first part are over, so the rest gets exits of its own.
#[tokio::test]
async fn the_rest_of_an_entry_whose_first_exits_traded_gets_exits_of_its_own() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let e = id("tg00000000000000p1");
    let request = OrderRequest::limit(e.clone(), bank(), OrderSide::Buy, d("60"), d("48100"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    broker.submit(request).await.unwrap();
    venue.fill_partially(d("30"));
    venue.set_price(d("48100"));
    wait_until("a GTT for the 30 filled", || async {
        venue.gtts().len() == 1
    })
    .await;
    venue.set_price(d("48500"));
    wait_until("the target leg traded", || async {
        broker.fills_since(0).await.unwrap().len() == 2
    })
    .await;
    venue.set_price(d("48100"));
    wait_until("the entry filled", || async {
        broker.order(&e).await.unwrap().unwrap().status == OrderStatus::Filled
    })
    .await;
    wait_until("the rest is protected", || async {
        venue
            .gtts()
            .iter()
            .any(|g| g.status == "active" && g.quantities == vec![d("30"), d("30")])
    })
    .await;
    wait_until("nothing is owed", || async { !broker.owes_exits() }).await;
    logs.assert_clean();
}

/// The same for MIS (a stop and a target as orders): the target of the first part traded and
/// its stop was cancelled; the rest gets a stop and a target of its own.
#[tokio::test]
async fn the_rest_of_an_mis_entry_whose_first_exits_traded_gets_exits_of_its_own() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start_with(|c| c.product = KiteProduct::Mis).await;
    let (stop, target) = mis_exits_for_30_of_60(&venue, &broker, "tg00000000000000p2").await;
    venue.set_price(d("48500"));
    wait_until("the target traded and the stop is cancelled", || async {
        tagged(&venue, stop.as_str()).is_some_and(|o| o.status == "CANCELLED")
    })
    .await;
    venue.set_price(d("48100"));
    let working = |venue: &KiteVenue, tag: &str| {
        stops_tagged(venue, tag)
            .into_iter()
            .filter(|o| o.status == "TRIGGER PENDING" || o.status == "OPEN")
            .map(|o| o.quantity)
            .collect::<Vec<_>>()
    };
    wait_until("the rest has a stop and a target", || async {
        working(&venue, stop.as_str()) == vec![d("30")]
            && working(&venue, target.as_str()) == vec![d("30")]
    })
    .await;
    wait_until("nothing is owed", || async { !broker.owes_exits() }).await;
    logs.assert_clean();
}

/// 60 of a 90 entry fill, the position is cut by 30 by hand (its GTT cut to 30), then the last
/// 30 fill: the GTT grows by what filled, to the 60 held, not to the entry's 90.
#[tokio::test]
async fn an_entry_filling_further_after_a_reduction_grows_its_exits_by_what_filled() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let e = id("tg00000000000000p3");
    let request = OrderRequest::limit(e.clone(), bank(), OrderSide::Buy, d("90"), d("48100"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    broker.submit(request).await.unwrap();
    venue.fill_partially(d("60"));
    venue.set_price(d("48100"));
    wait_until("a GTT for the 60 filled", || async {
        venue
            .gtts()
            .first()
            .is_some_and(|g| g.quantities == vec![d("60"), d("60")])
    })
    .await;
    // Above the entry's limit: the rest of it waits.
    venue.set_price(d("48150"));
    venue.place_by_hand("SELL", d("30"));
    wait_until("the GTT is cut to 30", || async {
        venue.gtts()[0].quantities == vec![d("30"), d("30")]
    })
    .await;
    venue.set_price(d("48100"));
    wait_until("the entry filled", || async {
        broker.order(&e).await.unwrap().unwrap().status == OrderStatus::Filled
    })
    .await;
    wait_until("the GTT covers the 60 held", || async {
        venue.gtts()[0].quantities == vec![d("60"), d("60")]
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let gtts = venue.gtts();
    assert_eq!(gtts.len(), 1, "{gtts:?}");
    assert_eq!(gtts[0].quantities, vec![d("60"), d("60")]);
    logs.assert_clean();
}

/// The price gaps through a GTT's stop; the LIMIT order its stop leg placed is rejected by
/// Kite's checks. The stop has triggered, so the position still has to go: the leg goes out
/// again at the protection band past the last price, and sells what is held.
#[tokio::test]
async fn a_triggered_gtt_stop_rejected_by_kite_goes_out_again_and_closes_the_position() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let e = id("tg00000000000000g1");
    broker.submit(entry(e.as_str(), "30")).await.unwrap();
    wait_until("the GTT is placed", || async { venue.gtts().len() == 1 }).await;
    venue.reject_after_accepting("RMS: price is outside the circuit limits");
    let gap = d("47800");
    venue.set_price(gap);
    broker
        .on_market(
            &bank(),
            PriceEvent::Tick(&Tick::new(Timestamp::from_millis(1), gap, d("1"))),
        )
        .unwrap();
    let stop = e.child(Leg::StopLoss);
    wait_until("the stop leg sold what is held", || async {
        broker
            .fills_since(0)
            .await
            .unwrap()
            .iter()
            .any(|f| f.client_id == stop && f.quantity == d("30"))
    })
    .await;
    let legs = stops_tagged(&venue, stop.as_str());
    // The leg the GTT placed carries no tag at Kite; the one placed again does.
    assert_eq!(legs.len(), 1, "{:?}", venue.orders());
    assert_eq!(legs[0].order_type, "LIMIT");
    wait_until("nothing is owed", || async { !broker.owes_exits() }).await;
    logs.assert_clean();
}

/// Working SL and LIMIT of 30 grow as the rest of a 60 fills; the target's modification fails
/// once. The next try grows the target alone: the stop, grown already, is not grown twice.
#[tokio::test]
async fn exits_grown_in_part_are_not_grown_twice_on_the_next_try() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start_with(|c| c.product = KiteProduct::Mis).await;
    let (stop, target) = mis_exits_for_30_of_60(&venue, &broker, "tg00000000000000h1").await;
    venue.set_price(d("48150"));
    let path = format!(
        "/orders/regular/{}",
        tagged(&venue, target.as_str()).unwrap().order_id
    );
    venue.fail_next("PUT", &path, Failure::ServerError);
    venue.set_price(d("48100"));
    wait_until("both cover the 60 filled", || async {
        tagged(&venue, stop.as_str()).is_some_and(|o| o.quantity == d("60"))
            && tagged(&venue, target.as_str()).is_some_and(|o| o.quantity == d("60"))
    })
    .await;
    wait_until("nothing is owed", || async { !broker.owes_exits() }).await;
    assert_eq!(tagged(&venue, stop.as_str()).unwrap().quantity, d("60"));
    logs.assert_clean();
}

/// The rest of an entry gets exits of its own, and Kite refuses the stop: the next try places
/// the stop, not the target again, and does not take the target alone for protection.
#[tokio::test]
async fn exits_of_its_own_whose_stop_was_refused_get_the_stop_at_the_next_try() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start_with(|c| c.product = KiteProduct::Mis).await;
    let (stop, target) = mis_exits_for_30_of_60(&venue, &broker, "tg00000000000000h2").await;
    venue.set_price(d("48500"));
    wait_until("the target traded and the stop is cancelled", || async {
        tagged(&venue, stop.as_str()).is_some_and(|o| o.status == "CANCELLED")
    })
    .await;
    venue.fail_next("POST", "/orders/regular", stop_refused());
    venue.set_price(d("48100"));
    let working = |venue: &KiteVenue, tag: &str| {
        stops_tagged(venue, tag)
            .into_iter()
            .filter(|o| o.status == "TRIGGER PENDING" || o.status == "OPEN")
            .map(|o| o.quantity)
            .collect::<Vec<_>>()
    };
    wait_until("the rest has a stop and a target of 30", || async {
        working(&venue, stop.as_str()) == vec![d("30")]
            && working(&venue, target.as_str()) == vec![d("30")]
    })
    .await;
    wait_until("nothing is owed", || async { !broker.owes_exits() }).await;
    assert_eq!(working(&venue, target.as_str()), vec![d("30")]);
    logs.assert_clean();
}

/// A stop that lapsed and waits to be placed again (Kite refused it once) is cancelled by the
/// bot: it is not placed again. Another, amended while it waits, goes out as amended.
#[tokio::test]
async fn a_lapsed_stop_cancelled_or_amended_by_the_bot_is_not_placed_as_it_was() {
    let logs = Logs::default();
    let _guard = logs.capture();
    // The keeper's rounds seconds apart: a refused stop waits that long to go out again.
    let (venue, broker) = start_with(|c| c.poll_every = std::time::Duration::from_secs(2)).await;
    let stop = stop_working(&venue, &broker, "tg00000000000000m5").await;
    venue.fail_next("POST", "/orders/regular", stop_refused());
    venue.close_session();
    wait_until("the stop was refused once", || async {
        calls(&venue, "POST", "/orders/regular") == 3
    })
    .await;
    // The keeper tries again seconds later: the stop waits, lapsed, meanwhile.
    broker
        .amend(&stop, tradegraph_broker::Amendment::trigger(d("47850")))
        .await
        .unwrap();
    wait_until("the stop works again, amended", || async {
        stops_tagged(&venue, stop.as_str())
            .iter()
            .any(|o| o.status == "TRIGGER PENDING" && o.trigger_price == d("47850"))
    })
    .await;
    venue.fail_next("POST", "/orders/regular", stop_refused());
    venue.close_session();
    wait_until("the stop was refused again", || async {
        calls(&venue, "POST", "/orders/regular") == 5
    })
    .await;
    broker.cancel(&stop).await.unwrap();
    wait_until("nothing is owed", || async { !broker.owes_exits() }).await;
    let placed = calls(&venue, "POST", "/orders/regular");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        calls(&venue, "POST", "/orders/regular"),
        placed,
        "not placed again"
    );
    assert!(
        stops_tagged(&venue, stop.as_str())
            .iter()
            .all(|o| o.status != "TRIGGER PENDING"),
        "{:?}",
        venue.orders()
    );
    logs.assert_clean();
}

/// An MIS LIMIT entry of 60 of which 30 fill: its stop (SL) and target (LIMIT) work for 30.
async fn mis_exits_for_30_of_60(
    venue: &KiteVenue,
    broker: &impl Broker,
    entry: &str,
) -> (
    tradegraph_core::order::ClientOrderId,
    tradegraph_core::order::ClientOrderId,
) {
    let e = id(entry);
    let request = OrderRequest::limit(e.clone(), bank(), OrderSide::Buy, d("60"), d("48100"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    broker.submit(request).await.unwrap();
    venue.fill_partially(d("30"));
    venue.set_price(d("48100"));
    let (stop, target) = (e.child(Leg::StopLoss), e.child(Leg::TakeProfit));
    wait_until("a stop and a target for the 30 filled", || async {
        tagged(venue, stop.as_str()).is_some() && tagged(venue, target.as_str()).is_some()
    })
    .await;
    (stop, target)
}
