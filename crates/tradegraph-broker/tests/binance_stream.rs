//! The user data stream drops: fills still arrive by polling, exactly once, and the
//! reconnection is counted.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binance_support;

use binance_support::{d, start, wait_until, Logs};
use tradegraph_broker::Broker;
use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::Symbol;
use tradegraph_testkit::venue::binance::CommissionAsset;

#[tokio::test]
async fn fills_arrive_by_polling_while_the_stream_is_down_and_once_after_it_is_back() {
    let logs = Logs;
    logs.capture();
    let (venue, broker) = start().await;
    assert_eq!((venue.subscriptions(), broker.reconnections()), (1, 0));
    // The subscription was signed (the venue checks it) through the WebSocket API.
    venue.refuse_streams(true);
    venue.drop_streams();
    wait_until("the broker sees the stream down", || async {
        !broker.stream_is_up()
    })
    .await;

    let id = ClientOrderId::new("tg00000000000000s1").unwrap();
    let request = OrderRequest::limit(
        id.clone(),
        Symbol::new("BTCUSDT"),
        OrderSide::Buy,
        d("0.02"),
        d("39990"),
    );
    assert_eq!(
        broker.submit(request).await.unwrap().status,
        OrderStatus::Open
    );
    venue.fill_partially(Some(d("0.01")));
    venue.set_price(d("39990"));
    wait_until("the first fill is polled", || async {
        broker.fills_since(0).await.unwrap().len() == 1
    })
    .await;
    venue.set_price(d("39990"));
    wait_until("the second fill is polled", || async {
        broker.fills_since(0).await.unwrap().len() == 2
    })
    .await;
    wait_until("the order is filled in the book", || async {
        broker.open_orders().await.unwrap().is_empty()
    })
    .await;
    assert_eq!(venue.subscriptions(), 1, "no stream while refused");

    venue.refuse_streams(false);
    wait_until("the stream is back", || async { broker.stream_is_up() }).await;
    // The reconnection counts once its catch-up poll is booked.
    wait_until("the reconnection is counted", || async {
        broker.reconnections() == 1
    })
    .await;
    // A fill on the stream now, after the catch-up poll: still each trade once.
    let second = ClientOrderId::new("tg00000000000000s2").unwrap();
    let request = OrderRequest::market(
        second.clone(),
        Symbol::new("BTCUSDT"),
        OrderSide::Sell,
        d("0.01"),
    );
    broker.submit(request).await.unwrap();
    wait_until("three fills", || async {
        broker.fills_since(0).await.unwrap().len() == 3
    })
    .await;
    broker.open_orders().await.unwrap();
    let fills = broker.fills_since(0).await.unwrap();
    assert_eq!(
        fills.iter().map(|f| f.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(fills.iter().filter(|f| f.client_id == id).count(), 2);
    let order = broker.order(&id).await.unwrap().unwrap();
    assert_eq!(
        (order.status, order.filled_quantity),
        (OrderStatus::Filled, d("0.02"))
    );
    logs.assert_clean();
}

#[tokio::test]
async fn fees_in_the_base_asset_are_valued_at_the_fill_price() {
    let (venue, broker) = start().await;
    venue.set_commission(CommissionAsset::Base, d("0.001"));
    let id = ClientOrderId::new("tg00000000000000f1").unwrap();
    let request = OrderRequest::market(
        id.clone(),
        Symbol::new("BTCUSDT"),
        OrderSide::Buy,
        d("0.01"),
    );
    broker.submit(request).await.unwrap();
    let fill = broker.fills_since(0).await.unwrap().remove(0);
    // 0.00001 BTC at 40 000 = 0.4 USDT.
    assert_eq!(fill.fee, d("0.4"));
    // The position is what the venue holds: 0.01 less the fee, on the lot step; the fill says
    // what the position got, so the fills add up to the position (and a trade made of them
    // closes when the position does).
    let positions = broker.positions().await.unwrap();
    assert_eq!(positions[0].quantity, d("0.00999"));
    assert_eq!(fill.quantity, d("0.00999"));
    // the order's own record (the book's, not the venue's answer) is what it traded
    let tracked = tradegraph_broker::live::venue::VenueBroker::book(&*broker)
        .order(&id)
        .unwrap();
    assert_eq!(
        (tracked.status, tracked.filled_quantity),
        (OrderStatus::Filled, d("0.01")),
        "the order filled its whole quantity at the venue"
    );

    venue.set_commission(CommissionAsset::Other("BNB".into(), d("600")), d("0.001"));
    venue.set_balance("BNB", d("1"));
    let id = ClientOrderId::new("tg00000000000000f2").unwrap();
    broker
        .submit(OrderRequest::market(
            id,
            Symbol::new("BTCUSDT"),
            OrderSide::Buy,
            d("0.01"),
        ))
        .await
        .unwrap();
    // No BNB price known: 0, with a warning.
    assert_eq!(broker.fills_since(1).await.unwrap()[0].fee, d("0"));
    broker.set_fee_asset_price("BNB", d("600"));
    let id = ClientOrderId::new("tg00000000000000f3").unwrap();
    broker
        .submit(OrderRequest::market(
            id,
            Symbol::new("BTCUSDT"),
            OrderSide::Buy,
            d("0.01"),
        ))
        .await
        .unwrap();
    // 0.4 USDT of BNB at 600: 0.00066667 BNB, valued back at 600.
    assert_eq!(broker.fills_since(2).await.unwrap()[0].fee, d("0.40000200"));
}
