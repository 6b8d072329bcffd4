//! MongoDB (feature `mongodb`): candle history, the decision, trade, lesson and operator logs, and a graph
//! checkpointer, in collections shared by every instrument.
#![doc = include_str!("../docs/mongodb.md")]

mod checkpoint;
mod document;
mod indexes;
mod read;
mod state;
mod write;

pub use checkpoint::MongoCheckpointer;
pub use state::MongoState;

use crate::url::redact;
use crate::{Alerts, StoreError};
use mongodb::bson::doc;
use mongodb::error::ErrorKind;
use mongodb::options::{Acknowledgment, ClientOptions, WriteConcern};
use mongodb::{Client, Database};
use std::future::IntoFuture;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tradegraph_core::backoff::Backoff;

/// The candle history collection.
pub const OHLC_HISTORY: &str = "ohlc_history";
/// The decision log collection.
pub const AGENT_DECISIONS: &str = "agent_decisions";
/// The trade log collection.
pub const TRADES_EXECUTED: &str = "trades_executed";
/// The lessons collection.
pub const LESSONS: &str = "lessons";
/// Operators' actions on the bots (kill switch, pause, close all, approvals), one document
/// per action.
pub const OPERATOR_ACTIONS: &str = "operator_actions";
/// The alerts the bots raised, one document per alert (and per recovery).
pub const ALERTS: &str = "alerts";
/// The prompts the agents sent, one document per distinct text (by `prompt_hash`).
pub const PROMPTS: &str = "prompts";
/// The graph checkpoints collection.
pub const CHECKPOINTS: &str = "checkpoints";
/// Per-thread checkpoint counters.
pub const CHECKPOINT_THREADS: &str = "checkpoint_threads";
/// Bot state: one document per instrument and part.
pub const BOT_STATE: &str = "bot_state";
/// Order intents, one document per client order id.
pub const ORDER_INTENTS: &str = "order_intents";

/// How to reach MongoDB.
///
/// ```
/// use tradegraph_store::mongo::MongoConfig;
/// let config = MongoConfig::new("mongodb://127.0.0.1:27017").database("trading");
/// assert_eq!(config.database, "trading");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct MongoConfig {
    /// `mongodb://[user:password@]host:port[/?options]` (`MONGODB_URI`).
    pub uri: String,
    /// The database (`tradegraph`).
    pub database: String,
    /// Time limit of every operation, and of finding the server (5 seconds).
    pub timeout: Duration,
    /// Where [`StoreEvent`](crate::StoreEvent)s go.
    pub alerts: Alerts,
}

impl MongoConfig {
    /// Defaults for `uri`.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            database: "tradegraph".into(),
            timeout: Duration::from_secs(5),
            alerts: Alerts::new(),
        }
    }

    /// Sets the database.
    #[must_use]
    pub fn database(mut self, name: impl Into<String>) -> Self {
        self.database = name.into();
        self
    }

    /// Sets the time limit.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends events to `alerts`.
    #[must_use]
    pub fn alerts(mut self, alerts: Alerts) -> Self {
        self.alerts = alerts;
        self
    }
}

/// History, logs and lessons in MongoDB. Writes are idempotent upserts on each record's unique
/// key, batched (one round trip per collection per batch); the indexes are created with the
/// first operation that reaches the server. Cloning shares the connection pool.
///
/// Direct writes fail while MongoDB is away; put a [`WriteBehind`](crate::WriteBehind) in front
/// (as [`Stores::connect`](crate::Stores::connect) does) so that nothing waits and nothing is
/// lost.
#[derive(Clone)]
pub struct MongoStore {
    db: Database,
    /// The write concern of this store's writes (see [`MongoStore::write_concern`]).
    write_concern: Arc<std::sync::RwLock<mongodb::bson::Document>>,
    /// Whether the URI set its own write concern (`w=`, `journal=`), which stays.
    uri_concern: bool,
    timeout: Duration,
    indexed: Arc<AtomicBool>,
    /// Records not written because a higher version was stored (shared by clones).
    superseded: Arc<AtomicU64>,
}

impl MongoStore {
    /// A store on `config.uri`. Makes no connection yet: fails only for a bad URI.
    pub async fn connect(config: &MongoConfig) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(&config.uri).await.map_err(|e| {
            StoreError::Config(format!("MONGODB_URI `{}`: {e}", redact(&config.uri)))
        })?;
        options.app_name.get_or_insert_with(|| "tradegraph".into());
        options
            .server_selection_timeout
            .get_or_insert(config.timeout);
        options.connect_timeout.get_or_insert(config.timeout);
        // Acknowledged once journaled, so that a server killed right after loses nothing we were
        // told was written; on a replica set (`replicaSet=` in the URI, or found by the first
        // operation) once a majority of its members has it, so that a failover loses nothing
        // either. A URI's own `w`/`journal` options take precedence.
        let uri_concern = options.write_concern.is_some();
        if !uri_concern && options.repl_set_name.is_some() {
            options.write_concern = Some(
                WriteConcern::builder()
                    .w(Acknowledgment::Majority)
                    .journal(true)
                    .build(),
            );
        }
        let write_concern = match &options.write_concern {
            Some(wc) => mongodb::bson::to_document(wc).unwrap_or_else(|_| doc! {"w": 1, "j": true}),
            None => doc! {"w": 1, "j": true},
        };
        let client = Client::with_options(options).map_err(|e| mongo("connect", e))?;
        Ok(Self {
            db: client.database(&config.database),
            write_concern: Arc::new(std::sync::RwLock::new(write_concern)),
            uri_concern,
            timeout: config.timeout,
            indexed: Arc::new(AtomicBool::new(false)),
            superseded: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Records this store (and its clones) did not write because their key already held a
    /// higher version: normal for a late batch, a sign of versions gone back otherwise (each is
    /// logged at warn with both versions). The same version already stored is a record written
    /// before (sent again after a stepdown, or from the spill file) and is not counted.
    pub fn superseded(&self) -> u64 {
        self.superseded.load(Ordering::Relaxed)
    }

    /// The write concern of this store's writes: `{w: 1, j: true}`, or `{w: "majority", j:
    /// true}` on a replica set (named by `replicaSet=` in the URI, or found by the first
    /// operation: a URI listing a set's members without naming it), or the URI's own.
    pub fn write_concern(&self) -> mongodb::bson::Document {
        self.write_concern
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The database, for queries of your own.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Checks that MongoDB answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run("ping", || async {
            self.db.run_command(doc! {"ping": 1}).await.map(drop)
        })
        .await
    }

    /// Creates the indexes (idempotent; done by the first operation anyway).
    pub async fn ensure_indexes(&self) -> Result<(), StoreError> {
        self.find_replica_set().await?;
        indexes::create(self).await?;
        self.indexed.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// A server that is a replica set's member (`hello` names its set) takes majority writes,
    /// unless the URI set its own write concern.
    async fn find_replica_set(&self) -> Result<(), StoreError> {
        if self.uri_concern {
            return Ok(());
        }
        // `hello` since MongoDB 4.4.2; `isMaster` before
        let hello = match self
            .run("hello", || async {
                self.db.run_command(doc! {"hello": 1}).await
            })
            .await
        {
            Err(StoreError::Mongo { source, .. }) if matches!(&*source.kind, mongodb::error::ErrorKind::Command(c) if c.code == 59) => {
                self.run("isMaster", || async {
                    self.db.run_command(doc! {"isMaster": 1}).await
                })
                .await?
            }
            reply => reply?,
        };
        if hello.get_str("setName").is_ok() {
            *self
                .write_concern
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                doc! {"w": "majority", "j": true};
        }
        Ok(())
    }

    async fn ready(&self) -> Result<(), StoreError> {
        if self.indexed.load(Ordering::Relaxed) {
            return Ok(());
        }
        self.ensure_indexes().await
    }

    /// Runs an operation with the time limit. An operation refused because the primary is
    /// stepping down (or a replica set is electing one) is made again with `make`, after a
    /// backoff, up to [`STEPDOWN_ATTEMPTS`] times: every operation of this crate is idempotent
    /// (reads, upserts on a natural key, version-checked writes, deletes by key), so a retry
    /// cannot apply anything twice. A server that does not answer at all is not retried here
    /// (the [`WriteBehind`](crate::WriteBehind) in front holds the writes).
    pub(crate) async fn run<T, F>(
        &self,
        operation: &'static str,
        make: impl Fn() -> F,
    ) -> Result<T, StoreError>
    where
        F: IntoFuture<Output = mongodb::error::Result<T>>,
    {
        self.run_counted(operation, make)
            .await
            .map(|(value, _)| value)
    }

    /// [`run`](Self::run), also answering how many attempts it took (more than one: an earlier
    /// attempt may have been applied before its answer was lost).
    pub(crate) async fn run_counted<T, F>(
        &self,
        operation: &'static str,
        make: impl Fn() -> F,
    ) -> Result<(T, u32), StoreError>
    where
        F: IntoFuture<Output = mongodb::error::Result<T>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match tokio::time::timeout(self.timeout, make().into_future()).await {
                Ok(Ok(value)) => return Ok((value, attempt)),
                Ok(Err(e)) if attempt < STEPDOWN_ATTEMPTS && stepping_down(&e) => {
                    let wait = STEPDOWN_BACKOFF.delay(attempt);
                    tracing::info!(operation, attempt, error = %e, ?wait, "MongoDB's primary is stepping down; trying again");
                    tokio::time::sleep(wait).await;
                }
                Ok(Err(e)) => return Err(mongo(operation, e)),
                Err(_) => {
                    return Err(StoreError::Timeout {
                        backend: "mongodb",
                        operation,
                        after: self.timeout,
                    })
                }
            }
        }
    }
}

/// How often an operation is made while the primary steps down.
pub(crate) const STEPDOWN_ATTEMPTS: u32 = 8;

/// The waits between those attempts (100 ms doubling up to 2 s, jittered): an election in a
/// replica set takes a few seconds.
pub(crate) const STEPDOWN_BACKOFF: Backoff =
    Backoff::new(Duration::from_millis(100), Duration::from_secs(2));

/// Server codes of a primary that is stepping down or a member that is not (yet) primary:
/// 189 `PrimarySteppedDown`, 10107 `NotWritablePrimary`, 11602
/// `InterruptedDueToReplStateChange`, 13435 `NotPrimaryNoSecondaryOk`, 13436
/// `NotPrimaryOrSecondary`, 91 `ShutdownInProgress`, 11600 `InterruptedAtShutdown`.
const STEPDOWN_CODES: &[i32] = &[189, 10107, 11602, 13435, 13436, 91, 11600];

/// Whether a server code means the primary is stepping down (see [`STEPDOWN_CODES`]).
pub(crate) fn stepdown_code(code: i32) -> bool {
    STEPDOWN_CODES.contains(&code)
}

/// Whether `e` says the operation met a primary stepping down: its code, the driver's
/// `RetryableWriteError` label, or the connection it was on closed under it (a primary closes
/// every connection when it steps down) or cleared from the pool. A server that cannot be found
/// at all (`ServerSelection`, after the whole time limit) is not one.
fn stepping_down(e: &mongodb::error::Error) -> bool {
    e.contains_label("RetryableWriteError")
        || command_code(e).is_some_and(stepdown_code)
        || matches!(
            e.kind.as_ref(),
            ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. }
        )
}

impl std::fmt::Debug for MongoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoStore")
            .field("database", &self.db.name())
            .finish_non_exhaustive()
    }
}

pub(crate) fn mongo(operation: &str, source: mongodb::error::Error) -> StoreError {
    StoreError::Mongo {
        operation: operation.to_owned(),
        source: Box::new(source),
    }
}

impl std::fmt::Debug for MongoConfig {
    /// The URI without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoConfig")
            .field("uri", &redact(&self.uri))
            .field("database", &self.database)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Server codes of network trouble: "not now" (with [`STEPDOWN_CODES`]).
const NETWORK_CODES: &[i32] = &[6, 7, 89, 262, 9001];

/// Whether retrying later may succeed.
pub(crate) fn is_transient(e: &mongodb::error::Error) -> bool {
    if e.contains_label("RetryableWriteError") || e.contains_label("TransientTransactionError") {
        return true;
    }
    match e.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::ServerSelection { .. } => true,
        ErrorKind::Command(c) => transient_code(c.code),
        _ => false,
    }
}

/// Whether a server error code (of a command, or of one record in `writeErrors`) means "not
/// now": shutting down (91, 11600), stepping down or not primary (189, 10107, 11602, 13435,
/// 13436), network trouble.
pub(crate) fn transient_code(code: i32) -> bool {
    stepdown_code(code) || NETWORK_CODES.contains(&code)
}

/// The server's code of a failed command, when it is one.
pub(crate) fn command_code(e: &mongodb::error::Error) -> Option<i32> {
    match e.kind.as_ref() {
        ErrorKind::Command(c) => Some(c.code),
        _ => None,
    }
}
