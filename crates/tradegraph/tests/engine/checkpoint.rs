//! A checkpoint of the bot's state never runs ahead of the logs. The decision and trade logs go
//! to MongoDB through the write-behind queue (in memory until its task writes them), the
//! checkpoints (the decision sequence, the trade ledger) straight to MongoDB: when the engine
//! saves a checkpoint past a decision or a trade, that record must already be in MongoDB (or
//! its spill file), or a process killed right after the save loses it for good — the restarted
//! bot does not decide or read the fill again. Found by the chaos test (`tests/chaos.rs`).
//!
//! The state store here looks at MongoDB at the instant each checkpoint is saved, with the
//! bot's thread stopped (as a SIGKILL would stop it): nothing of the bot runs in between, its
//! write-behind task included.

use super::support::*;
use async_trait::async_trait;
use mongodb::bson::{doc, Document};
use std::sync::{Arc, Mutex};
use tradegraph::engine::Mode;
use tradegraph_core::risk::RiskLimits;
use tradegraph_store::{
    BotStateStore, Saved, StateDoc, StateKey, StatePart, StoreError, Stores, StoresConfig,
};

/// What MongoDB holds, read from a thread and runtime of its own.
struct Logs {
    rt: tokio::runtime::Runtime,
    db: mongodb::Database,
}

impl Logs {
    fn count(&self, collection: &str, filter: Document) -> u64 {
        std::thread::scope(|s| {
            s.spawn(|| {
                let coll = self.db.collection::<Document>(collection);
                self.rt
                    .block_on(async { coll.count_documents(filter).await })
            })
            .join()
            .unwrap()
            .unwrap()
        })
    }
}

/// The bot's state store, checking the logs whenever a checkpoint is saved.
struct Watching {
    inner: Arc<dyn BotStateStore>,
    logs: Arc<Logs>,
    symbol: String,
    seen: Mutex<Vec<String>>,
    problems: Mutex<Vec<String>>,
}

impl Watching {
    /// Runs inside `save`, before anything is awaited: the bot's thread is held here.
    fn check(&self, doc: &StateDoc) {
        let body = &doc.body;
        let mut problems = Vec::new();
        match doc.key.part {
            // A sequence with no decision yet (saved at the first start, for its run id) is
            // past none.
            StatePart::Sequence if body["last_decision"].is_null() => {
                assert!(body["run_id"].is_string(), "{body}");
                self.seen.lock().unwrap().push("sequence at start".into());
            }
            StatePart::Sequence => {
                let id = body["last_decision"].as_str().unwrap_or_default();
                let stored = self.logs.count("agent_decisions", doc! {"decision_id": id});
                if stored != 1 {
                    problems.push(format!("sequence saved past decision {id}, not in the log"));
                }
                self.seen.lock().unwrap().push(format!("sequence {id}"));
            }
            StatePart::Trades => {
                let closed = body["closed"].as_u64().unwrap();
                let filter = doc! {"instrument": &self.symbol, "status": "closed"};
                let stored = self.logs.count("trades_executed", filter);
                if stored != closed {
                    problems.push(format!(
                        "ledger saved with {closed} closed trade(s), the trade log has {stored}"
                    ));
                }
                if let Some(open) = body["open"]["trade_id"].as_str() {
                    if self.logs.count("trades_executed", doc! {"trade_id": open}) != 1 {
                        problems.push(format!(
                            "ledger saved with trade {open} open, not in the log"
                        ));
                    }
                }
                self.seen
                    .lock()
                    .unwrap()
                    .push(format!("ledger closed {closed}"));
            }
            _ => {}
        }
        self.problems.lock().unwrap().extend(problems);
    }
}

#[async_trait]
impl BotStateStore for Watching {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        self.inner.load(key).await
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        self.check(doc);
        self.inner.save(doc).await
    }
}

/// Bought at 00:15 (by the portfolio manager) and closed at 00:30; bought again at 00:45 and
/// stopped out at 00:50 (on a market event, between cycles).
fn data(name: &str) -> std::path::PathBuf {
    let mut bars = flat(100.0, 50);
    bars.push((100.0, 100.0, 96.0, 96.5));
    bars.extend(flat(96.5, 10));
    bars_file(name, "2024-03-04T00:00:00Z", &bars)
}

#[test]
fn a_checkpoint_is_never_saved_ahead_of_the_logs() {
    let Some((_, mongo)) = services() else {
        return;
    };
    let symbol = unique("CK");
    let database = unique("checkpoint_");
    let checker = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let client = checker
        .block_on(mongodb::Client::with_uri_str(&mongo))
        .unwrap();
    let logs = Arc::new(Logs {
        db: client.database(&database),
        rt: checker,
    });
    let bot = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let watching = bot.block_on(async {
        let spill = std::env::temp_dir().join(format!("{}.jsonl", unique("tg-spill-")));
        let mut stores = Stores::connect(
            StoresConfig::new()
                .mongodb(Some(mongo.clone()), database.clone())
                .spill_path(spill.clone()),
        )
        .await
        .unwrap();
        let watching = Arc::new(Watching {
            inner: stores.state.clone(),
            logs: logs.clone(),
            symbol: symbol.clone(),
            seen: Mutex::new(Vec::new()),
            problems: Mutex::new(Vec::new()),
        });
        stores.state = watching.clone();
        let pm = ScriptedPm::at(&[
            (
                "2024-03-04T00:15:00Z",
                buy(5.0, 98.0, Some(120.0), None).unwrap(),
            ),
            ("2024-03-04T00:30:00Z", close().unwrap()),
            (
                "2024-03-04T00:45:00Z",
                buy(5.0, 98.0, Some(120.0), None).unwrap(),
            ),
        ]);
        let file = data(&symbol);
        let config = config(
            btc_as(&symbol),
            pm,
            RiskLimits::default(),
            stores.clone(),
            Mode::Service,
        );
        let engine = start(config, &file).await;
        let run = finish(engine, stores.clone()).await;
        stores.shutdown().await;
        std::fs::remove_file(file).unwrap();
        let _ = std::fs::remove_file(spill);
        assert_eq!(run.summary.trades, 2, "{:?}", run.summary.fills);
        watching
    });
    let seen = watching.seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .filter(|s| s.starts_with("sequence") && *s != "sequence at start")
            .count()
            >= 4
            && seen.iter().any(|s| s == "ledger closed 2"),
        "the checkpoints were watched: {seen:?}"
    );
    let problems = watching.problems.lock().unwrap().clone();
    assert!(problems.is_empty(), "{problems:#?}\nsaves: {seen:?}");
    logs.rt.block_on(async { logs.db.drop().await.unwrap() });
}
