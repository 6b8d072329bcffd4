//! Helpers for the Redis tests.

use redis::AsyncCommands;

pub async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Deletes a test's keys.
pub async fn delete_prefix(url: &str, prefix: &str) {
    let mut conn = raw(url).await;
    let keys: Vec<String> = conn.keys(format!("{prefix}*")).await.unwrap();
    if !keys.is_empty() {
        let _: () = conn.del(keys).await.unwrap();
    }
}
