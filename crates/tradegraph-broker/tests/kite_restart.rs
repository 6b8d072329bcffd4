//! The Kite broker's exits across a restart: kept in the book's venue state, a broker restored
//! from the snapshot goes on managing them (trailing, GTT legs booked under their client ids,
//! exits of an entry that filled while it was down placed at start, never twice).
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod kite_support;

use kite_support::{assert_no_canary, bank, config, d, id, start, wait_until, Logs};
use tradegraph_broker::live::kite::KiteBroker;
use tradegraph_broker::live::venue::{VenueBookSnapshot, VenueBroker};
use tradegraph_broker::live::Live;
use tradegraph_broker::{Broker, PriceEvent};
use tradegraph_core::order::{Exits, Leg, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::{Tick, Timestamp};
use tradegraph_testkit::venue::kite::{Failure, KiteVenue};

/// The snapshot the runtime would save, checked for canaries.
fn saved(broker: &KiteBroker) -> VenueBookSnapshot {
    let snapshot = broker.book().snapshot();
    assert!(
        !snapshot.venue_state.is_null(),
        "the exits are kept in the book"
    );
    assert_no_canary(&serde_json::to_string(&snapshot).unwrap());
    snapshot
}

async fn restored(venue: &KiteVenue, snapshot: VenueBookSnapshot) -> Live<KiteBroker> {
    KiteBroker::connect(
        config(venue),
        bank(),
        Some(snapshot),
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_restored_broker_keeps_moving_the_trailing_stop() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000e1");
    let request = OrderRequest::market(entry.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::default().with_trailing(d("100")));
    broker.submit(request).await.unwrap();
    let trail = entry.child(Leg::TrailingStop);
    let trigger = |venue: &KiteVenue| {
        venue
            .orders()
            .iter()
            .find(|o| o.tag.as_deref() == Some(trail.as_str()))
            .map(|o| o.trigger_price)
    };
    wait_until("the SL order is placed", || async {
        trigger(&venue) == Some(d("48100"))
    })
    .await;
    let snapshot = saved(&broker);
    drop(broker);
    let broker = restored(&venue, snapshot).await;
    venue.set_price(d("48300"));
    broker
        .on_market(
            &bank(),
            PriceEvent::Tick(&Tick::new(Timestamp::from_millis(1), d("48300"), d("1"))),
        )
        .unwrap();
    wait_until("the restored broker moves the stop", || async {
        trigger(&venue) == Some(d("48200"))
    })
    .await;
    let sl_orders = venue
        .orders()
        .iter()
        .filter(|o| o.tag.as_deref() == Some(trail.as_str()))
        .count();
    assert_eq!(sl_orders, 1, "the stop was moved, not placed again");
    assert_no_canary(&serde_json::to_string(&broker.book().snapshot()).unwrap());
    logs.assert_clean();
}

#[tokio::test]
async fn a_gtt_leg_filling_after_a_restart_is_booked_under_its_leg() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000e2");
    let request = OrderRequest::market(entry.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    broker.submit(request).await.unwrap();
    wait_until("the GTT is placed", || async { venue.gtts().len() == 1 }).await;
    let snapshot = saved(&broker);
    drop(broker);
    let broker = restored(&venue, snapshot).await;
    wait_until("the order-update socket is up", || async {
        venue.subscribers() == 1
    })
    .await;
    let legs: Vec<_> = broker
        .open_orders()
        .await
        .unwrap()
        .iter()
        .map(|o| o.client_id().clone())
        .collect();
    assert!(legs.contains(&entry.child(Leg::TakeProfit)), "{legs:?}");
    venue.set_price(d("48500"));
    wait_until("the target fills", || async {
        broker.fills_since(1).await.unwrap().len() == 1
    })
    .await;
    let fill = broker.fills_since(1).await.unwrap().remove(0);
    assert_eq!(
        (fill.seq, fill.client_id, fill.side),
        (2, entry.child(Leg::TakeProfit), OrderSide::Sell)
    );
    assert_eq!(venue.gtts().len(), 1, "no second GTT");
    logs.assert_clean();
}

#[tokio::test]
async fn an_entry_that_filled_while_down_gets_its_exits_at_start_once() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000e3");
    let request = OrderRequest::limit(entry.clone(), bank(), OrderSide::Buy, d("30"), d("48100"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    broker.submit(request).await.unwrap();
    let snapshot = saved(&broker);
    drop(broker);
    // The entry fills while no broker runs.
    venue.set_price(d("48100"));
    assert!(venue.gtts().is_empty());
    let first = restored(&venue, snapshot.clone()).await;
    assert_eq!(venue.gtts().len(), 1, "the exits went out at start");
    let gtt = &venue.gtts()[0];
    assert_eq!(
        (gtt.status.as_str(), gtt.trigger_values.clone()),
        ("active", vec![d("47900"), d("48500")])
    );
    assert_eq!(first.book().last_seq(), 1);
    drop(first);
    // The same old snapshot again (a crash before the new one was saved): Kite has the GTT.
    let second = restored(&venue, snapshot).await;
    assert_eq!(venue.gtts().len(), 1, "the GTT was not placed twice");
    let legs: Vec<_> = second
        .open_orders()
        .await
        .unwrap()
        .iter()
        .map(|o| o.client_id().clone())
        .collect();
    assert!(legs.contains(&entry.child(Leg::StopLoss)), "{legs:?}");
    assert!(logs.text().contains("already at Kite"));
    logs.assert_clean();
}

/// An order sent with its answer lost that Kite does not list yet is of unknown outcome, and
/// stays so across a restart: the restored broker answers it pending, lists it among the open
/// orders (a kill switch's next close looks there before sending one) and never sends it again;
/// once Kite lists it, it is Kite's order.
#[tokio::test]
async fn an_order_of_unknown_outcome_stays_pending_across_a_restart() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    venue.silence_streams(true);
    venue.fail_next(
        "POST",
        "/orders/regular",
        tradegraph_testkit::venue::kite::Failure::LoseAnswer,
    );
    // Kite lags: its list of today's orders leaves the order out for a while.
    for _ in 0..40 {
        venue.fail_next(
            "GET",
            "/orders",
            tradegraph_testkit::venue::kite::Failure::Body(
                r#"{"status":"success","data":[]}"#.to_owned(),
            ),
        );
    }
    let request = OrderRequest::market(id("tg00000000000000u1"), bank(), OrderSide::Sell, d("30"));
    broker.submit(request.clone()).await.unwrap_err();
    let snapshot = saved(&broker);
    drop(broker);

    let broker = restored(&venue, snapshot).await;
    let kept = broker
        .order(&request.client_id)
        .await
        .unwrap()
        .expect("known after the restart, of unknown outcome");
    assert_eq!(kept.status, OrderStatus::Pending);
    let open = broker.open_orders().await.unwrap();
    assert!(
        open.iter().any(|o| o.client_id() == &request.client_id),
        "{open:?}"
    );
    let again = broker.submit(request.clone()).await.unwrap();
    assert_eq!(again.status, OrderStatus::Pending);
    let posts = || {
        venue
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/orders/regular")
            .count()
    };
    assert_eq!(posts(), 1, "never posted a second time");
    wait_until("Kite lists the order", || async {
        broker
            .order(&request.client_id)
            .await
            .unwrap()
            .is_some_and(|o| !o.id.as_str().is_empty())
    })
    .await;
    assert_eq!(posts(), 1);
    assert_eq!(venue.orders().len(), 1);
    // Kept again from now on, the book has it: nothing of unknown outcome is left.
    let snapshot = saved(&broker);
    drop(broker);
    let broker = restored(&venue, snapshot).await;
    let listed = broker.order(&request.client_id).await.unwrap().unwrap();
    assert_eq!(listed.id.as_str(), venue.orders()[0].order_id);
}

/// The bot stopped after Kite took an entry and before the book was saved: the book it starts
/// from has no trace of the entry or its exits plan. The journal hands back the request it
/// recorded before the send (`Broker::recover`): the filled entry gets its GTT, once, however
/// often it is recovered or the bot restarts.
#[tokio::test]
async fn an_entry_the_kept_book_lost_gets_its_exits_from_the_recorded_request() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let kept = broker.book().snapshot();
    let entry = id("tg00000000000000e7");
    let request = OrderRequest::market(entry.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    // What reached Kite before the stop: the entry, not its exits.
    let mut sent = request.clone();
    sent.exits = None;
    assert_eq!(
        broker.submit(sent).await.unwrap().status,
        OrderStatus::Filled
    );
    drop(broker);

    let broker = restored(&venue, kept.clone()).await;
    // Asked by its id only, Kite's word has no exits: nothing protects the position.
    assert_eq!(
        broker.order(&entry).await.unwrap().unwrap().status,
        OrderStatus::Filled
    );
    assert!(venue.gtts().is_empty());
    let recovered = broker.recover(&request).await.unwrap().unwrap();
    assert_eq!(recovered.status, OrderStatus::Filled);
    assert_eq!(venue.gtts().len(), 1, "the exits went out");
    let gtt = &venue.gtts()[0];
    assert_eq!(
        (gtt.status.as_str(), gtt.trigger_values.clone()),
        ("active", vec![d("47900"), d("48500")])
    );
    // Recovered again, and after restarts from the book kept now and from the old one: once.
    broker.recover(&request).await.unwrap();
    assert_eq!(venue.gtts().len(), 1);
    let now = saved(&broker);
    drop(broker);
    let broker = restored(&venue, now).await;
    broker.recover(&request).await.unwrap();
    assert_eq!(venue.gtts().len(), 1);
    drop(broker);
    let broker = restored(&venue, kept).await;
    broker.recover(&request).await.unwrap();
    assert_eq!(venue.gtts().len(), 1, "the GTT was not placed twice");
    assert!(logs.text().contains("already at Kite"));
    // A request Kite never took: nothing, and nothing placed.
    let never = OrderRequest::market(id("tg00000000000000e8"), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47900")));
    assert!(broker.recover(&never).await.unwrap().is_none());
    assert_eq!(venue.gtts().len(), 1);
    logs.assert_clean();
}

/// An entry the book knows without exits in its request (its answer was lost, and Kite's
/// listing told the broker of it) but whose GTT the book keeps: recovered after a restart
/// from that book, it gets no second GTT; and the GTT's legs are listed as the entry's exits
/// (with the entry as parent), not as a close of the position.
#[tokio::test]
async fn a_recovered_entry_whose_gtt_the_book_keeps_gets_no_second_one() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    venue.fail_next("POST", "/orders/regular", Failure::LoseAnswer);
    venue.fail_next("GET", "/orders", Failure::Pass);
    for _ in 0..4 {
        venue.fail_next("GET", "/orders", Failure::ServerError);
    }
    let entry = id("tg00000000000000e9");
    let request = OrderRequest::limit(entry.clone(), bank(), OrderSide::Buy, d("30"), d("48100"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    assert!(broker.submit(request.clone()).await.is_err());
    venue.set_price(d("48100"));
    wait_until("the entry's exits are placed", || async {
        venue.gtts().len() == 1
    })
    .await;
    // The failures scripted for the look-ups are used up.
    wait_until("Kite answers again", || async {
        broker.open_orders().await.is_ok()
    })
    .await;
    let kept = saved(&broker);
    drop(broker);

    let broker = restored(&venue, kept).await;
    let recovered = broker.recover(&request).await.unwrap().unwrap();
    assert_eq!(recovered.status, OrderStatus::Filled);
    assert_eq!(venue.gtts().len(), 1, "no second GTT");
    let open = broker.open_orders().await.unwrap();
    let legs: Vec<_> = open
        .iter()
        .filter(|o| o.id.as_str().starts_with("gtt:"))
        .collect();
    assert_eq!(legs.len(), 2, "{open:?}");
    assert!(
        legs.iter().all(|o| o.parent.as_ref() == Some(&entry)),
        "{legs:?}"
    );
    logs.assert_clean();
}

/// A stop the exchange cancelled at the close was placed again under its tag. A broker started
/// from a book kept before any of it (a crash before the save) recovers the entry: Kite's
/// latest order under the tag is the working stop, so none is placed a third time.
#[tokio::test]
async fn a_stop_placed_again_under_its_tag_is_found_after_a_restart_and_not_placed_again() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let kept = broker.book().snapshot();
    let entry = id("tg00000000000000l5");
    let request = OrderRequest::market(entry.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47900")));
    broker.submit(request.clone()).await.unwrap();
    let stop = entry.child(Leg::StopLoss);
    let working = |venue: &KiteVenue| {
        venue
            .orders()
            .into_iter()
            .filter(|o| o.tag.as_deref() == Some(stop.as_str()) && o.status == "TRIGGER PENDING")
            .count()
    };
    wait_until("the stop works", || async { working(&venue) == 1 }).await;
    venue.close_session();
    wait_until("the stop works again", || async { working(&venue) == 1 }).await;
    drop(broker);

    let broker = restored(&venue, kept).await;
    broker.recover(&request).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let tagged = venue
        .orders()
        .into_iter()
        .filter(|o| o.tag.as_deref() == Some(stop.as_str()))
        .count();
    assert_eq!((tagged, working(&venue)), (2, 1), "{:?}", venue.orders());
    assert!(!broker.owes_exits());
    logs.assert_clean();
}
