//! The Binance broker paces its requests by `X-MBX-USED-WEIGHT-1M`: near the limit it sends
//! nothing more until the venue's next minute instead of going over it. A call that would have
//! to wait longer than the client's longest in-call wait (2 s: an order call must not hold the
//! engine's loop) is refused as rate limited, saying how long to wait.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binance_support;

use binance_support::{config, d, wait_until};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tradegraph_broker::live::binance::BinanceBroker;
use tradegraph_broker::live::VenueReason;
use tradegraph_broker::{Broker, BrokerError};
use tradegraph_testkit::venue::binance::{BinanceVenue, WEIGHT_LIMIT};

fn minute(ms: i64) -> i64 {
    ms.div_euclid(60_000)
}

/// A broker settled on a venue whose clock stands 55 s into a minute, and whose other clients
/// on the IP used 4 790 of the 6 000 (the broker keeps 80 %: 4 800).
async fn near_the_limit() -> (BinanceVenue, tradegraph_broker::live::Live<BinanceBroker>) {
    let venue = BinanceVenue::start(binance_support::KEY, binance_support::SECRET)
        .await
        .unwrap();
    venue.set_balance("USDT", d("10000"));
    venue.set_price(d("40000"));
    let mut config = config(&venue);
    // The broker measures the venue's clock before every signed call: the test moves it.
    config.time_sync_every = std::time::Duration::from_millis(1);
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
    // The start's catch-up poll (once after the stream comes up) is over. Not "an
    // `openOrders` was seen": a poll made while the stream was still down sends one too, and
    // the catch-up poll after it would then land on the weight set below.
    wait_until("the start's polling is over", || async {
        broker.caught_up()
    })
    .await;
    // The broker has settled: the venue's clock now 55 s into a minute, and other clients
    // on the IP used 4 790 of the 6 000 (the broker keeps 80 %: 4 800).
    let wall = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    venue.set_clock_skew((55_000 - wall.rem_euclid(60_000)).rem_euclid(60_000));
    venue.set_used_weight(4_790);
    (venue, broker)
}

#[tokio::test]
async fn near_the_weight_limit_nothing_is_sent_until_the_venues_next_minute() {
    let (venue, broker) = near_the_limit().await;
    let before = venue.requests().len();
    broker.account().await.unwrap(); // the time (1) and the account (20): 4 811 reported
                                     // The next call would have to wait about 5 s, for the venue's next minute: refused, with
                                     // the wait, and nothing sent.
    let sent = venue.requests().len();
    let refused = broker.account().await.unwrap_err();
    let wait = match &refused {
        BrokerError::Venue {
            reason:
                VenueReason::RateLimited {
                    retry_after: Some(wait),
                    banned: false,
                },
            ..
        } => *wait,
        other => panic!("expected rate limited with a wait, got {other}"),
    };
    assert!(
        wait > Duration::from_secs(2) && wait <= Duration::from_secs(6),
        "{wait:?}"
    );
    assert_eq!(venue.requests().len(), sent, "nothing was sent");
    // Once the wait is over, the call goes through, in the venue's next minute.
    tokio::time::sleep(wait).await;
    broker.account().await.unwrap();

    let requests = venue.requests();
    // The first answer that reported the weight at the broker's headroom (4 800).
    let h = before
        + requests[before..]
            .iter()
            .position(|r| r.used_weight >= 4_800)
            .expect("the venue reported the weight near the limit");
    let heavy = &requests[h];
    assert_eq!(heavy.path, "/api/v3/account");
    assert_eq!(
        heavy.used_weight, 4_811,
        "the time call's 1 and the account call's 20 on top of 4 790"
    );
    let after = &requests[h + 1..];
    assert!(!after.is_empty(), "the second call reached the venue");
    for r in after {
        assert!(
            minute(r.server_ms) > minute(heavy.server_ms),
            "{} {} arrived {} ms into the minute that had reached the weight limit",
            r.method,
            r.path,
            r.server_ms.rem_euclid(60_000)
        );
        assert!(r.used_weight <= WEIGHT_LIMIT);
    }
    // Nothing was ever refused for weight.
    assert!(requests.iter().all(|r| r.status != 429 && r.status != 418));
    assert!(requests.iter().all(|r| r.used_weight <= WEIGHT_LIMIT));
}

#[tokio::test]
async fn the_venue_refuses_weight_over_its_limit_with_429() {
    // The venue fixture itself: over 6 000 in a minute is a 429 with Retry-After, so a broker
    // that did not wait would be caught by the test above.
    let venue = BinanceVenue::start(binance_support::KEY, binance_support::SECRET)
        .await
        .unwrap();
    venue.set_used_weight(WEIGHT_LIMIT);
    // reqwest wants a TLS provider even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let reply = reqwest::get(format!("{}/api/v3/time", venue.url()))
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 429);
    assert!(reply.headers().contains_key("retry-after"));
    assert_eq!(
        venue.requests().last().unwrap().used_weight,
        WEIGHT_LIMIT + 1
    );
}

/// An order refused for weight before it reached the venue is not kept as an order of unknown
/// outcome (a close taken for one "still working" would hold the kill switch's close back for
/// minutes): it is not tracked, and the same id goes out once the wait is over.
#[tokio::test]
async fn an_order_refused_for_weight_is_not_tracked_and_goes_out_after_the_wait() {
    use tradegraph_broker::live::venue::VenueBroker;
    use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide, OrderStatus};
    let (venue, broker) = near_the_limit().await;
    broker.account().await.unwrap(); // 4 811 reported: the headroom is spent
    let id = ClientOrderId::new("tg0000000000000rl1").unwrap();
    let buy = OrderRequest::market(
        id.clone(),
        tradegraph_core::Symbol::new("BTCUSDT"),
        OrderSide::Buy,
        d("0.01"),
    );
    let wait = match broker.submit(buy.clone()).await.unwrap_err() {
        BrokerError::Venue {
            reason:
                VenueReason::RateLimited {
                    retry_after: Some(wait),
                    ..
                },
            ..
        } => wait,
        other => panic!("expected rate limited with a wait, got {other}"),
    };
    assert!(
        !venue.requests().iter().any(|r| r.path == "/api/v3/order"),
        "nothing was sent"
    );
    assert_eq!(broker.book().order(&id), None, "not tracked: it never left");
    tokio::time::sleep(wait).await;
    let placed = broker.submit(buy).await.unwrap();
    assert_eq!(placed.status, OrderStatus::Filled, "{placed:?}");
    assert_eq!(
        venue
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/api/v3/order")
            .count(),
        1
    );
}
