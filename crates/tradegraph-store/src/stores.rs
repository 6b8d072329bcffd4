//! [`Stores`]: one of each store, as a bot uses them, from URLs.

use crate::lock::with_suffix;
use crate::{
    AlertLog, Alerts, BotStateStore, CandleHistory, DecisionLog, FileState, HotCache, IntentLog,
    LessonLog, MemoryHistory, MemoryHotCache, MemoryJournal, MemoryState, OperatorLog, PromptLog,
    StoreError, TradeLog,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod ping;

/// What [`Stores::connect`] connects to: the runtime fills it from `REDIS_URL` and `MONGODB_URI`
/// (and the bot's state file setting).
#[derive(Clone)]
#[non_exhaustive]
pub struct StoresConfig {
    /// Redis for the hot cache; `None`: in memory. A comma-separated list of nodes is a Redis
    /// Cluster.
    pub redis_url: Option<String>,
    /// `redis_url` names one node of a Redis Cluster (`REDIS_CLUSTER=1`).
    pub redis_cluster: bool,
    /// MongoDB for history and logs; `None`: in memory.
    pub mongodb_uri: Option<String>,
    /// The MongoDB database (`tradegraph`).
    pub database: String,
    /// The write-behind spill file (`.tradegraph/spill.jsonl`). One per process: a second
    /// process opening the same file is refused.
    pub spill_path: PathBuf,
    /// Where bot state and order intents go when neither MongoDB nor Redis is configured
    /// ([`FileState`]); `None` with no server either: in memory, forgotten at exit.
    pub state_file: Option<PathBuf>,
    /// Where [`StoreEvent`](crate::StoreEvent)s go.
    pub alerts: Alerts,
}

impl std::fmt::Debug for StoresConfig {
    /// The URLs without their passwords.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hide = |url: &Option<String>| url.as_deref().map(crate::url::redact);
        f.debug_struct("StoresConfig")
            .field(
                "redis_url",
                &self.redis_url.as_deref().map(crate::url::redact_nodes),
            )
            .field("redis_cluster", &self.redis_cluster)
            .field("mongodb_uri", &hide(&self.mongodb_uri))
            .field("database", &self.database)
            .field("spill_path", &self.spill_path)
            .field("state_file", &self.state_file)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod debug_tests {
    #[test]
    fn passwords_never_show_in_debug() {
        let config = super::StoresConfig::new()
            .redis(Some("redis://user:hunter2@127.0.0.1:6379".into()))
            .mongodb(Some("mongodb://admin:hunter2@127.0.0.1:27017".into()), "db");
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("127.0.0.1:6379"),
            "{shown}"
        );
    }
}

impl Default for StoresConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_cluster: false,
            mongodb_uri: None,
            database: "tradegraph".into(),
            spill_path: PathBuf::from(".tradegraph/spill.jsonl"),
            state_file: None,
            alerts: Alerts::new(),
        }
    }
}

impl StoresConfig {
    /// Everything in memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses Redis (when `Some`).
    #[must_use]
    pub fn redis(mut self, url: Option<String>) -> Self {
        self.redis_url = url;
        self
    }

    /// Treats the Redis URL as one node of a Redis Cluster.
    #[must_use]
    pub fn redis_cluster(mut self, cluster: bool) -> Self {
        self.redis_cluster = cluster;
        self
    }

    /// Uses MongoDB (when `Some`).
    #[must_use]
    pub fn mongodb(mut self, uri: Option<String>, database: impl Into<String>) -> Self {
        self.mongodb_uri = uri;
        self.database = database.into();
        self
    }

    /// Sets the spill file.
    #[must_use]
    pub fn spill_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.spill_path = path.into();
        self
    }

    /// Keeps bot state and order intents in this file (when `Some`) unless MongoDB or Redis is
    /// configured.
    ///
    /// ```
    /// use tradegraph_store::StoresConfig;
    /// let config = StoresConfig::new().state_file(Some(".tradegraph/btc/state.json".into()));
    /// assert!(config.state_file.is_some());
    /// ```
    #[must_use]
    pub fn state_file(mut self, path: Option<PathBuf>) -> Self {
        self.state_file = path;
        self
    }
}

/// The stores a bot writes to and its agents read from. Cloning shares them.
///
/// ```
/// use tradegraph_store::Stores;
/// let stores = Stores::memory();
/// let _events = stores.alerts.subscribe();
/// ```
#[derive(Clone)]
pub struct Stores {
    /// Latest prices, recent candles and ticks.
    pub hot: Arc<dyn HotCache>,
    /// Candle history.
    pub history: Arc<dyn CandleHistory>,
    /// The decision log.
    pub decisions: Arc<dyn DecisionLog>,
    /// The trade log.
    pub trades: Arc<dyn TradeLog>,
    /// Lessons.
    pub lessons: Arc<dyn LessonLog>,
    /// The prompts the agents sent, once per distinct text.
    pub prompts: Arc<dyn PromptLog>,
    /// What operators did (kill switch, pause, close all, approvals): written behind like the
    /// other logs, so an outage of MongoDB never stops an operator.
    pub operators: Arc<dyn OperatorLog>,
    /// The alerts the bot raised: written behind like the other logs (named `alert_log`:
    /// [`alerts`](Self::alerts) is the stores' own channel of events).
    pub alert_log: Arc<dyn AlertLog>,
    /// The bot's state (guard, kill switch, learner, open trades, paper account, sequence):
    /// written directly, durable when a save returns.
    pub state: Arc<dyn BotStateStore>,
    /// Order intents, recorded before each broker call: written directly, durable when a
    /// record returns.
    pub intents: Arc<dyn IntentLog>,
    /// What the stores report while they keep working.
    pub alerts: Alerts,
    state_backend: &'static str,
    #[cfg(feature = "redis")]
    redis: Option<Arc<crate::redis::RedisHotCache>>,
    #[cfg(feature = "mongodb")]
    behind: Option<Arc<crate::WriteBehind<crate::mongo::MongoStore>>>,
}

/// Why the state file at `path` is not moved to `server`: the server holds `what` of the same
/// instrument already.
fn both(path: &Path, server: &str, what: &str) -> StoreError {
    StoreError::Config(format!(
        "the bot's state is in the state file {file} and {server} holds state of it too \
         ({what}); start from one of them: to keep {server}'s, move {file} aside; to keep the \
         file's, delete the instrument's state in {server}",
        file = path.display()
    ))
}

/// Moves what the state file at `path` holds to the `server` that keeps the bot's state now
/// (see [`Stores::connect`]), then sets the file aside.
async fn move_state_file(path: &Path, stores: &Stores, server: &str) -> Result<(), StoreError> {
    // Its lock: no bot keeps its state there while it moves.
    let file = FileState::open(path)?;
    let (states, intents) = file.contents().await;
    // Only to a server that holds nothing of these instruments: which of two states is the
    // bot's is a person's call (a server kept from an earlier life, a file from a later one,
    // or two bots), never merged part by part.
    let instruments: std::collections::BTreeSet<_> = states
        .iter()
        .map(|d| d.key.instrument.clone())
        .chain(intents.iter().map(|i| i.instrument.clone()))
        .collect();
    for instrument in &instruments {
        for part in crate::StatePart::ALL {
            let key = crate::StateKey::new(instrument.as_str(), part);
            if stores.state.load(&key).await?.is_some() {
                return Err(both(path, server, &key.to_string()));
            }
        }
        if let Some(intent) = stores.intents.unsettled_intents(instrument).await?.first() {
            let what = format!("order intent {}", intent.client_id);
            return Err(both(path, server, &what));
        }
    }
    for doc in &states {
        if let crate::Saved::Stale { stored } = stores.state.save(doc).await? {
            let what = format!("{} (version {stored})", doc.key);
            return Err(both(path, server, &what));
        }
    }
    for intent in &intents {
        if let crate::Saved::Stale { stored } = stores.intents.record_intent(intent).await? {
            let what = format!("order intent {} (version {stored})", intent.client_id);
            return Err(both(path, server, &what));
        }
    }
    let aside = with_suffix(path, &format!(".moved-to-{server}"));
    std::fs::rename(path, &aside).map_err(|source| StoreError::StateFile {
        path: path.to_owned(),
        source,
    })?;
    drop(file);
    tracing::warn!(
        file = %path.display(),
        moved_to = server,
        states = states.len(),
        intents = intents.len(),
        set_aside = %aside.display(),
        "the bot's state file was moved to the server that keeps its state now"
    );
    Ok(())
}

impl Stores {
    /// Everything in memory: the default, with no server at all.
    pub fn memory() -> Self {
        let journal = Arc::new(MemoryJournal::new());
        let state = Arc::new(MemoryState::new());
        Self {
            hot: Arc::new(MemoryHotCache::new()),
            history: Arc::new(MemoryHistory::new()),
            decisions: journal.clone(),
            trades: journal.clone(),
            lessons: journal.clone(),
            prompts: journal.clone(),
            operators: journal.clone(),
            alert_log: journal,
            state: state.clone(),
            intents: state,
            alerts: Alerts::new(),
            state_backend: "memory",
            #[cfg(feature = "redis")]
            redis: None,
            #[cfg(feature = "mongodb")]
            behind: None,
        }
    }

    /// Redis for the hot cache and MongoDB (behind a write-behind queue) for history and logs,
    /// each when configured, memory otherwise. An unreachable server is not an error (the stores
    /// carry on and raise alerts); a bad URL, or a URL for a backend this build lacks, is.
    ///
    /// Bot state and order intents are written directly (never queued), to the first of:
    /// MongoDB when `mongodb_uri` is set, Redis when `redis_url` is set, the `state_file`, memory.
    /// [`state_backend`](Self::state_backend) says which. A `state_file` left by a bot that
    /// kept its state there, when a server takes over, is moved to the server when the server
    /// holds nothing of its instruments (states and unsettled intents), then renamed
    /// `<file>.moved-to-<server>` and never read again; when the server holds some too, the
    /// stores are not opened and the error says how to choose (the two are never merged).
    /// The server must answer for that, or the stores are not opened (the kill switch or an open
    /// order's intent would otherwise be left behind).
    ///
    /// # Errors
    /// [`StoreError::Config`] for a bad URL or a missing feature; [`StoreError::InUse`] for a
    /// spill file or a state file another process (or store) holds; [`StoreError::Spill`] when
    /// the spill file cannot be opened;
    /// [`StoreError::StateFile`] or [`StoreError::Decode`] when the state file cannot be read
    /// or set aside; the server's error when a state file's contents cannot be moved to it.
    pub async fn connect(config: StoresConfig) -> Result<Self, StoreError> {
        let mut stores = Self::memory();
        stores.alerts = config.alerts.clone();
        if let Some(url) = &config.redis_url {
            #[cfg(feature = "redis")]
            {
                let redis = crate::redis::RedisConfig::new(url.clone())
                    .cluster(config.redis_cluster)
                    .alerts(config.alerts.clone());
                if config.mongodb_uri.is_none() {
                    let state = Arc::new(crate::redis::RedisState::connect(redis.clone()).await?);
                    stores.state = state.clone();
                    stores.intents = state;
                    stores.state_backend = "redis";
                }
                let hot = Arc::new(crate::redis::RedisHotCache::connect(redis).await?);
                stores.redis = Some(hot.clone());
                stores.hot = hot;
            }
            #[cfg(not(feature = "redis"))]
            return Err(missing("redis", url));
        }
        if let Some(uri) = &config.mongodb_uri {
            #[cfg(feature = "mongodb")]
            {
                let mongo = crate::mongo::MongoConfig::new(uri.clone())
                    .database(config.database.clone())
                    .alerts(config.alerts.clone());
                let store = Arc::new(crate::mongo::MongoStore::connect(&mongo).await?);
                let state = Arc::new(crate::mongo::MongoState::new(store.as_ref().clone()));
                stores.state = state.clone();
                stores.intents = state;
                stores.state_backend = "mongodb";
                let queue = crate::WriteBehindConfig::new(config.spill_path.clone())
                    .alerts(config.alerts.clone());
                let behind = Arc::new(crate::WriteBehind::start(store, queue).await?);
                stores.history = behind.clone();
                stores.decisions = behind.clone();
                stores.trades = behind.clone();
                stores.lessons = behind.clone();
                stores.prompts = behind.clone();
                stores.operators = behind.clone();
                stores.alert_log = behind.clone();
                stores.behind = Some(behind);
            }
            #[cfg(not(feature = "mongodb"))]
            return Err(missing("mongodb", uri));
        }
        match (&config.state_file, stores.state_backend) {
            (Some(path), "memory") => {
                let state = Arc::new(FileState::open(path)?);
                stores.state = state.clone();
                stores.intents = state;
                stores.state_backend = "file";
            }
            (Some(path), server) if path.exists() => {
                move_state_file(path, &stores, server).await?;
            }
            _ => {}
        }
        Ok(stores)
    }

    /// Where bot state and order intents go: `"mongodb"`, `"redis"`, `"file"` or `"memory"`.
    pub fn state_backend(&self) -> &'static str {
        self.state_backend
    }

    /// Waits until every history and log record written so far is in MongoDB or its spill file,
    /// and (at the same time, at most the hot cache's time limit) until every hot-cache write so
    /// far is in Redis. Nothing to do in memory.
    ///
    /// # Errors
    /// The write-behind queue's ([`StoreError::Closed`], [`StoreError::Spill`]). A hot cache
    /// that cannot be flushed is logged (warn), not returned: it is a cache whose writes stay
    /// held in process and retried, and a caller saving a checkpoint once the logs are durable
    /// must not wait on Redis.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (behind, hot) = tokio::join!(self.flush_behind(), self.hot.flush());
        if let Err(e) = hot {
            tracing::warn!(error = %e, "hot-cache writes not yet in Redis; check that Redis answers");
        }
        behind
    }

    /// Flushes and stops the write-behind queue, and waits (at most the hot cache's time limit)
    /// until the hot cache's buffered writes are in Redis, for a clean exit. A hot cache that
    /// cannot be flushed is logged (error) with what to check, never silently dropped.
    pub async fn shutdown(&self) {
        #[cfg(feature = "mongodb")]
        if let Some(behind) = &self.behind {
            behind.shutdown().await;
        }
        if let Err(e) = self.hot.flush().await {
            tracing::error!(
                error = %e,
                "hot-cache writes not yet in Redis are lost at exit; check that Redis answers"
            );
        }
    }

    async fn flush_behind(&self) -> Result<(), StoreError> {
        #[cfg(feature = "mongodb")]
        if let Some(behind) = &self.behind {
            return behind.flush().await;
        }
        Ok(())
    }
}

#[cfg(not(all(feature = "redis", feature = "mongodb")))]
fn missing(feature: &str, url: &str) -> StoreError {
    // Only the scheme: a URL without one is not echoed (it may hold a password).
    let scheme = url.split_once("://").map_or(feature, |(scheme, _)| scheme);
    StoreError::Config(format!(
        "a {scheme}:// URL was given but tradegraph-store was built without the `{feature}` \
         feature: enable `{feature}` on tradegraph-store or on the `tradegraph` facade that depends \
         on it (`features = [\"{feature}\"]` on that dependency in your Cargo.toml, or \
         `--features {feature}` on a package that forwards it), or leave the URL out to keep these \
         stores in memory"
    ))
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores")
            .field("state_backend", &self.state_backend)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(feature = "redis")))]
mod missing_feature_tests {
    #[tokio::test]
    async fn a_url_without_its_feature_says_how_to_enable_it() {
        let config =
            super::StoresConfig::new().redis(Some("redis://u:hunter2@127.0.0.1:6379".into()));
        let err = super::Stores::connect(config)
            .await
            .expect_err("built without `redis`");
        let text = err.to_string();
        assert!(
            text.contains("without the `redis` feature")
                && text.contains(r#"features = ["redis"]"#)
                && text.contains("--features redis"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }
}
