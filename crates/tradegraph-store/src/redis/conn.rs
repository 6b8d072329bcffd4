//! One connection type for a single Redis and a Redis Cluster, so every store is written once.

use super::redact;
use crate::StoreError;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Where `REDIS_URL` points: one server, or the seed nodes of a cluster.
///
/// ```
/// use tradegraph_store::redis::Topology;
/// assert_eq!(Topology::of("redis://127.0.0.1:6379", false), Topology::Single("redis://127.0.0.1:6379".into()));
/// assert_eq!(
///     Topology::of("redis://10.0.0.1:7000, redis://10.0.0.2:7000", false),
///     Topology::Cluster(vec!["redis://10.0.0.1:7000".into(), "redis://10.0.0.2:7000".into()]),
/// );
/// // `REDIS_CLUSTER=1` with one seed node.
/// assert_eq!(Topology::of("redis://10.0.0.1:7000", true), Topology::Cluster(vec!["redis://10.0.0.1:7000".into()]));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Topology {
    /// One server (or a server behind a proxy).
    Single(String),
    /// A Redis Cluster, reached through these seed nodes; the client learns the rest.
    Cluster(Vec<String>),
}

impl Topology {
    /// A cluster when `url` lists several nodes (comma-separated) or `cluster` is set
    /// (`REDIS_CLUSTER=1`), else one server.
    pub fn of(url: &str, cluster: bool) -> Self {
        let nodes: Vec<String> = crate::url::nodes(url)
            .into_iter()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        if cluster || nodes.len() > 1 {
            Self::Cluster(nodes)
        } else {
            Self::Single(url.trim().to_owned())
        }
    }
}

/// The URLs without their passwords.
impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Single(url) => f.debug_tuple("Single").field(&redact(url)).finish(),
            Self::Cluster(nodes) => f
                .debug_tuple("Cluster")
                .field(&nodes.iter().map(|n| redact(n)).collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// A connection to one Redis (reconnecting by itself) or to a cluster (routing each command to
/// the node that owns its keys' slot, following `MOVED` and `ASK`). Both are made lazily: only a
/// bad URL fails at once; an unreachable server fails the first command, and the next command
/// tries again. Cloning shares the connection.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(LazyCluster),
}

/// The cluster connection, made by the first command that needs it. Cloning shares it.
#[derive(Clone)]
pub(crate) struct LazyCluster(Arc<(ClusterClient, OnceCell<ClusterConnection>)>);

impl LazyCluster {
    async fn get(&self) -> redis::RedisResult<ClusterConnection> {
        let (client, conn) = &*self.0;
        conn.get_or_try_init(|| client.get_async_connection())
            .await
            .cloned()
    }
}

impl Conn {
    /// A connection for `topology`, with `timeout` on connecting and on every answer.
    pub(crate) fn open(
        topology: &Topology,
        timeout: Duration,
        retry_interval: Duration,
    ) -> Result<Self, StoreError> {
        let bad_url = |url: &str, e: redis::RedisError| {
            StoreError::Config(format!("REDIS_URL `{}`: {e}", redact(url)))
        };
        match topology {
            Topology::Single(url) => {
                let client = redis::Client::open(url.as_str()).map_err(|e| bad_url(url, e))?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(retry_interval);
                ConnectionManager::new_lazy_with_config(client, config)
                    .map(Self::Single)
                    .map_err(|source| StoreError::Redis {
                        operation: "connect",
                        source,
                    })
            }
            Topology::Cluster(nodes) => {
                if nodes.is_empty() {
                    return Err(StoreError::Config(
                        "REDIS_URL names no node of the Redis Cluster".into(),
                    ));
                }
                for node in nodes {
                    redis::Client::open(node.as_str()).map_err(|e| bad_url(node, e))?;
                }
                let client = ClusterClient::builder(nodes.iter().map(String::as_str))
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .retries(2)
                    .build()
                    .map_err(|e| bad_url(&nodes.join(","), e))?;
                Ok(Self::Cluster(LazyCluster(Arc::new((
                    client,
                    OnceCell::new(),
                )))))
            }
        }
    }
}

impl Conn {
    /// Whether this is a cluster connection (a pipeline must then stay within one slot).
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(lazy) => Box::pin(async move {
                let mut conn = lazy.get().await?;
                conn.req_packed_command(cmd).await
            }),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Self::Cluster(lazy) => Box::pin(async move {
                let mut conn = lazy.get().await?;
                conn.req_packed_commands(pipeline, offset, count).await
            }),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(_) => 0,
        }
    }
}
