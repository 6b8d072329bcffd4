//! Encoding a Binance order and signing it: the symbol's filters, the query string and the
//! HMAC-SHA256 signature, as the broker does before every `POST /api/v3/order`; and "order on
//! the wire": from `BinanceBroker::submit` of a MARKET order until the local venue has the
//! request (its arrival instant in the venue's request log), over 2 000 orders.
//!
//! Run: `cargo bench -p tradegraph-broker --features binance --bench binance`. The figures are
//! printed beside their targets (<= 10 us per order encoded and signed; p99 < 5 ms on the
//! wire); they are not asserted.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tradegraph_broker::live::binance::{
    encode_order, parse_exchange_info, BinanceBroker, BinanceConfig, Query, Signer, SymbolRules,
};
use tradegraph_broker::Broker;
use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::redact::Secret;
use tradegraph_core::{Decimal, Instrument, Symbol};
use tradegraph_testkit::venue::binance::BinanceVenue;

const TARGET_NS: f64 = 10_000.0;
const WIRE_ORDERS: usize = 2_000;
const WIRE_TARGET: Duration = Duration::from_millis(5);

const INFO: &str = r#"{"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT",
"orderTypes":["LIMIT","LIMIT_MAKER","MARKET","STOP_LOSS","STOP_LOSS_LIMIT","TAKE_PROFIT","TAKE_PROFIT_LIMIT"],
"ocoAllowed":true,"allowTrailingStop":true,"filters":[
{"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},
{"filterType":"LOT_SIZE","minQty":"0.00001000","maxQty":"9000.00000000","stepSize":"0.00001000"},
{"filterType":"MARKET_LOT_SIZE","minQty":"0.00000000","maxQty":"100.00000000","stepSize":"0.00000000"},
{"filterType":"NOTIONAL","minNotional":"5.00000000","applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5},
{"filterType":"PERCENT_PRICE_BY_SIDE","bidMultiplierUp":"5","bidMultiplierDown":"0.2","askMultiplierUp":"5","askMultiplierDown":"0.2","avgPriceMins":5}]}]}"#;

fn encode_and_sign(rules: &SymbolRules, signer: &Signer, request: &OrderRequest) -> String {
    let encoded = encode_order(request, rules, Some(Decimal::from(40_000)), 50).unwrap();
    let mut query = Query::with_capacity(256);
    encoded.write("BTCUSDT", request.client_id.as_str(), &mut query);
    query
        .push_num("recvWindow", 5_000)
        .push_num("timestamp", 1_767_225_600_000_i64);
    signer.sign(&mut query);
    query.into_string()
}

fn binance(c: &mut Criterion) {
    let rules = parse_exchange_info(INFO, "BTCUSDT").unwrap();
    let signer = Signer::new(&Secret::new(
        "bench-secret-0123456789abcdef0123456789abcdef",
    ));
    let request = OrderRequest::limit(
        ClientOrderId::new("tg0123456789abcdef").unwrap(),
        Symbol::new("BTCUSDT"),
        OrderSide::Buy,
        "0.0123456".parse().unwrap(),
        "40000.123".parse().unwrap(),
    );
    let query = encode_and_sign(&rules, &signer, &request);
    assert!(query.contains("quantity=0.01234&price=40000.12&") && query.contains("&signature="));

    c.bench_function("binance: encode and sign a LIMIT order", |b| {
        b.iter(|| encode_and_sign(&rules, &signer, black_box(&request)));
    });

    let rounds = 100_000;
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(encode_and_sign(&rules, &signer, black_box(&request)));
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(rounds);
    let verdict = if ns <= TARGET_NS { "met" } else { "MISSED" };
    println!(
        "binance: {ns:.0} ns to encode and sign an order (target <= {:.0} us: {verdict})",
        TARGET_NS / 1_000.0
    );
}

/// The `q`-quantile of sorted durations (nearest rank).
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((sorted.len() as f64) * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `submit` of a MARKET order until the venue has the request, `WIRE_ORDERS` times in a row.
fn order_on_the_wire(_: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut latencies = runtime.block_on(async {
        let (key, secret) = ("bench-key-0123456789", "bench-secret-0123456789abcdef");
        let venue = BinanceVenue::start(key, secret).await.unwrap();
        venue.set_balance("USDT", Decimal::from(100_000_000));
        venue.set_price(Decimal::from(40_000));
        let config = BinanceConfig::new(
            Secret::new(key),
            Secret::new(secret),
            Instrument::btc_usdt(),
        )
        .with_urls(venue.url(), venue.ws_url());
        let broker = BinanceBroker::connect(
            config,
            None,
            tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
        )
        .await
        .unwrap();
        let mut sent = HashMap::with_capacity(WIRE_ORDERS);
        for i in 0..WIRE_ORDERS {
            let client =
                ClientOrderId::new(format!("tg{:016x}", 0xbe00_0000_u64 + i as u64)).unwrap();
            let request = OrderRequest::market(
                client.clone(),
                Symbol::new("BTCUSDT"),
                OrderSide::Buy,
                Decimal::new(1, 3),
            );
            let start = Instant::now();
            let order = broker.submit(request).await.unwrap();
            assert_eq!(order.status, OrderStatus::Filled);
            sent.insert(client.as_str().to_owned(), start);
        }
        venue
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/api/v3/order")
            .filter_map(|r| {
                let client = r
                    .query
                    .split('&')
                    .find_map(|p| p.strip_prefix("newClientOrderId="))?;
                Some(r.at.saturating_duration_since(*sent.get(client)?))
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(
        latencies.len(),
        WIRE_ORDERS,
        "every order reached the venue once"
    );
    latencies.sort_unstable();
    let (p50, p99) = (quantile(&latencies, 0.50), quantile(&latencies, 0.99));
    let verdict = if p99 < WIRE_TARGET { "met" } else { "MISSED" };
    println!(
        "binance: order on the wire over {WIRE_ORDERS} MARKET orders: p50 {:.0} us, p99 {:.0} us (target p99 < {} ms: {verdict})",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        WIRE_TARGET.as_millis()
    );
}

criterion_group!(benches, binance, order_on_the_wire);
criterion_main!(benches);
