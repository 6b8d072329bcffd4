//! `Stores::connect`: memory by default, Redis and MongoDB from URLs, several instruments
//! sharing one server without colliding.
#![cfg(all(feature = "redis", feature = "mongodb"))]

use crate::support::hot_suite::{at, candle, d};
use crate::support::{mongodb_uri, redis_url, unique};
use tradegraph_core::{Symbol, Tick, Timeframe};
use tradegraph_store::{DecisionRecord, Query, StoreError, Stores, StoresConfig};

#[tokio::test]
async fn no_urls_means_memory() {
    let stores = Stores::connect(StoresConfig::new()).await.unwrap();
    let btc = Symbol::new("BTCUSDT");
    stores
        .hot
        .put_tick(&btc, &Tick::new(at(0), d("1"), d("1")))
        .await
        .unwrap();
    assert!(stores.hot.latest_price(&btc).await.unwrap().is_some());
    stores.flush().await.unwrap();
}

#[tokio::test]
async fn bad_urls_are_configuration_errors() {
    let redis = StoresConfig::new().redis(Some("http://nope".into()));
    assert!(matches!(
        Stores::connect(redis).await,
        Err(StoreError::Config(_))
    ));
    let mongo = StoresConfig::new().mongodb(Some("nope://x".into()), "db");
    assert!(matches!(
        Stores::connect(mongo).await,
        Err(StoreError::Config(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instruments_share_one_redis_and_one_mongodb() {
    let (Some(redis), Some(mongo)) = (redis_url(), mongodb_uri()) else {
        return;
    };
    let database = unique("shared");
    let dir = std::env::temp_dir().join(unique("stores"));
    let mut bots = Vec::new();
    for name in ["btc", "nifty"] {
        let config = StoresConfig::new()
            .redis(Some(redis.clone()))
            .mongodb(Some(mongo.clone()), database.clone())
            .spill_path(dir.join(format!("{name}.jsonl")));
        bots.push(Stores::connect(config).await.unwrap());
    }
    let symbols = [
        Symbol::new(unique("BTCUSDT")),
        Symbol::new(unique("NIFTY50")),
    ];
    for (stores, sym) in bots.iter().zip(&symbols) {
        for minute in 0..3 {
            stores
                .hot
                .put_candle(sym, &candle(Timeframe::M1, minute, "101"))
                .await
                .unwrap();
            stores
                .history
                .upsert_candles(sym, &[candle(Timeframe::M1, minute, "101")])
                .await
                .unwrap();
            let decision = DecisionRecord::new(sym.clone(), at(minute * 60_000));
            stores.decisions.record_decision(&decision).await.unwrap();
        }
        stores.flush().await.unwrap();
    }
    // Either bot reads each instrument's data, unmixed, from either store.
    for stores in &bots {
        for sym in &symbols {
            assert_eq!(
                stores
                    .hot
                    .recent_candles(sym, Timeframe::M1, 10)
                    .await
                    .unwrap()
                    .len(),
                3
            );
            let q = Query::new(sym.clone());
            assert_eq!(
                stores
                    .history
                    .candles(&q, Timeframe::M1)
                    .await
                    .unwrap()
                    .len(),
                3
            );
            assert_eq!(stores.decisions.decisions(&q).await.unwrap().len(), 3);
        }
    }
    for stores in &bots {
        stores.shutdown().await;
    }
    let store = tradegraph_store::mongo::MongoStore::connect(
        &tradegraph_store::mongo::MongoConfig::new(mongo).database(database),
    )
    .await
    .unwrap();
    store.database().drop().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_leaves_the_buffered_hot_cache_writes_in_redis() {
    let Some(redis) = redis_url() else {
        return;
    };
    let stores = Stores::connect(StoresConfig::new().redis(Some(redis.clone())))
        .await
        .unwrap();
    let sym = Symbol::new(unique("EXIT"));
    for minute in 0..500 {
        stores
            .hot
            .put_candle(&sym, &candle(Timeframe::M1, minute, "101"))
            .await
            .unwrap();
    }
    stores.shutdown().await;
    // The process exits right after: its writer task goes with it.
    drop(stores);
    let prefix = format!("ohlc:{{{sym}}}:1min:");
    let mut conn = crate::support::redis::raw(&redis).await;
    let keys: Vec<String> = redis::AsyncCommands::keys(&mut conn, format!("{prefix}*"))
        .await
        .unwrap();
    crate::support::redis::delete_prefix(&redis, &prefix).await;
    assert_eq!(keys.len(), 500, "every buffered candle is in Redis");
}
