//! The Binance broker's refusals and failures, typed: one per reason, rate limits, bans,
//! clock skew, refused keys; and no canary key in any log line or error.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binance_support;

use binance_support::{assert_no_canary, config, d, start, Logs, KEY, SECRET};
use std::time::Duration;
use tradegraph_broker::live::binance::BinanceBroker;
use tradegraph_broker::live::VenueReason;
use tradegraph_broker::{Broker, BrokerError, PriceEvent};
use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::redact::Secret;
use tradegraph_core::{Symbol, Tick, Timestamp};
use tradegraph_testkit::venue::binance::{BinanceVenue, Failure};

fn market(id: &str, quantity: &str) -> OrderRequest {
    OrderRequest::market(
        ClientOrderId::new(id).unwrap(),
        Symbol::new("BTCUSDT"),
        OrderSide::Buy,
        d(quantity),
    )
}

fn posts(venue: &BinanceVenue) -> usize {
    venue
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v3/order")
        .count()
}

#[tokio::test]
async fn each_refusal_is_a_rejected_order_with_its_typed_reason() {
    let logs = Logs;
    logs.capture();
    let (venue, broker) = start().await;

    // Insufficient balance: 1 BTC at 40 000 with 10 000 USDT (the venue refuses, -2010).
    let order = broker
        .submit(market("tg000000000000r001", "1"))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Rejected);
    assert_eq!(
        order.reason.as_deref(),
        Some(VenueReason::InsufficientBalance.to_string().as_str())
    );

    // A filter checked before sending: nothing reaches the venue, the reason names it.
    let before = posts(&venue);
    let order = broker
        .submit(market("tg000000000000r002", "0.000001"))
        .await
        .unwrap();
    let reason = order.reason.clone().unwrap();
    assert_eq!(order.status, OrderStatus::Rejected);
    assert!(
        reason.starts_with("filter LOT_SIZE failed") && reason.contains("minQty 0.00001"),
        "{reason}"
    );
    assert_eq!(posts(&venue), before);
    // The notional of a market order needs the last price: the engine's market data gives it.
    let tick = Tick::new(Timestamp::EPOCH, d("40000"), d("1"));
    broker
        .on_market(&Symbol::new("BTCUSDT"), PriceEvent::Tick(&tick))
        .unwrap();
    let order = broker
        .submit(market("tg000000000000r003", "0.0001"))
        .await
        .unwrap();
    let reason = order.reason.unwrap();
    assert!(
        reason.starts_with("filter NOTIONAL failed: notional 0.0001 × 40000"),
        "{reason}"
    );
    assert_eq!(posts(&venue), before);

    // A filter the venue reports (-1013).
    venue.fail_next(
        "POST",
        "/api/v3/order",
        Failure::Reject {
            code: -1013,
            msg: "Filter failure: PERCENT_PRICE_BY_SIDE".into(),
        },
    );
    let order = broker
        .submit(market("tg000000000000r004", "0.01"))
        .await
        .unwrap();
    assert_eq!(
        order.reason.as_deref(),
        Some("filter PERCENT_PRICE_BY_SIDE failed: Filter failure: PERCENT_PRICE_BY_SIDE")
    );

    // Market closed.
    venue.set_trading(false);
    let order = broker
        .submit(market("tg000000000000r005", "0.01"))
        .await
        .unwrap();
    assert_eq!(
        (order.status, order.reason.as_deref()),
        (OrderStatus::Rejected, Some("the market is closed"))
    );
    venue.set_trading(true);

    // Anything else keeps Binance's code and message.
    venue.fail_next(
        "POST",
        "/api/v3/order",
        Failure::Reject {
            code: -1111,
            msg: "Precision is over the maximum defined for this asset.".into(),
        },
    );
    let order = broker
        .submit(market("tg000000000000r006", "0.01"))
        .await
        .unwrap();
    assert_eq!(
        order.reason.as_deref(),
        Some("venue error -1111: Precision is over the maximum defined for this asset.")
    );

    // A refusal is kept: asked again, the same rejected order, nothing sent.
    let again_before = posts(&venue);
    let again = broker
        .submit(market("tg000000000000r002", "0.000001"))
        .await
        .unwrap();
    assert_eq!(again.status, OrderStatus::Rejected);
    assert_eq!(posts(&venue), again_before);

    // Unknown orders.
    let unknown = ClientOrderId::new("tg000000000000r999").unwrap();
    assert!(matches!(
        broker.cancel(&unknown).await,
        Err(BrokerError::UnknownOrder(_))
    ));
    assert!(broker.order(&unknown).await.unwrap().is_none());

    // An auth failure mid-session is an error, not an order.
    venue.fail_next(
        "POST",
        "/api/v3/order",
        Failure::Reject {
            code: -2015,
            msg: format!("Invalid API-key {KEY}, IP, or permissions for action."),
        },
    );
    let err = broker
        .submit(market("tg000000000000r007", "0.01"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            BrokerError::Venue {
                reason: VenueReason::AuthExpired,
                ..
            }
        ),
        "{err}"
    );
    assert_no_canary(&err.to_string());
    logs.assert_clean();
}

#[tokio::test]
async fn a_429_is_waited_out_and_sent_again_after_retry_after() {
    let logs = Logs;
    logs.capture();
    let (venue, broker) = start().await;
    venue.fail_next(
        "POST",
        "/api/v3/order",
        Failure::RateLimited {
            retry_after_secs: 1,
        },
    );
    let order = broker
        .submit(market("tg000000000000q001", "0.01"))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Filled);
    let sent: Vec<_> = venue
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v3/order")
        .collect();
    assert_eq!(
        sent.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![429, 200]
    );
    assert!(sent[1].at.duration_since(sent[0].at) >= Duration::from_secs(1));
    // Never sent early (the venue would have banned it with 418).
    assert!(venue.requests().iter().all(|r| r.status != 418));
    // Each attempt was signed afresh.
    assert_ne!(sent[0].query, sent[1].query);
    assert!(venue.orders().len() == 1);
    logs.assert_clean();
}

#[tokio::test]
async fn a_418_stops_every_request_until_it_ends() {
    let (venue, broker) = start().await;
    venue.fail_next(
        "POST",
        "/api/v3/order",
        Failure::Banned {
            retry_after_secs: 30,
        },
    );
    let err = broker
        .submit(market("tg000000000000b001", "0.01"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            BrokerError::Venue {
                reason: VenueReason::RateLimited {
                    banned: true,
                    retry_after: Some(_)
                },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("banned"), "{err}");
    let sent = venue.requests().len();
    let err = broker.account().await.unwrap_err();
    assert!(
        matches!(
            &err,
            BrokerError::Venue {
                reason: VenueReason::RateLimited { banned: true, .. },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        venue.requests().len(),
        sent,
        "a request went out during the ban"
    );
}

#[tokio::test]
async fn a_clock_skew_is_measured_again_and_the_request_sent_once_more() {
    let (venue, broker) = start().await;
    venue.set_clock_skew(-20_000);
    let order = broker
        .submit(market("tg000000000000t001", "0.01"))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Filled);
    let after: Vec<(String, u16)> = venue
        .requests()
        .iter()
        .rev()
        .take(3)
        .map(|r| (r.path.clone(), r.status))
        .collect();
    assert_eq!(
        after,
        vec![
            ("/api/v3/order".to_owned(), 200),
            ("/api/v3/time".to_owned(), 200),
            ("/api/v3/order".to_owned(), 400)
        ]
    );
    assert_eq!(venue.orders().len(), 1);
}

#[tokio::test]
async fn refused_keys_fail_the_start_without_showing_them() {
    let logs = Logs;
    logs.capture();
    let venue = BinanceVenue::start(KEY, SECRET).await.unwrap();
    let mut wrong = config(&venue);
    wrong.api_secret = Secret::new(format!("{SECRET}x"));
    let err = BinanceBroker::connect(
        wrong,
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            &err,
            BrokerError::Venue {
                reason: VenueReason::AuthExpired,
                ..
            }
        ),
        "{err}"
    );
    assert_no_canary(&err.to_string());
    assert_no_canary(&format!("{err:?}"));
    // Every signed request carried the key header and a signature; none was accepted.
    let signed: Vec<_> = venue
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v3/account")
        .collect();
    assert_eq!(
        signed.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![400]
    );
    assert_eq!(signed[0].api_key.as_deref(), Some(KEY));
    let text = logs.text();
    assert!(
        !text.contains(&SECRET[..16]) && !text.contains(&KEY[..16]),
        "a canary was logged"
    );
}

#[tokio::test]
async fn the_configuration_names_the_field_that_cannot_work() {
    let venue = BinanceVenue::start(KEY, SECRET).await.unwrap();
    let mut bad = config(&venue);
    bad.recv_window_ms = 90_000;
    let err = BinanceBroker::connect(
        bad,
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("recv_window_ms") && err.contains("60000"),
        "{err}"
    );
    let mut bad = config(&venue);
    bad.api_key = Secret::new("");
    let err = BinanceBroker::connect(
        bad,
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("api_key") && err.contains("BINANCE_API_KEY"),
        "{err}"
    );
    assert!(venue.requests().is_empty());
}

/// A 418 whose `Retry-After` is past what a clock can hold (`u64::MAX` seconds) is a ban like
/// any other, not a panic in the order path: the submit gets the ban, and later calls are
/// refused without reaching the venue.
#[tokio::test]
async fn a_418_with_an_absurd_retry_after_is_a_ban_not_a_panic() {
    let (venue, broker) = start().await;
    venue.fail_next(
        "POST",
        "/api/v3/order",
        Failure::Banned {
            retry_after_secs: u64::MAX,
        },
    );
    let err = broker
        .submit(market("tg000000000000b002", "0.01"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            BrokerError::Venue {
                reason: VenueReason::RateLimited { banned: true, .. },
                ..
            }
        ),
        "{err}"
    );
    let sent = venue.requests().len();
    let err = broker.account().await.unwrap_err();
    assert!(
        matches!(
            &err,
            BrokerError::Venue {
                reason: VenueReason::RateLimited { banned: true, .. },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(venue.requests().len(), sent, "nothing sent while banned");
}

/// A `serverTime` far from this machine's clock (here `i64::MIN`: a garbled answer) is an
/// error naming it, not an overflow that signs every later request with a wrong timestamp.
#[tokio::test]
async fn a_server_time_past_a_day_away_is_refused_naming_it() {
    let venue = BinanceVenue::start(KEY, SECRET).await.unwrap();
    venue.fail_next(
        "GET",
        "/api/v3/time",
        Failure::Body(r#"{"serverTime":-9223372036854775808}"#.to_owned()),
    );
    let err = BinanceBroker::connect(
        config(&venue),
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(err.contains("serverTime"), "{err}");
    assert!(err.contains("clock"), "{err}");
}
