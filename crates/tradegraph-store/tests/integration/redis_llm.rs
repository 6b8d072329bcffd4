//! The LLM response cache in Redis, against a real Redis (scripts/services.sh start).
#![cfg(feature = "llm-cache")]

use crate::support::redis::{delete_prefix, raw};
use crate::support::{redis_url, unique};
use redis::AsyncCommands;
use std::time::Duration;
use tradegraph_store::redis::RedisConfig;

#[tokio::test]
async fn redis_llm_cache_records_and_replays_answers() {
    use tradegraph_llm::cache::{CacheKey, CacheRecord, LlmCache};
    use tradegraph_llm::{Content, Request, Response};
    use tradegraph_store::redis::RedisLlmCache;

    let Some(url) = redis_url() else { return };
    let prefix = format!("{}:", unique("llm"));
    let cache = RedisLlmCache::connect(RedisConfig::new(url.clone()).key_prefix(&prefix))
        .await
        .unwrap()
        .ttl(Duration::from_secs(3_600));
    let request = Request::chat("You are terse.", "BTC: buy, sell or hold?").temperature(0.0);
    let key = CacheKey::new("openai", "gpt-4.1-mini", &request);
    assert_eq!(cache.get(&key).await.unwrap(), None);
    let record = CacheRecord {
        key: key.clone(),
        response: Response::new("openai", "gpt-4.1-mini", Content::Text("HOLD".into())),
    };
    cache.put(record.clone()).await.unwrap();
    assert_eq!(cache.get(&key).await.unwrap(), Some(record));

    let mut conn = raw(&url).await;
    let redis_key = format!("{prefix}llm:{key}");
    let stored: String = conn.get(&redis_key).await.unwrap();
    assert!(!stored.contains("terse"), "no prompt is stored: {stored}");
    let ttl: i64 = conn.ttl(&redis_key).await.unwrap();
    assert!((3_595..=3_600).contains(&ttl), "TTL {ttl}");
    let _: () = conn.set(&redis_key, "not json").await.unwrap();
    let err = cache.get(&key).await.unwrap_err();
    assert!(err.to_string().contains("not a cache record"), "{err}");
    delete_prefix(&url, &prefix).await;
}
