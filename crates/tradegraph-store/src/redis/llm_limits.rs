//! The LLM providers' rate limits in Redis, shared by every process that uses them.

use super::{redact, run, Conn, Keys, RedisConfig};
use crate::StoreError;
use async_trait::async_trait;
use redis::Script;
use std::sync::LazyLock;
use std::time::Duration;
use tradegraph_llm::fallback::{Limits, SharedLimitError, SharedLimits};

/// A script on the buckets: its body has `now` (the server's clock, ms) and `level(key,
/// capacity)`, a bucket's level refilled up to now (full when absent).
fn bucket_script(body: &str) -> Script {
    super::commands::at_server_time(&format!(
        r"
local function level(key, capacity)
  local v = redis.call('HMGET', key, 'level', 'at')
  local l = tonumber(v[1]) or capacity
  local at = tonumber(v[2]) or now
  return math.min(capacity, l + math.max(0, now - at) * capacity / 60000)
end
{body}"
    ))
}

/// Takes one request and `ARGV[3]` tokens when both buckets have them, else answers the wait in
/// milliseconds. Each bucket is a hash (`level`, `at` in ms, by the server's clock), refilled
/// continuously at its capacity per minute, full when absent. KEYS: requests bucket, tokens
/// bucket. ARGV: requests per minute (0: none), tokens per minute (0: none), tokens.
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    bucket_script(
        r"
local rpm, tpm, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait, r, k = 0, 0, 0
if rpm > 0 then
  r = level(KEYS[1], rpm)
  if r < 1 then wait = math.max(wait, (1 - r) * 60000 / rpm) end
end
if tpm > 0 then
  k = level(KEYS[2], tpm)
  local need = math.min(tokens, tpm)
  if k < need then wait = math.max(wait, (need - k) * 60000 / tpm) end
end
if wait > 0 then return math.min(60000, math.max(1, math.ceil(wait))) end
if rpm > 0 then
  redis.call('HSET', KEYS[1], 'level', tostring(r - 1), 'at', now)
  redis.call('PEXPIRE', KEYS[1], 120000)
end
if tpm > 0 then
  redis.call('HSET', KEYS[2], 'level', tostring(math.max(-tpm, k - tokens)), 'at', now)
  redis.call('PEXPIRE', KEYS[2], 120000)
end
return 0
",
    )
});

/// Adds `ARGV[2]` tokens (negative: takes) to the bucket, within `[-capacity, capacity]`.
/// KEYS: tokens bucket. ARGV: tokens per minute, tokens.
static SETTLE: LazyLock<Script> = LazyLock::new(|| {
    bucket_script(
        r"
local tpm, delta = tonumber(ARGV[1]), tonumber(ARGV[2])
local l = math.max(-tpm, math.min(tpm, level(KEYS[1], tpm) + delta))
redis.call('HSET', KEYS[1], 'level', tostring(l), 'at', now)
redis.call('PEXPIRE', KEYS[1], 120000)
return 1
",
    )
});

/// The LLM providers' request and token buckets in Redis ([`SharedLimits`]): the bots of
/// several instruments, or several machines, calling a provider with one key share its
/// `requests_per_minute` and `tokens_per_minute`. Keys: `llm_limit:{<provider>}:requests` and
/// `llm_limit:{<provider>}:tokens` (hashes of the bucket's level and time, by the server's
/// clock, expiring two minutes after the last call), one hash tag per provider, so it runs on a
/// Redis Cluster too. Each take is one script, atomic; a wait is at most a minute, as the
/// process's own limits answer. The buckets are named by the provider's name only: processes
/// using different accounts of one provider on one Redis need different key prefixes
/// ([`RedisConfig::key_prefix`]).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use tradegraph_llm::config::LlmConfig;
/// use tradegraph_llm::fallback::SharedLimitsHandle;
/// use tradegraph_store::redis::{RedisConfig, RedisLlmLimits};
/// let shared = RedisLlmLimits::connect(RedisConfig::new("redis://127.0.0.1:6379"))?;
/// let mut config = LlmConfig::default();
/// config.shared_limits = Some(SharedLimitsHandle(Arc::new(shared)));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisLlmLimits {
    conn: Conn,
    keys: Keys,
    timeout: Duration,
    url: String,
}

impl RedisLlmLimits {
    /// Shared limits on `config.url` (one server or a cluster). Fails only for a bad URL.
    pub fn connect(config: RedisConfig) -> Result<Self, StoreError> {
        Ok(Self {
            conn: config.connection()?,
            keys: Keys::new(config.key_prefix.clone()),
            timeout: config.timeout,
            url: redact(&config.url),
        })
    }

    fn bucket(&self, provider: &str, what: &str) -> String {
        self.keys.llm_limit(provider, what)
    }
}

impl std::fmt::Debug for RedisLlmLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLlmLimits")
            .field("url", &self.url)
            .field("key_prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SharedLimits for RedisLlmLimits {
    async fn take(
        &self,
        provider: &str,
        limits: Limits,
        tokens: u64,
    ) -> Result<Duration, SharedLimitError> {
        let mut call = TAKE.key(self.bucket(provider, "requests"));
        call.key(self.bucket(provider, "tokens"))
            .arg(limits.requests_per_minute.unwrap_or(0))
            .arg(limits.tokens_per_minute.unwrap_or(0))
            .arg(tokens);
        let mut conn = self.conn.clone();
        let wait_ms: u64 =
            run("llm limit take", self.timeout, call.invoke_async(&mut conn)).await?;
        Ok(Duration::from_millis(wait_ms))
    }

    async fn settle(
        &self,
        provider: &str,
        limits: Limits,
        estimated: u64,
        actual: u64,
    ) -> Result<(), SharedLimitError> {
        let Some(tpm) = limits.tokens_per_minute else {
            return Ok(());
        };
        let delta = i64::try_from(estimated).unwrap_or(i64::MAX)
            - i64::try_from(actual).unwrap_or(i64::MAX);
        let mut call = SETTLE.key(self.bucket(provider, "tokens"));
        call.arg(tpm).arg(delta);
        let mut conn = self.conn.clone();
        run(
            "llm limit settle",
            self.timeout,
            call.invoke_async::<()>(&mut conn),
        )
        .await?;
        Ok(())
    }
}
