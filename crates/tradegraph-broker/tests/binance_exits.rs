//! The Binance broker when the position grows: a second entry filling while the first
//! entry's OCO is working.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binance_support;

use binance_support::{d, start, wait_until};
use tradegraph_broker::Broker;
use tradegraph_core::order::{ClientOrderId, Exits, Leg, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::Symbol;

fn id(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

/// Decision: the newest entry's exits replace the working ones and cover the whole position.
/// The earlier OCO is cancelled as one list (one `DELETE`, its other leg asked about, not
/// cancelled twice), then one new OCO is placed for the whole base balance.
#[tokio::test]
async fn a_second_entry_replaces_the_working_oco_with_one_covering_the_whole_position() {
    let (venue, broker) = start().await;
    let btc = Symbol::new("BTCUSDT");
    let first = id("tg00000000000000g1");
    let second = id("tg00000000000000g2");
    let buy = |client: &ClientOrderId, qty: &str, stop: &str, target: &str| {
        OrderRequest::market(client.clone(), btc.clone(), OrderSide::Buy, d(qty))
            .with_exits(Exits::stop(d(stop)).with_take_profit(d(target)))
    };
    broker
        .submit(buy(&first, "0.01", "39000", "42000"))
        .await
        .unwrap();
    let working = |venue: &tradegraph_testkit::venue::binance::BinanceVenue| {
        venue
            .orders()
            .into_iter()
            .filter(|o| o.status == "NEW")
            .collect::<Vec<_>>()
    };
    wait_until("the first OCO is at the venue", || async {
        working(&venue).len() == 2
    })
    .await;
    assert!(working(&venue).iter().all(|o| o.quantity == d("0.01")));

    let placed = broker
        .submit(buy(&second, "0.02", "39500", "42500"))
        .await
        .unwrap();
    assert_eq!(placed.status, OrderStatus::Filled);
    let (sl, tp) = (second.child(Leg::StopLoss), second.child(Leg::TakeProfit));
    wait_until("the second OCO replaces the first", || async {
        let w = working(&venue);
        w.len() == 2
            && w.iter()
                .all(|o| o.client_id == sl.as_str() || o.client_id == tp.as_str())
    })
    .await;

    // At the venue: one OCO, for the whole position (0.01 + 0.02), all of it locked.
    let now = working(&venue);
    assert_eq!(now.len(), 2, "{now:?}");
    assert_eq!(now[0].order_list_id, now[1].order_list_id);
    assert!(now[0].order_list_id >= 0);
    let stop = now.iter().find(|o| o.client_id == sl.as_str()).unwrap();
    let target = now.iter().find(|o| o.client_id == tp.as_str()).unwrap();
    assert_eq!((stop.stop_price, stop.quantity), (d("39500"), d("0.03")));
    assert_eq!((target.price, target.quantity), (d("42500"), d("0.03")));
    assert_eq!(venue.balance("BTC"), (d("0"), d("0.03")));
    // The first OCO's legs were cancelled with one DELETE, none left working.
    for leg in [first.child(Leg::StopLoss), first.child(Leg::TakeProfit)] {
        let at_venue = venue
            .orders()
            .into_iter()
            .find(|o| o.client_id == leg.as_str())
            .unwrap();
        assert_eq!(at_venue.status, "CANCELED", "{leg}");
        let booked = broker.order(&leg).await.unwrap().unwrap();
        assert_eq!(booked.status, OrderStatus::Cancelled, "{leg}");
    }
    let requests = venue.requests();
    let deletes: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "DELETE" && r.path == "/api/v3/order")
        .collect();
    assert_eq!(deletes.len(), 1, "one cancel for the list");
    assert_eq!(deletes[0].status, 200);
    let ocos = requests
        .iter()
        .filter(|r| r.path == "/api/v3/orderList/oco")
        .count();
    assert_eq!(ocos, 2, "one OCO per entry, none duplicated");
    // The broker's open orders are the new legs only, children of the second entry.
    let mut open: Vec<_> = broker
        .open_orders()
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.client_id().clone(), o.parent.clone()))
        .collect();
    open.sort();
    let mut expected = vec![
        (sl.clone(), Some(second.clone())),
        (tp.clone(), Some(second.clone())),
    ];
    expected.sort();
    assert_eq!(open, expected);

    // The target takes the whole position out: nothing is left, nothing is working.
    venue.set_price(d("42500"));
    wait_until("the target's fill is booked", || async {
        broker
            .order(&tp)
            .await
            .unwrap()
            .is_some_and(|o| o.status == OrderStatus::Filled)
    })
    .await;
    let sold = broker.order(&tp).await.unwrap().unwrap();
    assert_eq!(sold.filled_quantity, d("0.03"));
    wait_until("the stop leg expires", || async {
        broker.open_orders().await.unwrap().is_empty()
    })
    .await;
    assert!(broker.positions().await.unwrap().is_empty());
    assert_eq!(venue.balance("BTC"), (d("0"), d("0")));
}

/// Decision: a buy without exits that fills while another entry's OCO is working grows the
/// position; the working exits (the same prices) are placed again for the whole position,
/// as the new entry's, and the old OCO is cancelled.
#[tokio::test]
async fn a_second_entry_without_exits_carries_the_working_oco_over_the_whole_position() {
    let (venue, broker) = start().await;
    let btc = Symbol::new("BTCUSDT");
    let first = id("tg00000000000000h1");
    let second = id("tg00000000000000h2");
    broker
        .submit(
            OrderRequest::market(first.clone(), btc.clone(), OrderSide::Buy, d("0.01"))
                .with_exits(Exits::stop(d("39000")).with_take_profit(d("42000"))),
        )
        .await
        .unwrap();
    wait_until("the first OCO is at the venue", || async {
        venue.orders().iter().filter(|o| o.status == "NEW").count() == 2
    })
    .await;
    broker
        .submit(OrderRequest::market(
            second.clone(),
            btc,
            OrderSide::Buy,
            d("0.02"),
        ))
        .await
        .unwrap();
    let (sl, tp) = (second.child(Leg::StopLoss), second.child(Leg::TakeProfit));
    wait_until("the OCO is placed again for the whole position", || async {
        let orders = venue.orders();
        let working: Vec<_> = orders.iter().filter(|o| o.status == "NEW").collect();
        working.len() == 2
            && working
                .iter()
                .all(|o| o.client_id == sl.as_str() || o.client_id == tp.as_str())
    })
    .await;
    let orders = venue.orders();
    let stop = orders.iter().find(|o| o.client_id == sl.as_str()).unwrap();
    let target = orders.iter().find(|o| o.client_id == tp.as_str()).unwrap();
    assert_eq!((stop.stop_price, stop.quantity), (d("39000"), d("0.03")));
    assert_eq!((target.price, target.quantity), (d("42000"), d("0.03")));
    assert_eq!(stop.order_list_id, target.order_list_id);
    for leg in [first.child(Leg::StopLoss), first.child(Leg::TakeProfit)] {
        let old = orders.iter().find(|o| o.client_id == leg.as_str()).unwrap();
        assert_eq!(old.status, "CANCELED", "{leg}");
    }
    assert_eq!(venue.balance("BTC"), (d("0"), d("0.03")));
    let requests = venue.requests();
    let count = |method: &str, path: &str| {
        requests
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    };
    assert_eq!(count("DELETE", "/api/v3/order"), 1);
    assert_eq!(count("POST", "/api/v3/orderList/oco"), 2);
    let parents: Vec<_> = broker
        .open_orders()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.parent)
        .collect();
    assert_eq!(parents, vec![Some(second.clone()), Some(second.clone())]);
}
