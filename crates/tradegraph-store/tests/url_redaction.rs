#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(any(feature = "redis", feature = "mongodb"))]
//! Store URLs that fail validation never echo credentials (issue 12, item 15): neither a
//! `user:password@` nor a secret in the query string; the host and the setting are named.

use tradegraph_store::{Stores, StoresConfig};

const PASSWORD: &str = "pa55w0rd-canary";
const QUERY_SECRET: &str = "qk-canary-31337";

async fn assert_redacted(config: StoresConfig, host: &str, field: &str) {
    let Err(err) = Stores::connect(config).await else {
        panic!("a bad URL must be an error");
    };
    let text = err.to_string();
    for shown in [text.clone(), format!("{err:?}")] {
        for secret in [PASSWORD, QUERY_SECRET] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }
    assert!(text.contains(host) && text.contains(field), "{text}");
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn store_url_errors_echo_redis_credentials() {
    let url =
        format!("redis://app:{PASSWORD}@cache.example.com:6379/not-a-db?password={QUERY_SECRET}");
    let config = StoresConfig::new().redis(Some(url));
    assert_redacted(config, "cache.example.com", "REDIS_URL").await;
}

#[cfg(feature = "mongodb")]
#[tokio::test]
async fn store_url_errors_echo_mongodb_credentials() {
    let dir = std::env::temp_dir().join(format!("tradegraph-url-redaction-{}", std::process::id()));
    let uri = format!(
        "mongodb://app:{PASSWORD}@db.example.com:not-a-port/trading?tlsCertificateKeyFilePassword={QUERY_SECRET}"
    );
    let config = StoresConfig::new()
        .mongodb(Some(uri), "trading")
        .spill_path(dir.join("spill.jsonl"));
    assert_redacted(config, "db.example.com", "MONGODB_URI").await;
}
