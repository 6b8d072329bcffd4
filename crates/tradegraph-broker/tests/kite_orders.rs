//! The Kite broker against the local venue: GTT exits after the fill, trailing stops, partial
//! fills, idempotent submits, the nearest-month future.
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod kite_support;

use kite_support::{bank, config, d, id, start, wait_until, Logs, KEY, SECRET, TOKEN};
use tradegraph_broker::live::kite::KiteBroker;
use tradegraph_broker::live::venue::VenueBroker;
use tradegraph_broker::{Broker, BrokerError, PriceEvent};
use tradegraph_core::order::{Exits, Leg, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::{Tick, Timestamp};
use tradegraph_testkit::venue::kite::KiteVenue;

#[tokio::test]
async fn stop_and_target_go_out_as_a_gtt_oco_after_the_fill_and_the_target_fills() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000a1");
    let request = OrderRequest::market(entry.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48500")));
    broker.submit(request).await.unwrap();
    wait_until("the GTT is placed", || async { venue.gtts().len() == 1 }).await;
    let gtt = &venue.gtts()[0];
    assert_eq!(
        (gtt.kind.as_str(), gtt.status.as_str()),
        ("two-leg", "active")
    );
    assert_eq!(gtt.trigger_values, vec![d("47900"), d("48500")]);
    assert_eq!(
        gtt.prices,
        vec![d("47660.5"), d("48500")],
        "LIMIT legs, the stop's 0.5 % (the protection band) past its trigger"
    );
    // The GTT went out only after the entry's trades were read.
    let paths: Vec<String> = venue
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let gtt_at = paths
        .iter()
        .position(|p| p == "POST /gtt/triggers")
        .unwrap();
    let trades_at = paths.iter().position(|p| p.ends_with("/trades")).unwrap();
    assert!(trades_at < gtt_at, "{paths:?}");
    let working = broker.open_orders().await.unwrap();
    let legs: Vec<_> = working.iter().map(|o| o.client_id().clone()).collect();
    assert!(
        legs.contains(&entry.child(Leg::StopLoss)) && legs.contains(&entry.child(Leg::TakeProfit)),
        "{legs:?}"
    );

    venue.set_price(d("48500"));
    wait_until("the target fills", || async {
        broker.fills_since(0).await.unwrap().len() == 2
    })
    .await;
    let fills = broker.fills_since(0).await.unwrap();
    assert_eq!(
        (fills[0].client_id.clone(), fills[0].seq, fills[0].price),
        (entry.clone(), 1, d("48200"))
    );
    assert_eq!(fills[1].client_id, entry.child(Leg::TakeProfit));
    assert_eq!(
        (
            fills[1].seq,
            fills[1].side,
            fills[1].price,
            fills[1].quantity
        ),
        (2, OrderSide::Sell, d("48500"), d("30"))
    );
    assert_eq!(venue.gtts()[0].status, "triggered");
    assert_eq!(
        venue.gtts()[0].placed[0],
        None,
        "the stop leg never went out"
    );
    assert_eq!(
        broker
            .order(&entry.child(Leg::TakeProfit))
            .await
            .unwrap()
            .unwrap()
            .status,
        OrderStatus::Filled
    );
    logs.assert_clean();
}

#[tokio::test]
async fn a_trailing_stop_moves_its_sl_order_by_whole_steps_and_never_back() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000a2");
    let request = OrderRequest::market(entry.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::default().with_trailing(d("100")));
    broker.submit(request).await.unwrap();
    let trail = entry.child(Leg::TrailingStop);
    let trigger_of = |venue: &KiteVenue| {
        venue
            .orders()
            .iter()
            .find(|o| o.tag.as_deref() == Some(trail.as_str()))
            .map(|o| (o.order_type.clone(), o.trigger_price))
    };
    wait_until("the SL order is placed", || async {
        trigger_of(&venue).is_some()
    })
    .await;
    assert_eq!(trigger_of(&venue).unwrap(), ("SL-M".to_owned(), d("48100")));
    // The market moves at the venue and in the broker's feed alike.
    let tick = |price: &str| {
        venue.set_price(d(price));
        Tick::new(Timestamp::from_millis(1), d(price), d("1"))
    };
    broker
        .on_market(&bank(), PriceEvent::Tick(&tick("48300.02")))
        .unwrap();
    wait_until("the stop moves up", || async {
        trigger_of(&venue).unwrap().1 == d("48200")
    })
    .await;
    let puts = || {
        venue
            .requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .count()
    };
    assert_eq!(puts(), 1);
    // Lower prices do not move it back; another instrument's price does not move it at all.
    broker
        .on_market(&bank(), PriceEvent::Tick(&tick("48250")))
        .unwrap();
    let elsewhere = Tick::new(Timestamp::from_millis(1), d("60000"), d("1"));
    broker
        .on_market(
            &tradegraph_core::Symbol::new("NIFTY"),
            PriceEvent::Tick(&elsewhere),
        )
        .unwrap();
    broker
        .on_market(&bank(), PriceEvent::Tick(&tick("48400")))
        .unwrap();
    wait_until("the stop moves again", || async {
        trigger_of(&venue).unwrap().1 == d("48300")
    })
    .await;
    assert_eq!(puts(), 2);
    venue.set_price(d("48290"));
    wait_until("the stop fills", || async {
        broker.fills_since(0).await.unwrap().len() == 2
    })
    .await;
    let fills = broker.fills_since(0).await.unwrap();
    assert_eq!(
        (fills[1].client_id.clone(), fills[1].side),
        (trail, OrderSide::Sell)
    );
    logs.assert_clean();
}

#[tokio::test]
async fn partial_fills_are_numbered_once_whether_streamed_or_polled() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let order = id("tg00000000000000a3");
    let placed = broker
        .submit(OrderRequest::limit(
            order.clone(),
            bank(),
            OrderSide::Buy,
            d("60"),
            d("48100"),
        ))
        .await
        .unwrap();
    // Taken by Kite (`Pending`), or `Open` when the socket's update came first.
    assert!(
        matches!(placed.status, OrderStatus::Pending | OrderStatus::Open),
        "{placed:?}"
    );
    let open = broker.order(&order).await.unwrap().unwrap();
    assert_eq!(open.status, OrderStatus::Open);
    venue.fill_partially(d("30"));
    venue.set_price(d("48100"));
    wait_until("the first part fills", || async {
        broker.fills_since(0).await.unwrap().len() == 1
    })
    .await;
    assert_eq!(
        broker.order(&order).await.unwrap().unwrap().status,
        OrderStatus::PartiallyFilled
    );
    venue.set_price(d("48050"));
    wait_until("the rest fills", || async {
        broker.fills_since(0).await.unwrap().len() == 2
    })
    .await;
    // Polling reports the same trades again: nothing is booked twice.
    broker.open_orders().await.unwrap();
    let fills = broker.fills_since(0).await.unwrap();
    let seqs: Vec<u64> = fills.iter().map(|f| f.seq).collect();
    assert_eq!(seqs, [1, 2]);
    assert_eq!((fills[0].price, fills[1].price), (d("48100"), d("48050")));
    let done = broker.order(&order).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.filled_quantity),
        (OrderStatus::Filled, d("60"))
    );
    assert_eq!(broker.book().last_seq(), 2);
    logs.assert_clean();
}

#[tokio::test]
async fn the_same_client_id_twice_is_one_order_even_after_a_restart() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let order = id("tg00000000000000a4");
    let request = OrderRequest::limit(order.clone(), bank(), OrderSide::Buy, d("30"), d("48000"));
    let first = broker.submit(request.clone()).await.unwrap();
    let again = broker.submit(request.clone()).await.unwrap();
    assert_eq!(first.id, again.id);
    // A broker with an empty book (a crash before the book was saved) finds it by its tag.
    drop(broker);
    let restarted = KiteBroker::connect(
        config(&venue),
        bank(),
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    let found = restarted.submit(request).await.unwrap();
    assert_eq!(found.id, first.id);
    assert_eq!(venue.orders().len(), 1);
    let other = OrderRequest::limit(order.clone(), bank(), OrderSide::Sell, d("30"), d("48000"));
    assert!(matches!(
        restarted.submit(other).await,
        Err(BrokerError::DuplicateClientOrderId(_))
    ));
    // Same side and quantity, another price or kind: another order, not this one.
    let repriced = OrderRequest::limit(order.clone(), bank(), OrderSide::Buy, d("30"), d("47900"));
    let market = OrderRequest::market(order.clone(), bank(), OrderSide::Buy, d("30"));
    for different in [repriced, market] {
        assert!(matches!(
            restarted.submit(different).await,
            Err(BrokerError::DuplicateClientOrderId(_))
        ));
    }
    assert_eq!(venue.orders().len(), 1);
    logs.assert_clean();
}

#[tokio::test]
async fn an_underlying_trades_its_nearest_month_future_rolled_before_expiry() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let venue = KiteVenue::start(KEY, SECRET, TOKEN).await.unwrap();
    let mut by_name = config(&venue);
    by_name.tradingsymbol = "BANKNIFTY".into();
    // The contract expiring in 2 days is within the 3-day roll: the next one is traded.
    let broker = KiteBroker::connect(
        by_name.clone(),
        bank(),
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    assert_eq!(broker.tradingsymbol(), venue.tradingsymbol());
    assert_eq!(
        (broker.rules().lot_size, broker.rules().tick_size),
        (30, d("0.05"))
    );
    by_name.roll_days = 1;
    let near = KiteBroker::connect(
        by_name.clone(),
        bank(),
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    assert_ne!(near.tradingsymbol(), venue.tradingsymbol());
    assert!(near.tradingsymbol().starts_with("BANKNIFTY") && near.tradingsymbol().ends_with("FUT"));
    by_name.tradingsymbol = "FINNIFTY".into();
    let missing = KiteBroker::connect(
        by_name,
        bank(),
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        missing.contains("FINNIFTY") && missing.contains("instruments"),
        "{missing}"
    );
    logs.assert_clean();
}

#[tokio::test]
async fn when_the_price_already_left_the_band_the_stop_alone_goes_out() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000a5");
    // The entry fills at 48 200, above its target: a GTT cannot straddle the price.
    let request = OrderRequest::market(entry.clone(), bank(), OrderSide::Buy, d("30"))
        .with_exits(Exits::stop(d("47900")).with_take_profit(d("48150")));
    broker.submit(request).await.unwrap();
    let stop = entry.child(Leg::StopLoss);
    wait_until("the stop is placed", || async {
        venue
            .orders()
            .iter()
            .any(|o| o.tag.as_deref() == Some(stop.as_str()))
    })
    .await;
    let placed = venue
        .orders()
        .into_iter()
        .find(|o| o.tag.as_deref() == Some(stop.as_str()))
        .unwrap();
    assert_eq!(
        (
            placed.order_type.as_str(),
            placed.trigger_price,
            placed.side.as_str()
        ),
        ("SL-M", d("47900"), "SELL")
    );
    assert!(venue.gtts().is_empty());
    assert!(logs.text().contains("placing the stop alone"));
    logs.assert_clean();
}

/// The margin a position blocks is not a loss: Kite's `net` (the margin left) drops by it, and
/// the account's equity, from which the guard measures the day's loss, does not; it moves with
/// the position's P&L.
#[tokio::test]
async fn the_margin_a_lot_blocks_is_not_a_loss_of_equity() {
    let (venue, broker) = start().await;
    venue.set_margin_pct(d("12"));
    let before = broker.account().await.unwrap();
    assert_eq!(before.equity, d("1000000"));
    broker
        .submit(OrderRequest::market(
            id("tg00000000000000m1"),
            bank(),
            OrderSide::Buy,
            d("30"),
        ))
        .await
        .unwrap();
    let after = broker.account().await.unwrap();
    // 30 at 48,200 block 12%: 173,520 of margin, which is not a loss
    assert_eq!(after.equity, d("1000000"), "{after:?}");
    assert_eq!(after.day_start_equity, before.equity);
    assert!(
        after.daily_loss_pct().is_none_or(|loss| loss.is_zero()),
        "{:?}",
        after.daily_loss_pct()
    );
}

/// A trailing stop placed, its target's placement failed and tried again: the stop keeps the
/// trail it made meanwhile (a try again does not start it over from the fill, which would move
/// the stop at Kite back down).
#[tokio::test]
async fn a_trailing_stop_keeps_its_trail_while_its_target_is_tried_again() {
    use tradegraph_testkit::venue::kite::Failure;
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    venue.fail_next("POST", "/orders/regular", Failure::Pass); // the entry
    venue.fail_next("POST", "/orders/regular", Failure::Pass); // the trailing stop
    venue.fail_next("POST", "/orders/regular", Failure::ServerError); // the target
    let entry = id("tg00000000000000t5");
    broker
        .submit(
            OrderRequest::market(entry.clone(), bank(), OrderSide::Buy, d("30")).with_exits(
                Exits::default()
                    .with_trailing(d("100"))
                    .with_take_profit(d("48500")),
            ),
        )
        .await
        .unwrap();
    let trail = entry.child(Leg::TrailingStop);
    let trigger = |venue: &KiteVenue| {
        venue
            .orders()
            .iter()
            .find(|o| o.tag.as_deref() == Some(trail.as_str()))
            .map(|o| o.trigger_price)
    };
    wait_until("the SL order is placed", || async {
        trigger(&venue).is_some()
    })
    .await;
    assert_eq!(trigger(&venue), Some(d("48100")));
    let tick = |price: &str| {
        venue.set_price(d(price));
        Tick::new(Timestamp::from_millis(1), d(price), d("1"))
    };
    broker
        .on_market(&bank(), PriceEvent::Tick(&tick("48350")))
        .unwrap();
    wait_until("the stop trails up", || async {
        trigger(&venue) == Some(d("48250"))
    })
    .await;
    // The exits are tried again meanwhile (the target's answer was lost: Kite is asked for it
    // until it shows it or the wait for it is over), once at least after the stop trailed.
    let tries = || {
        logs.text()
            .matches("the exits of a filled entry could not be placed")
            .count()
    };
    let before = tries();
    // (twice: a try that began before the stop trailed may log after `before` was read)
    wait_until("the exits tried again", || async { tries() >= before + 2 }).await;
    // A lower price moves nothing back.
    broker
        .on_market(&bank(), PriceEvent::Tick(&tick("48300")))
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(trigger(&venue), Some(d("48250")));
    logs.assert_clean();
}
