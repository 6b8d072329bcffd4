//! Tests against real servers (Redis, MongoDB, chromedriver): find them, or skip saying so, or,
//! when `TRADEGRAPH_REQUIRE_SERVICES=1` (scripts/test.sh and CI), fail.
//!
//! ```no_run
//! // In a test: skip (or fail, when required) without a Redis to test against.
//! let Some(url) = tradegraph_testkit::services::redis_url() else {
//!     return;
//! };
//! assert!(url.starts_with("redis://"));
//! ```

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The environment variable that turns a missing server from a skip into a failure.
pub const REQUIRE_SERVICES: &str = "TRADEGRAPH_REQUIRE_SERVICES";

/// The Redis scripts/services.sh starts (`REDIS_URL` overrides it).
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:16379";

/// The MongoDB scripts/services.sh starts (`MONGODB_URI` overrides it).
pub const DEFAULT_MONGODB_URI: &str = "mongodb://127.0.0.1:37017";

/// The 3-master Redis Cluster scripts/services.sh starts, its nodes comma-separated
/// (`REDIS_CLUSTER_URL` overrides it).
pub const DEFAULT_REDIS_CLUSTER_URL: &str =
    "redis://127.0.0.1:17001,redis://127.0.0.1:17002,redis://127.0.0.1:17003";

/// The one-member MongoDB replica set scripts/services.sh starts (`MONGODB_RS_URI` overrides
/// it). The tests initiate it through the driver when it is not yet.
pub const DEFAULT_MONGODB_RS_URI: &str = "mongodb://127.0.0.1:37018/?replicaSet=tradegraph";

/// Whether `TRADEGRAPH_REQUIRE_SERVICES=1`.
pub fn required() -> bool {
    std::env::var(REQUIRE_SERVICES).is_ok_and(|v| v == "1")
}

/// Skips (says why on stderr, returns `None`) or, when services are [`required`], fails with
/// `what` and how to start the servers.
///
/// # Panics
/// When `TRADEGRAPH_REQUIRE_SERVICES=1`: a missing server is then a test failure.
// An assertion for tests: failing a test is what its panic is for.
#[allow(clippy::panic)]
pub fn unavailable<T>(what: &str) -> Option<T> {
    if required() {
        panic!(
            "{what}, and {REQUIRE_SERVICES}=1: run `scripts/services.sh start` (it starts Redis \
             and MongoDB and installs redis-server, mongod and chromedriver), or unset \
             {REQUIRE_SERVICES} to skip"
        );
    }
    // Straight to the process's stderr, past the test harness's capture, so a plain `cargo
    // test` shows what it skipped.
    let _ = writeln!(
        std::io::stderr(),
        "skipping: {what} (`scripts/services.sh start` starts and installs the test servers)"
    );
    None
}

/// `host:port` of a `scheme://[user@]host:port/...` URL (the first host of a list).
///
/// ```
/// use tradegraph_testkit::services::host_port;
/// assert_eq!(host_port("mongodb://u:p@127.0.0.1:37017/db?x=1"), "127.0.0.1:37017");
/// assert_eq!(host_port("redis://127.0.0.1:16379"), "127.0.0.1:16379");
/// ```
pub fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?', ',']).next().unwrap_or(rest)
}

/// Whether a TCP connection to `url`'s host and port opens within a second.
pub fn reachable(url: &str) -> bool {
    host_port(url)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok())
}

/// `url` when [`reachable`]; otherwise [`unavailable`] (`name` says which server).
pub fn reachable_url(url: &str, name: &str) -> Option<String> {
    if reachable(url) {
        Some(url.to_owned())
    } else {
        unavailable(&format!("{name} is not reachable at {url}"))
    }
}

/// `REDIS_URL` (or [`DEFAULT_REDIS_URL`]) when reachable; otherwise [`unavailable`].
pub fn redis_url() -> Option<String> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.into());
    reachable_url(&url, "Redis")
}

/// `MONGODB_URI` (or [`DEFAULT_MONGODB_URI`]) when reachable; otherwise [`unavailable`].
pub fn mongodb_uri() -> Option<String> {
    let uri = std::env::var("MONGODB_URI").unwrap_or_else(|_| DEFAULT_MONGODB_URI.into());
    reachable_url(&uri, "MongoDB")
}

/// `REDIS_CLUSTER_URL` (or [`DEFAULT_REDIS_CLUSTER_URL`]) when its first node is reachable;
/// otherwise [`unavailable`].
pub fn redis_cluster_url() -> Option<String> {
    let url =
        std::env::var("REDIS_CLUSTER_URL").unwrap_or_else(|_| DEFAULT_REDIS_CLUSTER_URL.into());
    reachable_url(&url, "the Redis Cluster")
}

/// `MONGODB_RS_URI` (or [`DEFAULT_MONGODB_RS_URI`]) when reachable; otherwise [`unavailable`].
/// The set may not be initiated yet.
pub fn mongodb_rs_uri() -> Option<String> {
    let uri = std::env::var("MONGODB_RS_URI").unwrap_or_else(|_| DEFAULT_MONGODB_RS_URI.into());
    reachable_url(&uri, "the MongoDB replica set")
}

/// The replica set of scripts/services.sh (`MONGODB_RS_URI`), initiated through the driver when
/// it is not yet (by whichever test comes first; the others find it initiated) and primary; or,
/// when unreachable, [`unavailable`].
///
/// # Panics
/// When the server answers but cannot be made the set's primary within 30 s: a test failure.
#[cfg(feature = "mongodb")]
#[allow(clippy::panic)]
pub async fn mongodb_replica_set() -> Option<String> {
    use mongodb::bson::doc;
    use mongodb::error::ErrorKind;
    let uri = mongodb_rs_uri()?;
    let host = host_port(&uri).to_owned();
    let set = uri
        .split_once("replicaSet=")
        .map(|(_, rest)| rest.split('&').next().unwrap_or(rest).to_owned())
        .unwrap_or_else(|| panic!("MONGODB_RS_URI on {host} names no replicaSet"));
    let direct = mongodb::Client::with_uri_str(format!("mongodb://{host}/?directConnection=true"))
        .await
        .unwrap_or_else(|e| panic!("a client of {host}: {e}"));
    let admin = direct.database("admin");
    if let Err(e) = admin.run_command(doc! {"replSetGetStatus": 1}).await {
        // 94 NotYetInitialized: initiate it (23 AlreadyInitialized: another test did).
        match e.kind.as_ref() {
            ErrorKind::Command(c) if c.code == 94 => {}
            _ => panic!("replSetGetStatus on {host}: {e}"),
        }
        let members = vec![doc! {"_id": 0, "host": &host}];
        if let Err(e) = admin
            .run_command(doc! {"replSetInitiate": {"_id": &set, "members": members}})
            .await
        {
            match e.kind.as_ref() {
                ErrorKind::Command(c) if c.code == 23 => {}
                _ => panic!("replSetInitiate on {host}: {e}"),
            }
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let primary = admin
            .run_command(doc! {"isMaster": 1})
            .await
            .is_ok_and(|reply| reply.get_bool("ismaster").unwrap_or(false));
        if primary {
            return Some(uri);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the replica set {set} at {host} elected no primary within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A name no other test or test run uses (databases, keys, directories):
/// `<name>_<pid>_<millis>_<n>`.
///
/// ```
/// let (a, b) = (tradegraph_testkit::services::unique("db"), tradegraph_testkit::services::unique("db"));
/// assert!(a.starts_with("db_") && a != b);
/// ```
pub fn unique(name: &str) -> String {
    let (pid, n, now) = (std::process::id(), next(), since_epoch());
    format!("{name}_{pid}_{}_{n}", now.as_millis())
}

/// A name no other test or test run uses, with nothing but `name`, digits and `x` in it (no
/// `_`; letters and digits when `name` is): for symbols, which end up inside store keys, client
/// order ids and database names. The shape is `<name><pid>x<n>x<nanos>`.
///
/// ```
/// use tradegraph_testkit::services::unique_compact;
/// let (a, b) = (unique_compact("CK"), unique_compact("CK"));
/// assert!(a.starts_with("CK") && a != b);
/// assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
/// ```
pub fn unique_compact(name: &str) -> String {
    let (pid, n, now) = (std::process::id(), next(), since_epoch());
    format!("{name}{pid}x{n}x{}", now.subsec_nanos())
}

/// A number no earlier call in this process got.
fn next() -> u32 {
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The wall-clock time since the Unix epoch (zero for a clock set before it).
fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_differ_and_compact_ones_are_alphanumeric() {
        let names: std::collections::HashSet<String> =
            (0..100).map(|_| unique_compact("CK")).collect();
        assert_eq!(names.len(), 100);
        for name in &names {
            assert!(
                name.starts_with(&format!("CK{}x", std::process::id())),
                "{name}"
            );
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
        }
        let (a, b) = (unique("db"), unique("db"));
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("db_{}_", std::process::id())), "{a}");
    }

    #[test]
    fn a_closed_port_is_unreachable_and_a_listener_is_reachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| {
            unreachable!("binding a local port: {e}");
        });
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        assert!(reachable(&format!("redis://127.0.0.1:{port}/0")));
        drop(listener);
        assert!(!reachable(&format!("redis://127.0.0.1:{port}/0")));
        assert!(!reachable("not a url"));
    }

    #[test]
    fn host_port_takes_the_first_host_after_credentials() {
        assert_eq!(host_port("mongodb://a:b@h1:1,h2:2/db?replicaSet=x"), "h1:1");
        assert_eq!(host_port("127.0.0.1:9"), "127.0.0.1:9");
    }
}
