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

/// A name no other test or run uses (databases, keys, directories).
pub fn unique(name: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!(
        "{name}_{}_{millis}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Skips (saying why: `None`) or, with `TRADEGRAPH_REQUIRE_SERVICES=1`, fails.
#[allow(clippy::print_stderr)]
pub fn unavailable<T>(what: &str) -> Option<T> {
    assert!(
        std::env::var("TRADEGRAPH_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "{what}, and TRADEGRAPH_REQUIRE_SERVICES=1: run `scripts/services.sh start` once (it \
         installs redis-server and mongod in .services/bin) or set TRADEGRAPH_MONGOD"
    );
    eprintln!("skipping: {what} (`scripts/services.sh start` installs it)");
    None
}

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
#[allow(clippy::print_stderr)]
pub fn services() -> Option<(String, String)> {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:16379".into());
    let mongo = std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:37017".into());
    let reachable = |url: &str| {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let host = rest.split(['/', '?']).next().unwrap_or(rest);
        std::net::TcpStream::connect(host).is_ok()
    };
    if reachable(&redis) && reachable(&mongo) {
        return Some((redis, mongo));
    }
    assert!(
        std::env::var("TRADEGRAPH_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "Redis ({redis}) or MongoDB ({mongo}) is not reachable and TRADEGRAPH_REQUIRE_SERVICES=1: run scripts/services.sh start"
    );
    eprintln!("skipping: Redis or MongoDB not reachable (scripts/services.sh start)");
    None
}
