//! Item 3 of issue 12: a record the server refuses "not now" (a primary stepping down, a server
//! shutting down: per-record `writeErrors` with a transient code) is written again later, never
//! set aside in `.rejected`.
//!
//! The server is a private single-node replica set, stepped down while the failpoint
//! `skipCheckingForNotMasterInCommandDispatch` lets the `update` command reach the write path:
//! there each update is refused with code 189 (PrimarySteppedDown) in `writeErrors`, as a
//! replica set answers a batch in flight when its primary steps down.
#![cfg(feature = "mongodb")]

use crate::support::mongo::{count, decision, initiate, is_primary};
use crate::support::{eventually, unique, PrivateMongo};
use mongodb::bson::doc;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_store::mongo::{MongoConfig, MongoStore};
use tradegraph_store::{Alerts, DecisionLog, StoreEvent, WriteBehind, WriteBehindConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_write_errors_are_retried_not_rejected() {
    let Some(server) = PrivateMongo::start_replica_set() else {
        return;
    };
    let admin = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    initiate(&admin, server.port).await;
    let config = MongoConfig::new(server.uri())
        .database("transient")
        .timeout(Duration::from_secs(5));
    let store = Arc::new(MongoStore::connect(&config).await.unwrap());
    store.ensure_indexes().await.unwrap();
    let spill = std::env::temp_dir()
        .join(unique("transient"))
        .join("spill.jsonl");
    let rejected = spill.with_extension("jsonl.rejected");
    let alerts = Alerts::new();
    let mut events = alerts.subscribe();
    let queue = WriteBehindConfig::new(&spill)
        .retry_interval(Duration::from_millis(100))
        .batch_size(8)
        .alerts(alerts);
    let wb = WriteBehind::start(store.clone(), queue).await.unwrap();
    for i in 0..10 {
        wb.record_decision(&decision(i)).await.unwrap();
    }
    wb.flush().await.unwrap();
    assert_eq!(count(store.database(), "agent_decisions").await, 10);

    // The primary steps down for ten minutes (longer than any run of this test, however slow
    // the machine: a node whose stepdown period ends is elected again, and writes succeed); writes
    // reach it and are refused one by one.
    admin
        .database("admin")
        .run_command(doc! {
            "configureFailPoint": "skipCheckingForNotMasterInCommandDispatch",
            "mode": "alwaysOn",
        })
        .await
        .unwrap();
    // MongoDB 4.0 closes every connection when it steps down: the reply may be lost.
    let _ = admin
        .database("admin")
        .run_command(doc! {"replSetStepDown": 600, "force": true})
        .await;
    assert!(!is_primary(&admin).await, "the primary did not step down");

    for i in 10..30 {
        wb.record_decision(&decision(i)).await.unwrap();
    }
    wb.flush().await.unwrap();
    // The queue tries again while the primary is away (each try waits out the store's stepdown
    // retries until the queue's time limit cuts it short).
    tokio::time::sleep(Duration::from_secs(1)).await;
    wb.flush().await.unwrap();
    let set_aside = std::fs::read_to_string(&rejected).unwrap_or_default();
    assert!(
        set_aside.is_empty(),
        "{} records refused \"not now\" were set aside for good, the first: {}",
        set_aside.lines().count(),
        set_aside.lines().next().unwrap_or_default()
    );
    assert_eq!(wb.spilled(), 20, "they wait in the spill file");
    assert_eq!(count(store.database(), "agent_decisions").await, 10);

    // Elected again: the spill file is written back.
    admin
        .database("admin")
        .run_command(doc! {"replSetFreeze": 0})
        .await
        .unwrap();
    let drained = eventually(Duration::from_secs(60), async || {
        wb.flush().await.unwrap();
        wb.spilled() == 0
    })
    .await;
    assert!(
        drained,
        "the spill file was not written back: {}",
        wb.spilled()
    );
    assert_eq!(
        count(store.database(), "agent_decisions").await,
        30,
        "every record, once"
    );
    assert!(!rejected.exists(), "nothing rejected");
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    assert!(
        seen.iter()
            .any(|e| matches!(e, StoreEvent::Recovered { .. })),
        "{seen:?}"
    );
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, StoreEvent::Rejected { .. })),
        "{seen:?}"
    );
    wb.shutdown().await;
    let _ = std::fs::remove_dir_all(spill.parent().unwrap());
}
