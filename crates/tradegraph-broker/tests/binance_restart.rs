//! The Binance broker across restarts: a broker started from the book the runtime kept places
//! an entry's exits exactly once, whether the entry filled while the bot was down or before.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binance_support;

use binance_support::{config, d, start, wait_until, Logs, KEY, SECRET};
use tradegraph_broker::live::binance::BinanceBroker;
use tradegraph_broker::live::venue::{VenueBookSnapshot, VenueBroker};
use tradegraph_broker::live::Live;
use tradegraph_broker::Broker;
use tradegraph_core::order::{
    ClientOrderId, Exits, Leg, OrderKind, OrderRequest, OrderSide, OrderStatus,
};
use tradegraph_core::Symbol;
use tradegraph_testkit::venue::binance::{BinanceVenue, OrderView};

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

fn ocos_posted(venue: &BinanceVenue) -> usize {
    venue
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v3/orderList/oco")
        .count()
}

/// A restarted broker, its stream up and the catch-up's exit placements done.
async fn restart(venue: &BinanceVenue, snapshot: VenueBookSnapshot) -> Live<BinanceBroker> {
    let broker = BinanceBroker::connect(
        config(venue),
        Some(snapshot),
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    wait_until("the user data stream is up", || async {
        broker.stream_is_up()
    })
    .await;
    broker.exits_settled().await;
    broker
}

fn assert_no_canary(snapshot: &VenueBookSnapshot) {
    let text = serde_json::to_string(snapshot).unwrap();
    for canary in [KEY, SECRET] {
        assert!(!text.contains(&canary[..16]), "a canary is in the snapshot");
    }
}

#[tokio::test]
async fn an_entry_that_filled_while_the_bot_was_down_gets_exactly_one_oco() {
    let logs = Logs;
    logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000r1");
    let request = OrderRequest::limit(entry.clone(), btc(), OrderSide::Buy, d("0.01"), d("39900"))
        .with_exits(Exits::stop(d("39000")).with_take_profit(d("42000")));
    let placed = broker.submit(request).await.unwrap();
    assert_eq!(placed.status, OrderStatus::Open);
    let snapshot = broker.book().snapshot();
    drop(broker);

    // While the bot is down, the entry fills: no one hears the venue's events.
    venue.set_price(d("39900"));
    assert_eq!(venue.balance("BTC"), (d("0.01"), d("0")));

    let broker = restart(&venue, snapshot).await;
    // The journal asks about the entry after a crash: that must not place anything twice.
    let asked = broker.order(&entry).await.unwrap().unwrap();
    assert_eq!(asked.status, OrderStatus::Filled);
    broker.exits_settled().await;

    let (sl, tp) = (entry.child(Leg::StopLoss), entry.child(Leg::TakeProfit));
    let now = working(&venue);
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(now.iter().any(|o| o.client_id == sl.as_str()));
    assert!(now.iter().any(|o| o.client_id == tp.as_str()));
    assert_eq!(now[0].order_list_id, now[1].order_list_id);
    assert!(now.iter().all(|o| o.quantity == d("0.01")));
    assert_eq!(ocos_posted(&venue), 1, "exactly one OCO sent");
    assert_eq!(venue.balance("BTC"), (d("0"), d("0.01")));
    // The fill made while the bot was down is booked, once, numbered after the kept ones.
    let fills = broker.fills_since(0).await.unwrap();
    assert_eq!(
        fills
            .iter()
            .map(|f| (f.seq, f.client_id.clone()))
            .collect::<Vec<_>>(),
        vec![(1, entry.clone())]
    );
    // The book keeps that the exits were placed, and no secret.
    let kept = broker.book().snapshot();
    assert!(
        kept.venue_state.to_string().contains(entry.as_str()),
        "{}",
        kept.venue_state
    );
    assert_no_canary(&kept);

    // Started again from that book: nothing is placed again.
    drop(broker);
    let broker = restart(&venue, kept).await;
    broker.order(&entry).await.unwrap();
    broker.exits_settled().await;
    assert_eq!(ocos_posted(&venue), 1);
    assert_eq!(working(&venue).len(), 2);
    logs.assert_clean();
}

/// The exits of an entry replaced by a later entry's are not placed again after a restart,
/// whether the book kept its exits state or not (then the venue is asked for the legs).
#[tokio::test]
async fn a_restart_never_places_exits_twice() {
    let (venue, broker) = start().await;
    let (first, second) = (id("tg00000000000000s1"), id("tg00000000000000s2"));
    for (entry, stop, target) in [(&first, "39000", "42000"), (&second, "39500", "42500")] {
        broker
            .submit(
                OrderRequest::market(entry.clone(), btc(), OrderSide::Buy, d("0.01"))
                    .with_exits(Exits::stop(d(stop)).with_take_profit(d(target))),
            )
            .await
            .unwrap();
        broker.exits_settled().await;
    }
    let (sl, tp) = (second.child(Leg::StopLoss), second.child(Leg::TakeProfit));
    let expected = |venue: &BinanceVenue| {
        let now = working(venue);
        assert_eq!(now.len(), 2, "{now:?}");
        assert!(now.iter().all(
            |o| (o.client_id == sl.as_str() || o.client_id == tp.as_str())
                && o.quantity == d("0.02")
        ));
    };
    expected(&venue);
    assert_eq!(ocos_posted(&venue), 2);
    let kept = broker.book().snapshot();
    assert!(!kept.venue_state.is_null());
    drop(broker);

    let mut without_state = kept.clone();
    without_state.venue_state = serde_json::Value::Null;
    for snapshot in [kept, without_state] {
        let broker = restart(&venue, snapshot).await;
        // The runtime's journal asks about both entries.
        for entry in [&first, &second] {
            let order = broker.order(entry).await.unwrap().unwrap();
            assert_eq!(order.status, OrderStatus::Filled);
        }
        broker.exits_settled().await;
        expected(&venue);
        assert_eq!(ocos_posted(&venue), 2, "no exit placed again");
        let open: Vec<_> = broker
            .open_orders()
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.parent)
            .collect();
        assert_eq!(open, vec![Some(second.clone()), Some(second.clone())]);
        assert_no_canary(&broker.book().snapshot());
    }
    // One cancel in all: the first OCO, when the second entry replaced it; none after.
    let deletes = venue
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(deletes, 1);
}

/// A lone stop resized (cancelled and placed again under its client id) after the book was
/// last kept: the restarted broker, whose kept book still has the old order as working, finds
/// the old one cancelled and takes the new one the venue has working under the same id as the
/// stop (it was left booked as cancelled, missing from the open orders, while the venue held
/// it).
#[tokio::test]
async fn a_stop_placed_again_under_its_id_after_the_book_was_kept_is_known_after_a_restart() {
    let (venue, broker) = start().await;
    let entry = id("tg0000000000000r21");
    let request = OrderRequest::limit(entry.clone(), btc(), OrderSide::Buy, d("0.02"), d("39990"))
        .with_exits(Exits::stop(d("39000")));
    broker.submit(request).await.unwrap();
    venue.fill_partially(Some(d("0.01")));
    venue.set_price(d("39990"));
    let stop_of = |venue: &BinanceVenue, qty: &str| {
        working(venue)
            .iter()
            .any(|o| o.side == "SELL" && o.quantity == d(qty))
    };
    wait_until("the first part is protected", || async {
        stop_of(&venue, "0.01")
    })
    .await;
    broker.exits_settled().await;
    // What the runtime kept: the stop for the first part.
    let kept = broker.book().snapshot();
    venue.set_price(d("39990"));
    wait_until("the stop covers the whole fill", || async {
        stop_of(&venue, "0.02")
    })
    .await;
    broker.exits_settled().await;
    drop(broker);
    let broker = restart(&venue, kept).await;
    let stop = entry.child(Leg::StopLoss);
    wait_until("the stop working at the venue is the book's", || async {
        broker
            .open_orders()
            .await
            .unwrap()
            .iter()
            .any(|o| o.client_id() == &stop && o.request.quantity == d("0.02"))
    })
    .await;
    let known = broker.order(&stop).await.unwrap().unwrap();
    assert!(!known.status.is_terminal(), "{known:?}");
    assert_eq!(working(&venue).len(), 1, "one stop at the venue");
}

/// A market buy of 0.01 BTC with stop 39 000 and target 42 000, its OCO placed.
async fn bought_with_oco(broker: &BinanceBroker, entry: &ClientOrderId) {
    broker
        .submit(
            OrderRequest::market(entry.clone(), btc(), OrderSide::Buy, d("0.01"))
                .with_exits(Exits::stop(d("39000")).with_take_profit(d("42000"))),
        )
        .await
        .unwrap();
    broker.exits_settled().await;
}

/// A close cancels the working OCO before it is sent (the OCO locks the position). A crash
/// between the two leaves the position held and its exits cancelled at the venue, while the
/// book the runtime kept still has them working. After the restart the exits are placed again
/// for the position.
#[tokio::test]
async fn exits_cancelled_for_a_close_that_a_crash_kept_from_being_sent_come_back() {
    let logs = Logs;
    logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg0000000000000r31");
    bought_with_oco(&broker, &entry).await;
    assert_eq!(working(&venue).len(), 2, "the OCO is working");
    let kept = broker.book().snapshot();
    // What a close does first; then the bot goes down before the close is sent.
    broker.cancel(&entry.child(Leg::StopLoss)).await.unwrap();
    assert!(working(&venue).is_empty());
    drop(broker);

    let broker = restart(&venue, kept).await;
    let now = working(&venue);
    assert_eq!(now.len(), 2, "the exits are working again: {now:?}");
    assert!(now
        .iter()
        .all(|o| o.quantity == d("0.01") && o.side == "SELL"));
    assert!(now.iter().any(|o| o.price == d("42000")), "{now:?}");
    assert!(now.iter().any(|o| o.stop_price == d("39000")), "{now:?}");
    assert_eq!(ocos_posted(&venue), 2);
    let open = broker.open_orders().await.unwrap();
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(open.iter().all(|o| o.parent.as_ref() == Some(&entry)));
    assert!(open.iter().any(|o| o.request.kind
        == OrderKind::Stop {
            trigger: d("39000")
        }));
    // Started again from the book kept now: nothing more is placed.
    let kept = broker.book().snapshot();
    drop(broker);
    let _broker = restart(&venue, kept).await;
    assert_eq!(ocos_posted(&venue), 2);
    assert_eq!(working(&venue).len(), 2);
    logs.assert_clean();
}

/// Exits cancelled while the bot was down with the position sold too (by hand, or the close
/// sent before the crash) are not placed again: there is nothing to protect.
#[tokio::test]
async fn exits_cancelled_while_down_stay_cancelled_when_nothing_is_held() {
    let (venue, broker) = start().await;
    let entry = id("tg0000000000000r41");
    bought_with_oco(&broker, &entry).await;
    let kept = broker.book().snapshot();
    broker.cancel(&entry.child(Leg::TakeProfit)).await.unwrap();
    drop(broker);
    venue.place_by_hand(true, d("0.01")).unwrap();
    assert_eq!(venue.balance("BTC"), (d("0"), d("0")));

    let broker = restart(&venue, kept).await;
    assert!(working(&venue).is_empty(), "{:?}", working(&venue));
    assert_eq!(ocos_posted(&venue), 1);
    assert!(broker.open_orders().await.unwrap().is_empty());
}

/// The venue orders an amendment replaced are kept with the book: after a restart, a trade of
/// the replaced order that the book had not booked (its stream was silent) is read from the
/// trade history and booked under the client id, and the replacement goes on working in the
/// book (it was taken for an untracked order that replaced the working one).
#[tokio::test]
async fn an_amended_order_keeps_its_replacement_over_a_restart() {
    let (venue, broker) = start().await;
    // A first trade the book knows: the restarted broker reads the history after it.
    broker
        .submit(OrderRequest::market(
            id("tg00000000000000r8"),
            btc(),
            OrderSide::Buy,
            d("0.001"),
        ))
        .await
        .unwrap();
    wait_until("the first fill is booked", || async {
        broker.fills_since(0).await.unwrap().len() == 1
    })
    .await;
    let order_id = id("tg00000000000000r9");
    broker
        .submit(OrderRequest::limit(
            order_id.clone(),
            btc(),
            OrderSide::Buy,
            d("0.01"),
            d("39000"),
        ))
        .await
        .unwrap();
    venue.stall_streams();
    venue.fill_partially(Some(d("0.004")));
    venue.set_price(d("38900"));
    venue.fill_partially(None);
    let amended = broker
        .amend(&order_id, tradegraph_broker::Amendment::price(d("38800")))
        .await
        .unwrap();
    let snapshot = broker.book().snapshot();
    drop(broker);
    let broker = restart(&venue, snapshot).await;
    let open = broker.open_orders().await.unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        (&open[0].id, open[0].request.quantity),
        (&amended.id, d("0.01")),
        "{open:?}"
    );
    // The replaced order's trade is booked, under the client id.
    let fills = broker.fills_since(1).await.unwrap();
    assert_eq!(fills.len(), 1, "{fills:?}");
    assert_eq!(fills[0].client_id, order_id);
}

/// The bot stopped after the venue took an entry and before the book was saved: the book it
/// starts from has no trace of the entry, and the venue's order carries no exits. The journal
/// hands back the request it recorded before the send (`Broker::recover`): the filled entry
/// gets its OCO, once, however often it is recovered or the bot restarts.
#[tokio::test]
async fn an_entry_the_kept_book_lost_gets_its_exits_from_the_recorded_request() {
    let logs = Logs;
    logs.capture();
    let (venue, broker) = start().await;
    let kept = broker.book().snapshot();
    let entry = id("tg0000000000000r51");
    let request = OrderRequest::market(entry.clone(), btc(), OrderSide::Buy, d("0.01"))
        .with_exits(Exits::stop(d("39000")).with_take_profit(d("42000")));
    // What reached the venue before the stop: the entry, not its exits.
    let mut sent = request.clone();
    sent.exits = None;
    broker.submit(sent).await.unwrap();
    broker.exits_settled().await;
    assert!(working(&venue).is_empty());
    assert_eq!(venue.balance("BTC"), (d("0.01"), d("0")));
    drop(broker);

    let broker = restart(&venue, kept).await;
    // Asked by its id only, the venue's word has no exits: nothing protects the position.
    assert_eq!(
        broker.order(&entry).await.unwrap().unwrap().status,
        OrderStatus::Filled
    );
    broker.exits_settled().await;
    assert!(working(&venue).is_empty(), "{:?}", working(&venue));
    let recovered = broker.recover(&request).await.unwrap().unwrap();
    assert_eq!(recovered.status, OrderStatus::Filled);
    assert_eq!(recovered.request.exits, request.exits);
    broker.exits_settled().await;
    let now = working(&venue);
    assert_eq!(now.len(), 2, "{now:?}");
    let (sl, tp) = (entry.child(Leg::StopLoss), entry.child(Leg::TakeProfit));
    assert!(now
        .iter()
        .any(|o| o.client_id == sl.as_str() && o.stop_price == d("39000")));
    assert!(now
        .iter()
        .any(|o| o.client_id == tp.as_str() && o.price == d("42000")));
    assert!(now.iter().all(|o| o.quantity == d("0.01")));
    assert_eq!(ocos_posted(&venue), 1);
    // Recovered again, and after another restart from the book kept now: placed once.
    broker.recover(&request).await.unwrap();
    broker.exits_settled().await;
    let kept = broker.book().snapshot();
    drop(broker);
    let broker = restart(&venue, kept).await;
    broker.recover(&request).await.unwrap();
    broker.exits_settled().await;
    assert_eq!(ocos_posted(&venue), 1);
    assert_eq!(working(&venue).len(), 2);
    // A request the venue never took: nothing, and nothing placed.
    let never = OrderRequest::market(id("tg0000000000000r52"), btc(), OrderSide::Buy, d("0.01"))
        .with_exits(Exits::stop(d("39000")));
    assert!(broker.recover(&never).await.unwrap().is_none());
    broker.exits_settled().await;
    assert_eq!(ocos_posted(&venue), 1);
    logs.assert_clean();
}

/// The same for a resting entry: the restarted broker learns of it from the venue's open
/// orders (without exits); recovered from the recorded request, it gets its OCO once it fills.
#[tokio::test]
async fn a_resting_entry_the_kept_book_lost_gets_its_exits_when_it_fills() {
    let (venue, broker) = start().await;
    let kept = broker.book().snapshot();
    let entry = id("tg0000000000000r61");
    let request = OrderRequest::limit(entry.clone(), btc(), OrderSide::Buy, d("0.01"), d("39900"))
        .with_exits(Exits::stop(d("39000")).with_take_profit(d("42000")));
    let mut sent = request.clone();
    sent.exits = None;
    broker.submit(sent).await.unwrap();
    drop(broker);

    let broker = restart(&venue, kept).await;
    let open = broker.open_orders().await.unwrap();
    assert!(
        open.iter()
            .any(|o| o.client_id() == &entry && o.request.exits.is_none()),
        "{open:?}"
    );
    let recovered = broker.recover(&request).await.unwrap().unwrap();
    assert_eq!(recovered.status, OrderStatus::Open);
    assert_eq!(recovered.request.exits, request.exits);
    assert_eq!(ocos_posted(&venue), 0, "nothing to protect before it fills");
    venue.set_price(d("39900"));
    wait_until("the entry's OCO", || async { ocos_posted(&venue) == 1 }).await;
    broker.exits_settled().await;
    let now = working(&venue);
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(now
        .iter()
        .all(|o| o.quantity == d("0.01") && o.side == "SELL"));
    assert_eq!(ocos_posted(&venue), 1);
}
