//! Helpers for the MongoDB tests.

use super::hot_suite::{at, d};
use super::{mongodb_uri, unique};
use mongodb::bson::{doc, Document};
use std::collections::BTreeSet;
use tradegraph_core::Side;
use tradegraph_store::mongo::{MongoConfig, MongoStore};
use tradegraph_store::{AgentDecision, DecisionRecord, TradeRecord};

pub async fn store(name: &str) -> Option<(MongoStore, mongodb::Database)> {
    let uri = mongodb_uri()?;
    let config = MongoConfig::new(uri).database(unique(name));
    let store = MongoStore::connect(&config).await.unwrap();
    let db = store.database().clone();
    Some((store, db))
}

pub fn decision(minute: i64) -> DecisionRecord {
    DecisionRecord::new("BTCUSDT".into(), at(minute * 60_000))
        .agent(
            "technical",
            AgentDecision::new("BUY", 0.72, "EMA 9/21 cross"),
        )
        .agent(
            "sentiment",
            AgentDecision::new("NEUTRAL", 0.5, "quiet news"),
        )
        .action("BUY")
}

pub fn trade(n: i64) -> TradeRecord {
    let mut t = TradeRecord::new(
        format!("t-{n}"),
        "BTCUSDT".into(),
        Side::Buy,
        at(n * 60_000),
        d("45000.50"),
        d("0.01"),
    );
    t.confidence = 0.7;
    t.agent_decisions.insert(
        "portfolio".into(),
        AgentDecision::new("BUY", 0.7, "sized at 2%"),
    );
    t
}

pub fn keys(doc: &Document) -> BTreeSet<&str> {
    doc.keys().map(String::as_str).collect()
}

pub async fn one(db: &mongodb::Database, collection: &str) -> Document {
    db.collection::<Document>(collection)
        .find_one(doc! {})
        .await
        .unwrap()
        .unwrap()
}

pub async fn count(db: &mongodb::Database, collection: &str) -> u64 {
    db.collection::<Document>(collection)
        .count_documents(doc! {})
        .await
        .unwrap()
}

/// Whether the server of `client` is the primary.
pub async fn is_primary(client: &mongodb::Client) -> bool {
    client
        .database("admin")
        .run_command(doc! {"isMaster": 1})
        .await
        .is_ok_and(|reply| reply.get_bool("ismaster").unwrap_or(false))
}

/// Initiates the single-node replica set `rs0` of a private server on `port` and waits until it
/// is primary.
pub async fn initiate(client: &mongodb::Client, port: u16) {
    let host = format!("127.0.0.1:{port}");
    client
        .database("admin")
        .run_command(
            doc! {"replSetInitiate": {"_id": "rs0", "members": [{"_id": 0, "host": host}]}},
        )
        .await
        .unwrap();
    let primary = super::eventually(std::time::Duration::from_secs(30), async || {
        is_primary(client).await
    })
    .await;
    assert!(primary, "the replica set did not elect its primary");
}

/// The replica set of scripts/services.sh, initiated and primary (the testkit's).
pub async fn replica_set() -> Option<String> {
    tradegraph_testkit::services::mongodb_replica_set().await
}
