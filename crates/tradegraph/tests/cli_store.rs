//! `tradegraph store replay-rejected` against the real MongoDB (scripts/services.sh start):
//! the records MongoDB refused are written again; those refused again stay with their new
//! reason, unreadable lines stay as they are, named by line number. Skipped, saying so, when
//! MongoDB is not running, unless TRADEGRAPH_REQUIRE_SERVICES=1.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tradegraph_core::{Side, Timestamp};
use tradegraph_store::mongo::{MongoConfig, MongoStore};
use tradegraph_store::{
    AgentDecision, DecisionLog, DecisionRecord, HotCache, Query, Record, TradeLog, TradeRecord,
};

use tradegraph_testkit::services::{mongodb_uri as mongodb, unique};

/// Runs the binary in `dir` with no environment but `MONGODB_URI`'s absence (the configuration
/// file names the server).
fn tradegraph(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn at(minute: i64) -> Timestamp {
    Timestamp::from_millis(1_704_103_200_000 + minute * 60_000)
}

/// A `.rejected` line as the write-behind queue writes it.
fn rejected_line(record: &Record, error: &str) -> String {
    let json = serde_json::to_string(record).unwrap();
    serde_json::json!({"record": json, "error": error}).to_string()
}

fn setup(name: &str, uri: &str) -> (PathBuf, PathBuf, String) {
    let dir = std::env::temp_dir().join(unique(name));
    std::fs::create_dir_all(&dir).unwrap();
    let database = unique("replay");
    let spill = dir.join("spill-btc.jsonl");
    let config = format!(
        "[stores]\nmongodb_uri = \"{uri}\"\ndatabase = \"{database}\"\nspill_file = \"{}\"\n",
        spill.display()
    );
    std::fs::write(dir.join("tradegraph.toml"), config).unwrap();
    (dir, spill, database)
}

#[test]
fn store_replay_rejected_writes_back_and_keeps_what_is_refused_again() {
    let Some(uri) = mongodb() else {
        return;
    };
    let (dir, spill, database) = setup("replay-rejected", &uri);
    let decision = DecisionRecord::new("BTCUSDT".into(), at(1))
        .agent("technical", AgentDecision::new("BUY", 0.7, "EMA cross"))
        .action("BUY");
    let trade = TradeRecord::new(
        "t-replay",
        "BTCUSDT".into(),
        Side::Buy,
        at(2),
        "45000.5".parse().unwrap(),
        "0.01".parse().unwrap(),
    );
    // MongoDB refuses a field name starting with `$` for good.
    let mut bad = AgentDecision::new("SELL", 0.4, "bad key");
    bad.extra.insert("$where".into(), serde_json::json!(1));
    let refused = DecisionRecord::new("BTCUSDT".into(), at(3)).agent("risk", bad);
    let torn = r#"{"record":"{\"kind\":\"decision\",\"rec"#;
    let lines = [
        rejected_line(
            &Record::Decision(decision.clone()),
            "mongodb refused agent_decisions BTCUSDT@2024-01-01T10:01:00Z: code 189: Not primary",
        ),
        torn.to_owned(),
        rejected_line(&Record::Decision(refused.clone()), "code 52: earlier"),
        rejected_line(&Record::Trade(trade.clone()), "code 91: shutting down"),
    ];
    let rejected = PathBuf::from(format!("{}.rejected", spill.display()));
    std::fs::write(&rejected, lines.join("\n") + "\n").unwrap();

    let out = tradegraph(&dir, &["store", "replay-rejected"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(1),
        "records remain: {stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("4 lines") && stdout.contains("2 written"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("line 2"),
        "the unreadable line is named: {stderr}"
    );
    assert!(
        stderr.contains("line 3") && stderr.contains("$where"),
        "the record refused again is named with its new reason: {stderr}"
    );

    let kept = std::fs::read_to_string(&rejected).unwrap();
    let kept: Vec<&str> = kept.lines().collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(kept[0], torn, "an unreadable line is kept as it was");
    let again: serde_json::Value = serde_json::from_str(kept[1]).unwrap();
    let reason = again["error"].as_str().unwrap();
    assert!(
        reason.contains("$where") && !reason.contains("earlier"),
        "the new reason replaces the old: {reason}"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = MongoStore::connect(&MongoConfig::new(uri.clone()).database(database.clone()))
            .await
            .unwrap();
        let decisions = store.decisions(&Query::new("BTCUSDT")).await.unwrap();
        assert_eq!(decisions, vec![decision.clone()]);
        assert_eq!(store.trade("t-replay").await.unwrap(), Some(trade.clone()));

        // Run again: the same two lines stay, nothing is written twice.
        let out = tradegraph(&dir, &["store", "replay-rejected"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert_eq!(
            std::fs::read_to_string(&rejected).unwrap().lines().count(),
            2
        );
        assert_eq!(
            store.decisions(&Query::new("BTCUSDT")).await.unwrap().len(),
            1
        );
        store.database().drop().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn store_replay_rejected_with_nothing_rejected_says_so() {
    let Some(uri) = mongodb() else {
        return;
    };
    let (dir, _, _) = setup("replay-none", &uri);
    let out = tradegraph(&dir, &["store", "replay-rejected"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("nothing to replay"),
        "{}",
        text(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A bot that still holds the spill file: the replay is refused as its help says (exit 2:
/// stop the bot first), not as MongoDB failing to take the records (3, which a script retries),
/// and the rejected records stay where they are.
#[test]
fn store_replay_rejected_beside_a_running_bot_exits_2() {
    let Some(uri) = mongodb() else {
        return;
    };
    let (dir, spill, _) = setup("replay-held", &uri);
    let decision = DecisionRecord::new("BTCUSDT".into(), at(1)).action("BUY");
    let rejected = dir.join("spill-btc.jsonl.rejected");
    let line = rejected_line(&Record::Decision(decision), "refused");
    std::fs::write(&rejected, format!("{line}\n")).unwrap();
    // The bot's hold on its spill file.
    let held = tradegraph_store::FileState::open(&spill).unwrap();
    let out = tradegraph(&dir, &["store", "replay-rejected"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is in use") && stderr.contains("stop the bot"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&rejected).unwrap(),
        format!("{line}\n")
    );
    drop(held);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 17, items 4 and 5, as a user runs them: a bot whose `REDIS_URL` lists the nodes of a
/// Redis Cluster and whose `MONGODB_URI` names a replica set runs its cycles, keeps its hot
/// cache on the cluster (an instrument's keys in one slot) and its decisions and state in the
/// replica set.
#[test]
fn a_bot_runs_on_a_redis_cluster_and_a_mongodb_replica_set() {
    let Some(cluster) = tradegraph_testkit::services::redis_cluster_url() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(rs) = runtime.block_on(tradegraph_testkit::services::mongodb_replica_set()) else {
        return;
    };
    let dir = std::env::temp_dir().join(unique("cluster-bot"));
    std::fs::create_dir_all(&dir).unwrap();
    let database = unique("cluster_bot");
    // A day no other run uses: its candles' keys are this run's alone. 61 one-minute bars: four
    // decisions of 15 minutes.
    let day = i64::from(std::process::id() % 40_000) + 1;
    let start = Timestamp::from_millis(946_684_800_000 + day * 86_400_000);
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..61 {
        let p = 100.0 + (i % 5) as f64 * 0.1;
        let ts = start.add_millis(i * 60_000);
        csv += &format!("{ts},{p:.2},{:.2},{:.2},{p:.2},10\n", p + 0.05, p - 0.05);
    }
    std::fs::write(dir.join("bars.csv"), csv).unwrap();
    std::fs::write(
        dir.join("tradegraph.toml"),
        format!("[stores]\ndatabase = \"{database}\"\nspill_file = \"spill.jsonl\"\n"),
    )
    .unwrap();
    // The bot warms up from the hot cache at start: an earlier run's candles (of another day)
    // would be newer than this run's. Nothing else on the cluster writes BTCUSDT's keys
    // unprefixed; each node drops those it holds.
    runtime.block_on(async {
        for node in tradegraph_store::url::nodes(&cluster) {
            let mut conn = redis::Client::open(node.trim())
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            for pattern in [
                "price:{BTCUSDT}:*",
                "ohlc:{BTCUSDT}:*",
                "tick:{BTCUSDT}:*",
                "index:*:{BTCUSDT}*",
            ] {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(pattern)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                for key in keys {
                    let () = redis::cmd("DEL")
                        .arg(&key)
                        .query_async(&mut conn)
                        .await
                        .unwrap();
                }
            }
        }
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args([
            "run",
            "--instrument",
            "btc",
            "--feed",
            "replay",
            "--data",
            "bars.csv",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .current_dir(&dir)
        .env_clear()
        .env("REDIS_URL", &cluster)
        .env("MONGODB_URI", &rs)
        .env("TRADEGRAPH_API_TOKEN", "0123456789abcdef0123456789")
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "stores: hot cache in Redis, history and logs in MongoDB, bot state in mongodb"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("cycles 4 "), "{stdout}");

    runtime.block_on(async {
        // The decisions and the bot's state are in the replica set, written with majority.
        let store = MongoStore::connect(&MongoConfig::new(&rs).database(&database))
            .await
            .unwrap();
        assert_eq!(
            store.write_concern(),
            mongodb::bson::doc! {"w": "majority", "j": true}
        );
        let btc = tradegraph_core::Symbol::new("BTCUSDT");
        let decisions = store.decisions(&Query::new(btc.clone())).await.unwrap();
        assert_eq!(decisions.len(), 4, "{decisions:?}");
        let parts = store
            .database()
            .collection::<mongodb::bson::Document>("bot_state")
            .count_documents(mongodb::bson::doc! {"instrument": "BTCUSDT"})
            .await
            .unwrap();
        assert!(
            parts >= 3,
            "the bot's state in the replica set: {parts} parts"
        );
        store.database().drop().await.unwrap();

        // The hot cache's candles are on the cluster, read back through the cluster client.
        let cache = tradegraph_store::redis::RedisHotCache::connect(
            tradegraph_store::redis::RedisConfig::new(&cluster),
        )
        .await
        .unwrap();
        let candles = cache
            .recent_candles(&btc, tradegraph_core::Timeframe::M1, 100_000)
            .await
            .unwrap();
        let ours = candles
            .iter()
            .filter(|c| c.open_time >= start && c.open_time < start.add_millis(61 * 60_000))
            .count();
        assert!(ours >= 60, "{ours} of this run's candles in the cluster");
    });
}

/// A backtest whose settings name the live bot's Redis and MongoDB (its `.env.btc`) writes
/// its decisions there under its own run, and none of the market data it replays: the live
/// bot's price and candle keys and its recorded candles stay as they are.
#[test]
fn a_backtest_writes_no_market_data_into_the_live_stores() {
    let (Some(redis_url), Some(mongo)) = (
        tradegraph_testkit::services::redis_url(),
        tradegraph_testkit::services::mongodb_uri(),
    ) else {
        return;
    };
    let dir = std::env::temp_dir().join(unique("backtest-stores"));
    std::fs::create_dir_all(&dir).unwrap();
    let database = unique("backtest_stores");
    // A day of its own, 61 one-minute bars: four decisions of 15 minutes.
    let day = i64::from(std::process::id() % 40_000) + 40_001;
    let start = Timestamp::from_millis(946_684_800_000 + day * 86_400_000);
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..61 {
        let p = 100.0 + (i % 5) as f64 * 0.1;
        let ts = start.add_millis(i * 60_000);
        csv += &format!("{ts},{p:.2},{:.2},{:.2},{p:.2},10\n", p + 0.05, p - 0.05);
    }
    std::fs::write(dir.join("bars.csv"), csv).unwrap();
    std::fs::write(
        dir.join("tradegraph.toml"),
        format!("[stores]\ndatabase = \"{database}\"\nspill_file = \"spill.jsonl\"\n"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(["backtest", "--instrument", "btc", "--data", "bars.csv"])
        .current_dir(&dir)
        .env_clear()
        .env("REDIS_URL", &redis_url)
        .env("MONGODB_URI", &mongo)
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("cycles 4 "), "{stdout}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = MongoStore::connect(&MongoConfig::new(&mongo).database(&database))
            .await
            .unwrap();
        let btc = tradegraph_core::Symbol::new("BTCUSDT");
        let decisions = store.decisions(&Query::new(btc.clone())).await.unwrap();
        assert_eq!(decisions.len(), 4, "the backtest's decisions are logged");
        let candles = store
            .database()
            .collection::<mongodb::bson::Document>("ohlc_history")
            .count_documents(mongodb::bson::doc! {})
            .await
            .unwrap();
        assert_eq!(candles, 0, "no candle replaces the live bot's");
        store.database().drop().await.unwrap();

        // The hot cache has none of the day's candles.
        let cache = tradegraph_store::redis::RedisHotCache::connect(
            tradegraph_store::redis::RedisConfig::new(&redis_url),
        )
        .await
        .unwrap();
        let day_end = start.add_millis(86_400_000);
        let ours = cache
            .recent_candles(&btc, tradegraph_core::Timeframe::M1, 100_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.open_time >= start && c.open_time < day_end)
            .count();
        assert_eq!(ours, 0, "no candle of the backtest in the hot cache");
    });
}

/// Two `tradegraph run` of one instrument on one MongoDB (the bot's state there): the second
/// watches the first's claim for a lease, sees it renewed and does not start, naming the
/// first; the first trades on.
#[test]
fn a_second_bot_on_the_same_state_server_is_refused_naming_the_first() {
    let Some(uri) = mongodb() else {
        return;
    };
    // Two hosts, as far as the files go: a directory each.
    let database = unique("instance");
    let dirs: Vec<PathBuf> = (0..2)
        .map(|_| {
            let dir = std::env::temp_dir().join(unique("instance"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join("tradegraph.toml"),
                format!(
                    "[stores]\nmongodb_uri = \"{uri}\"\ndatabase = \"{database}\"\nspill_file = \"spill-btc.jsonl\"\n"
                ),
            )
            .unwrap();
            dir
        })
        .collect();
    let run = |dir: &Path, port: u16| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
        command
            .args(["run", "--instrument", "btc", "--feed", "synthetic"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .current_dir(dir)
            .env_clear()
            .env("TRADEGRAPH_API_TOKEN", "instance-test-token-0123456789")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("bot.log")).unwrap());
        command
    };
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let mut first = run(&dirs[0], free_port()).spawn().unwrap();
    let first_log = || std::fs::read_to_string(dirs[0].join("bot.log")).unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !first_log().contains("holds the bot's claim") {
        assert!(
            std::time::Instant::now() < deadline,
            "the first bot never claimed its instrument: {}",
            first_log()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    let second = run(&dirs[1], free_port()).status().unwrap();
    let said = std::fs::read_to_string(dirs[1].join("bot.log")).unwrap();
    assert!(!second.success(), "{said}");
    assert!(
        said.contains(&format!(
            "another instance of the BTCUSDT bot holds its state (process {} on",
            first.id()
        )),
        "{said}"
    );
    assert!(first.try_wait().unwrap().is_none(), "the first runs on");
    // Stopped cleanly, the first releases its claim.
    std::process::Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .unwrap();
    assert!(first.wait().unwrap().success(), "{}", first_log());
    assert!(
        first_log().contains("claim on its instrument is released"),
        "{}",
        first_log()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = MongoStore::connect(&MongoConfig::new(&uri).database(&database))
            .await
            .unwrap();
        store.database().drop().await.unwrap();
    });
}
