//! What a bot must not forget survives a restart, on each durable store: the memory-file
//! store, Redis and MongoDB. Each test runs the bot in service mode on a file, stops it, starts
//! a new bot on a new connection to the same store, checks what it restored, and runs on.

use super::support::*;
use rust_decimal::Decimal;
use std::path::PathBuf;
use tradegraph::engine::Mode;
use tradegraph_core::risk::{GuardState, RiskLimits, VerdictStatus};
use tradegraph_core::Side;
use tradegraph_store::{Stores, StoresConfig};

/// Where a test's state goes.
#[derive(Clone)]
enum Backend {
    File(PathBuf),
    Redis(String),
    Mongo(String, String, PathBuf),
}

impl Backend {
    fn file() -> Self {
        Self::File(std::env::temp_dir().join(format!("{}.json", unique("tg-state-"))))
    }

    async fn connect(&self) -> Stores {
        let config = match self {
            Self::File(path) => StoresConfig::new().state_file(Some(path.clone())),
            Self::Redis(url) => StoresConfig::new().redis(Some(url.clone())),
            Self::Mongo(uri, db, spill) => StoresConfig::new()
                .mongodb(Some(uri.clone()), db.clone())
                .spill_path(spill.clone()),
        };
        let stores = Stores::connect(config).await.unwrap();
        let expected = match self {
            Self::File(_) => "file",
            Self::Redis(_) => "redis",
            Self::Mongo(..) => "mongodb",
        };
        assert_eq!(stores.state_backend(), expected);
        stores
    }
}

fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::file()];
    if let Some((redis, mongo)) = services() {
        all.push(Backend::Redis(redis));
        let spill = std::env::temp_dir().join(format!("{}.jsonl", unique("tg-spill-")));
        all.push(Backend::Mongo(mongo, unique("restart_"), spill));
    }
    all
}

/// Bought at 00:15, closed at 00:30, bought again at 00:45; `minutes` bars rising slowly.
fn bars(name: &str, minutes: usize) -> PathBuf {
    let mut bars = flat(100.0, 15);
    for i in 0..(minutes - 15) {
        let p = 100.0 + 0.02 * i as f64;
        bars.push((p, p + 0.02, p, p + 0.02));
    }
    bars_file(name, "2024-03-04T00:00:00Z", &bars)
}

fn script() -> std::sync::Arc<ScriptedPm> {
    ScriptedPm::at(&[
        (
            "2024-03-04T00:15:00Z",
            buy(5.0, 95.0, Some(130.0), None).unwrap(),
        ),
        ("2024-03-04T00:30:00Z", close().unwrap()),
        (
            "2024-03-04T00:45:00Z",
            buy(5.0, 95.0, Some(130.0), None).unwrap(),
        ),
        (
            "2024-03-04T01:00:00Z",
            buy(5.0, 95.0, Some(130.0), None).unwrap(),
        ),
    ])
}

#[tokio::test]
async fn the_open_trade_paper_account_learner_and_kill_switch_survive_a_restart() {
    for backend in backends() {
        let symbol = unique("RS");
        let instrument = btc_as(&symbol);
        // First run: two entries, one round trip learned, the kill switch pulled at the end.
        let stores = backend.connect().await;
        let first = bars(&format!("{symbol}-1"), 46);
        let engine = start(
            config(
                instrument.clone(),
                script(),
                RiskLimits::default(),
                stores.clone(),
                Mode::Service,
            ),
            &first,
        )
        .await;
        let run_id = engine.sequence().run_id.clone();
        assert!(!run_id.is_unset(), "a new bot starts a run");
        let switch = engine.kill_switch().clone();
        let learner_before = std::sync::Arc::new(std::sync::Mutex::new(None));
        let keep = learner_before.clone();
        // the learner only: the desk holds the broker and with it the state store
        let learner_now = engine.desk().learner().clone();
        let summary = Box::pin(engine.run(std::future::pending(), move |s| {
            if s.as_of == "2024-03-04T00:45:00Z".parse().unwrap() {
                switch.engage();
                *keep.lock().unwrap() = Some(learner_now.lock().unwrap().clone());
            }
        }))
        .await
        .unwrap();
        assert_eq!(summary.cycles, 3);
        assert_eq!(summary.trades, 1, "one round trip");
        let open_account = summary.final_account.clone().unwrap();
        let position = open_account.position(&instrument.symbol).unwrap().quantity;
        assert!(position > Decimal::ZERO, "long at the end of the first run");
        let learner = learner_before.lock().unwrap().clone().unwrap();
        assert_eq!(learner.judged(), 1);
        stores.shutdown().await;
        drop(stores);

        // Second run: a new connection, the same data and more.
        let stores = backend.connect().await;
        let second = bars(&format!("{symbol}-2"), 76);
        let engine = start(
            config(
                instrument.clone(),
                script(),
                RiskLimits::default(),
                stores.clone(),
                Mode::Service,
            ),
            &second,
        )
        .await;
        assert!(
            engine.kill_switch().is_engaged(),
            "the kill switch is still engaged"
        );
        assert_eq!(engine.sequence().cycles, 3);
        assert_eq!(
            engine.sequence().run_id,
            run_id,
            "a restarted bot goes on with its run"
        );
        assert_eq!(
            engine.sequence().last_cycle_at,
            Some("2024-03-04T00:45:00Z".parse().unwrap())
        );
        assert_eq!(
            *engine.desk().learner().lock().unwrap(),
            learner,
            "the learner as it was"
        );
        let open = engine.ledger().open_trade().expect("the open trade");
        let open_id = open.trade_id.clone();
        assert_eq!(open.side, Side::Buy);
        assert_eq!(engine.ledger().closed_trades(), 1);
        let account = tradegraph_broker::Broker::account(engine.broker().as_ref())
            .await
            .unwrap();
        assert_eq!(account.cash, open_account.cash, "the paper account's cash");
        assert_eq!(
            account.position(&instrument.symbol).unwrap().quantity,
            position
        );
        let run = finish(engine, stores.clone()).await;
        // 00:15 to 00:45 are not decided again; 01:00 and 01:15 run. The kill switch, restored
        // engaged, closed the position at the first price, before any cycle: the cycles have
        // nothing left to close.
        let times: Vec<String> = run.cycles.iter().map(|c| c.as_of.to_string()).collect();
        assert_eq!(times, ["2024-03-04T01:00:00Z", "2024-03-04T01:15:00Z"]);
        let first_verdict = run.cycles[0].verdict.as_ref().unwrap();
        assert!(
            !first_verdict.is_forced_close(),
            "closed before the first cycle: {:?}",
            first_verdict.findings
        );
        let close = run.summary.fills.first().expect("the close's fill");
        assert!(
            close.ts < "2024-03-04T01:00:00Z".parse().unwrap(),
            "closed at once, not at the next cycle: {close:?}"
        );
        assert!(flat_at_end(&run));
        assert_eq!(
            run.summary.trades, 2,
            "the trade opened before the restart closed after it"
        );
        let entries = run
            .broker_fills
            .iter()
            .filter(|f| f.side == Side::Buy)
            .count();
        assert_eq!(entries, 2, "no entry placed again: {:?}", run.broker_fills);
        assert!(
            run.summary.fills.iter().all(|f| f.side == Side::Sell),
            "after the restart only the close: {:?}",
            run.summary.fills
        );
        let log = stores
            .trades
            .trades(&tradegraph_store::Query::new(symbol.as_str()))
            .await
            .unwrap();
        assert!(
            log.iter()
                .all(|t| t.status == tradegraph_store::TradeStatus::Closed),
            "{log:#?}"
        );
        let reopened = log
            .iter()
            .find(|t| t.trade_id == open_id)
            .expect("the trade open at the restart, closed");
        assert!(reopened.realized_pnl.is_some() && reopened.exit_price.is_some());
        // the trade log is durable only in MongoDB (memory otherwise): both trades are there
        let expected = if matches!(backend, Backend::Mongo(..)) {
            2
        } else {
            1
        };
        assert_eq!(log.len(), expected, "{log:#?}");
        stores.shutdown().await;
        let _ = std::fs::remove_file(first);
        let _ = std::fs::remove_file(second);
        if let Backend::File(path) = &backend {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[tokio::test]
async fn the_halt_and_the_circuit_breaker_cooldown_survive_a_restart() {
    for backend in backends() {
        let symbol = unique("RH");
        let instrument = btc_as(&symbol);
        // An 8% bar trips the breaker (30 minutes of cooldown from 00:15); then an entry at
        // 01:00 with a wide stop loses past a 0.1% daily limit by 01:15.
        let mut all = flat(100.0, 10);
        all.push((100.0, 104.0, 96.0, 100.0));
        all.extend(flat(100.0, 54));
        all.extend(flat(97.0, 40));
        let first_part: Vec<_> = all[..80].to_vec();
        let limits = RiskLimits {
            max_daily_loss_pct: Decimal::new(1, 1),
            ..RiskLimits::default()
        };
        let pm = || {
            ScriptedPm::at(&[
                ("2024-03-04T00:15:00Z", buy(5.0, 90.0, None, None).unwrap()),
                ("2024-03-04T01:00:00Z", buy(5.0, 90.0, None, None).unwrap()),
                ("2024-03-04T01:30:00Z", buy(5.0, 90.0, None, None).unwrap()),
                ("2024-03-04T01:45:00Z", buy(5.0, 90.0, None, None).unwrap()),
            ])
        };
        let stores = backend.connect().await;
        let data = bars_file(&format!("{symbol}-1"), "2024-03-04T00:00:00Z", &first_part);
        let engine = start(
            config(
                instrument.clone(),
                pm(),
                limits.clone(),
                stores.clone(),
                Mode::Service,
            ),
            &data,
        )
        .await;
        let guard = engine.desk().guard().clone();
        let run = finish(engine, stores.clone()).await;
        let first = run.cycles[0].verdict.as_ref().unwrap();
        assert!(
            first
                .findings
                .iter()
                .any(|f| f.reason.to_string().contains("circuit breaker")),
            "{:?}",
            first.findings
        );
        let saved: GuardState = guard.lock().unwrap().state().clone();
        assert!(saved.breaker_until.is_some(), "{saved:?}");
        assert!(
            saved.halted_day.is_some(),
            "the daily loss halted the day: {saved:?}"
        );
        drop(run);
        stores.shutdown().await;
        drop(stores);

        let stores = backend.connect().await;
        let data2 = bars_file(&format!("{symbol}-2"), "2024-03-04T00:00:00Z", &all);
        let engine = start(
            config(
                instrument.clone(),
                pm(),
                limits.clone(),
                stores.clone(),
                Mode::Service,
            ),
            &data2,
        )
        .await;
        assert_eq!(
            *engine.desk().guard().lock().unwrap().state(),
            saved,
            "the guard's state as it was"
        );
        let run = finish(engine, stores.clone()).await;
        for cycle in &run.cycles {
            let v = cycle.verdict.as_ref().unwrap();
            if v.action != tradegraph_core::risk::Action::Hold {
                assert_eq!(
                    v.status,
                    VerdictStatus::Rejected,
                    "halted for the day: {:?}",
                    v.findings
                );
                assert!(
                    v.findings
                        .iter()
                        .any(|f| f.reason.to_string().contains("daily loss")),
                    "{:?}",
                    v.findings
                );
            }
        }
        assert!(
            run.cycles.iter().all(|c| c.orders.is_empty()),
            "no entry after the restart"
        );
        stores.shutdown().await;
        let _ = std::fs::remove_file(data);
        let _ = std::fs::remove_file(data2);
    }
}

/// A bot whose state was saved before run ids existed keeps writing without one, as its earlier
/// records were written: a trade open at the upgrade is closed into its own document.
#[tokio::test]
async fn a_bot_saved_before_runs_existed_goes_on_without_a_run() {
    let symbol = unique("LG");
    let path = std::env::temp_dir().join(format!("{}.json", unique("tg-legacy-")));
    let stores = Stores::connect(StoresConfig::new().state_file(Some(path.clone())))
        .await
        .unwrap();
    // the sequence as the earlier version saved it: no `run_id`
    let legacy = serde_json::json!({"cycles": 3, "last_decision": null, "last_cycle_at": "2024-03-04T00:45:00Z"});
    let doc = tradegraph_store::StateDoc::encode(
        tradegraph_store::StateKey::new(symbol.as_str(), tradegraph_store::StatePart::Sequence),
        1,
        "2024-03-04T00:46:00Z".parse().unwrap(),
        &legacy,
    )
    .unwrap();
    stores.state.save(&doc).await.unwrap();
    let engine = start(
        config(
            btc_as(&symbol),
            script(),
            RiskLimits::default(),
            stores.clone(),
            Mode::Service,
        ),
        &bars(&format!("{symbol}-1"), 46),
    )
    .await;
    assert_eq!(engine.sequence().cycles, 3, "the sequence was restored");
    assert!(
        engine.sequence().run_id.is_unset(),
        "no new run for a bot that has records without one"
    );
    drop(engine);
    stores.shutdown().await;
    drop(stores);
    let _ = std::fs::remove_file(path);
}
