//! Redis (feature `redis`): the hot cache with the specification's keys and TTLs, and a graph
//! checkpointer.
#![doc = include_str!("../docs/redis.md")]

mod checkpoint;
mod commands;
mod conn;
mod hot;
mod keys;
#[cfg(feature = "llm-cache")]
mod llm_cache;
#[cfg(feature = "llm-limits")]
mod llm_limits;
mod pending;
mod queue;
mod state;
mod value;
mod writer;

pub use checkpoint::RedisCheckpointer;
pub use conn::Topology;
pub use hot::RedisHotCache;
pub use keys::Keys;
#[cfg(feature = "llm-cache")]
pub use llm_cache::RedisLlmCache;
#[cfg(feature = "llm-limits")]
pub use llm_limits::RedisLlmLimits;
pub use queue::{RedisRunQueue, MAX_WAIT};
pub use state::{DurabilityRisk, RedisState};

/// The URL without its password; each node of a cluster's list on its own.
pub(crate) use crate::url::redact_nodes as redact;
use crate::{Alerts, HotLimits, StoreError};
pub(crate) use conn::Conn;
use std::time::Duration;

/// How to reach Redis and how to behave while it is away.
///
/// ```
/// use std::time::Duration;
/// use tradegraph_store::redis::RedisConfig;
/// let config = RedisConfig::new("redis://127.0.0.1:6379").key_prefix("staging:").timeout(Duration::from_millis(500));
/// assert_eq!(config.key_prefix, "staging:");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (`REDIS_URL`), or a comma-separated list of a
    /// Redis Cluster's nodes.
    pub url: String,
    /// A Redis Cluster even when `url` names one node (`REDIS_CLUSTER=1`). A list of several
    /// nodes is always a cluster.
    pub cluster: bool,
    /// Prepended to every key (empty: the specification's keys exactly).
    pub key_prefix: String,
    /// Time limit of every command, and of connecting (1 second).
    pub timeout: Duration,
    /// While Redis is away, how often the writer tries it again (1 second).
    pub retry_interval: Duration,
    /// Most writes held back while Redis is away (100,000); beyond, the oldest ticks are dropped.
    pub max_pending: usize,
    /// TTLs and windows: the latest price 5 minutes, candles and ticks 24 hours.
    pub limits: HotLimits,
    /// Where [`StoreEvent`](crate::StoreEvent)s go.
    pub alerts: Alerts,
}

impl RedisConfig {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            cluster: false,
            key_prefix: String::new(),
            timeout: Duration::from_secs(1),
            retry_interval: Duration::from_secs(1),
            max_pending: 100_000,
            limits: HotLimits::default(),
            alerts: Alerts::new(),
        }
    }

    /// Sets the key prefix.
    #[must_use]
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Treats `url` as a Redis Cluster's seed node even when it names one node.
    #[must_use]
    pub fn cluster(mut self, cluster: bool) -> Self {
        self.cluster = cluster;
        self
    }

    /// One server or a cluster, from `url` and `cluster`.
    pub fn topology(&self) -> Topology {
        Topology::of(&self.url, self.cluster)
    }

    /// Sets the command time limit.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how often Redis is tried again while away.
    #[must_use]
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// Sets the held-back write bound.
    #[must_use]
    pub fn max_pending(mut self, n: usize) -> Self {
        self.max_pending = n;
        self
    }

    /// Sets the TTLs and windows.
    #[must_use]
    pub fn limits(mut self, limits: HotLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sends events to `alerts`.
    #[must_use]
    pub fn alerts(mut self, alerts: Alerts) -> Self {
        self.alerts = alerts;
        self
    }

    /// A connection that reconnects by itself, to one server or a cluster ([`Topology`]). It is
    /// made lazily: this fails only for a bad URL, not for an unreachable server (writes then
    /// report it, and the hot cache carries on in process).
    pub(crate) fn connection(&self) -> Result<Conn, StoreError> {
        Conn::open(&self.topology(), self.timeout, self.retry_interval)
    }
}

/// The URL without its password, for messages.
impl std::fmt::Debug for RedisConfig {
    /// The URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redact(&self.url))
            .field("cluster", &self.cluster)
            .field("key_prefix", &self.key_prefix)
            .field("timeout", &self.timeout)
            .field("retry_interval", &self.retry_interval)
            .field("max_pending", &self.max_pending)
            .finish_non_exhaustive()
    }
}

/// Runs a command with the time limit, naming the operation in errors.
pub(crate) async fn run<T>(
    operation: &'static str,
    timeout: Duration,
    fut: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    let started = std::time::Instant::now();
    let answer = tokio::time::timeout(timeout, fut).await;
    let failed = match &answer {
        Ok(Ok(_)) => None,
        Ok(Err(_)) => Some("error"),
        Err(_) => Some("timeout"),
    };
    crate::metrics::redis_op(operation, started.elapsed(), failed);
    match answer {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(source)) => Err(StoreError::Redis { operation, source }),
        Err(_) => Err(StoreError::Timeout {
            backend: "redis",
            operation,
            after: timeout,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::Topology;

    #[test]
    fn a_topology_shows_no_password_and_a_comma_in_one_stays_in_it() {
        let cluster = Topology::of("redis://:secret@h:1,redis://u:other@g:2", false);
        let shown = format!("{cluster:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("other") && shown.contains("g:2"),
            "{shown}"
        );
        assert_eq!(
            Topology::of("redis://:pa,ss@h:1", false),
            Topology::Single("redis://:pa,ss@h:1".into())
        );
        assert!(!format!("{:?}", Topology::of("redis://:pa,ss@h:1", false)).contains("ss@"));
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(super::redact("redis://u:secret@h:1/0"), "redis://***@h:1/0");
        assert_eq!(super::redact("redis://h:1"), "redis://h:1");
        assert_eq!(
            super::redact("redis://:a@h:1,redis://u:b@g:2"),
            "redis://***@h:1,redis://***@g:2"
        );
    }
}
