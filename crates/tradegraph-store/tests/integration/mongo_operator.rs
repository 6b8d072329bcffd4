//! The operator log in MongoDB (`operator_actions`), directly and behind the write-behind
//! queue, against a real server. Each test uses a database of its own.
#![cfg(feature = "mongodb")]

use crate::support::hot_suite::at;
use crate::support::mongo::{count, one, store};
use crate::support::unique;
use mongodb::bson::Bson;
use tradegraph_store::{
    ActionOutcome, OperatorAction, OperatorLog, Query, WriteBehind, WriteBehindConfig,
};

fn action(n: u64, action: &str) -> OperatorAction {
    let mut a = OperatorAction::new("BTCUSDT".into(), at(n as i64 * 60_000), n, action)
        .source("127.0.0.1:50312")
        .outcome(ActionOutcome::Done, "the kill switch is engaged");
    a.extra.insert("engaged".into(), serde_json::json!(true));
    a
}

#[tokio::test]
async fn operator_actions_are_stored_once_with_a_date_and_read_back_by_time() {
    let Some((store, db)) = store("operator").await else {
        return;
    };
    for _ in 0..2 {
        for n in 1..=3 {
            store
                .record_action(&action(n, "kill_switch.engage"))
                .await
                .unwrap();
        }
    }
    assert_eq!(
        count(&db, "operator_actions").await,
        3,
        "one document per action_id"
    );
    let doc = one(&db, "operator_actions").await;
    assert!(
        matches!(doc.get("timestamp"), Some(Bson::DateTime(_))),
        "{doc}"
    );
    assert_eq!(doc.get_str("outcome").unwrap(), "done");
    assert_eq!(doc.get_str("source").unwrap(), "127.0.0.1:50312");
    assert!(doc.get_bool("engaged").unwrap());
    let page = store
        .actions(&Query::new("BTCUSDT").before(at(180_000)).limit(1))
        .await
        .unwrap();
    assert_eq!(page, vec![action(2, "kill_switch.engage")]);
    assert!(store
        .actions(&Query::new("NIFTY50"))
        .await
        .unwrap()
        .is_empty());
    db.drop().await.unwrap();
}

#[tokio::test]
async fn operator_actions_go_through_the_write_behind_queue() {
    let Some((store, db)) = store("operator-behind").await else {
        return;
    };
    let spill = std::env::temp_dir().join(format!("{}.jsonl", unique("operator-spill")));
    let queue = WriteBehindConfig::new(&spill);
    let wb = WriteBehind::start(std::sync::Arc::new(store), queue)
        .await
        .unwrap();
    wb.record_action(&action(1, "entries.pause")).await.unwrap();
    let read = wb.actions(&Query::new("BTCUSDT")).await.unwrap();
    assert_eq!(read, vec![action(1, "entries.pause")], "read after a flush");
    wb.shutdown().await;
    db.drop().await.unwrap();
    let _ = std::fs::remove_file(&spill);
}
