//! MongoDB documents and indexes as specified, against a real server (scripts/services.sh
//! start). Each test uses a database of its own.
#![cfg(feature = "mongodb")]

use crate::support::hot_suite::{at, candle};
use crate::support::mongo::{decision, keys, one, store, trade};
use mongodb::bson::{doc, Bson, Document};
use std::collections::BTreeSet;
use tradegraph_core::{Symbol, Timeframe};
use tradegraph_store::{CandleHistory, DecisionLog, Lesson, LessonLog, TradeLog};

#[tokio::test]
async fn documents_are_as_specified() {
    let Some((store, db)) = store("documents").await else {
        return;
    };
    let btc = Symbol::new("BTCUSDT");
    store
        .upsert_candles(&btc, &[candle(Timeframe::M1, 0, "45050.25")])
        .await
        .unwrap();
    store.record_decision(&decision(0)).await.unwrap();
    store.record_trade(&trade(0)).await.unwrap();
    store
        .record_lesson(&Lesson::new(
            btc.clone(),
            at(0),
            "technical",
            "wait for the close",
        ))
        .await
        .unwrap();

    let c = one(&db, "ohlc_history").await;
    assert_eq!(
        keys(&c),
        BTreeSet::from([
            "_id",
            "_v",
            "instrument",
            "timestamp",
            "timeframe",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "trades"
        ])
    );
    assert_eq!(c.get_str("instrument").unwrap(), "BTCUSDT");
    assert_eq!(c.get_str("timeframe").unwrap(), "1min");
    assert_eq!(
        c.get_datetime("timestamp").unwrap().timestamp_millis(),
        at(0).millis()
    );
    assert_eq!(
        c.get("close"),
        Some(&Bson::Decimal128("45050.25".parse().unwrap()))
    );

    let dec = one(&db, "agent_decisions").await;
    assert_eq!(
        keys(&dec),
        BTreeSet::from([
            "_id",
            "_v",
            "timestamp",
            "instrument",
            "agent_decisions",
            "decision_id",
            "action"
        ])
    );
    assert!(matches!(dec.get("timestamp"), Some(Bson::DateTime(_))));
    let technical = dec
        .get_document("agent_decisions")
        .unwrap()
        .get_document("technical")
        .unwrap();
    assert_eq!(
        keys(technical),
        BTreeSet::from(["signal", "confidence", "reasoning"])
    );
    assert_eq!(technical.get_str("signal").unwrap(), "BUY");
    assert_eq!(technical.get_f64("confidence").unwrap(), 0.72);

    let t = one(&db, "trades_executed").await;
    for field in [
        "trade_id",
        "instrument",
        "status",
        "entry_timestamp",
        "entry_price",
        "quantity",
        "confidence",
        "agent_decisions",
    ] {
        assert!(t.contains_key(field), "trades_executed lacks {field}: {t}");
    }
    assert_eq!(t.get_str("status").unwrap(), "open");
    assert_eq!(t.get_str("side").unwrap(), "BUY");
    assert_eq!(
        t.get("entry_price"),
        Some(&Bson::Decimal128("45000.50".parse().unwrap()))
    );
    assert!(matches!(t.get("entry_timestamp"), Some(Bson::DateTime(_))));
    // The version that orders the writes of a key: an Int64.
    for d in [&c, &dec, &t] {
        assert!(matches!(d.get("_v"), Some(Bson::Int64(v)) if *v > 0), "{d}");
    }

    let l = one(&db, "lessons").await;
    assert_eq!(
        keys(&l),
        BTreeSet::from([
            "_id",
            "_v",
            "lesson_id",
            "instrument",
            "timestamp",
            "agent",
            "text"
        ])
    );
    db.drop().await.unwrap();
}

#[tokio::test]
async fn indexes_exist() {
    let Some((store, db)) = store("indexes").await else {
        return;
    };
    store.ensure_indexes().await.unwrap();
    let expect = [
        (
            "ohlc_history",
            "instrument_timeframe_timestamp",
            doc! {"instrument": 1, "timeframe": 1, "timestamp": 1},
            true,
        ),
        (
            "agent_decisions",
            "instrument_timestamp",
            doc! {"instrument": 1, "timestamp": 1},
            false,
        ),
        (
            "agent_decisions",
            "run_decision_id",
            doc! {"run_id": 1, "decision_id": 1},
            true,
        ),
        (
            "trades_executed",
            "run_trade_id",
            doc! {"run_id": 1, "trade_id": 1},
            true,
        ),
        (
            "trades_executed",
            "trade_id_any_run",
            doc! {"trade_id": 1},
            false,
        ),
        (
            "lessons",
            "run_lesson_id",
            doc! {"run_id": 1, "lesson_id": 1},
            true,
        ),
        ("prompts", "prompt_hash", doc! {"prompt_hash": 1}, true),
        (
            "checkpoints",
            "thread_checkpoint",
            doc! {"thread_id": 1, "checkpoint_id": 1},
            true,
        ),
    ];
    for (collection, name, keys, unique) in expect {
        let mut cursor = db
            .collection::<Document>(collection)
            .list_indexes()
            .await
            .unwrap();
        let mut found = None;
        while cursor.advance().await.unwrap() {
            let index = cursor.deserialize_current().unwrap();
            if index.options.as_ref().and_then(|o| o.name.as_deref()) == Some(name) {
                found = Some(index);
            }
        }
        let index = found.unwrap_or_else(|| panic!("{collection} has no index {name}"));
        assert_eq!(index.keys, keys, "{collection}.{name}");
        let is_unique = index.options.and_then(|o| o.unique).unwrap_or(false);
        assert_eq!(is_unique, unique, "{collection}.{name} unique");
    }
    // Creating them again is harmless.
    store.ensure_indexes().await.unwrap();
    db.drop().await.unwrap();
}
