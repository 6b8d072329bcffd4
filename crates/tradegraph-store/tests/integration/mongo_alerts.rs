//! The alert log in MongoDB (`alerts`), directly and behind the write-behind queue, against a
//! real server. Each test uses a database of its own.
#![cfg(feature = "mongodb")]

use crate::support::alert_suite::{self, alert};
use crate::support::mongo::{count, one, store};
use crate::support::unique;
use mongodb::bson::Bson;
use std::sync::Arc;
use tradegraph_core::Symbol;
use tradegraph_store::{AlertLog, WriteBehind, WriteBehindConfig};

#[tokio::test]
async fn mongo_alert_log_passes_the_suite_with_dates_and_one_document_per_alert() {
    let Some((store, db)) = store("alerts").await else {
        return;
    };
    let btc = Symbol::new("BTCUSDT");
    alert_suite::run_all(&store, &btc).await;
    assert_eq!(count(&db, "alerts").await, 5, "one document per alert_id");
    let doc = one(&db, "alerts").await;
    assert!(
        matches!(doc.get("timestamp"), Some(Bson::DateTime(_))),
        "{doc}"
    );
    assert_eq!(doc.get_str("kind").unwrap(), "store_down");
    assert_eq!(doc.get_str("key").unwrap(), "store_down:redis");
    assert_eq!(
        doc.get_str("check").unwrap(),
        "redis",
        "extra fields flattened"
    );
    db.drop().await.unwrap();
}

#[tokio::test]
async fn alerts_go_through_the_write_behind_queue() {
    let Some((store, db)) = store("alerts-behind").await else {
        return;
    };
    let spill = std::env::temp_dir().join(format!("{}.jsonl", unique("alerts-spill")));
    let wb = WriteBehind::start(Arc::new(store), WriteBehindConfig::new(&spill))
        .await
        .unwrap();
    alert_suite::run_all(&wb, &Symbol::new("BTCUSDT")).await;
    wb.record_alert(&alert(&Symbol::new("NIFTY50"), 9))
        .await
        .unwrap();
    wb.shutdown().await;
    assert_eq!(
        count(&db, "alerts").await,
        6,
        "written once each at shutdown"
    );
    db.drop().await.unwrap();
    let _ = std::fs::remove_file(&spill);
}
