//! The Binance broker's requests in its log: each one at debug, the keys masked, the
//! signature replaced; and trailing stops checked against `TRAILING_DELTA` on both sides.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binance_support;

use binance_support::{d, start, wait_until, Logs};
use tradegraph_broker::Broker;
use tradegraph_core::order::{ClientOrderId, OrderKind, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::Symbol;

fn id(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

/// The query as the log shows it: the signature's value replaced.
fn masked(query: &str) -> String {
    let (head, signature) = query.rsplit_once("&signature=").unwrap();
    assert_eq!(signature.len(), 64, "an HMAC-SHA256 in hex");
    format!("{head}&signature=***")
}

#[tokio::test]
async fn every_request_is_logged_at_debug_with_the_secrets_masked() {
    let logs = Logs;
    logs.capture();
    let (venue, broker) = start().await;
    let entry = id("tg00000000000000m1");
    let request = OrderRequest::limit(
        entry.clone(),
        Symbol::new("BTCUSDT"),
        OrderSide::Buy,
        d("0.01"),
        d("39000"),
    );
    broker.submit(request).await.unwrap();
    broker.cancel(&entry).await.unwrap();
    broker.account().await.unwrap();

    let text = logs.text();
    let requests = venue.requests();
    let signed: Vec<_> = requests
        .iter()
        .filter(|r| r.query.contains("&signature="))
        .collect();
    assert!(
        signed.len() >= 4,
        "the test saw signed requests: {}",
        signed.len()
    );
    for r in &requests {
        let shown = if r.query.is_empty() {
            format!("{} {}{}", r.method, venue.url(), r.path)
        } else if r.query.contains("&signature=") {
            format!(
                "{} {}{}?{}",
                r.method,
                venue.url(),
                r.path,
                masked(&r.query)
            )
        } else {
            format!("{} {}{}?{}", r.method, venue.url(), r.path, r.query)
        };
        let line = text
            .lines()
            .find(|l| l.contains("venue request") && l.contains(&format!("request={shown}")))
            .unwrap_or_else(|| panic!("no log line for {shown}"));
        assert!(line.contains("DEBUG"), "{line}");
        if let Some((_, signature)) = r.query.rsplit_once("&signature=") {
            assert!(!text.contains(signature), "a signature was logged: {shown}");
        }
    }
    // The WebSocket subscription is logged as well, its key masked and its signature replaced.
    let subscribe = text
        .lines()
        .find(|l| l.contains("venue request") && l.contains("userDataStream.subscribe.signature"))
        .expect("the subscription is logged");
    assert!(
        subscribe.contains("DEBUG") && subscribe.contains(r#""signature":"***""#),
        "{subscribe}"
    );
    logs.assert_clean();
}

#[tokio::test]
async fn a_trailing_stop_outside_trailing_delta_is_refused_before_it_is_sent() {
    let (venue, broker) = start().await;
    assert_eq!(
        broker
            .rules()
            .trailing_delta
            .map(|f| (f.min_below, f.max_below)),
        Some((10, 2000)),
        "the filter is read from exchangeInfo"
    );
    let trailing = |client: &str, distance: &str| {
        OrderRequest::new(
            id(client),
            Symbol::new("BTCUSDT"),
            OrderSide::Sell,
            d("0.01"),
            OrderKind::TrailingStop {
                distance: d(distance),
            },
        )
    };
    // A fill gives the broker its last price (40 000), which a trailing distance needs.
    broker
        .submit(OrderRequest::market(
            id("tg00000000000000t0"),
            Symbol::new("BTCUSDT"),
            OrderSide::Buy,
            d("0.01"),
        ))
        .await
        .unwrap();
    let before = venue.requests().len();
    // 10 000 behind 40 000 is 25 % = 2 500 BIPS, over maxTrailingBelowDelta 2 000.
    let wide = broker
        .submit(trailing("tg00000000000000t1", "10000"))
        .await
        .unwrap();
    assert_eq!(wide.status, OrderStatus::Rejected);
    let reason = wide.reason.clone().unwrap();
    assert!(
        reason.contains("TRAILING_DELTA")
            && reason.contains("2500")
            && reason.contains("maxTrailingBelowDelta 2000"),
        "{reason}"
    );
    // 20 behind 40 000 is 5 BIPS, under minTrailingBelowDelta 10.
    let narrow = broker
        .submit(trailing("tg00000000000000t2", "20"))
        .await
        .unwrap();
    let reason = narrow.reason.clone().unwrap();
    assert!(
        reason.contains("minTrailingBelowDelta 10") && reason.contains(" 5 BIPS"),
        "{reason}"
    );
    assert!(
        venue.requests()[before..]
            .iter()
            .all(|r| r.method != "POST"),
        "a refused order is never sent"
    );
    // Inside the bounds it is sent, with its delta.
    let ok = broker
        .submit(trailing("tg00000000000000t3", "800"))
        .await
        .unwrap();
    assert_eq!(ok.status, OrderStatus::Open);
    wait_until("the trailing stop is at the venue", || async {
        venue.orders().iter().any(|o| o.trailing_delta == 200)
    })
    .await;
}

#[tokio::test]
async fn the_venue_enforces_trailing_delta_by_side_and_type() {
    use tradegraph_testkit::venue::binance::{BinanceVenue, Rules};
    let rules = Rules {
        trailing_delta: (10, 3000, 10, 1000),
        ..Rules::default()
    };
    let venue = BinanceVenue::start_with(binance_support::KEY, binance_support::SECRET, rules)
        .await
        .unwrap();
    venue.set_balance("BTC", d("1"));
    venue.set_balance("USDT", d("100000"));
    venue.set_price(d("40000"));
    // reqwest wants a TLS provider even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let send = |side: &str, delta: u32| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let query = format!(
            "symbol=BTCUSDT&side={side}&type=STOP_LOSS&quantity=0.01&trailingDelta={delta}&recvWindow=5000&timestamp={now}"
        );
        let signature = venue.sign(&query);
        client
            .post(format!(
                "{}/api/v3/order?{query}&signature={signature}",
                venue.url()
            ))
            .header("X-MBX-APIKEY", binance_support::KEY)
            .send()
    };
    // 2 000 BIPS: a SELL stop triggers below (max 1 000), a BUY stop above (max 3 000).
    let sell = send("SELL", 2000).await.unwrap();
    assert_eq!(sell.status().as_u16(), 400);
    let body = sell.text().await.unwrap();
    assert!(
        body.contains("-1013") && body.contains("TRAILING_DELTA"),
        "{body}"
    );
    let buy = send("BUY", 2000).await.unwrap();
    assert_eq!(buy.status().as_u16(), 200, "{}", buy.text().await.unwrap());
    let sell = send("SELL", 1000).await.unwrap();
    assert_eq!(
        sell.status().as_u16(),
        200,
        "{}",
        sell.text().await.unwrap()
    );
}
