//! MongoDB candle and decision writes per second, by batch size: each write an idempotent
//! upsert on the record's unique key, acknowledged once journaled (`j: true`). Then the same
//! through the write-behind queue, as the bot writes.
//!
//! Run: `scripts/services.sh start && cargo bench -p tradegraph-store --features mongodb --bench mongo_writes`
//! (`MONGODB_URI` for another server). Writes into a scratch database, dropped at the end.
//! There is no budget in DESIGN.md: a bot writes 5 candles a minute per instrument and one
//! decision per cycle, so the figure shows the headroom (and what batching buys a backfill).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use std::sync::Arc;
use std::time::Instant;
use tradegraph_core::{Candle, Decimal, Symbol, Timeframe, Timestamp};
use tradegraph_store::behind::Versioned;
use tradegraph_store::mongo::{MongoConfig, MongoStore};
use tradegraph_store::{
    AgentDecision, DecisionRecord, Record, RecordSink, WriteBehind, WriteBehindConfig,
};

const AGENTS: [&str; 8] = [
    "technical",
    "fundamental",
    "sentiment",
    "macro",
    "bull",
    "bear",
    "risk",
    "portfolio",
];

fn candle(i: i64) -> Record {
    let open = Timestamp::from_secs(1_704_067_200 + i * 60);
    let mut c = Candle::opening(
        open,
        Timeframe::M1,
        Decimal::new(4_500_000 + i % 500, 2),
        Decimal::new(125, 3),
    );
    c.update(Decimal::new(4_501_000, 2), Decimal::new(3, 1));
    Record::Candle {
        instrument: Symbol::new("BTCUSDT"),
        candle: c,
    }
}

fn decision(i: i64) -> Record {
    let mut d = DecisionRecord::new(
        "BTCUSDT".into(),
        Timestamp::from_secs(1_704_067_200 + i * 900),
    )
    .action("HOLD");
    for agent in AGENTS {
        let reasoning = format!(
            "{agent}: EMA 9 above 21, RSI 58, volume 1.4x the 20-bar mean; funding neutral; {i}"
        );
        d = d.agent(agent, AgentDecision::new("BUY", 0.64, reasoning.repeat(3)));
    }
    Record::Decision(d)
}

async fn direct(store: &MongoStore, what: &str, make: fn(i64) -> Record, total: i64, batch: usize) {
    let records: Vec<Versioned> = (0..total).map(|i| Versioned::new(make(i))).collect();
    let start = Instant::now();
    for chunk in records.chunks(batch) {
        assert!(store.write_records(chunk).await.unwrap().is_empty());
    }
    let per_sec = total as f64 / start.elapsed().as_secs_f64();
    println!("  {what:<9} batch {batch:>4}: {per_sec:>9.0} writes/s ({total} upserts)");
}

fn main() {
    let uri = std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:37017".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let database = format!("bench_{}", std::process::id());
        let store = MongoStore::connect(&MongoConfig::new(uri.clone()).database(&database)).await.unwrap();
        if store.ping().await.is_err() {
            println!("mongo_writes: skipped, MongoDB is not reachable at {uri} (scripts/services.sh start)");
            return;
        }
        store.ensure_indexes().await.unwrap();
        println!("MongoDB writes ({uri}), idempotent upserts acknowledged once journaled");
        for (batch, total) in [(1, 2_000), (100, 20_000), (1_000, 50_000)] {
            direct(&store, "candles", candle, total, batch).await;
        }
        for (batch, total) in [(1, 1_000), (100, 10_000), (500, 20_000)] {
            direct(&store, "decisions", decision, total, batch).await;
        }

        // The bot's path: submit never waits for MongoDB; flush waits until all is written.
        let spill = std::env::temp_dir().join(format!("{database}-spill.jsonl"));
        let store = Arc::new(store);
        let queue = WriteBehind::start(store.clone(), WriteBehindConfig::new(&spill)).await.unwrap();
        let total = 50_000;
        let start = Instant::now();
        for i in 0..total {
            queue.submit(candle(100_000 + i)).await.unwrap();
        }
        let submitted = start.elapsed();
        queue.flush().await.unwrap();
        let per_sec = total as f64 / start.elapsed().as_secs_f64();
        println!(
            "  write-behind queue (batches of 500): {per_sec:.0} candles/s end to end; submit {:?} each",
            submitted / total as u32
        );
        queue.shutdown().await;
        store.database().drop().await.unwrap();
        let _ = std::fs::remove_file(&spill);
        let _ = std::fs::remove_file(spill.with_extension("jsonl.lock"));
    });
}
