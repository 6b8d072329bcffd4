//! The `lessons` collection across the typing of the learner's figures, against a real server
//! (scripts/services.sh start). Each test uses a database of its own.
#![cfg(feature = "mongodb")]

use crate::support::hot_suite::at;
use crate::support::mongo::{keys, one, store};
use mongodb::bson::{doc, Bson, DateTime, Document};
use std::collections::BTreeSet;
use tradegraph_core::Symbol;
use tradegraph_store::{Lesson, LessonLog, Situation};

fn situation() -> Situation {
    Situation {
        rsi: 72.0,
        trend_pct: 1.5,
        volatility_pct: 0.4,
        sentiment: 0.3,
    }
}

#[tokio::test]
async fn a_lesson_written_with_the_figures_as_extra_fields_reads_them_typed() {
    let Some((store, db)) = store("old_lessons").await else {
        return;
    };
    // A document as the runtime wrote it before the figures were typed: `situation` and
    // `return_pct` put in by hand as extra fields, plus one field this version does not know.
    let old = doc! {
        "lesson_id": "BTCUSDT@2024-01-01T10:00:00Z#learning",
        "instrument": "BTCUSDT",
        "timestamp": DateTime::from_millis(at(0).millis()),
        "agent": "learning",
        "text": "wait for the pullback",
        "situation": {"rsi": 72.0, "trend_pct": 1.5, "volatility_pct": 0.4, "sentiment": 0.3},
        "return_pct": -0.8,
        "prompt_version": "v3",
        "_v": 1_i64,
    };
    db.collection::<Document>("lessons")
        .insert_one(old)
        .await
        .unwrap();
    let btc = Symbol::new("BTCUSDT");
    let read = store
        .recent_lessons(&btc, Some("learning"), 10)
        .await
        .unwrap();
    assert_eq!(read.len(), 1, "{read:?}");
    let l = &read[0];
    assert_eq!(l.timestamp, at(0));
    assert_eq!(l.situation, Some(situation()));
    assert_eq!(l.return_pct, Some(-0.8));
    assert_eq!(
        l.extra.len(),
        1,
        "only the unknown field stays extra: {:?}",
        l.extra
    );
    assert_eq!(l.extra["prompt_version"], "v3");
    db.drop().await.unwrap();
}

#[tokio::test]
async fn a_learners_lesson_is_written_with_its_figures_as_fields() {
    let Some((store, db)) = store("typed_lessons").await else {
        return;
    };
    let btc = Symbol::new("BTCUSDT");
    let lesson = Lesson::new(btc.clone(), at(60_000), "learning", "the setup worked")
        .with_trade_id("t-1")
        .with_situation(situation())
        .with_return_pct(1.25);
    store.record_lesson(&lesson).await.unwrap();
    let d = one(&db, "lessons").await;
    assert_eq!(
        keys(&d),
        BTreeSet::from([
            "_id",
            "_v",
            "lesson_id",
            "instrument",
            "timestamp",
            "agent",
            "text",
            "trade_id",
            "situation",
            "return_pct"
        ])
    );
    assert!(matches!(d.get("timestamp"), Some(Bson::DateTime(_))));
    assert_eq!(d.get_f64("return_pct").unwrap(), 1.25);
    assert_eq!(
        d.get_document("situation").unwrap().get_f64("rsi").unwrap(),
        72.0
    );
    let read = store.recent_lessons(&btc, None, 10).await.unwrap();
    assert_eq!(read, vec![lesson]);
    db.drop().await.unwrap();
}
