//! The Binance broker closing a position whose OCO is working (the OCO locks the base asset),
//! and a position that goes flat another way: no exit is left working.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binance_support;

use binance_support::{config, d, start, wait_until, Logs, KEY};
use tradegraph_broker::live::binance::BinanceBroker;
use tradegraph_broker::Broker;
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

fn count(venue: &BinanceVenue, method: &str, path: &str) -> usize {
    venue
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}

/// An entry of 0.01 BTC with stop 39 000 and target 42 000, its OCO working.
async fn entry_with_oco(venue: &BinanceVenue, broker: &BinanceBroker, entry: &ClientOrderId) {
    broker
        .submit(
            OrderRequest::market(entry.clone(), btc(), OrderSide::Buy, d("0.01"))
                .with_exits(Exits::stop(d("39000")).with_take_profit(d("42000"))),
        )
        .await
        .unwrap();
    broker.exits_settled().await;
    assert_eq!(working(venue).len(), 2, "the OCO is working");
}

#[tokio::test]
async fn a_reduce_only_close_cancels_the_working_oco_first_and_fills() {
    let logs = Logs;
    logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000c1");
    entry_with_oco(&venue, &broker, &entry).await;
    assert_eq!(venue.balance("BTC"), (d("0"), d("0.01")));

    let close = id("tg00000000000000c2");
    let closed = broker
        .submit(
            OrderRequest::market(close.clone(), btc(), OrderSide::Sell, d("0.01")).reduce_only(),
        )
        .await
        .unwrap();
    assert_eq!(
        (closed.status, closed.filled_quantity),
        (OrderStatus::Filled, d("0.01")),
        "{:?}",
        closed.reason
    );
    broker.exits_settled().await;
    // Nothing left working, nothing held; the list was cancelled with one DELETE.
    assert!(working(&venue).is_empty(), "{:?}", working(&venue));
    assert_eq!(venue.balance("BTC"), (d("0"), d("0")));
    assert_eq!(count(&venue, "DELETE", "/api/v3/order"), 1);
    assert_eq!(count(&venue, "POST", "/api/v3/orderList/oco"), 1);
    for leg in [entry.child(Leg::StopLoss), entry.child(Leg::TakeProfit)] {
        let booked = broker.order(&leg).await.unwrap().unwrap();
        assert_eq!(booked.status, OrderStatus::Cancelled, "{leg}");
    }
    assert!(broker.open_orders().await.unwrap().is_empty());
    assert!(broker.positions().await.unwrap().is_empty());
    logs.assert_clean();
}

#[tokio::test]
async fn a_partial_close_places_the_exits_again_for_what_is_left() {
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000c3");
    entry_with_oco(&venue, &broker, &entry).await;

    let close = id("tg00000000000000c4");
    let closed = broker
        .submit(
            OrderRequest::market(close.clone(), btc(), OrderSide::Sell, d("0.004")).reduce_only(),
        )
        .await
        .unwrap();
    assert_eq!(closed.status, OrderStatus::Filled, "{:?}", closed.reason);
    broker.exits_settled().await;
    // One OCO again, for the 0.006 left, at the same prices, as the close's children.
    let (sl, tp) = (close.child(Leg::StopLoss), close.child(Leg::TakeProfit));
    let now = working(&venue);
    assert_eq!(now.len(), 2, "{now:?}");
    let stop = now.iter().find(|o| o.client_id == sl.as_str()).unwrap();
    let target = now.iter().find(|o| o.client_id == tp.as_str()).unwrap();
    assert_eq!((stop.stop_price, stop.quantity), (d("39000"), d("0.006")));
    assert_eq!((target.price, target.quantity), (d("42000"), d("0.006")));
    assert_eq!(stop.order_list_id, target.order_list_id);
    assert_eq!(venue.balance("BTC"), (d("0"), d("0.006")));
    assert_eq!(count(&venue, "POST", "/api/v3/orderList/oco"), 2);
    // A close refused by the venue leaves the position protected as before.
    venue.fail_next(
        "POST",
        "/api/v3/order",
        Failure::Reject {
            code: -2010,
            msg: "Account has insufficient balance for requested action.".into(),
        },
    );
    let refused = broker
        .submit(
            OrderRequest::market(id("tg00000000000000c5"), btc(), OrderSide::Sell, d("0.006"))
                .reduce_only(),
        )
        .await
        .unwrap();
    assert_eq!(refused.status, OrderStatus::Rejected);
    let now = working(&venue);
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(now.iter().all(|o| o.quantity == d("0.006")));
    let c5 = id("tg00000000000000c5");
    let again = [c5.child(Leg::StopLoss), c5.child(Leg::TakeProfit)];
    assert!(now
        .iter()
        .all(|o| again.iter().any(|a| a.as_str() == o.client_id)));
    assert!(now.iter().any(|o| o.stop_price == d("39000")));
    assert!(now.iter().any(|o| o.price == d("42000")));
    assert_eq!(venue.balance("BTC"), (d("0"), d("0.006")));
}

/// A broker on an account holding 0.01 BTC that is not the bot's (`reserved_base`), its
/// stream up and caught up.
async fn with_btc_not_the_bots() -> (BinanceVenue, tradegraph_broker::live::Live<BinanceBroker>) {
    // The account holds 0.01 BTC that is not the bot's.
    let venue = BinanceVenue::start(KEY, binance_support::SECRET)
        .await
        .unwrap();
    venue.set_balance("USDT", d("10000"));
    venue.set_balance("BTC", d("0.01"));
    venue.set_price(d("40000"));
    let mut config = config(&venue);
    config.reserved_base = d("0.01");
    let broker = BinanceBroker::connect(
        config,
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    wait_until("the user data stream is up and caught up", || async {
        broker.caught_up()
    })
    .await;
    (venue, broker)
}

#[tokio::test]
async fn a_sale_by_hand_that_leaves_no_position_leaves_no_exit_working() {
    let (venue, broker) = with_btc_not_the_bots().await;
    let entry = id("tg00000000000000m1");
    entry_with_oco(&venue, &broker, &entry).await;
    assert!(working(&venue).iter().all(|o| o.quantity == d("0.01")));
    assert_eq!(venue.balance("BTC"), (d("0.01"), d("0.01")));

    // Someone sells 0.01 by hand on the website: the bot's position is gone.
    venue.place_by_hand(true, d("0.01")).unwrap();
    wait_until("no exit is left working", || async {
        working(&venue).is_empty()
    })
    .await;
    broker.exits_settled().await;
    assert!(broker.positions().await.unwrap().is_empty());
    assert!(broker
        .open_orders()
        .await
        .unwrap()
        .iter()
        .all(|o| o.parent.is_none()));
    // The holding that is not the bot's is untouched.
    assert_eq!(venue.balance("BTC"), (d("0.01"), d("0")));
}

#[tokio::test]
async fn a_leg_that_fills_leaves_no_orphan() {
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000m2");
    entry_with_oco(&venue, &broker, &entry).await;
    venue.set_price(d("38900"));
    wait_until("the stop's fill is booked", || async {
        broker
            .order(&entry.child(Leg::StopLoss))
            .await
            .unwrap()
            .is_some_and(|o| o.status == OrderStatus::Filled)
    })
    .await;
    broker.exits_settled().await;
    assert!(working(&venue).is_empty());
    let target = broker
        .order(&entry.child(Leg::TakeProfit))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(target.status, OrderStatus::Expired);
    assert!(broker.open_orders().await.unwrap().is_empty());
    assert_eq!(venue.balance("BTC"), (d("0"), d("0")));
}

/// A close sized by a position read before an exit filled (the fill not heard of yet): with
/// asset in the account that is not the bot's (`reserved_base`), the venue would let it sell
/// that asset. Once the exits are lifted the close is cut to what the bot holds, and not sent
/// when nothing is left.
#[tokio::test]
async fn a_close_after_an_exit_filled_unheard_sells_nothing_that_is_not_the_bots() {
    let (venue, broker) = with_btc_not_the_bots().await;
    let entry = id("tg00000000000000r1");
    entry_with_oco(&venue, &broker, &entry).await;
    assert_eq!(venue.balance("BTC"), (d("0.01"), d("0.01")));

    // The stop fills while the stream says nothing: the broker still books the OCO working.
    venue.stall_streams();
    venue.set_price(d("38900"));
    assert_eq!(
        venue.balance("BTC"),
        (d("0.01"), d("0")),
        "the stop sold the bot's 0.01"
    );

    let close = id("tg00000000000000r2");
    let answer = broker
        .submit(
            OrderRequest::market(close.clone(), btc(), OrderSide::Sell, d("0.01")).reduce_only(),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, OrderStatus::Rejected, "{answer:?}");
    assert!(
        answer
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("nothing left to close")),
        "{:?}",
        answer.reason
    );
    // Nothing of the close reached the venue, and the holding that is not the bot's is whole.
    assert!(!venue
        .requests()
        .iter()
        .any(|r| r.method == "POST" && r.query.contains(close.as_str())));
    assert_eq!(venue.balance("BTC"), (d("0.01"), d("0")));
    broker.exits_settled().await;
    assert!(working(&venue).is_empty(), "{:?}", working(&venue));
}
