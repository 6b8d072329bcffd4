//! Issue 17, item 4: the Redis stores on a real Redis Cluster of 3 masters
//! (scripts/services.sh start: ports 17001-17003, `redis-cli --cluster create`). The hot-cache,
//! checkpointer and bot-state suites run unchanged through the cluster client; every key of an
//! instrument (or of a checkpoint thread) lands in one slot; instruments spread over the nodes.
#![cfg(all(feature = "conformance", feature = "redis"))]

use crate::support::hot_suite::{self, at, candle, d};
use crate::support::{redis_cluster_url, unique};
use redis::AsyncCommands;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tradegraph_core::{Symbol, Tick, Timeframe};
use tradegraph_store::redis::{
    RedisCheckpointer, RedisConfig, RedisHotCache, RedisState, Topology,
};
use tradegraph_store::state::conformance;
use tradegraph_store::{BotStateStore, HotCache, StateKey, StatePart};

/// The cluster's nodes, as the cluster client reaches them.
fn nodes(url: &str) -> Vec<String> {
    match Topology::of(url, false) {
        Topology::Cluster(nodes) => nodes,
        Topology::Single(one) => {
            panic!("REDIS_CLUSTER_URL lists one node ({one}): a cluster test needs its nodes")
        }
    }
}

async fn cluster_conn(url: &str) -> redis::cluster_async::ClusterConnection {
    redis::cluster::ClusterClient::new(nodes(url))
        .unwrap()
        .get_async_connection()
        .await
        .unwrap()
}

/// The slot of `key` (`CLUSTER KEYSLOT`).
async fn slot(conn: &mut redis::cluster_async::ClusterConnection, key: &str) -> i64 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(conn)
        .await
        .unwrap()
}

/// The port of the master serving `slot` (`CLUSTER SLOTS`).
async fn owner(conn: &mut redis::cluster_async::ClusterConnection, slot: i64) -> i64 {
    let ranges: Vec<redis::Value> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(conn)
        .await
        .unwrap();
    for range in ranges {
        let redis::Value::Array(parts) = range else {
            panic!("CLUSTER SLOTS answered {range:?}")
        };
        let (redis::Value::Int(first), redis::Value::Int(last)) = (&parts[0], &parts[1]) else {
            panic!("CLUSTER SLOTS range {parts:?}")
        };
        if (*first..=*last).contains(&slot) {
            let redis::Value::Array(master) = &parts[2] else {
                panic!("CLUSTER SLOTS master {parts:?}")
            };
            let redis::Value::Int(port) = master[1] else {
                panic!("CLUSTER SLOTS master {master:?}")
            };
            return port;
        }
    }
    panic!("no master serves slot {slot}")
}

#[tokio::test]
async fn the_hot_cache_passes_the_suite_on_a_cluster() {
    let Some(url) = redis_cluster_url() else {
        return;
    };
    let cache = RedisHotCache::connect(RedisConfig::new(url)).await.unwrap();
    hot_suite::run_all(&cache, &Symbol::new(unique("CLSUITE"))).await;
    assert!(cache.is_available());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instruments_keys_share_one_slot_and_instruments_spread_over_the_masters() {
    let Some(url) = redis_cluster_url() else {
        return;
    };
    let cache = RedisHotCache::connect(RedisConfig::new(url.clone()))
        .await
        .unwrap();
    // Twelve instruments in one batch of the writer: one pipeline per instrument.
    let symbols: Vec<String> = (0..12).map(|i| unique(&format!("SPREAD{i}"))).collect();
    for (i, sym) in symbols.iter().enumerate() {
        let symbol = Symbol::new(sym);
        let price = d(&format!("{}.5", 100 + i));
        cache
            .put_tick(&symbol, &Tick::new(at(250), price, d("0.1")))
            .await
            .unwrap();
        cache
            .put_candle(&symbol, &candle(Timeframe::M1, 0, &format!("{}", 200 + i)))
            .await
            .unwrap();
    }
    cache.flush().await.unwrap();
    assert!(cache.is_available());

    let mut conn = cluster_conn(&url).await;
    let mut masters = BTreeSet::new();
    for (i, sym) in symbols.iter().enumerate() {
        let keys = [
            format!("price:{{{sym}}}:latest"),
            format!("price:{{{sym}}}:latest_ts"),
            format!("tick:{{{sym}}}:20240101T100000Z"),
            format!("ohlc:{{{sym}}}:1min:20240101T100000Z"),
            format!("index:tick:{{{sym}}}"),
            format!("index:ohlc:{{{sym}}}:1min"),
        ];
        let mut slots = BTreeSet::new();
        for key in &keys {
            assert!(
                conn.exists::<_, bool>(key).await.unwrap(),
                "{key} was not written"
            );
            slots.insert(slot(&mut conn, key).await);
        }
        assert_eq!(slots.len(), 1, "{sym}: its keys span slots {slots:?}");
        masters.insert(owner(&mut conn, *slots.first().unwrap()).await);
        let latest: String = conn.get(&keys[0]).await.unwrap();
        assert_eq!(latest, format!("{}.5", 100 + i));
        // Read back through the cache: the index, then the values, on the instrument's node.
        let candles = cache
            .recent_candles(&Symbol::new(sym), Timeframe::M1, 5)
            .await
            .unwrap();
        assert_eq!(candles.len(), 1);
        assert_eq!(candles[0].close, d(&format!("{}", 200 + i)));
    }
    assert!(
        masters.len() >= 2,
        "twelve instruments all on one master ({masters:?}): the test would not show a cluster"
    );
}

#[tokio::test]
async fn a_single_node_client_is_refused_what_the_cluster_client_serves() {
    let Some(url) = redis_cluster_url() else {
        return;
    };
    // Proof that these tests run on a cluster: one node alone answers MOVED for the slots of the
    // others, while the cluster client follows.
    let first = nodes(&url)[0].clone();
    let mut single = redis::Client::open(first.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut cluster = cluster_conn(&url).await;
    let mut moved = 0;
    for i in 0..12 {
        let key = format!("price:{{{}}}:latest", unique(&format!("MOVED{i}")));
        let _: () = cluster.set(&key, "1").await.unwrap();
        match single.get::<_, Option<String>>(&key).await {
            Ok(value) => assert_eq!(value.as_deref(), Some("1")),
            Err(e) => {
                assert_eq!(
                    e.kind(),
                    redis::ErrorKind::Server(redis::ServerErrorKind::Moved),
                    "{e}"
                );
                moved += 1;
            }
        }
    }
    assert!(moved > 0, "no key of twelve was on another node");
}

#[tokio::test]
async fn the_checkpointer_passes_the_conformance_suite_on_a_cluster() {
    let Some(url) = redis_cluster_url() else {
        return;
    };
    let prefix = format!("{}:", unique("cp"));
    let cp = RedisCheckpointer::connect(RedisConfig::new(url).key_prefix(&prefix))
        .await
        .unwrap();
    tradegraph_graph::checkpoint::conformance::run_all(|| cp.clone()).await;
}

#[tokio::test]
async fn bot_state_passes_the_conformance_suite_on_a_cluster() {
    let Some(url) = redis_cluster_url() else {
        return;
    };
    let prefix = format!("{}:", unique("state"));
    let state = RedisState::connect(RedisConfig::new(url).key_prefix(&prefix))
        .await
        .unwrap();
    conformance::run_all(&state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_saves_keep_the_newest_on_a_cluster() {
    let Some(url) = redis_cluster_url() else {
        return;
    };
    let prefix = format!("{}:", unique("state"));
    let state = RedisState::connect(RedisConfig::new(url).key_prefix(&prefix))
        .await
        .unwrap();
    conformance::concurrent_saves(Arc::new(state)).await;
}

#[tokio::test]
async fn redis_cluster_1_makes_one_seed_node_a_cluster() {
    let Some(url) = redis_cluster_url() else {
        return;
    };
    let seed = nodes(&url)[0].clone();
    let config = RedisConfig::new(seed.clone()).cluster(true);
    assert_eq!(config.topology(), Topology::Cluster(vec![seed]));
    let prefix = format!("{}:", unique("seed"));
    let state = RedisState::connect(config.key_prefix(&prefix))
        .await
        .unwrap();
    // Instruments whose slots the seed does not serve are written and read through it.
    let mut saved = BTreeMap::new();
    for i in 0..12_u64 {
        let key = StateKey::new(unique(&format!("SEED{i}")), StatePart::Guard);
        let doc = conformance::doc(&key, i + 1);
        assert!(state.save(&doc).await.unwrap().is_written());
        saved.insert(key.to_string(), (key, doc));
    }
    for (key, doc) in saved.values() {
        assert_eq!(state.load(key).await.unwrap().as_ref(), Some(doc));
    }
}
