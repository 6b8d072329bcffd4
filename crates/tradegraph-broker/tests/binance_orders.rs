//! The Binance broker against the local venue: orders, exits, partial fills, idempotency.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binance_support;

use binance_support::{config, d, start, wait_until, Logs};
use tradegraph_broker::live::binance::BinanceBroker;
use tradegraph_broker::live::Live;
use tradegraph_broker::{Broker, BrokerError};
use tradegraph_core::order::{
    ClientOrderId, Exits, Leg, Order, OrderRequest, OrderSide, OrderStatus,
};
use tradegraph_core::Symbol;
use tradegraph_testkit::venue::binance::BinanceVenue;

fn id(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT")
}

#[tokio::test]
async fn an_entry_gets_its_oco_after_the_fill_and_one_leg_cancels_the_other() {
    let logs = Logs;
    logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000e1");
    let request = OrderRequest::market(entry.clone(), btc(), OrderSide::Buy, d("0.01"))
        .with_exits(Exits::stop(d("39000")).with_take_profit(d("42000")));
    let placed = broker.submit(request).await.unwrap();
    assert_eq!(placed.status, OrderStatus::Filled);
    let (sl, tp) = (entry.child(Leg::StopLoss), entry.child(Leg::TakeProfit));
    wait_until("the OCO is at the venue", || async {
        venue
            .orders()
            .iter()
            .filter(|o| o.order_list_id >= 0)
            .count()
            == 2
    })
    .await;
    let orders = venue.orders();
    let stop = orders.iter().find(|o| o.client_id == sl.as_str()).unwrap();
    let target = orders.iter().find(|o| o.client_id == tp.as_str()).unwrap();
    assert_eq!(
        (stop.kind.as_str(), stop.side, stop.stop_price),
        ("STOP_LOSS", "SELL", d("39000"))
    );
    assert_eq!(
        (target.kind.as_str(), target.price),
        ("LIMIT_MAKER", d("42000"))
    );
    // The whole position: 0.01 BTC bought, fees in USDT.
    assert_eq!(stop.quantity, d("0.01"));
    // The exits were sent after the entry, never before.
    let paths: Vec<String> = venue
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let entry_at = paths
        .iter()
        .position(|p| p == "POST /api/v3/order")
        .unwrap();
    let oco_at = paths
        .iter()
        .position(|p| p == "POST /api/v3/orderList/oco")
        .unwrap();
    assert!(entry_at < oco_at, "{paths:?}");

    venue.set_price(d("42000"));
    wait_until("the target's fill is booked", || async {
        broker.fills_since(0).await.unwrap().len() == 2
    })
    .await;
    wait_until("the stop expires (one-cancels-the-other)", || async {
        broker
            .order(&sl)
            .await
            .unwrap()
            .is_some_and(|o| o.status == OrderStatus::Expired)
    })
    .await;
    let fills = broker.fills_since(0).await.unwrap();
    assert_eq!(fills.iter().map(|f| f.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(
        (fills[1].client_id.clone(), fills[1].price, fills[1].side),
        (tp.clone(), d("42000"), OrderSide::Sell)
    );
    let target = broker.order(&tp).await.unwrap().unwrap();
    assert_eq!(
        (target.status, target.parent.clone()),
        (OrderStatus::Filled, Some(entry.clone()))
    );
    assert!(broker.open_orders().await.unwrap().is_empty());
    assert!(broker.positions().await.unwrap().is_empty());
    logs.assert_clean();
}

#[tokio::test]
async fn a_trailing_stop_follows_the_high_and_fires_on_the_pullback() {
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000e2");
    let request = OrderRequest::market(entry.clone(), btc(), OrderSide::Buy, d("0.01"))
        .with_exits(Exits::default().with_trailing(d("800")));
    broker.submit(request).await.unwrap();
    let trail = entry.child(Leg::TrailingStop);
    wait_until("the trailing stop is at the venue", || async {
        venue.orders().iter().any(|o| o.client_id == trail.as_str())
    })
    .await;
    let order = venue
        .orders()
        .into_iter()
        .find(|o| o.client_id == trail.as_str())
        .unwrap();
    // 800 behind 40 000 is 2 %: 200 BIPS, no stop price (it trails from now).
    assert_eq!(
        (order.kind.as_str(), order.trailing_delta, order.stop_price),
        ("STOP_LOSS", 200, d("0"))
    );
    venue.set_price(d("41000"));
    venue.set_price(d("40300")); // 1.7 % below the high: still working
    assert_eq!(
        venue
            .orders()
            .iter()
            .find(|o| o.client_id == trail.as_str())
            .unwrap()
            .status,
        "NEW"
    );
    venue.set_price(d("40100")); // 2.2 % below 41 000: fires
    wait_until("the trailing stop's fill is booked", || async {
        broker.fills_since(1).await.unwrap().len() == 1
    })
    .await;
    let fill = &broker.fills_since(1).await.unwrap()[0];
    assert_eq!(
        (fill.client_id.clone(), fill.price, fill.side),
        (trail, d("40100"), OrderSide::Sell)
    );
}

#[tokio::test]
async fn partial_fills_are_numbered_once_whichever_way_they_come() {
    let (venue, broker) = start().await;
    let order_id = id("tg00000000000000p1");
    venue.fill_partially(Some(d("0.01")));
    let request = OrderRequest::limit(
        order_id.clone(),
        btc(),
        OrderSide::Buy,
        d("0.03"),
        d("39990"),
    );
    assert_eq!(
        broker.submit(request).await.unwrap().status,
        OrderStatus::Open
    );
    for _ in 0..3 {
        venue.set_price(d("39990"));
    }
    wait_until("three fills are booked", || async {
        broker.fills_since(0).await.unwrap().len() == 3
    })
    .await;
    // Polling reads the same trades again (myTrades): nothing is booked twice.
    broker.open_orders().await.unwrap();
    let fills = broker.fills_since(0).await.unwrap();
    assert_eq!(
        fills
            .iter()
            .map(|f| (f.seq, f.quantity))
            .collect::<Vec<_>>(),
        vec![(1, d("0.01")), (2, d("0.01")), (3, d("0.01"))]
    );
    // Fees in USDT: 0.1 % of 399.90.
    assert!(fills.iter().all(|f| f.fee == d("0.39990")), "{fills:?}");
    let order = broker.order(&order_id).await.unwrap().unwrap();
    assert_eq!(
        (order.status, order.filled_quantity),
        (OrderStatus::Filled, d("0.03"))
    );
}

#[tokio::test]
async fn the_same_client_id_twice_is_one_order_at_the_venue() {
    let (venue, broker) = start().await;
    let order_id = id("tg00000000000000i1");
    let request = OrderRequest::limit(
        order_id.clone(),
        btc(),
        OrderSide::Buy,
        d("0.01"),
        d("39000"),
    );
    let first = broker.submit(request.clone()).await.unwrap();
    let second = broker.submit(request.clone()).await.unwrap();
    assert_eq!(
        (first.id.clone(), first.status),
        (second.id, OrderStatus::Open)
    );
    let posts = venue
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v3/order")
        .count();
    assert_eq!(posts, 1);
    // The same id for another order is refused, and nothing is sent.
    let other = OrderRequest::limit(
        order_id.clone(),
        btc(),
        OrderSide::Buy,
        d("0.02"),
        d("39000"),
    );
    assert!(matches!(
        broker.submit(other).await,
        Err(BrokerError::DuplicateClientOrderId(_))
    ));
    assert_eq!(venue.orders().len(), 1);
}

#[tokio::test]
async fn a_lost_answer_is_resolved_by_a_query_not_a_second_order() {
    use tradegraph_testkit::venue::binance::Failure;
    let (venue, broker) = start().await;
    venue.fail_next("POST", "/api/v3/order", Failure::LoseAnswer);
    let order_id = id("tg00000000000000l1");
    let request = OrderRequest::market(order_id.clone(), btc(), OrderSide::Buy, d("0.01"));
    let order = broker.submit(request.clone()).await.unwrap();
    assert_eq!(
        (order.client_id().clone(), order.status),
        (order_id.clone(), OrderStatus::Filled)
    );
    broker.submit(request).await.unwrap();
    assert_eq!(
        venue
            .orders()
            .iter()
            .filter(|o| o.client_id == order_id.as_str())
            .count(),
        1
    );
    wait_until("the fill is booked", || async {
        broker.fills_since(0).await.unwrap().len() == 1
    })
    .await;
    // A duplicate answer (the id is working at the venue, a broker that does not know it
    // sends it again: `-2010 Duplicate order sent.`) is a query too, never a second order.
    let working = id("tg00000000000000l2");
    let limit = OrderRequest::limit(
        working.clone(),
        btc(),
        OrderSide::Buy,
        d("0.01"),
        d("39000"),
    );
    let first = broker.submit(limit.clone()).await.unwrap();
    let fresh = BinanceBroker::connect(
        config(&venue),
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    let again = fresh.submit(limit).await.unwrap();
    assert_eq!(
        (again.id.clone(), again.status),
        (first.id.clone(), OrderStatus::Open)
    );
    let answers: Vec<u16> = venue
        .requests()
        .iter()
        .filter(|r| {
            r.method == "POST" && r.path == "/api/v3/order" && r.query.contains(working.as_str())
        })
        .map(|r| r.status)
        .collect();
    assert_eq!(
        answers,
        vec![200, 400],
        "the second was refused as a duplicate"
    );
    assert_eq!(
        venue
            .orders()
            .iter()
            .filter(|o| o.client_id == working.as_str())
            .count(),
        1
    );
}

/// How the broker heard of a partial fill before the test amends the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heard {
    /// Its trade was booked.
    Booked,
    /// Not at all: the order-update stream went silent first.
    Unseen,
}

/// A buy limit of 0.01 BTC at 39 000 under `order_id` that trades `filled` at 38 900 (as the
/// broker `heard` of it), then amended to 38 800: the venue, the broker and the amendment's
/// answer.
async fn amended_after_a_partial_fill(
    order_id: &ClientOrderId,
    filled: &str,
    heard: Heard,
) -> (
    BinanceVenue,
    Live<BinanceBroker>,
    Result<Order, BrokerError>,
) {
    let (venue, broker) = start().await;
    let request = OrderRequest::limit(
        order_id.clone(),
        btc(),
        OrderSide::Buy,
        d("0.01"),
        d("39000"),
    );
    broker.submit(request).await.unwrap();
    if heard == Heard::Unseen {
        venue.stall_streams();
    }
    venue.fill_partially(Some(d(filled)));
    venue.set_price(d("38900"));
    if heard == Heard::Booked {
        wait_until("the partial fill is booked", || async {
            broker.fills_since(0).await.unwrap().len() == 1
        })
        .await;
    }
    venue.fill_partially(None);
    let amended = broker
        .amend(order_id, tradegraph_broker::Amendment::price(d("38800")))
        .await;
    (venue, broker, amended)
}

/// The venue's working orders.
fn working(venue: &BinanceVenue) -> Vec<tradegraph_testkit::venue::binance::OrderView> {
    venue
        .orders()
        .into_iter()
        .filter(|o| o.status == "NEW")
        .collect()
}

/// An amendment of a partly filled order: the replacement asks only for what is left, and the
/// order keeps what filled (Binance's replacement is a new order: its quantity is what it may
/// still trade; sent with the whole amount, a buy would buy more than was asked).
#[tokio::test]
async fn an_amended_partly_filled_order_asks_only_for_the_rest() {
    let order_id = id("tg00000000000000c2");
    let (venue, broker, amended) =
        amended_after_a_partial_fill(&order_id, "0.004", Heard::Booked).await;
    let amended = amended.unwrap();
    assert_eq!(
        (
            amended.request.quantity,
            amended.filled_quantity,
            amended.status
        ),
        (d("0.01"), d("0.004"), OrderStatus::PartiallyFilled),
        "{amended:?}"
    );
    let working = working(&venue);
    assert_eq!(
        (working.len(), working[0].quantity, working[0].price),
        (1, d("0.006"), d("38800"))
    );
    // A new total not above what filled is refused before anything is sent.
    let sent = venue.requests().len();
    assert!(matches!(
        broker
            .amend(
                &order_id,
                tradegraph_broker::Amendment::quantity(d("0.004"))
            )
            .await,
        Err(BrokerError::NotAmendable { .. })
    ));
    assert_eq!(venue.requests().len(), sent);
    // The rest fills: the order is filled at its whole quantity, no more bought.
    venue.set_price(d("38700"));
    wait_until("the order is filled", || async {
        broker
            .order(&order_id)
            .await
            .unwrap()
            .is_some_and(|o| o.status == OrderStatus::Filled)
    })
    .await;
    let order = broker.order(&order_id).await.unwrap().unwrap();
    assert_eq!(order.filled_quantity, d("0.01"), "{order:?}");
    let bought: tradegraph_core::Decimal = broker
        .fills_since(0)
        .await
        .unwrap()
        .iter()
        .map(|f| f.quantity)
        .sum();
    assert_eq!(bought, d("0.01"));
}

/// An order that filled in part after the broker last heard of it (its stream silent) and is
/// then amended: the cancel's answer says what it traded, so the replacement that asked for
/// the whole amount is replaced again with what is left.
#[tokio::test]
async fn an_amendment_racing_an_unseen_fill_sizes_the_replacement_again() {
    let order_id = id("tg00000000000000c3");
    let (venue, _broker, amended) =
        amended_after_a_partial_fill(&order_id, "0.004", Heard::Unseen).await;
    let amended = amended.unwrap();
    assert_eq!(
        (
            amended.request.quantity,
            amended.filled_quantity,
            amended.status
        ),
        (d("0.01"), d("0.004"), OrderStatus::PartiallyFilled),
        "{amended:?}"
    );
    let working = working(&venue);
    assert_eq!(
        (working.len(), working[0].quantity, working[0].price),
        (1, d("0.006"), d("38800"))
    );
    venue.set_price(d("38700"));
    let executed: tradegraph_core::Decimal = venue.orders().iter().map(|o| o.executed).sum();
    assert_eq!(executed, d("0.01"), "bought no more than asked");
}

/// An amendment racing an unseen fill that leaves less than the venue's minimum: the
/// replacement sent for the whole amount cannot be sized again (0.0001 BTC is below the 5 USDT
/// notional), so it is cancelled, and the amendment says so; nothing more than asked is bought.
#[tokio::test]
async fn a_replacement_that_cannot_be_sized_again_is_cancelled() {
    let order_id = id("tg00000000000000c4");
    let (venue, broker, amended) =
        amended_after_a_partial_fill(&order_id, "0.0099", Heard::Unseen).await;
    let e = amended.unwrap_err().to_string();
    assert!(
        e.contains("was cancelled (0.0099 of 0.01 filled, 0.0001 left)"),
        "{e}"
    );
    let order = broker.order(&order_id).await.unwrap().unwrap();
    assert_eq!(
        (order.status, order.request.quantity),
        (OrderStatus::Cancelled, d("0.01")),
        "{order:?}"
    );
    assert!(
        venue.orders().iter().all(|o| o.status != "NEW"),
        "{:?}",
        venue.orders()
    );
    venue.set_price(d("38700"));
    let executed: tradegraph_core::Decimal = venue.orders().iter().map(|o| o.executed).sum();
    assert_eq!(executed, d("0.0099"), "bought no more than asked");
}

/// After an amendment the broker's reads of the venue (the trades and open orders it polls at
/// every cycle) keep the replacement: a trade of the replaced venue order is booked under its
/// client id, not taken for an untracked order that replaces the working one in the book.
#[tokio::test]
async fn reads_after_an_amendment_keep_the_replacement() {
    let order_id = id("tg00000000000000c5");
    let (_venue, broker, amended) =
        amended_after_a_partial_fill(&order_id, "0.004", Heard::Booked).await;
    let amended = amended.unwrap();
    let open = broker.open_orders().await.unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        (&open[0].id, open[0].status, open[0].filled_quantity),
        (&amended.id, OrderStatus::PartiallyFilled, d("0.004")),
        "{open:?}"
    );
    let order = broker.order(&order_id).await.unwrap().unwrap();
    assert_eq!(
        (order.status, order.request.quantity, order.filled_quantity),
        (OrderStatus::PartiallyFilled, d("0.01"), d("0.004"))
    );
    assert_eq!(broker.fills_since(0).await.unwrap().len(), 1, "booked once");
}

#[tokio::test]
async fn cancel_and_amend_reach_the_venue() {
    let (venue, broker) = start().await;
    let order_id = id("tg00000000000000c1");
    let request = OrderRequest::limit(
        order_id.clone(),
        btc(),
        OrderSide::Buy,
        d("0.01"),
        d("39000"),
    );
    broker.submit(request).await.unwrap();
    let amended = broker
        .amend(
            &order_id,
            tradegraph_broker::Amendment::price(d("39100.004")),
        )
        .await
        .unwrap();
    assert_eq!(
        (amended.client_id().clone(), amended.status),
        (order_id.clone(), OrderStatus::Open)
    );
    // Sent on the tick, rounded down for a buy; the old order cancelled.
    let working: Vec<_> = venue
        .orders()
        .into_iter()
        .filter(|o| o.status == "NEW")
        .collect();
    assert_eq!((working.len(), working[0].price), (1, d("39100")));
    assert_eq!(
        venue
            .orders()
            .iter()
            .filter(|o| o.status == "CANCELED")
            .count(),
        1
    );
    let cancelled = broker.cancel(&order_id).await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert!(matches!(
        broker.cancel(&order_id).await,
        Err(BrokerError::NotCancellable { .. })
    ));
    assert!(matches!(
        broker.cancel(&id("tgunknown")).await,
        Err(BrokerError::UnknownOrder(_))
    ));
}
