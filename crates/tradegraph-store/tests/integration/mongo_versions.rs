//! Item 4 of issue 12: a batch the queue gave up on (its time limit passed) may still reach the
//! server after a newer write of the same key; an older document must never replace a newer one.
//! Each test uses a database of its own on the shared server.
#![cfg(feature = "mongodb")]

use crate::support::hot_suite::{at, candle, d};
use crate::support::mongo::{decision, store, trade};
use crate::support::{eventually, unique};
use async_trait::async_trait;
use mongodb::bson::doc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tradegraph_core::{Candle, Symbol, Timeframe};
use tradegraph_store::behind::{Rejected, Versioned};
use tradegraph_store::mongo::MongoStore;
use tradegraph_store::{
    CandleHistory, DecisionLog, DecisionRecord, Lesson, LessonLog, Query, Record, RecordSink,
    StoreError, TradeLog, TradeRecord, TradeStatus, WriteBehind, WriteBehindConfig,
};

/// A sink whose first write reaches the server late: the queue stops waiting for it (its time
/// limit) while the command, already on the wire, is executed later, after newer writes.
struct LateFirstWrite {
    inner: Arc<MongoStore>,
    first: AtomicBool,
    landed: Arc<AtomicBool>,
    delay: Duration,
}

#[async_trait]
impl RecordSink for LateFirstWrite {
    async fn write_records(&self, records: &[Versioned]) -> Result<Rejected, StoreError> {
        if self.first.swap(false, Ordering::SeqCst) {
            let (inner, records) = (self.inner.clone(), records.to_vec());
            let (delay, landed) = (self.delay, self.landed.clone());
            let late = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let result = inner.write_records(&records).await;
                landed.store(true, Ordering::SeqCst);
                result
            });
            return late.await.unwrap_or(Err(StoreError::Closed));
        }
        self.inner.write_records(records).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_batch_never_replaces_a_newer_write() {
    let Some((store, db)) = store("late").await else {
        return;
    };
    let landed = Arc::new(AtomicBool::new(false));
    let store = Arc::new(store);
    let sink = Arc::new(LateFirstWrite {
        inner: store.clone(),
        first: AtomicBool::new(true),
        landed: landed.clone(),
        delay: Duration::from_millis(1_500),
    });
    let spill = std::env::temp_dir()
        .join(unique("late"))
        .join("spill.jsonl");
    let queue = WriteBehindConfig::new(&spill)
        .timeout(Duration::from_millis(300))
        .retry_interval(Duration::from_millis(50));
    let wb = WriteBehind::start(sink, queue).await.unwrap();

    // The trade opens; its write times out and is spilled, but is still on its way.
    let open = trade(1);
    wb.submit(Record::Trade(open.clone())).await.unwrap();
    wb.flush().await.unwrap();
    // It closes; the spill file is written back, the close last.
    let mut closed = open.clone();
    (closed.status, closed.exit_price) = (TradeStatus::Closed, Some(d("45100")));
    wb.submit(Record::Trade(closed)).await.unwrap();
    let drained = eventually(Duration::from_secs(10), async || {
        wb.flush().await.unwrap();
        wb.spilled() == 0
    })
    .await;
    assert!(drained, "the spill file was not written back");
    assert!(
        !landed.load(Ordering::SeqCst),
        "the late write must land after the drain"
    );
    assert_eq!(
        store.trade("t-1").await.unwrap().unwrap().status,
        TradeStatus::Closed
    );

    // Now the abandoned batch lands.
    let late = eventually(Duration::from_secs(10), async || {
        landed.load(Ordering::SeqCst)
    })
    .await;
    assert!(late, "the late write never landed");
    assert_eq!(
        store.trade("t-1").await.unwrap().unwrap().status,
        TradeStatus::Closed,
        "the late, older write replaced the newer one"
    );
    wb.shutdown().await;
    db.drop().await.unwrap();
    let _ = std::fs::remove_dir_all(spill.parent().unwrap());
}

/// Item 4 of issue 12, for each collection: version N+1 written, then version N of the same key
/// (the late batch): N+1 stays. Neither a refusal nor an error.
#[tokio::test]
async fn an_older_version_never_replaces_a_newer_one() {
    let Some((store, db)) = store("versions").await else {
        return;
    };
    let btc = Symbol::new("BTCUSDT");
    let older_candle = candle(Timeframe::M1, 0, "101");
    let newer_candle = candle(Timeframe::M1, 0, "105");
    let older_decision = decision(0);
    let newer_decision = decision(0).action("SELL");
    let older_trade = trade(0);
    let mut newer_trade = trade(0);
    (newer_trade.status, newer_trade.exit_price) = (TradeStatus::Closed, Some(d("45100")));
    let older_lesson = Lesson::new(btc.clone(), at(0), "technical", "first");
    let mut newer_lesson = older_lesson.clone();
    newer_lesson.text = "second".into();
    let records =
        |candle: &Candle, decision: &DecisionRecord, trade: &TradeRecord, lesson: &Lesson| {
            vec![
                Record::Candle {
                    instrument: btc.clone(),
                    candle: candle.clone(),
                },
                Record::Decision(decision.clone()),
                Record::Trade(trade.clone()),
                Record::Lesson(lesson.clone()),
            ]
        };
    let stamp = |records: Vec<Record>, version: i64| -> Vec<Versioned> {
        records
            .into_iter()
            .map(|r| Versioned::with_version(r, version))
            .collect()
    };
    let n = 1_000_i64 << 16;
    let newer = stamp(
        records(&newer_candle, &newer_decision, &newer_trade, &newer_lesson),
        n + 1,
    );
    let older = stamp(
        records(&older_candle, &older_decision, &older_trade, &older_lesson),
        n,
    );

    let check = async || {
        let q = Query::new(btc.clone());
        assert_eq!(
            store.candles(&q, Timeframe::M1).await.unwrap(),
            std::slice::from_ref(&newer_candle)
        );
        assert_eq!(
            store.decisions(&q).await.unwrap(),
            std::slice::from_ref(&newer_decision)
        );
        assert_eq!(store.trade("t-0").await.unwrap(), Some(newer_trade.clone()));
        assert_eq!(
            store.recent_lessons(&btc, None, 5).await.unwrap(),
            std::slice::from_ref(&newer_lesson)
        );
    };
    assert!(store.write_records(&newer).await.unwrap().is_empty());
    check().await;
    // The late batch: no refusal, no error, no change.
    assert!(store.write_records(&older).await.unwrap().is_empty());
    check().await;
    // The same version again (a batch written twice): no change either.
    assert!(store.write_records(&newer).await.unwrap().is_empty());
    check().await;
    // Older and newer in one batch, older last: the newer wins.
    let key = decision(1);
    let batch = vec![
        Versioned::with_version(Record::Decision(key.clone().action("SELL")), n + 5),
        Versioned::with_version(Record::Decision(key.clone().action("BUY")), n + 4),
    ];
    assert!(store.write_records(&batch).await.unwrap().is_empty());
    let stored = store.decisions(&Query::new(btc.clone())).await.unwrap();
    assert_eq!(stored[1].action.as_deref(), Some("SELL"));
    db.drop().await.unwrap();
}

/// Documents written before versions existed are replaced by a versioned record; a record
/// spilled before versions existed (version 0) replaces only those, never a versioned one.
#[tokio::test]
async fn unversioned_documents_and_records_give_way_to_versioned_ones() {
    let Some((store, db)) = store("unversioned").await else {
        return;
    };
    let coll = db.collection::<mongodb::bson::Document>("trades_executed");
    // A document as the store wrote it before versions: no `_v`.
    let legacy = Versioned::with_version(Record::Trade(trade(0)), 0);
    assert!(store
        .write_records(std::slice::from_ref(&legacy))
        .await
        .unwrap()
        .is_empty());
    coll.update_one(doc! {"trade_id": "t-0"}, doc! {"$unset": {"_v": ""}})
        .await
        .unwrap();
    // An unversioned record replaces an unversioned document, as before.
    let mut cancelled = trade(0);
    cancelled.status = TradeStatus::Cancelled;
    let late = Versioned::with_version(Record::Trade(cancelled.clone()), 0);
    assert!(store.write_records(&[late]).await.unwrap().is_empty());
    assert_eq!(store.trade("t-0").await.unwrap(), Some(cancelled));
    // A versioned record replaces it.
    let mut closed = trade(0);
    closed.status = TradeStatus::Closed;
    let versioned = Versioned::new(Record::Trade(closed.clone()));
    assert!(store.write_records(&[versioned]).await.unwrap().is_empty());
    assert_eq!(store.trade("t-0").await.unwrap(), Some(closed.clone()));
    // And an unversioned one no longer does.
    assert!(store.write_records(&[legacy]).await.unwrap().is_empty());
    assert_eq!(store.trade("t-0").await.unwrap(), Some(closed));
    assert_eq!(coll.count_documents(doc! {}).await.unwrap(), 1);
    db.drop().await.unwrap();
}

/// Two writers inserting the first document of a key at once: whichever insert wins, the higher
/// version is what stays (the loser's duplicate-key error is tried again, not taken as stale).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_first_inserts_keep_the_higher_version() {
    let Some((store, db)) = store("race").await else {
        return;
    };
    store.ensure_indexes().await.unwrap();
    let n = 2_000_i64 << 16;
    for round in 0..20 {
        let key = decision(round);
        let older = [Versioned::with_version(
            Record::Decision(key.clone().action("BUY")),
            n,
        )];
        let newer = [Versioned::with_version(
            Record::Decision(key.clone().action("SELL")),
            n + 1,
        )];
        let (a, b) = tokio::join!(store.write_records(&older), store.write_records(&newer));
        assert!(a.unwrap().is_empty() && b.unwrap().is_empty());
        let q =
            Query::new(Symbol::new("BTCUSDT")).between(at(round * 60_000), at(round * 60_000 + 1));
        let stored = store.decisions(&q).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].action.as_deref(), Some("SELL"), "round {round}");
    }
    db.drop().await.unwrap();
}

#[tokio::test]
async fn a_superseded_write_is_counted() {
    let Some((store, db)) = store("superseded").await else {
        return;
    };
    let newer = Versioned::with_version(Record::Decision(decision(1).action("BUY")), 10);
    let older = Versioned::with_version(Record::Decision(decision(1)), 5);
    assert!(store.write_records(&[newer]).await.unwrap().is_empty());
    assert_eq!(store.superseded(), 0);
    assert!(store.write_records(&[older]).await.unwrap().is_empty());
    assert_eq!(
        store.superseded(),
        1,
        "the older write changed nothing, and says so"
    );
    db.drop().await.unwrap();
}

/// A duplicate key that another unique index refuses (one a user added, or an earlier
/// version's that could not be dropped) is rejected, kept in `.rejected` to write again: it was
/// taken for "a version as high is stored" and dropped, though nothing was stored under its key.
#[tokio::test]
async fn a_duplicate_another_unique_index_refuses_is_rejected_not_dropped() {
    let Some((store, db)) = store("other-index").await else {
        return;
    };
    db.collection::<mongodb::bson::Document>("trades_executed")
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! {"trade_id": 1, "instrument": 1})
                .options(
                    mongodb::options::IndexOptions::builder()
                        .name("users_trade_id".to_owned())
                        .unique(true)
                        .build(),
                )
                .build(),
        )
        .await
        .unwrap();
    let first = Versioned::with_version(Record::Trade(trade(0)), 1);
    assert!(store.write_records(&[first]).await.unwrap().is_empty());
    // The same trade id in another run: another key, refused by the user's index.
    let mut other_run = trade(0);
    other_run.run_id = tradegraph_store::RunId::new(tradegraph_core::Timestamp::from_secs(1));
    let second = Versioned::with_version(Record::Trade(other_run), 2);
    let rejected = store.write_records(&[second]).await.unwrap();
    assert_eq!(rejected.len(), 1, "dropped as superseded: {rejected:?}");
    assert!(
        rejected[0].1.to_string().contains("users_trade_id"),
        "{}",
        rejected[0].1
    );
    assert_eq!(store.superseded(), 0);
    db.drop().await.unwrap();
}
