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
pub mod run_suite;

#[allow(unused_imports)]
pub use private::{PrivateMongo, PrivateRedis};

use std::time::Duration;

/// Finding the servers (skip or fail), and unique names: one implementation for every crate.
#[allow(unused_imports)]
pub use tradegraph_testkit::services::{
    mongodb_rs_uri, mongodb_uri, redis_cluster_url, redis_url, required, unavailable, unique,
};

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
