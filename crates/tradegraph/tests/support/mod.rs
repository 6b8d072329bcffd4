//! Shared by the integration tests: the `tradegraph run` process, a local server in OpenAI's
//! chat-completions format that answers per agent, a local WebSocket server that plays a
//! script of frames, readers of the bot's state file, and private Redis/MongoDB servers
//! ([`private`]) with [`unique`] names.
#![allow(dead_code, unreachable_pub)]

pub mod binance;
pub mod kite;
pub mod llm;
pub mod process;
pub mod state;
pub mod webdriver;
pub mod ws;

/// The store crate's private servers (a `redis-server` or `mongod` of one test's own, so that
/// stopping it disturbs no other test). It asks its parent for [`unique`] and [`unavailable`].
#[allow(clippy::print_stderr)]
#[path = "../../../tradegraph-store/tests/integration/support/private.rs"]
pub mod private;

use std::path::PathBuf;

/// Finding the servers (skip or fail), and unique names: one implementation for every crate.
#[allow(unused_imports)]
pub use tradegraph_testkit::services::{mongodb_uri, redis_url, unavailable, unique};

/// A fresh directory for one test's files (the bot runs in it, so no `.env` of the repository
/// is read).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tradegraph-run-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Now, in milliseconds since the epoch, rounded down to the minute.
pub fn this_minute_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let now = i64::try_from(now).unwrap();
    now - now % 60_000
}

/// The cycle lines (`describe_cycle`: `<decision time> <SYMBOL> | ...`) among `stdout`, with
/// their decision times.
pub fn cycles(stdout: &[String], symbol: &str) -> Vec<(tradegraph_core::Timestamp, String)> {
    stdout
        .iter()
        .filter_map(|line| {
            let (at, rest) = line.split_once(' ')?;
            if !rest.starts_with(&format!("{symbol} | ")) {
                return None;
            }
            Some((at.parse().ok()?, line.clone()))
        })
        .collect()
}

/// A local port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Redis and MongoDB from `scripts/services.sh` (or `REDIS_URL` / `MONGODB_URI`); `None`, saying
/// so, when they are not running — unless `TRADEGRAPH_REQUIRE_SERVICES=1` (the test command),
/// which makes that a failure.
pub fn services() -> Option<(String, String)> {
    Some((redis_url()?, mongodb_uri()?))
}

/// One-minute bars for `cycles` 15-minute candles (one decision cycle each) from 2024-03-04, on
/// one day, written to `dir/bars.csv`.
pub fn bars_for_cycles(dir: &std::path::Path, cycles: i64) -> PathBuf {
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..15 * cycles + 1 {
        let p = 100.0 + (i % 5) as f64 * 0.1;
        let ts = tradegraph_core::Timestamp::from_millis(1_709_510_400_000 + i * 60_000);
        csv += &format!("{ts},{p:.2},{:.2},{:.2},{p:.2},10\n", p + 0.05, p - 0.05);
    }
    let path = dir.join("bars.csv");
    std::fs::write(&path, csv).unwrap();
    path
}
