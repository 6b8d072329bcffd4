//! The LLM response cache in Redis (feature `llm-cache`): recorded answers shared by every bot
//! and every backtest that uses the same Redis.

use super::Conn;
use super::{redact, run, Keys, RedisConfig};
use crate::StoreError;
use async_trait::async_trait;
use std::fmt;
use std::time::Duration;
use tradegraph_llm::cache::{CacheKey, CacheRecord, LlmCache};
use tradegraph_llm::LlmError;

/// Recorded LLM answers in Redis: `llm:<key>` holds the [`CacheRecord`] as JSON (the answer
/// and its key: never the prompt, never an API key), without expiry unless
/// [`ttl`](Self::ttl) is set. Implements the LLM crate's [`LlmCache`], for read-write and
/// replay-only modes alike.
///
/// ```no_run
/// # async fn demo() -> Result<(), tradegraph_store::StoreError> {
/// use std::time::Duration;
/// use tradegraph_store::redis::{RedisConfig, RedisLlmCache};
/// let cache = RedisLlmCache::connect(RedisConfig::new("redis://127.0.0.1:6379"))
///     .await?
///     .ttl(Duration::from_secs(30 * 24 * 3600));
/// # Ok(()) }
/// ```
pub struct RedisLlmCache {
    conn: Conn,
    keys: Keys,
    timeout: Duration,
    ttl: Option<Duration>,
    url: String,
}

impl RedisLlmCache {
    /// A cache on `config.url`, under its key prefix. Fails only for a bad URL. Must be called
    /// inside a tokio runtime.
    pub async fn connect(config: RedisConfig) -> Result<Self, StoreError> {
        Ok(Self {
            conn: config.connection()?,
            keys: Keys::new(config.key_prefix.clone()),
            timeout: config.timeout,
            ttl: None,
            url: redact(&config.url),
        })
    }

    /// Records expire after `ttl` (at least one second).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl.max(Duration::from_secs(1)));
        self
    }

    /// The Redis key of a cache key: `llm:<sha256 hex>`.
    pub fn key(&self, key: &CacheKey) -> String {
        format!("{}llm:{key}", self.keys.prefix())
    }
}

fn cache_error(e: impl fmt::Display) -> LlmError {
    LlmError::Cache(format!("redis: {e}"))
}

impl fmt::Debug for RedisLlmCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLlmCache")
            .field("url", &self.url)
            .field("prefix", &self.keys.prefix())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl LlmCache for RedisLlmCache {
    async fn get(&self, key: &CacheKey) -> Result<Option<CacheRecord>, LlmError> {
        let redis_key = self.key(key);
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("GET").arg(&redis_key).clone();
        let json: Option<Vec<u8>> = run("llm cache get", self.timeout, cmd.query_async(&mut conn))
            .await
            .map_err(cache_error)?;
        json.map(|bytes| {
            serde_json::from_slice(&bytes)
                .map_err(|e| cache_error(format!("{redis_key} is not a cache record: {e}")))
        })
        .transpose()
    }

    async fn put(&self, record: CacheRecord) -> Result<(), LlmError> {
        let redis_key = self.key(&record.key);
        let json = serde_json::to_vec(&record).map_err(cache_error)?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(&redis_key).arg(json);
        if let Some(ttl) = self.ttl {
            cmd.arg("EX").arg(ttl.as_secs());
        }
        let mut conn = self.conn.clone();
        run(
            "llm cache put",
            self.timeout,
            cmd.query_async::<()>(&mut conn),
        )
        .await
        .map_err(cache_error)
    }
}
