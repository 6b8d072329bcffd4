//! The Redis hot cache and checkpointer against a real Redis (scripts/services.sh start).
#![cfg(feature = "redis")]

use crate::support::hot_suite::{self, at, candle, d};
use crate::support::redis::{delete_prefix, raw};
use crate::support::{eventually, redis_url, unique, PrivateRedis};
use redis::AsyncCommands;
use std::time::Duration;
use tradegraph_core::{Symbol, Tick, Timeframe};
use tradegraph_store::redis::{RedisCheckpointer, RedisConfig, RedisHotCache};
use tradegraph_store::{Alerts, HotCache, HotLimits, StoreEvent};

#[tokio::test]
async fn redis_hot_cache_passes_the_suite() {
    let Some(url) = redis_url() else { return };
    let cache = RedisHotCache::connect(RedisConfig::new(url)).await.unwrap();
    hot_suite::run_all(&cache, &Symbol::new(unique("SUITE"))).await;
    assert!(cache.is_available());
}

#[tokio::test]
async fn redis_keys_values_and_ttls_are_as_specified() {
    let Some(url) = redis_url() else { return };
    let cache = RedisHotCache::connect(RedisConfig::new(url.clone()))
        .await
        .unwrap();
    let sym = unique("BTCUSD");
    let btc = Symbol::new(&sym);
    let mut tick = Tick::new(at(250), d("45000.50"), d("0.1"));
    (tick.bid, tick.ask) = (Some(d("45000.4")), Some(d("45000.6")));
    cache.put_tick(&btc, &tick).await.unwrap();
    let mut one = candle(Timeframe::M1, 0, "45050.25");
    one.open = d("45000.5");
    cache.put_candle(&btc, &one).await.unwrap();
    cache.flush().await.unwrap();

    let mut conn = raw(&url).await;
    let latest: String = conn.get(format!("price:{{{sym}}}:latest")).await.unwrap();
    assert_eq!(latest, "45000.50");
    let latest_ts: String = conn
        .get(format!("price:{{{sym}}}:latest_ts"))
        .await
        .unwrap();
    assert_eq!(latest_ts, "2024-01-01T10:00:00.250Z");
    for key in [
        format!("price:{{{sym}}}:latest"),
        format!("price:{{{sym}}}:latest_ts"),
    ] {
        let ttl: i64 = conn.ttl(&key).await.unwrap();
        assert!((295..=300).contains(&ttl), "{key} TTL {ttl}");
    }
    let tick_key = format!("tick:{{{sym}}}:20240101T100000Z");
    let tick_json: String = conn.get(&tick_key).await.unwrap();
    let value: serde_json::Value = serde_json::from_str(&tick_json).unwrap();
    assert_eq!(value["price"], "45000.50");
    assert_eq!(value["volume"], "0.1");
    assert_eq!(value["bid"], "45000.4");
    assert_eq!(value["ask"], "45000.6");
    let ohlc_key = format!("ohlc:{{{sym}}}:1min:20240101T100000Z");
    let ohlc: serde_json::Value =
        serde_json::from_str(&conn.get::<_, String>(&ohlc_key).await.unwrap()).unwrap();
    assert_eq!(
        ohlc,
        serde_json::json!({"open": "45000.5", "high": "45050.25", "low": "100", "close": "45050.25", "volume": "1.5", "trades": 2})
    );
    for key in [&tick_key, &ohlc_key] {
        let ttl: i64 = conn.ttl(key).await.unwrap();
        assert!((86_395..=86_400).contains(&ttl), "{key} TTL {ttl}");
    }
    let indexed: Vec<String> = conn
        .zrange(format!("index:ohlc:{{{sym}}}:1min"), 0, -1)
        .await
        .unwrap();
    assert_eq!(indexed, ["20240101T100000Z"]);
    // Nothing else was written for this instrument.
    let mut keys: Vec<String> = conn.keys(format!("*{sym}*")).await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            format!("index:ohlc:{{{sym}}}:1min"),
            format!("index:tick:{{{sym}}}"),
            ohlc_key.clone(),
            format!("price:{{{sym}}}:latest"),
            format!("price:{{{sym}}}:latest_ts"),
            tick_key.clone(),
        ]
    );
}

#[tokio::test]
async fn redis_latest_price_alone_writes_the_two_price_keys_only() {
    let Some(url) = redis_url() else { return };
    let cache = RedisHotCache::connect(RedisConfig::new(url.clone()))
        .await
        .unwrap();
    let sym = unique("BARS");
    let bars = Symbol::new(&sym);
    cache
        .put_latest(&bars, hot_suite::latest("97.5", 60_250))
        .await
        .unwrap();
    cache.flush().await.unwrap();
    let recorded = cache.recorded();
    // An older price changes nothing, so it records nothing (and a flush still answers).
    cache
        .put_latest(&bars, hot_suite::latest("96", 0))
        .await
        .unwrap();
    assert_eq!(cache.recorded(), recorded);
    cache.flush().await.unwrap();

    let mut conn = raw(&url).await;
    let price: String = conn.get(format!("price:{{{sym}}}:latest")).await.unwrap();
    assert_eq!(price, "97.5");
    let ts: String = conn
        .get(format!("price:{{{sym}}}:latest_ts"))
        .await
        .unwrap();
    assert_eq!(ts, "2024-01-01T10:01:00.250Z");
    let mut keys: Vec<String> = conn.keys(format!("*{sym}*")).await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            format!("price:{{{sym}}}:latest"),
            format!("price:{{{sym}}}:latest_ts")
        ],
        "no tick:* key and no index:* entry"
    );
    for key in &keys {
        let ttl: i64 = conn.ttl(key).await.unwrap();
        assert!((295..=300).contains(&ttl), "{key} TTL {ttl}");
    }
}

#[tokio::test]
async fn redis_latest_price_alone_expires_like_a_ticks() {
    let Some(url) = redis_url() else { return };
    let ttl = Duration::from_secs(1);
    let limits = HotLimits {
        latest_ttl: ttl,
        ..HotLimits::default()
    };
    let cache = RedisHotCache::connect(RedisConfig::new(url).limits(limits))
        .await
        .unwrap();
    hot_suite::latest_alone_expires_like_a_ticks(&cache, ttl).await;
    assert!(cache.is_available(), "the answers came from Redis");
}

#[tokio::test]
async fn redis_replaying_the_same_data_leaves_no_duplicates() {
    let Some(url) = redis_url() else { return };
    let cache = RedisHotCache::connect(RedisConfig::new(url.clone()))
        .await
        .unwrap();
    let btc = Symbol::new(unique("REPLAY"));
    for _ in 0..2 {
        for minute in 0..30 {
            cache
                .put_candle(&btc, &candle(Timeframe::M1, minute, "101"))
                .await
                .unwrap();
            cache
                .put_tick(&btc, &Tick::new(at(minute * 1_000), d("1"), d("1")))
                .await
                .unwrap();
        }
    }
    assert_eq!(
        cache
            .recent_candles(&btc, Timeframe::M1, 1_000)
            .await
            .unwrap()
            .len(),
        30
    );
    assert_eq!(cache.recent_ticks(&btc, 1_000).await.unwrap().len(), 30);
    cache.flush().await.unwrap();
    let mut conn = raw(&url).await;
    let indexed: u64 = conn
        .zcard(format!("index:ohlc:{{{btc}}}:1min"))
        .await
        .unwrap();
    assert_eq!(indexed, 30);
}

#[tokio::test]
async fn redis_key_prefix_separates_environments() {
    let Some(url) = redis_url() else { return };
    let prefix = format!("{}:", unique("env"));
    let cache = RedisHotCache::connect(RedisConfig::new(url.clone()).key_prefix(&prefix))
        .await
        .unwrap();
    let btc = Symbol::new("BTCUSDT");
    cache
        .put_tick(&btc, &Tick::new(at(0), d("7"), d("1")))
        .await
        .unwrap();
    cache.flush().await.unwrap();
    let mut conn = raw(&url).await;
    let price: String = conn
        .get(format!("{prefix}price:{{BTCUSDT}}:latest"))
        .await
        .unwrap();
    assert_eq!(price, "7");
    delete_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn redis_stopped_and_started_the_cache_keeps_going_and_catches_up() {
    let Some(mut server) = PrivateRedis::start() else {
        return;
    };
    let alerts = Alerts::new();
    let mut events = alerts.subscribe();
    let config = RedisConfig::new(server.url())
        .timeout(Duration::from_millis(300))
        .retry_interval(Duration::from_millis(100))
        .alerts(alerts);
    let cache = RedisHotCache::connect(config).await.unwrap();
    let btc = Symbol::new("BTCUSDT");
    for minute in 0..3 {
        cache
            .put_candle(&btc, &candle(Timeframe::M1, minute, "101"))
            .await
            .unwrap();
    }
    cache.flush().await.unwrap();
    server.stop();
    // Redis is gone: the bot keeps writing and reading without an error.
    for minute in 3..8 {
        cache
            .put_candle(&btc, &candle(Timeframe::M1, minute, "102"))
            .await
            .unwrap();
        cache
            .put_tick(&btc, &Tick::new(at(minute * 60_000), d("102"), d("1")))
            .await
            .unwrap();
    }
    assert!(eventually(Duration::from_secs(5), async || !cache.is_available()).await);
    assert!(cache.flush().await.is_err(), "nothing reaches Redis now");
    assert_eq!(
        cache
            .recent_candles(&btc, Timeframe::M1, 100)
            .await
            .unwrap()
            .len(),
        8
    );
    assert_eq!(
        cache.latest_price(&btc).await.unwrap().unwrap().price,
        d("102")
    );
    match events.recv().await.unwrap() {
        StoreEvent::Unavailable {
            backend: "redis", ..
        } => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }

    // It comes back empty (no persistence): the writer writes back what it held, by itself.
    server.resume();
    assert!(
        eventually(Duration::from_secs(10), async || cache.is_available()).await,
        "no reconnect"
    );
    match events.recv().await.unwrap() {
        StoreEvent::Recovered {
            backend: "redis",
            replayed,
            ..
        } => assert_eq!(replayed, 11, "5 candles, 5 ticks, the price"),
        other => panic!("expected Recovered, got {other:?}"),
    }
    cache
        .put_tick(&btc, &Tick::new(at(8 * 60_000), d("103"), d("1")))
        .await
        .unwrap();
    cache.flush().await.unwrap();
    let mut conn = raw(&server.url()).await;
    let indexed: Vec<String> = conn
        .zrange("index:ohlc:{BTCUSDT}:1min", 0, -1)
        .await
        .unwrap();
    assert_eq!(
        indexed.len(),
        5,
        "the 5 candles written while Redis was away: {indexed:?}"
    );
    let latest: String = conn.get("price:{BTCUSDT}:latest").await.unwrap();
    assert_eq!(latest, "103");
    let ticks: u64 = conn.zcard("index:tick:{BTCUSDT}").await.unwrap();
    assert_eq!(ticks, 6);
}

#[tokio::test]
async fn redis_unreachable_at_start_is_not_an_error() {
    let config = RedisConfig::new("redis://127.0.0.1:1").timeout(Duration::from_millis(200));
    let cache = RedisHotCache::connect(config).await.unwrap();
    let btc = Symbol::new("BTCUSDT");
    cache
        .put_tick(&btc, &Tick::new(at(0), d("1"), d("1")))
        .await
        .unwrap();
    assert_eq!(
        cache.latest_price(&btc).await.unwrap().unwrap().price,
        d("1")
    );
    assert!(cache.ping().await.is_err());
    assert!(RedisHotCache::connect(RedisConfig::new("not a url"))
        .await
        .is_err());
}

#[tokio::test]
async fn redis_checkpointer_passes_the_conformance_suite() {
    let Some(url) = redis_url() else { return };
    let prefix = format!("{}:", unique("cp"));
    let cp = RedisCheckpointer::connect(RedisConfig::new(url.clone()).key_prefix(&prefix))
        .await
        .unwrap();
    tradegraph_graph::checkpoint::conformance::run_all(|| {
        // The suite wants a fresh store per test; one connection serves them all.
        cp.clone()
    })
    .await;
    delete_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn redis_refusing_the_values_raises_dropped_with_their_count() {
    let Some(url) = redis_url() else { return };
    let alerts = Alerts::new();
    let mut events = alerts.subscribe();
    let cache = RedisHotCache::connect(RedisConfig::new(url.clone()).alerts(alerts))
        .await
        .unwrap();
    let sym = unique("REFUSED");
    // the candles' index is not a sorted set: Redis answers WRONGTYPE, which no retry mends
    let mut conn = raw(&url).await;
    let _: () = conn
        .set_ex(format!("index:ohlc:{{{sym}}}:1min"), "not a sorted set", 60)
        .await
        .unwrap();
    cache
        .put_candle(&Symbol::new(&sym), &candle(Timeframe::M1, 0, "101"))
        .await
        .unwrap();
    let _ = cache.flush().await;
    let dropped = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let StoreEvent::Dropped { backend, count } = events.recv().await.unwrap() {
                return (backend, count);
            }
        }
    })
    .await
    .expect("a Dropped event, which the alerts route");
    assert_eq!(dropped.0, "redis");
    assert!(dropped.1 >= 1, "{dropped:?}");
}
