//! Every way out of the bot flushes its stores: a run that stops on an error leaves in MongoDB
//! every record it made before the error (issue 12, item 5). Input `run` cannot work with is
//! refused with the documented exit codes, not as a bot that stopped (3, which a supervisor
//! restarts).
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::path::Path;
use std::process::Command;
use tradegraph_core::{Symbol, Timeframe, Timestamp};
use tradegraph_store::redis::{RedisConfig, RedisHotCache};
use tradegraph_store::{HotCache, Query, Stores, StoresConfig};

/// `n` one-minute bars from 2024-03-04T00:00Z.
fn bars(dir: &Path, n: usize) -> std::path::PathBuf {
    bars_from(dir, "2024-03-04T00:00:00Z".parse().unwrap(), n)
}

/// `n` one-minute bars from `start`.
fn bars_from(dir: &Path, start: Timestamp, n: usize) -> std::path::PathBuf {
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..n {
        let p = 100.0 + (i % 5) as f64 * 0.1;
        let ts = start.add_millis(i as i64 * 60_000);
        csv += &format!("{ts},{p:.2},{:.2},{:.2},{p:.2},10\n", p + 0.05, p - 0.05);
    }
    let path = dir.join("bars.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn an_error_exit_flushes_every_record_to_mongodb() {
    let Some((_, mongo)) = support::services() else {
        return;
    };
    let dir = support::temp_dir("error-exit");
    let database = format!("exit_{}", std::process::id());
    // The default graph with a step limit it cannot finish within: the first decision cycle
    // fails, and a backtest stops on a failed cycle.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let graph = std::fs::read_to_string(root.join("graphs/trading.yaml"))
        .unwrap()
        .replace(
            "name: trading\n",
            "name: trading\nlimits:\n  max_steps: 2\n",
        );
    std::fs::write(dir.join("failing.yaml"), graph).unwrap();
    std::fs::write(
        dir.join("tradegraph.toml"),
        format!(
            "[stores]\nmongodb_uri = \"{mongo}\"\ndatabase = \"{database}\"\n\
             spill_file = \"spill.jsonl\"\n\n[graph]\nfile = \"failing.yaml\"\n"
        ),
    )
    .unwrap();
    let data = bars(&dir, 40);
    let out = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args([
            "backtest",
            "--store-market-data",
            "--instrument",
            "btc",
            "--data",
        ])
        .arg(&data)
        .current_dir(&dir)
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a run-time failure: {stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("supersteps"),
        "says why it stopped: {stderr}"
    );

    // Every candle closed before the failed cycle (00:00 to 00:14) is in MongoDB, although the
    // process exited on an error right after writing the last of them.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stores = runtime
        .block_on(Stores::connect(
            StoresConfig::new()
                .mongodb(Some(mongo), database)
                .spill_path(dir.join("reader-spill.jsonl")),
        ))
        .unwrap();
    let query = Query::new(Symbol::new("BTCUSDT"));
    let minutes = runtime
        .block_on(stores.history.candles(&query, Timeframe::M1))
        .unwrap();
    let times: Vec<String> = minutes.iter().map(|c| c.open_time.to_string()).collect();
    assert_eq!(minutes.len(), 15, "{times:?}\n{stderr}");
    let fifteen = runtime
        .block_on(stores.history.candles(&query, Timeframe::M15))
        .unwrap();
    assert_eq!(
        fifteen.len(),
        1,
        "the candle that closed the cycle: {fifteen:?}"
    );
    assert!(
        !dir.join("spill.jsonl").exists()
            || std::fs::read_to_string(dir.join("spill.jsonl"))
                .unwrap()
                .is_empty(),
        "nothing left behind in the spill file"
    );
    runtime.block_on(stores.shutdown());
}

/// A run that stops on an error leaves in Redis every candle it put in the hot cache before the
/// error: the hot cache's writer buffers them, and the exit waits for it.
#[test]
fn an_error_exit_flushes_the_hot_cache_to_redis() {
    let Some((redis, _)) = support::services() else {
        return;
    };
    let dir = support::temp_dir("error-exit-redis");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let graph = std::fs::read_to_string(root.join("graphs/trading.yaml"))
        .unwrap()
        .replace(
            "name: trading\n",
            "name: trading\nlimits:\n  max_steps: 2\n",
        );
    std::fs::write(dir.join("failing.yaml"), graph).unwrap();
    std::fs::write(
        dir.join("tradegraph.toml"),
        format!(
            "[stores]\nredis_url = \"{redis}\"\nspill_file = \"spill.jsonl\"\n\n\
             [graph]\nfile = \"failing.yaml\"\n"
        ),
    )
    .unwrap();
    // A day no other test uses, so that the instrument's keys (`ohlc:{BTCUSDT}:1min:<time>`,
    // no prefix) are this run's alone.
    let day = i64::from(std::process::id() % 40_000) + 1;
    let start = Timestamp::from_millis(946_684_800_000 + day * 86_400_000);
    let data = bars_from(&dir, start, 40);
    let out = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args([
            "backtest",
            "--store-market-data",
            "--instrument",
            "btc",
            "--data",
        ])
        .arg(&data)
        .current_dir(&dir)
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "a run-time failure: {stderr}");

    // Read back from Redis by a fresh cache (nothing of its own buffered): the recent candles
    // are the index, then each candle's `ohlc:{BTCUSDT}:1min:<time>` key.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stored = runtime.block_on(async {
        let cache = RedisHotCache::connect(RedisConfig::new(redis))
            .await
            .unwrap();
        cache
            .recent_candles(&Symbol::new("BTCUSDT"), Timeframe::M1, 5_000)
            .await
            .unwrap()
    });
    let end = start.add_millis(15 * 60_000);
    let missing: Vec<String> = (0..15)
        .map(|i| start.add_millis(i * 60_000))
        .filter(|t| !stored.iter().any(|c| c.open_time == *t && *t < end))
        .map(|t| format!("ohlc:{{BTCUSDT}}:1min:{}", t.compact()))
        .collect();
    assert!(
        missing.is_empty(),
        "candles not in Redis: {missing:?}\n{stderr}"
    );
}

/// `tradegraph run` in `dir` with nothing of this environment but `env`, listening on any
/// port: its exit code, stdout and stderr.
fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .arg("run")
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A replay file that is not there, and `--workers redis` without Redis, are input errors
/// (exit 2); a control token too short (never shown) and a graph file whose edges are wrong are
/// invalid configuration (exit 1): each found before the service starts or a token is
/// generated.
#[test]
fn input_errors_of_run_exit_with_their_codes_before_anything_starts() {
    let dir = support::temp_dir("run-input-errors");
    let (code, stdout, stderr) =
        run_in(&dir, &["--instrument", "btc", "--data", "no-such.csv"], &[]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the replay file") && stderr.contains("no-such.csv"),
        "{stderr}"
    );
    assert!(!stdout.contains("API token"), "{stdout}");
    let (code, _, stderr) = run_in(&dir, &["--feed", "synthetic", "--workers", "redis"], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("set REDIS_URL"), "{stderr}");
    let (code, stdout, stderr) = run_in(
        &dir,
        &["--feed", "synthetic"],
        &[("TRADEGRAPH_API_TOKEN", "hunter2")],
    );
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("TRADEGRAPH_API_TOKEN has 7 characters; use at least 16"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2") && !stdout.contains("hunter2"));
    assert!(!stdout.contains("service:"), "{stdout}");
    // A graph file with an edge to an undeclared node, naming its line.
    let graphed = support::temp_dir("run-bad-graph");
    std::fs::write(
        graphed.join("bad.yaml"),
        "name: bad\nnodes:\n  - { name: a, kind: technical }\nedges:\n  - { from: start, to: a }\n  - { from: a, to: b }\n",
    )
    .unwrap();
    std::fs::write(
        graphed.join("tradegraph.toml"),
        "[graph]\nfile = \"bad.yaml\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run_in(&graphed, &["--feed", "synthetic"], &[]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("bad.yaml:6:") && stderr.contains("node `b`, which is not declared"),
        "{stderr}"
    );
    assert!(!stdout.contains("API token"), "{stdout}");
    // A node kind no agent has: found when the engine builds the graph, invalid configuration
    // all the same (not a bot that stopped, which a supervisor restarts).
    std::fs::write(
        graphed.join("bad.yaml"),
        "name: bad\nnodes:\n  - { name: a, kind: no_such_agent }\nedges:\n  - { from: start, to: a }\n  - { from: a, to: end }\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run_in(&graphed, &["--feed", "synthetic"], &[]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("no_such_agent"), "{stderr}");
}
