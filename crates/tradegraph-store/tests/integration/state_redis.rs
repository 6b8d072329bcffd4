//! Bot state and order intents in Redis: the conformance suite, the keys, and durability
//! through a SIGKILL of a server with an append-only file.
#![cfg(all(feature = "conformance", feature = "redis"))]

use crate::support::redis::{delete_prefix, raw};
use crate::support::{redis_url, unique, PrivateRedis};
use redis::AsyncCommands;
use std::sync::Arc;
use tradegraph_store::redis::{RedisConfig, RedisState};
use tradegraph_store::state::conformance;
use tradegraph_store::{
    BotStateStore, IntentLog, IntentStatus, Saved, StateDoc, StateKey, StatePart, StoreError,
};

async fn state(url: &str, prefix: &str) -> RedisState {
    RedisState::connect(RedisConfig::new(url).key_prefix(prefix))
        .await
        .unwrap()
}

#[tokio::test]
async fn redis_passes_the_conformance_suite() {
    let Some(url) = redis_url() else { return };
    let prefix = format!("{}:", unique("state"));
    conformance::run_all(&state(&url, &prefix).await).await;
    delete_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn a_second_connection_sees_everything_the_first_saved() {
    let Some(url) = redis_url() else { return };
    let prefix = format!("{}:", unique("state"));
    conformance::restart(|| state(&url, &prefix)).await;
    delete_prefix(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_saves_keep_the_newest() {
    let Some(url) = redis_url() else { return };
    let prefix = format!("{}:", unique("state"));
    let (key, id) = conformance::concurrent_saves(Arc::new(state(&url, &prefix).await)).await;
    let again = state(&url, &prefix).await;
    assert_eq!(again.load(&key).await.unwrap().unwrap().version, 50);
    assert_eq!(again.intent(&id).await.unwrap().unwrap().version, 50);
    delete_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn the_keys_are_the_documented_ones_and_never_expire() {
    let Some(url) = redis_url() else { return };
    let prefix = format!("{}:", unique("state"));
    let store = state(&url, &prefix).await;
    let mut conn = raw(&url).await;
    let sym = conformance::instrument("BTCUSDT");
    let key = StateKey::new(sym.clone(), StatePart::KillSwitch);
    let doc = StateDoc::encode(key, 1, conformance::intent(&sym, 1, 0).created_at, &true).unwrap();
    store.save(&doc).await.unwrap();
    let state_key = format!("{prefix}state:{{{sym}}}:kill_switch");
    let json: String = conn.get(&state_key).await.unwrap();
    assert_eq!(serde_json::from_str::<StateDoc>(&json).unwrap(), doc);
    let ttl: i64 = conn.ttl(&state_key).await.unwrap();
    assert_eq!(ttl, -1, "bot state never expires");

    let intent = conformance::intent(&sym, 7, 1_250);
    store.record_intent(&intent).await.unwrap();
    let id = intent.client_id.to_string();
    let set = format!("{prefix}intents:{{{sym}}}:unsettled");
    let score: Option<f64> = conn.zscore(&set, &id).await.unwrap();
    assert_eq!(score, Some(intent.created_at.millis() as f64));
    let owner: String = conn
        .get(format!("{prefix}intent_instrument:{id}"))
        .await
        .unwrap();
    assert_eq!(owner, sym.as_str());
    let stored: String = conn
        .get(format!("{prefix}intent:{{{sym}}}:{id}"))
        .await
        .unwrap();
    assert!(stored.contains(r#""status":"pending""#), "{stored}");

    let done = intent.advance(IntentStatus::Done, intent.created_at.add_millis(5));
    store.record_intent(&done).await.unwrap();
    let score: Option<f64> = conn.zscore(&set, &id).await.unwrap();
    assert_eq!(score, None, "a settled intent leaves the unsettled set");
    delete_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn a_redis_with_an_fsynced_append_only_file_keeps_state_through_a_kill() {
    let Some(mut server) = PrivateRedis::start_durable() else {
        return;
    };
    let store = state(&server.url(), "").await;
    let sym = conformance::instrument("NIFTY50");
    let doc = conformance::doc(&StateKey::new(sym.clone(), StatePart::Broker), 4);
    assert_eq!(store.save(&doc).await.unwrap(), Saved::Written);
    let intent = conformance::intent(&sym, 1, 0);
    store.record_intent(&intent).await.unwrap();
    server.stop();
    server.resume();
    let store = state(&server.url(), "").await;
    assert_eq!(store.load(&doc.key).await.unwrap(), Some(doc));
    assert_eq!(store.unsettled_intents(&sym).await.unwrap(), [intent]);
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_not_an_ok() {
    let Some(mut server) = PrivateRedis::start() else {
        return;
    };
    let url = server.url();
    server.stop();
    let store = state(&url, "").await;
    let doc = conformance::doc(&StateKey::new("BTCUSDT", StatePart::Guard), 1);
    let err = store.save(&doc).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Redis { .. } | StoreError::Timeout { .. }),
        "{err:?}"
    );
    assert!(err.is_transient(), "{err:?}");
}

/// The settings of a Redis that can lose the bot's state are found, each saying what to set:
/// a durable one has none; syncing every second or evicting any key are risks, and so is no
/// append-only file at all.
#[tokio::test]
async fn redis_settings_that_can_lose_the_bots_state_are_named() {
    use tradegraph_store::redis::DurabilityRisk;
    let Some(durable) = PrivateRedis::start_durable() else {
        return;
    };
    let store = state(&durable.url(), "risks:").await;
    assert_eq!(store.durability_risks().await.unwrap(), []);
    let mut conn = raw(&durable.url()).await;
    for (name, value) in [
        ("appendfsync", "everysec"),
        ("maxmemory-policy", "allkeys-lru"),
    ] {
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg(name)
            .arg(value)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let risks = store.durability_risks().await.unwrap();
    assert_eq!(
        risks,
        [
            DurabilityRisk::AppendFsync("everysec".into()),
            DurabilityRisk::Eviction("allkeys-lru".into())
        ]
    );
    assert!(risks[1].to_string().contains("noeviction"), "{}", risks[1]);
    let Some(bare) = PrivateRedis::start() else {
        return;
    };
    let store = state(&bare.url(), "risks:").await;
    assert_eq!(
        store.durability_risks().await.unwrap(),
        [DurabilityRisk::NoAppendOnlyFile]
    );
}

/// Values under the bot's keys that this store did not write are errors naming the key: a
/// state document without a numeric version refuses the save (nothing is written), and an
/// unreadable order intent names its own key, among however many there are.
#[tokio::test]
async fn redis_values_it_did_not_write_are_errors_naming_their_key() {
    let Some(url) = redis_url() else { return };
    let prefix = format!("{}:", unique("foreign"));
    let store = state(&url, &prefix).await;
    let mut conn = raw(&url).await;
    let guard = format!("{prefix}state:{{BTCUSDT}}:guard");
    for stored in ["not json", r#"{"version":"3"}"#, "[1,2]"] {
        let () = conn.set(&guard, stored).await.unwrap();
        let doc = StateDoc::encode(
            StateKey::new("BTCUSDT", StatePart::Guard),
            4,
            tradegraph_core::Timestamp::EPOCH,
            &serde_json::json!({}),
        )
        .unwrap();
        let err = store.save(&doc).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Decode { .. }),
            "{stored}: {err:?}"
        );
        assert!(err.to_string().contains(&guard), "{err}");
        let kept: String = conn.get(&guard).await.unwrap();
        assert_eq!(kept, stored, "nothing was saved");
    }
    let () = conn
        .zadd(
            format!("{prefix}intents:{{BTCUSDT}}:unsettled"),
            "tg-broken",
            1,
        )
        .await
        .unwrap();
    let broken = format!("{prefix}intent:{{BTCUSDT}}:tg-broken");
    let () = conn.set(&broken, "not json").await.unwrap();
    let err = store
        .unsettled_intents(&tradegraph_core::Symbol::new("BTCUSDT"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&broken), "{err}");
    delete_prefix(&url, &prefix).await;
}
