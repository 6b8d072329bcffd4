//! Closing at Kite leaves no exit behind: Kite has no reduce-only orders, so a GTT or SL order
//! still working after the position closed would open a reverse position when it triggers.
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod kite_support;

use kite_support::{bank, d, id, start, start_with, wait_until, Logs};
use tradegraph_broker::Broker;
use tradegraph_core::order::{Exits, Leg, OrderRequest, OrderSide, OrderStatus};

#[tokio::test]
async fn a_reduce_only_close_deletes_the_gtt_and_a_later_move_opens_nothing() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000c1");
    let request = OrderRequest::market(entry.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    broker.submit(request).await.unwrap();
    wait_until("the GTT is placed", || async { venue.gtts().len() == 1 }).await;
    let close = OrderRequest::market(id("tg00000000000000c2"), bank(), OrderSide::Sell, d("30"))
        .reduce_only();
    broker.submit(close).await.unwrap();
    wait_until("no GTT is left", || async {
        venue.gtts().iter().all(|g| g.status != "active")
    })
    .await;
    assert_eq!(venue.gtts()[0].status, "deleted");
    let legs: Vec<_> = broker
        .open_orders()
        .await
        .unwrap()
        .iter()
        .map(|o| o.client_id().clone())
        .collect();
    assert!(!legs.contains(&entry.child(Leg::StopLoss)), "{legs:?}");
    // The price reaches the old target: nothing is placed, the position stays flat.
    let orders = venue.orders().len();
    venue.set_price(d("48500"));
    assert_eq!(venue.orders().len(), orders);
    assert!(broker
        .positions()
        .await
        .unwrap()
        .iter()
        .all(|p| p.quantity.is_zero()));
    logs.assert_clean();
}

#[tokio::test]
async fn a_partial_close_cuts_the_stop_and_a_close_by_hand_cancels_it() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000c3");
    let request = OrderRequest::market(entry.clone(), bank(), OrderSide::Buy, d("60"))
        .with_exits(Exits::stop(d("47900")));
    broker.submit(request).await.unwrap();
    let stop = entry.child(Leg::StopLoss);
    let stop_at_venue = |venue: &tradegraph_testkit::venue::kite::KiteVenue| {
        venue
            .orders()
            .into_iter()
            .find(|o| o.tag.as_deref() == Some(stop.as_str()))
    };
    wait_until("the SL order is placed", || async {
        stop_at_venue(&venue).is_some()
    })
    .await;
    let half = OrderRequest::market(id("tg00000000000000c4"), bank(), OrderSide::Sell, d("30"))
        .reduce_only();
    broker.submit(half).await.unwrap();
    wait_until("the stop is cut to the position", || async {
        stop_at_venue(&venue).unwrap().quantity == d("30")
    })
    .await;
    assert_eq!(stop_at_venue(&venue).unwrap().status, "TRIGGER PENDING");
    // The rest is closed by hand at Kite (an order without our tag): the stop is cancelled
    // once the broker reads the position.
    venue.place_by_hand("SELL", d("30"));
    wait_until("the stop is cancelled", || async {
        broker.positions().await.unwrap();
        stop_at_venue(&venue).unwrap().status == "CANCELLED"
    })
    .await;
    assert_eq!(
        broker.order(&stop).await.unwrap().unwrap().status,
        OrderStatus::Cancelled
    );
    logs.assert_clean();
}

/// A position of another product in the same contract (an MIS hedge placed by hand while the
/// bot trades NRML) is not the bot's: its positions are its product's only, so a close is sized
/// on its own position and its exits are fitted to it.
#[tokio::test]
async fn another_products_position_in_the_contract_is_not_the_bots() {
    let (venue, broker) = start().await;
    broker
        .submit(OrderRequest::market(
            id("tg00000000000000p1"),
            bank(),
            OrderSide::Buy,
            d("30"),
        ))
        .await
        .unwrap();
    venue.place_by_hand_in("BUY", d("60"), "MIS");
    let positions = broker.positions().await.unwrap();
    assert_eq!(positions.len(), 1, "{positions:?}");
    assert_eq!(positions[0].quantity, d("30"));
}

/// A close whose fill is followed by an unreadable position (a 5xx) still leaves no exit
/// behind: the exits the fill asked to fit are fitted again until the position is read, and
/// the GTT of the closed position is deleted before a later move could trigger it.
#[tokio::test]
async fn exits_not_fitted_after_a_close_are_fitted_once_the_position_reads() {
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000f9");
    let request = OrderRequest::market(entry.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    broker.submit(request).await.unwrap();
    wait_until("the GTT is placed", || async { venue.gtts().len() == 1 }).await;
    venue.fail_next(
        "GET",
        "/portfolio/positions",
        tradegraph_testkit::venue::kite::Failure::ServerError,
    );
    let close = OrderRequest::market(id("tg00000000000000fa"), bank(), OrderSide::Sell, d("30"))
        .reduce_only();
    broker.submit(close).await.unwrap();
    wait_until("no GTT is left", || async {
        venue.gtts().iter().all(|g| g.status != "active")
    })
    .await;
    let orders = venue.orders().len();
    venue.set_price(d("48500"));
    assert_eq!(
        venue.orders().len(),
        orders,
        "nothing opened by the old target"
    );
}

/// Kite's positions as they stood before the last trades: `quantity` in the bot's product.
fn stale_positions(venue: &tradegraph_testkit::venue::kite::KiteVenue, quantity: i64) -> String {
    serde_json::json!({"status": "success", "data": {"net": [{
        "tradingsymbol": venue.tradingsymbol(), "exchange": "NFO", "product": "NRML",
        "quantity": quantity, "average_price": 48200, "last_price": 48200, "realised": 0,
    }], "day": []}})
    .to_string()
}

fn position_reads(venue: &tradegraph_testkit::venue::kite::KiteVenue) -> usize {
    venue
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/portfolio/positions")
        .count()
}

/// An entry of 30 with a stop and a target, filled: its GTT works and the position was read.
async fn protected_entry(
    venue: &tradegraph_testkit::venue::kite::KiteVenue,
    broker: &impl Broker,
    entry: &str,
) {
    let request = OrderRequest::market(id(entry), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    broker.submit(request).await.unwrap();
    wait_until("the GTT is placed and the position read", || async {
        venue.gtts().len() == 1 && position_reads(venue) >= 1
    })
    .await;
}

/// The read after a close still shows the position (Kite's positions lag its trades): the
/// exits are not taken for fitted; they are fitted once a read shows the close, and the GTT
/// of the closed position goes before a later move could open a short one.
#[tokio::test]
async fn a_position_read_that_does_not_show_a_close_yet_leaves_no_gtt_behind() {
    let (venue, broker) = start().await;
    protected_entry(&venue, &broker, "tg00000000000000fb").await;
    venue.fail_next(
        "GET",
        "/portfolio/positions",
        tradegraph_testkit::venue::kite::Failure::Body(stale_positions(&venue, 30)),
    );
    let close = OrderRequest::market(id("tg00000000000000fc"), bank(), OrderSide::Sell, d("30"))
        .reduce_only();
    broker.submit(close).await.unwrap();
    wait_until("no GTT is left", || async {
        venue.gtts().iter().all(|g| g.status != "active")
    })
    .await;
    let orders = venue.orders().len();
    venue.set_price(d("48500"));
    assert_eq!(
        venue.orders().len(),
        orders,
        "nothing opened by the old target"
    );
}

/// A read of the position that does not show the entry's fill yet (flat) does not delete the
/// exits just placed for it.
#[tokio::test]
async fn a_position_read_that_does_not_show_an_entry_yet_keeps_its_exits() {
    // Read well within the settling time of the entry's trade.
    let (venue, broker) =
        start_with(|c| c.position_settle = std::time::Duration::from_secs(30)).await;
    protected_entry(&venue, &broker, "tg00000000000000fd").await;
    venue.fail_next(
        "GET",
        "/portfolio/positions",
        tradegraph_testkit::venue::kite::Failure::Body(stale_positions(&venue, 0)),
    );
    let read = broker.positions().await.unwrap();
    assert!(read.iter().all(|p| p.quantity.is_zero()), "{read:?}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let gtts = venue.gtts();
    assert_eq!(gtts.len(), 1);
    assert_eq!(gtts[0].status, "active", "{gtts:?}");
}
