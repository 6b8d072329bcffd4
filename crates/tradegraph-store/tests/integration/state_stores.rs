//! `Stores`: where bot state and order intents go (MongoDB, else Redis, else the state file,
//! else memory).
#![cfg(all(feature = "redis", feature = "mongodb"))]

use crate::support::{mongodb_uri, redis_url, unique};
use tradegraph_core::Timestamp;
use tradegraph_store::{BotStateStore, StateDoc, StateKey, StatePart, Stores, StoresConfig};

fn doc(instrument: &str, version: u64) -> StateDoc {
    let key = StateKey::new(instrument, StatePart::Sequence);
    StateDoc::encode(key, version, Timestamp::from_secs(60), &version).unwrap()
}

#[tokio::test]
async fn without_servers_or_a_file_state_is_in_memory() {
    assert_eq!(Stores::memory().state_backend(), "memory");
    let stores = Stores::connect(StoresConfig::new()).await.unwrap();
    assert_eq!(stores.state_backend(), "memory");
    stores.state.save(&doc("BTCUSDT", 1)).await.unwrap();
    assert!(format!("{stores:?}").contains("memory"));
}

#[tokio::test]
async fn a_state_file_keeps_state_across_stores() {
    let dir = std::env::temp_dir().join(unique("stores-state"));
    let path = dir.join("btc/state.json");
    let config = || StoresConfig::new().state_file(Some(path.clone()));
    {
        let stores = Stores::connect(config()).await.unwrap();
        assert_eq!(stores.state_backend(), "file");
        stores.state.save(&doc("BTCUSDT", 4)).await.unwrap();
    }
    let stores = Stores::connect(config()).await.unwrap();
    let loaded = stores.state.load(&doc("BTCUSDT", 4).key).await.unwrap();
    assert_eq!(loaded, Some(doc("BTCUSDT", 4)));
    drop(stores);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_server_takes_precedence_over_the_state_file() {
    let (Some(redis), Some(mongo)) = (redis_url(), mongodb_uri()) else {
        return;
    };
    let dir = std::env::temp_dir().join(unique("stores-state"));
    let file = dir.join("state.json");
    let with_redis = StoresConfig::new()
        .redis(Some(redis.clone()))
        .state_file(Some(file.clone()));
    let stores = Stores::connect(with_redis).await.unwrap();
    assert_eq!(stores.state_backend(), "redis");
    let sym = unique("STORES");
    stores.state.save(&doc(&sym, 1)).await.unwrap();
    assert!(
        !file.exists(),
        "the file is not used when a server is configured"
    );

    let database = unique("stores_state");
    let with_both = StoresConfig::new()
        .redis(Some(redis))
        .mongodb(Some(mongo.clone()), database.clone())
        .spill_path(dir.join("spill.jsonl"))
        .state_file(Some(file.clone()));
    let stores = Stores::connect(with_both).await.unwrap();
    assert_eq!(stores.state_backend(), "mongodb");
    assert_eq!(
        stores.state.load(&doc(&sym, 1).key).await.unwrap(),
        None,
        "not Redis"
    );
    stores.state.save(&doc(&sym, 2)).await.unwrap();
    let direct = tradegraph_store::mongo::MongoState::connect(
        &tradegraph_store::mongo::MongoConfig::new(&mongo).database(&database),
    )
    .await
    .unwrap();
    assert_eq!(
        direct.load(&doc(&sym, 2).key).await.unwrap(),
        Some(doc(&sym, 2))
    );
    stores.shutdown().await;
    tradegraph_store::mongo::MongoStore::connect(
        &tradegraph_store::mongo::MongoConfig::new(&mongo).database(&database),
    )
    .await
    .unwrap()
    .database()
    .drop()
    .await
    .unwrap();
    crate::support::redis::delete_prefix(&redis_url().unwrap(), &format!("state:{{{sym}}}")).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A state file a bot kept its state in, when a server takes over (`REDIS_URL` or
/// `MONGODB_URI` set later): its states move to the server, and the file is set aside, so the
/// kill switch, the guard and the open intents are not silently left behind (the server
/// started empty, and the file was read again, weeks old, once the server was unset). When the
/// server holds state of the instrument too (an earlier life, or another bot), nothing is
/// merged: the stores are not opened, and the error says how to choose.
#[tokio::test]
async fn a_state_file_moves_to_the_server_that_takes_over() {
    let Some(redis) = redis_url() else {
        return;
    };
    let dir = std::env::temp_dir().join(unique("stores-move"));
    let file = dir.join("state.json");
    let (moved, other) = (unique("MOVED"), unique("OTHER"));
    let with_file = || StoresConfig::new().state_file(Some(file.clone()));
    {
        let stores = Stores::connect(with_file()).await.unwrap();
        stores.state.save(&doc(&moved, 2)).await.unwrap();
    }
    let with_redis = || {
        StoresConfig::new()
            .redis(Some(redis.clone()))
            .state_file(Some(file.clone()))
    };
    let stores = Stores::connect(with_redis()).await.unwrap();
    assert_eq!(stores.state_backend(), "redis");
    assert_eq!(
        stores.state.load(&doc(&moved, 2).key).await.unwrap(),
        Some(doc(&moved, 2)),
        "the file's state was left behind"
    );
    assert!(!file.exists(), "the file is set aside, never read again");
    let aside = dir.join("state.json.moved-to-redis");
    assert!(
        aside.exists(),
        "{:?}",
        std::fs::read_dir(&dir).unwrap().collect::<Vec<_>>()
    );
    // Connecting again finds no file: nothing moves twice.
    drop(stores);
    Stores::connect(with_redis()).await.unwrap();

    // A file again, and the server holds state of its instrument (another part): refused,
    // nothing merged, the file kept.
    {
        let stores = Stores::connect(with_file()).await.unwrap();
        let kill = StateKey::new(other.as_str(), StatePart::KillSwitch);
        let engaged = StateDoc::encode(kill, 1, Timestamp::from_secs(60), &true).unwrap();
        stores.state.save(&engaged).await.unwrap();
    }
    let direct = tradegraph_store::redis::RedisState::connect(
        tradegraph_store::redis::RedisConfig::new(redis.clone()),
    )
    .await
    .unwrap();
    direct.save(&doc(&other, 40)).await.unwrap();
    let refused = Stores::connect(with_redis()).await.unwrap_err().to_string();
    assert!(
        refused.contains("state.json")
            && refused.contains("redis")
            && refused.contains(other.as_str()),
        "{refused}"
    );
    assert!(file.exists(), "the file is kept when nothing moves");
    let kill = StateKey::new(other.as_str(), StatePart::KillSwitch);
    assert_eq!(direct.load(&kill).await.unwrap(), None, "nothing merged");
    for sym in [&moved, &other] {
        crate::support::redis::delete_prefix(&redis, &format!("state:{{{sym}}}")).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
