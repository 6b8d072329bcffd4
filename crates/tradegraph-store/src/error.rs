//! The crate's one error type.

use std::path::PathBuf;
use std::time::Duration;
use tradegraph_graph::checkpoint::CheckpointError;

/// What went wrong in a store. Messages say what failed, where, and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A Redis command failed.
    #[cfg(feature = "redis")]
    #[error("redis {operation} failed: {source} (is Redis running at the configured URL? `scripts/services.sh start` starts one)")]
    Redis {
        /// What was being done (`put_tick`, `recent_candles`, ...).
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: redis::RedisError,
    },
    /// A MongoDB operation failed.
    #[cfg(feature = "mongodb")]
    #[error("mongodb {operation} failed: {source}")]
    Mongo {
        /// What was being done (`upsert ohlc_history`, `find agent_decisions`, ...).
        operation: String,
        /// The driver's error.
        #[source]
        source: Box<mongodb::error::Error>,
    },
    /// A backend did not answer in time.
    #[error("{backend} {operation} timed out after {after:?}; the server is slow or unreachable")]
    Timeout {
        /// `redis` or `mongodb`.
        backend: &'static str,
        /// What was being done.
        operation: &'static str,
        /// The time limit.
        after: Duration,
    },
    /// The server refused a record for good (a bad value, not a connectivity problem).
    #[error("{backend} refused {record}: {reason}")]
    Refused {
        /// `mongodb`; for bot state and order intents also `memory`, `file` or `redis`.
        backend: &'static str,
        /// The record's collection and key.
        record: String,
        /// The server's reason.
        reason: String,
    },
    /// The server could not take a record now (a primary stepping down, a server shutting
    /// down): nothing is lost, the record is written again later.
    #[error("{backend} cannot write {record} now: {reason}; it is kept and written again once the server takes writes (a primary is elected, the server is back)")]
    Unavailable {
        /// `mongodb`.
        backend: &'static str,
        /// The record's collection and key.
        record: String,
        /// The server's reason.
        reason: String,
    },
    /// A stored value could not be read back.
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// Which value (a key, a collection and id).
        what: String,
        /// Why.
        reason: String,
    },
    /// A value could not be encoded for storage.
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// Which value.
        what: String,
        /// Why.
        reason: String,
    },
    /// The spill file could not be written or read.
    #[error(
        "spill file {path}: {source}; records waiting for MongoDB stay in memory until it works"
    )]
    Spill {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The bot-state file could not be read, written or locked.
    #[error("state file {path}: {source}; bot state cannot be saved or restored until this is fixed (check that the directory exists, is writable and has free space)")]
    StateFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A configuration value that cannot work.
    #[error("invalid store configuration: {0}")]
    Config(String),
    /// A file one process at a time may hold (a spill file, a state file) is held by another
    /// process, or by another store of this one: pick another file, or stop its holder.
    #[error("the {file} {} is in use ({holder}); {remedy}", path.display())]
    InUse {
        /// What the file is (`spill file`, `state file`).
        file: &'static str,
        /// The file.
        path: PathBuf,
        /// Who holds it (`<file>.lock is held by process 4242`).
        holder: String,
        /// What to do.
        remedy: &'static str,
    },
    /// The write-behind queue has shut down.
    #[error("the write-behind queue has shut down; no more records are accepted")]
    Closed,
    /// A checkpoint could not be stored or read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

impl StoreError {
    /// True when retrying later may succeed (the server is down, slow or restarting), as opposed
    /// to a value the server refuses or a bug.
    pub fn is_transient(&self) -> bool {
        match self {
            #[cfg(feature = "redis")]
            Self::Redis { source, .. } => {
                source.is_io_error()
                    || source.is_connection_dropped()
                    || source.is_connection_refusal()
                    || source.is_timeout()
                    || source.is_unrecoverable_error()
                    // busy or failing over: LOADING (restarting with its data), TRYAGAIN,
                    // MASTERDOWN, CLUSTERDOWN, READONLY (a node demoted to replica)
                    || matches!(
                        source.retry_method(),
                        ::redis::RetryMethod::WaitAndRetry
                            | ::redis::RetryMethod::RefreshSlotsAndRetry
                            | ::redis::RetryMethod::RetryImmediately
                    )
            }
            #[cfg(feature = "mongodb")]
            Self::Mongo { source, .. } => crate::mongo::is_transient(source),
            Self::Timeout { .. } | Self::Unavailable { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn decode(what: impl Into<String>, reason: impl ToString) -> Self {
        Self::Decode {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn encode(what: impl Into<String>, reason: impl ToString) -> Self {
        Self::Encode {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    /// As the graph engine's checkpoint error, for the [`Checkpointer`] implementations.
    ///
    /// [`Checkpointer`]: tradegraph_graph::Checkpointer
    #[cfg_attr(not(any(feature = "redis", feature = "mongodb")), allow(dead_code))]
    pub(crate) fn into_checkpoint(
        self,
        backend: &'static str,
        operation: &'static str,
    ) -> CheckpointError {
        match self {
            Self::Checkpoint(e) => e,
            other => CheckpointError::Backend {
                backend,
                operation,
                message: other.to_string(),
            },
        }
    }
}

#[cfg(all(test, feature = "redis"))]
mod tests {
    use super::StoreError;
    use redis::{ErrorKind, RedisError, ServerErrorKind};

    fn redis(kind: ErrorKind, text: &'static str) -> StoreError {
        StoreError::Redis {
            operation: "write",
            source: RedisError::from((kind, text)),
        }
    }

    #[test]
    fn a_busy_or_failing_over_redis_is_transient_a_refused_value_is_not() {
        for (kind, text) in [
            (
                ServerErrorKind::BusyLoading,
                "LOADING Redis is loading the dataset in memory",
            ),
            (ServerErrorKind::TryAgain, "TRYAGAIN"),
            (ServerErrorKind::MasterDown, "MASTERDOWN"),
            (
                ServerErrorKind::ClusterDown,
                "CLUSTERDOWN The cluster is down",
            ),
            (
                ServerErrorKind::ReadOnly,
                "READONLY You can't write against a read only replica.",
            ),
        ] {
            assert!(
                redis(ErrorKind::Server(kind), text).is_transient(),
                "{text}"
            );
        }
        for (kind, text) in [
            (
                ErrorKind::Server(ServerErrorKind::ResponseError),
                "WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (ErrorKind::Server(ServerErrorKind::NoScript), "NOSCRIPT"),
            (ErrorKind::UnexpectedReturnType, "not a string"),
        ] {
            assert!(!redis(kind, text).is_transient(), "{text}");
        }
    }
}
