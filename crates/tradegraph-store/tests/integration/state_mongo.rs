//! Bot state and order intents in MongoDB: the conformance suite, the documents and indexes, and
//! durability through a SIGKILL of the server.
#![cfg(all(feature = "conformance", feature = "mongodb"))]

use crate::support::mongo::keys;
use crate::support::{mongodb_uri, unique, PrivateMongo};
use mongodb::bson::{doc, Bson, Document};
use std::sync::Arc;
use tradegraph_store::mongo::{MongoConfig, MongoState, MongoStore, BOT_STATE, ORDER_INTENTS};
use tradegraph_store::state::conformance;
use tradegraph_store::{BotStateStore, IntentLog, IntentStatus, Saved, StateKey, StatePart};

async fn state(uri: &str, database: &str) -> MongoState {
    MongoState::connect(&MongoConfig::new(uri).database(database))
        .await
        .unwrap()
}

async fn drop_database(uri: &str, database: &str) {
    let store = MongoStore::connect(&MongoConfig::new(uri).database(database))
        .await
        .unwrap();
    store.database().drop().await.unwrap();
}

#[tokio::test]
async fn mongodb_passes_the_conformance_suite() {
    let Some(uri) = mongodb_uri() else { return };
    let db = unique("state");
    conformance::run_all(&state(&uri, &db).await).await;
    drop_database(&uri, &db).await;
}

#[tokio::test]
async fn a_second_client_sees_everything_the_first_saved() {
    let Some(uri) = mongodb_uri() else { return };
    let db = unique("state");
    conformance::restart(|| state(&uri, &db)).await;
    drop_database(&uri, &db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_saves_keep_the_newest() {
    let Some(uri) = mongodb_uri() else { return };
    let db = unique("state");
    let (key, id) = conformance::concurrent_saves(Arc::new(state(&uri, &db).await)).await;
    let again = state(&uri, &db).await;
    assert_eq!(again.load(&key).await.unwrap().unwrap().version, 50);
    assert_eq!(again.intent(&id).await.unwrap().unwrap().version, 50);
    drop_database(&uri, &db).await;
}

#[tokio::test]
async fn documents_and_indexes_are_the_documented_ones() {
    let Some(uri) = mongodb_uri() else { return };
    let db_name = unique("state");
    let store = state(&uri, &db_name).await;
    let sym = conformance::instrument("BANKNIFTY");
    let saved = conformance::doc(&StateKey::new(sym.clone(), StatePart::Guard), 3);
    store.save(&saved).await.unwrap();
    let intent = conformance::intent(&sym, 1, 250);
    store.record_intent(&intent).await.unwrap();
    store
        .record_intent(&intent.advance(IntentStatus::Submitted, intent.created_at.add_millis(9)))
        .await
        .unwrap();

    let db = MongoStore::connect(&MongoConfig::new(&uri).database(&db_name))
        .await
        .unwrap()
        .database()
        .clone();
    let state_docs: Vec<Document> = find_all(&db, BOT_STATE).await;
    assert_eq!(state_docs.len(), 1);
    let d = &state_docs[0];
    assert_eq!(
        keys(d),
        ["_id", "body", "instrument", "part", "saved_at", "version"].into()
    );
    assert_eq!(d.get_str("part").unwrap(), "guard");
    assert_eq!(d.get("version"), Some(&Bson::Int64(3)));
    assert!(matches!(d.get("saved_at"), Some(Bson::DateTime(_))));
    let body: serde_json::Value = serde_json::from_str(d.get_str("body").unwrap()).unwrap();
    assert_eq!(body, saved.body);

    let intents: Vec<Document> = find_all(&db, ORDER_INTENTS).await;
    assert_eq!(intents.len(), 1, "one document per client id");
    let i = &intents[0];
    for field in [
        "client_id",
        "instrument",
        "decision_id",
        "status",
        "request",
        "version",
        "created_at",
        "updated_at",
        "order_id",
        "note",
    ] {
        assert!(i.contains_key(field), "{field} missing from {i}");
    }
    assert_eq!(i.get_str("status").unwrap(), "submitted");
    assert_eq!(i.get("version"), Some(&Bson::Int64(2)));
    assert!(
        matches!(i.get("created_at"), Some(Bson::DateTime(t)) if t.timestamp_millis() == intent.created_at.millis())
    );
    assert_eq!(
        i.get_document("request")
            .unwrap()
            .get_str("quantity")
            .unwrap(),
        "0.015"
    );

    let index_names = |collection: &'static str| {
        let db = db.clone();
        async move {
            db.collection::<Document>(collection)
                .list_index_names()
                .await
                .unwrap()
        }
    };
    assert!(index_names(BOT_STATE)
        .await
        .contains(&"instrument_part".to_owned()));
    let names = index_names(ORDER_INTENTS).await;
    for name in ["client_id", "instrument_status_created_at"] {
        assert!(names.contains(&name.to_owned()), "{names:?}");
    }
    db.drop().await.unwrap();
}

async fn find_all(db: &mongodb::Database, collection: &str) -> Vec<Document> {
    let mut cursor = db
        .collection::<Document>(collection)
        .find(doc! {})
        .await
        .unwrap();
    let mut out = Vec::new();
    while cursor.advance().await.unwrap() {
        out.push(cursor.deserialize_current().unwrap());
    }
    out
}

#[tokio::test]
async fn what_mongodb_acknowledged_survives_a_kill() {
    let Some(mut server) = PrivateMongo::start() else {
        return;
    };
    let store = state(&server.uri(), "state").await;
    let sym = conformance::instrument("BTCUSDT");
    let saved = conformance::doc(&StateKey::new(sym.clone(), StatePart::Learner), 9);
    assert_eq!(store.save(&saved).await.unwrap(), Saved::Written);
    let intent = conformance::intent(&sym, 1, 0);
    store.record_intent(&intent).await.unwrap();
    server.stop();
    server.resume();
    let store = state(&server.uri(), "state").await;
    assert_eq!(store.load(&saved.key).await.unwrap(), Some(saved));
    assert_eq!(store.unsettled_intents(&sym).await.unwrap(), [intent]);
}
