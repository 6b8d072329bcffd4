//! Shared by the integration tests: finding the servers (skip or fail), unique names, and
//! private server processes for the tests that stop and start them.
#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

pub mod alert_suite;
pub mod hot_suite;
#[cfg(feature = "mongodb")]
pub mod mongo;
mod private;
#[cfg(feature = "redis")]
pub mod redis;

#[allow(unused_imports)]
pub use private::{PrivateMongo, PrivateRedis};

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Whether `TRADEGRAPH_REQUIRE_SERVICES=1` (set by scripts/test.sh and CI).
pub fn required() -> bool {
    std::env::var("TRADEGRAPH_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Skips (prints why, returns `None`) or, when services are required, fails.
pub fn unavailable<T>(what: &str) -> Option<T> {
    if required() {
        panic!(
            "{what}, and TRADEGRAPH_REQUIRE_SERVICES=1: start the servers with \
             `scripts/services.sh start` (or unset TRADEGRAPH_REQUIRE_SERVICES to skip)"
        );
    }
    // Straight to the process's stderr, past the test harness's capture, so a plain `cargo
    // test` shows what it skipped.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipping: {what} (`scripts/services.sh start` starts Redis and MongoDB)"
    );
    None
}

fn reachable(host_port: &str) -> bool {
    host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok())
}

/// `host:port` of a `scheme://[user@]host:port/...` URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?', ','])
        .next()
        .unwrap_or(rest)
        .to_owned()
}

/// `REDIS_URL`, or scripts/services.sh's default; `None` (skip) when unreachable.
pub fn redis_url() -> Option<String> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:16379".into());
    if reachable(&host_port(&url)) {
        Some(url)
    } else {
        unavailable(&format!("Redis is not reachable at {url}"))
    }
}

/// `MONGODB_URI`, or scripts/services.sh's default; `None` (skip) when unreachable.
pub fn mongodb_uri() -> Option<String> {
    let uri = std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:37017".into());
    if reachable(&host_port(&uri)) {
        Some(uri)
    } else {
        unavailable(&format!("MongoDB is not reachable at {uri}"))
    }
}

/// A name no other test or test run uses: `<name>_<pid>_<millis>_<n>`.
pub fn unique(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!(
        "{name}_{}_{millis}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Waits until `check` holds, up to `within`.
pub async fn eventually(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check().await
}
