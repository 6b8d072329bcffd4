//! Runs and prompts on MongoDB, directly and behind the write-behind queue, and the unique keys
//! of earlier versions dropped so that a re-run of a period is not refused (issue 16, item 6).
#![cfg(feature = "mongodb")]

use crate::support::mongo::{count, decision, store};
use crate::support::{mongodb_uri, run_suite, unique};
use mongodb::bson::{doc, Document};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;
use std::sync::Arc;
use tradegraph_core::Symbol;
use tradegraph_store::mongo::{MongoConfig, MongoStore};
use tradegraph_store::{DecisionLog, RunId, WriteBehind, WriteBehindConfig};

#[tokio::test]
async fn mongo_keeps_each_runs_records_and_each_prompt_once() {
    let Some((store, db)) = store("runs").await else {
        return;
    };
    run_suite::run_all(&store, &Symbol::new("BTCUSDT")).await;
    assert_eq!(count(&db, "agent_decisions").await, 6);
    assert_eq!(count(&db, "prompts").await, 1);
    db.drop().await.unwrap();
}

#[tokio::test]
async fn runs_and_prompts_go_through_the_write_behind_queue() {
    let Some((store, db)) = store("runs-behind").await else {
        return;
    };
    let spill = std::env::temp_dir().join(format!("{}.jsonl", unique("runs-spill")));
    let wb = WriteBehind::start(Arc::new(store), WriteBehindConfig::new(&spill))
        .await
        .unwrap();
    run_suite::run_all(&wb, &Symbol::new("BTCUSDT")).await;
    db.drop().await.unwrap();
    let _ = std::fs::remove_file(spill);
}

/// A database made by an earlier version has `decision_id` unique on its own: connecting drops
/// that index, and a second run's decision of the same cycle is kept beside the first.
#[tokio::test]
async fn an_earlier_versions_unique_decision_id_is_dropped() {
    let Some(uri) = mongodb_uri() else {
        return;
    };
    let name = unique("runs-legacy");
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let db = client.database(&name);
    let decisions = db.collection::<Document>("agent_decisions");
    decisions
        .create_index(
            IndexModel::builder()
                .keys(doc! {"decision_id": 1})
                .options(
                    IndexOptions::builder()
                        .name("decision_id".to_owned())
                        .unique(true)
                        .build(),
                )
                .build(),
        )
        .await
        .unwrap();
    // a decision written by the earlier version: no run
    let mut d = decision(0);
    let legacy = doc! {
        "decision_id": &d.decision_id,
        "instrument": "BTCUSDT",
        "timestamp": mongodb::bson::DateTime::from_millis(d.timestamp.millis()),
        "agent_decisions": {},
    };
    decisions.insert_one(legacy).await.unwrap();
    let store = MongoStore::connect(&MongoConfig::new(uri).database(name))
        .await
        .unwrap();
    d.run_id = RunId::new(tradegraph_core::Timestamp::from_secs(1));
    store.record_decision(&d).await.unwrap();
    assert_eq!(
        count(&db, "agent_decisions").await,
        2,
        "the earlier run's decision stays"
    );
    let names: Vec<String> = decisions.list_index_names().await.unwrap();
    assert!(!names.contains(&"decision_id".to_owned()), "{names:?}");
    assert!(names.contains(&"run_decision_id".to_owned()), "{names:?}");
    db.drop().await.unwrap();
}
