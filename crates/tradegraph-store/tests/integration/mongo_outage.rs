//! MongoDB killed in the middle of a run and started again: nothing lost, nothing duplicated.
//! Runs its own mongod (from .services/bin) on a free port, so no other test is disturbed.
#![cfg(feature = "mongodb")]

use crate::support::hot_suite::{at, candle, d};
use crate::support::{unique, PrivateMongo};
use mongodb::bson::{doc, Document};
use std::sync::Arc;
use std::time::Duration;
use tradegraph_core::{Side, Symbol, Timeframe};
use tradegraph_store::mongo::{MongoConfig, MongoStore};
use tradegraph_store::{
    AgentDecision, Alerts, CandleHistory, DecisionLog, DecisionRecord, Query, StoreEvent, TradeLog,
    TradeRecord, TradeStatus, WriteBehind, WriteBehindConfig,
};

fn decision(i: i64) -> DecisionRecord {
    DecisionRecord::new("BTCUSDT".into(), at(i * 60_000))
        .agent("technical", AgentDecision::new("BUY", 0.6, "trend"))
        .action("HOLD")
}

fn trade(i: i64) -> TradeRecord {
    TradeRecord::new(
        format!("t-{i}"),
        "BTCUSDT".into(),
        Side::Sell,
        at(i * 60_000),
        d("45000"),
        d("0.5"),
    )
}

async fn write_phase(wb: &WriteBehind<MongoStore>, range: std::ops::Range<i64>) {
    let btc = Symbol::new("BTCUSDT");
    for i in range {
        wb.record_decision(&decision(i)).await.unwrap();
        if i % 3 == 0 {
            wb.record_trade(&trade(i)).await.unwrap();
        }
        wb.upsert_candles(&btc, &[candle(Timeframe::M1, i, "101")])
            .await
            .unwrap();
    }
}

async fn count(db: &mongodb::Database, collection: &str) -> u64 {
    db.collection::<Document>(collection)
        .count_documents(doc! {})
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_killed_mid_run_and_restarted_loses_and_duplicates_nothing() {
    let Some(mut server) = PrivateMongo::start() else {
        return;
    };
    let config = MongoConfig::new(server.uri())
        .database("outage")
        .timeout(Duration::from_millis(1_500));
    let store = Arc::new(MongoStore::connect(&config).await.unwrap());
    let spill = std::env::temp_dir()
        .join(unique("outage"))
        .join("spill.jsonl");
    let alerts = Alerts::new();
    let mut events = alerts.subscribe();
    let queue = WriteBehindConfig::new(&spill)
        .retry_interval(Duration::from_millis(200))
        .timeout(Duration::from_secs(5))
        .batch_size(64)
        .alerts(alerts);
    let wb = WriteBehind::start(store.clone(), queue).await.unwrap();

    write_phase(&wb, 0..150).await;
    wb.flush().await.unwrap();
    assert_eq!(wb.spilled(), 0);

    server.stop();
    // The bot keeps going: nothing waits for MongoDB, and trades opened before are closed now.
    write_phase(&wb, 150..300).await;
    for i in (0..30).step_by(3) {
        let mut closed = trade(i);
        (closed.status, closed.exit_price) = (TradeStatus::Closed, Some(d("44900")));
        wb.record_trade(&closed).await.unwrap();
    }
    wb.flush().await.unwrap();
    assert!(
        wb.spilled() >= 150,
        "records wait in the spill file: {}",
        wb.spilled()
    );
    assert!(std::fs::metadata(&spill).unwrap().len() > 0);

    server.resume();
    write_phase(&wb, 300..450).await;
    let mut drained = false;
    for _ in 0..300 {
        wb.flush().await.unwrap();
        if wb.spilled() == 0 {
            drained = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        drained,
        "the spill file was not written back: {} left",
        wb.spilled()
    );

    let db = store.database();
    assert_eq!(
        count(db, "agent_decisions").await,
        450,
        "every decision, once"
    );
    assert_eq!(count(db, "trades_executed").await, 150, "every trade, once");
    assert_eq!(count(db, "ohlc_history").await, 450, "every candle, once");
    for i in (0..30).step_by(3) {
        let t = wb.trade(&format!("t-{i}")).await.unwrap().unwrap();
        assert_eq!(
            t.status,
            TradeStatus::Closed,
            "the close, written after the open, wins"
        );
    }
    assert_eq!(
        wb.trade("t-33").await.unwrap().unwrap().status,
        TradeStatus::Open
    );
    let decisions = wb.decisions(&Query::new("BTCUSDT")).await.unwrap();
    assert_eq!(decisions.len(), 450);
    assert_eq!(decisions[449], decision(449));

    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    assert!(
        matches!(
            seen.first(),
            Some(StoreEvent::Unavailable {
                backend: "mongodb",
                ..
            })
        ),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, StoreEvent::Spilling { .. })),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, StoreEvent::Drained { records, .. } if *records >= 160)),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|e| matches!(
            e,
            StoreEvent::Recovered {
                backend: "mongodb",
                ..
            }
        )),
        "{seen:?}"
    );
    wb.shutdown().await;
    let _ = std::fs::remove_dir_all(spill.parent().unwrap());
}
