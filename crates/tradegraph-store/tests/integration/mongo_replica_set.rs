//! Issue 17, item 5: the MongoDB stores on a one-member replica set (scripts/services.sh start:
//! `mongod --replSet tradegraph` on 37018, initiated through the driver by the first test that
//! needs it). The state, log and checkpointer suites run on it with majority writes; a primary
//! stepping down in the middle of saves loses none of them.
#![cfg(all(feature = "conformance", feature = "mongodb"))]

use crate::support::mongo::{decision, initiate, is_primary, replica_set};
use crate::support::{run_suite, unique, PrivateMongo};
use mongodb::bson::doc;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_store::mongo::{MongoCheckpointer, MongoConfig, MongoState, MongoStore};
use tradegraph_store::state::conformance;
use tradegraph_store::{BotStateStore, DecisionLog, IntentLog, StateKey, StatePart};

async fn store(uri: &str, database: &str) -> MongoStore {
    MongoStore::connect(&MongoConfig::new(uri).database(database))
        .await
        .unwrap()
}

#[tokio::test]
async fn writes_on_a_replica_set_wait_for_a_majority() {
    let Some(uri) = replica_set().await else {
        return;
    };
    let majority = store(&uri, &unique("majority")).await;
    assert_eq!(majority.write_concern(), doc! {"w": "majority", "j": true});
    // A URI's own write concern wins.
    let own = MongoStore::connect(&MongoConfig::new(format!("{uri}&w=1")))
        .await
        .unwrap();
    assert_eq!(own.write_concern().get_i32("w"), Ok(1));
    // Standalone: journaled, one member.
    let standalone = MongoStore::connect(&MongoConfig::new("mongodb://127.0.0.1:1"))
        .await
        .unwrap();
    assert_eq!(standalone.write_concern(), doc! {"w": 1, "j": true});
    // The set's member named without `replicaSet=`: its first operation finds the set.
    let (members, _) = uri.split_once("/?").unwrap();
    let unnamed = store(&format!("{members}/"), &unique("unnamed")).await;
    assert_eq!(unnamed.write_concern(), doc! {"w": 1, "j": true});
    unnamed.ensure_indexes().await.unwrap();
    assert_eq!(unnamed.write_concern(), doc! {"w": "majority", "j": true});
    unnamed.database().drop().await.unwrap();
    // A standalone server stays as it is.
    if let Some(standalone) = crate::support::mongodb_uri() {
        let one = store(&standalone, &unique("standalone")).await;
        one.ensure_indexes().await.unwrap();
        assert_eq!(one.write_concern(), doc! {"w": 1, "j": true});
        one.database().drop().await.unwrap();
    }
}

#[tokio::test]
async fn bot_state_passes_the_conformance_suite_on_a_replica_set() {
    let Some(uri) = replica_set().await else {
        return;
    };
    let db = unique("rs_state");
    let state = MongoState::new(store(&uri, &db).await);
    conformance::run_all(&state).await;
    conformance::concurrent_saves(Arc::new(state)).await;
    store(&uri, &db).await.database().drop().await.unwrap();
}

#[tokio::test]
async fn the_logs_pass_their_suite_on_a_replica_set() {
    let Some(uri) = replica_set().await else {
        return;
    };
    let db = unique("rs_logs");
    let store = store(&uri, &db).await;
    run_suite::run_all(&store, &tradegraph_core::Symbol::new(unique("RSLOGS"))).await;
    store.database().drop().await.unwrap();
}

#[tokio::test]
async fn the_checkpointer_passes_the_conformance_suite_on_a_replica_set() {
    let Some(uri) = replica_set().await else {
        return;
    };
    let db = unique("rs_checkpoints");
    let cp = MongoCheckpointer::new(store(&uri, &db).await);
    tradegraph_graph::checkpoint::conformance::run_all(|| cp.clone()).await;
    store(&uri, &db).await.database().drop().await.unwrap();
}

/// A private replica set (the shared one serves the other tests meanwhile): bot state and
/// order intents saved while the primary steps down are all written, once; a decision log
/// written directly meanwhile too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_during_a_stepdown_are_retried_not_lost() {
    let Some(server) = PrivateMongo::start_replica_set() else {
        return;
    };
    let admin = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    initiate(&admin, server.port).await;
    let uri = format!("mongodb://127.0.0.1:{}/?replicaSet=rs0", server.port);
    let config = MongoConfig::new(&uri)
        .database("stepdown")
        .timeout(Duration::from_secs(10));
    let store = MongoStore::connect(&config).await.unwrap();
    assert_eq!(store.write_concern(), doc! {"w": "majority", "j": true});
    store.ensure_indexes().await.unwrap();
    let state = Arc::new(MongoState::new(store.clone()));
    let key = StateKey::new("BTCUSDT", StatePart::Guard);
    let instrument = key.instrument.clone();

    let writer = {
        let (state, key, store) = (state.clone(), key.clone(), store.clone());
        tokio::spawn(async move {
            for version in 1..=120_u64 {
                let saved = state
                    .save(&conformance::doc(&key, version))
                    .await
                    .unwrap_or_else(|e| panic!("save of version {version}: {e}"));
                assert!(saved.is_written(), "version {version}: {saved:?}");
                let intent =
                    conformance::intent(&key.instrument, u32::try_from(version).unwrap(), 0);
                assert!(state.record_intent(&intent).await.unwrap().is_written());
                store
                    .record_decision(&decision(i64::try_from(version).unwrap()))
                    .await
                    .unwrap_or_else(|e| panic!("decision {version}: {e}"));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    // Let some saves through, then step the primary down; it stands again a second later.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let _ = admin
        .database("admin")
        .run_command(doc! {"replSetStepDown": 60, "force": true})
        .await;
    assert!(!is_primary(&admin).await, "the primary did not step down");
    tokio::time::sleep(Duration::from_secs(1)).await;
    admin
        .database("admin")
        .run_command(doc! {"replSetFreeze": 0})
        .await
        .unwrap();
    writer.await.unwrap();

    let stored = state.load(&key).await.unwrap().unwrap();
    assert_eq!(stored, conformance::doc(&key, 120));
    assert_eq!(
        state.unsettled_intents(&instrument).await.unwrap().len(),
        120
    );
    let decisions = store
        .database()
        .collection::<mongodb::bson::Document>("agent_decisions")
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(decisions, 120, "every decision");
    // None was taken for another writer's: a send whose answer the stepdown lost is known as
    // the record itself.
    assert_eq!(store.superseded(), 0);
}
