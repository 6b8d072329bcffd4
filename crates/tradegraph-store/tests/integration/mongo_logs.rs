//! MongoDB history, logs and checkpoints against a real server (scripts/services.sh start).
//! Each test uses a database of its own.
#![cfg(feature = "mongodb")]

use crate::support::hot_suite::{at, candle, d};
use crate::support::mongo::{count, decision, store, trade};
use tradegraph_core::{Symbol, Timeframe};
use tradegraph_store::mongo::MongoCheckpointer;
use tradegraph_store::{
    CandleHistory, DecisionLog, Lesson, LessonLog, Query, TradeLog, TradeStatus,
};

#[tokio::test]
async fn replaying_the_same_data_twice_leaves_no_duplicates() {
    let Some((store, db)) = store("replay").await else {
        return;
    };
    let btc = Symbol::new("BTCUSDT");
    let candles: Vec<_> = (0..50).map(|m| candle(Timeframe::M1, m, "101")).collect();
    for _ in 0..2 {
        store.upsert_candles(&btc, &candles).await.unwrap();
        for i in 0..20 {
            store.record_decision(&decision(i)).await.unwrap();
            store.record_trade(&trade(i)).await.unwrap();
        }
    }
    assert_eq!(count(&db, "ohlc_history").await, 50);
    assert_eq!(count(&db, "agent_decisions").await, 20);
    assert_eq!(count(&db, "trades_executed").await, 20);
    db.drop().await.unwrap();
}

#[tokio::test]
async fn queries_return_what_was_written() {
    let Some((store, db)) = store("queries").await else {
        return;
    };
    let btc = Symbol::new("BTCUSDT");
    let candles: Vec<_> = (0..10).map(|m| candle(Timeframe::M1, m, "101.5")).collect();
    store.upsert_candles(&btc, &candles).await.unwrap();
    store
        .upsert_candles(&Symbol::new("NIFTY50"), &candles)
        .await
        .unwrap();
    let q = Query::new("BTCUSDT")
        .between(at(120_000), at(300_000))
        .limit(2);
    assert_eq!(
        store.candles(&q, Timeframe::M1).await.unwrap(),
        candles[3..5]
    );
    assert_eq!(
        store
            .candles(&Query::new("BTCUSDT"), Timeframe::M1)
            .await
            .unwrap(),
        candles
    );
    assert!(store
        .candles(&Query::new("BTCUSDT"), Timeframe::M5)
        .await
        .unwrap()
        .is_empty());

    for i in [2, 0, 1] {
        store.record_decision(&decision(i)).await.unwrap();
    }
    assert_eq!(
        store.decisions(&Query::new("BTCUSDT")).await.unwrap(),
        vec![decision(0), decision(1), decision(2)]
    );

    let mut t = trade(1);
    store.record_trade(&t).await.unwrap();
    (t.status, t.exit_price, t.exit_timestamp) =
        (TradeStatus::Closed, Some(d("45100")), Some(at(600_000)));
    t.realized_pnl = Some(d("0.995"));
    store.record_trade(&t).await.unwrap();
    assert_eq!(store.trade("t-1").await.unwrap(), Some(t.clone()));
    assert_eq!(store.trades(&Query::new("BTCUSDT")).await.unwrap(), vec![t]);
    assert_eq!(store.trade("nope").await.unwrap(), None);

    for (minute, agent) in [(0, "technical"), (1, "risk"), (2, "technical")] {
        store
            .record_lesson(&Lesson::new(btc.clone(), at(minute * 60_000), agent, "l"))
            .await
            .unwrap();
    }
    let technical = store
        .recent_lessons(&btc, Some("technical"), 10)
        .await
        .unwrap();
    assert_eq!(
        technical.iter().map(|l| l.timestamp).collect::<Vec<_>>(),
        [at(120_000), at(0)]
    );
    assert_eq!(
        store.recent_lessons(&btc, None, 1).await.unwrap()[0].agent,
        "technical"
    );
    assert!(store
        .recent_lessons(&btc, None, 0)
        .await
        .unwrap()
        .is_empty());
    db.drop().await.unwrap();
}

#[tokio::test]
async fn mongo_checkpointer_passes_the_conformance_suite() {
    let Some((store, db)) = store("checkpoints").await else {
        return;
    };
    let cp = MongoCheckpointer::new(store);
    tradegraph_graph::checkpoint::conformance::run_all(|| cp.clone()).await;
    db.drop().await.unwrap();
}
