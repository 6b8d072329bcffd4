//! The Binance user data stream's liveness: a connection that goes silent (half-open) or a
//! subscription the venue ends is a session that ended: polling covers, a new one starts.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binance_support;

use binance_support::{config, d, wait_until, Logs, KEY, SECRET};
use std::time::Duration;
use tradegraph_broker::live::binance::BinanceBroker;
use tradegraph_broker::live::Live;
use tradegraph_broker::Broker;
use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide};
use tradegraph_core::Symbol;
use tradegraph_testkit::venue::binance::BinanceVenue;

/// A venue and a broker that takes 300 ms of silence as a dead stream.
async fn start() -> (BinanceVenue, Live<BinanceBroker>) {
    let venue = BinanceVenue::start(KEY, SECRET).await.unwrap();
    venue.set_balance("USDT", d("10000"));
    venue.set_price(d("40000"));
    let mut config = config(&venue);
    config.stream_idle_timeout = Duration::from_millis(300);
    let broker = BinanceBroker::connect(
        config,
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    wait_until("the user data stream is up", || async {
        broker.stream_is_up()
    })
    .await;
    (venue, broker)
}

fn limit_buy(client: &str) -> OrderRequest {
    OrderRequest::limit(
        ClientOrderId::new(client).unwrap(),
        Symbol::new("BTCUSDT"),
        OrderSide::Buy,
        d("0.01"),
        d("39990"),
    )
}

#[tokio::test]
async fn a_silent_connection_is_taken_as_dead_and_its_fill_still_arrives_once() {
    let logs = Logs;
    logs.capture();
    let (venue, broker) = start().await;
    broker
        .submit(limit_buy("tg00000000000000l1"))
        .await
        .unwrap();
    // The broker pings: a healthy idle stream stays up past its idle timeout.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(venue.subscriptions(), 1, "a healthy stream is kept");
    // Half-open: the socket stays, nothing comes through it.
    venue.stall_streams();
    venue.set_price(d("39990"));
    wait_until("a new subscription after the silence", || async {
        venue.subscriptions() >= 2
    })
    .await;
    wait_until("the fill is booked", || async {
        broker.fills_since(0).await.unwrap().len() == 1
    })
    .await;
    wait_until("the reconnection is counted", || async {
        broker.reconnections() >= 1
    })
    .await;
    assert_eq!(broker.fills_since(0).await.unwrap().len(), 1, "once");
    assert!(logs.text().contains("said nothing"));
}

#[tokio::test]
async fn a_subscription_the_venue_ends_is_started_again() {
    let (venue, broker) = start().await;
    venue.terminate_streams();
    wait_until("a new subscription", || async {
        venue.subscriptions() == 2
    })
    .await;
    wait_until("the stream is up again", || async { broker.stream_is_up() }).await;
    broker
        .submit(limit_buy("tg00000000000000l2"))
        .await
        .unwrap();
    venue.set_price(d("39990"));
    wait_until("the fill is booked", || async {
        broker.fills_since(0).await.unwrap().len() == 1
    })
    .await;
}
