//! The Binance account as the risk guard reads it: the day's opening equity stays what the
//! day opened with, so a loss during the day is a daily loss (Binance keeps no opening equity).
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binance_support;

use binance_support::{d, start};
use tradegraph_broker::Broker;
use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::{Symbol, Tick, Timestamp};

#[tokio::test]
async fn a_loss_during_the_day_shows_against_the_days_opening_equity() {
    let (venue, broker) = start().await;
    let opened = broker.account().await.unwrap();
    assert_eq!(opened.day_start_equity, opened.equity);
    assert!(opened.day_started_at.is_some());
    let id = ClientOrderId::new("tg00000000000000a1").unwrap();
    let buy = OrderRequest::market(id, Symbol::new("BTCUSDT"), OrderSide::Buy, d("0.1"));
    assert_eq!(
        broker.submit(buy).await.unwrap().status,
        OrderStatus::Filled
    );
    // The price falls 10 %: 0.1 BTC lose 400 USDT.
    venue.set_price(d("36000"));
    // The broker values the position at the last price it was given.
    let tick = Tick::new(Timestamp::from_millis(1), d("36000"), d("1"));
    broker
        .on_market(&Symbol::new("BTCUSDT"), (&tick).into())
        .unwrap();
    let later = broker.account().await.unwrap();
    assert_eq!(
        later.day_start_equity, opened.equity,
        "the day opened there"
    );
    assert!(
        later.equity < opened.equity - d("300"),
        "{} then {}",
        opened.equity,
        later.equity
    );
    let loss = later.daily_loss_pct().unwrap();
    assert!(loss > d("3"), "{loss}");
}

/// Balances whose value overflows a decimal (a venue's garbled answer) are an error naming
/// what overflowed, not a panic.
#[tokio::test]
async fn balances_that_overflow_are_an_error_naming_them() {
    let (venue, broker) = start().await;
    // 1e23 BTC at 10 000 000 is past what a decimal holds (7.9e28).
    venue.set_balance("BTC", d("99999999999999999999999"));
    let tick = Tick::new(Timestamp::from_millis(1), d("10000000"), d("1"));
    broker
        .on_market(&Symbol::new("BTCUSDT"), (&tick).into())
        .unwrap();
    let err = broker.account().await.unwrap_err().to_string();
    assert!(err.contains("overflows"), "{err}");
    assert!(err.contains("position"), "{err}");
    let err = broker.positions().await.unwrap_err().to_string();
    assert!(err.contains("overflows"), "{err}");
}
