//! Bot state and order intents in Redis.

use super::commands;
use super::Conn;
use super::{redact, run, Keys, RedisConfig};
use crate::state::{foreign_intent, oldest_first};
use crate::{BotStateStore, IntentLog, IntentRecord, Saved, StateDoc, StateKey, StoreError};
use async_trait::async_trait;
use redis::Script;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tradegraph_core::order::ClientOrderId;
use tradegraph_core::Symbol;

/// The version check and the write, atomically. KEYS[1]: the document; KEYS[2] (intents only):
/// the instrument's unsettled set. ARGV: version, JSON, and for intents: `1` when settled, the
/// score (creation time in ms), the member (client id). Returns -1 when written, -2 when the
/// stored value is not a document with a numeric version (written by something else), else the
/// stored version.
static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local stored = redis.call('GET', KEYS[1])
if stored then
  local ok, doc = pcall(cjson.decode, stored)
  local version = ok and type(doc) == 'table' and doc['version']
  if type(version) ~= 'number' then return -2 end
  if version >= tonumber(ARGV[1]) then return version end
end
redis.call('SET', KEYS[1], ARGV[2])
if KEYS[2] then
  if ARGV[3] == '1' then
    redis.call('ZREM', KEYS[2], ARGV[5])
  else
    redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
  end
end
return -1
",
    )
});

/// Versions are compared by the script as Lua numbers (doubles): exact up to 2^53.
const MAX_VERSION: u64 = 1 << 53;

/// A Redis setting that can lose what the bot saved there
/// ([`RedisState::durability_risks`]); its text says what to set instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurabilityRisk {
    /// `appendonly no`: what was saved since the last snapshot is lost when Redis stops.
    NoAppendOnlyFile,
    /// `appendfsync` other than `always` (`everysec`, `no`): up to its interval of saves
    /// acknowledged before a power loss is lost.
    AppendFsync(String),
    /// An `allkeys-*` eviction policy: under memory pressure Redis may evict the kill switch,
    /// the guard's state or an order intent.
    Eviction(String),
}

impl std::fmt::Display for DurabilityRisk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoAppendOnlyFile => f.write_str(
                "Redis runs without an append-only file: bot state and order intents saved there \
                 are lost if Redis stops before its next snapshot; run it with `appendonly yes` \
                 and `appendfsync always` (or use MongoDB or a state file)",
            ),
            Self::AppendFsync(every) => write!(
                f,
                "Redis syncs its append-only file with `appendfsync {every}`: bot state and order \
                 intents acknowledged just before a power loss can be lost; set `appendfsync \
                 always`"
            ),
            Self::Eviction(policy) => write!(
                f,
                "Redis may evict any key under memory pressure (`maxmemory-policy {policy}`): the \
                 kill switch, the guard's state and order intents saved there could vanish; set \
                 `noeviction` (or a `volatile-*` policy: the bot's state has no expiry)"
            ),
        }
    }
}

/// Bot state and order intents in Redis, passing the bot-state conformance suite.
///
/// | key | value |
/// |---|---|
/// | `state:{BTCUSDT}:guard` | the [`StateDoc`] as JSON, one key per instrument and part |
/// | `intent:{BTCUSDT}:<client id>` | the [`IntentRecord`] as JSON |
/// | `intents:{BTCUSDT}:unsettled` | sorted set of the client ids of pending and submitted intents, scored by creation time (ms) |
/// | `intent_instrument:<client id>` | the instrument, so that an intent is found by its client id |
///
/// No key expires. The version check and the write are one Lua script that names every key it
/// touches in `KEYS`, all with the instrument as hash tag, so it runs unchanged on a Redis
/// Cluster. Writes are direct (never queued): `save` returns once Redis has applied the write,
/// which is durable as far as the server's persistence goes (`appendonly yes` with `appendfsync
/// always`: on disk before the reply). The first write checks the server's persistence and logs
/// a warning when it runs without an append-only file. Versions must stay below 2^53. Cloning
/// shares the connection.
///
/// ```no_run
/// # async fn demo() -> Result<(), tradegraph_store::StoreError> {
/// use tradegraph_store::redis::{RedisConfig, RedisState};
/// use tradegraph_store::{BotStateStore, StateKey, StatePart};
/// let state = RedisState::connect(RedisConfig::new("redis://127.0.0.1:6379")).await?;
/// let guard = state.load(&StateKey::new("BTCUSDT", StatePart::Guard)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisState {
    conn: Conn,
    keys: Keys,
    timeout: Duration,
    url: String,
    persistence_checked: Arc<AtomicBool>,
}

impl RedisState {
    /// A store on `config.url`, with its key prefix and time limit. Fails only for a bad URL: the
    /// connection is made by the first operation. Must be called inside a tokio runtime.
    pub async fn connect(config: RedisConfig) -> Result<Self, StoreError> {
        Ok(Self {
            conn: config.connection()?,
            keys: Keys::new(config.key_prefix.clone()),
            timeout: config.timeout,
            url: redact(&config.url),
            persistence_checked: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The key scheme in use.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    async fn get(&self, operation: &'static str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn.clone();
        run(
            operation,
            self.timeout,
            redis::cmd("GET").arg(key).query_async(&mut conn),
        )
        .await
    }

    /// Runs [`SAVE`]; `intent`: `(unsettled set, settled, score, member)`.
    async fn save_json(
        &self,
        operation: &'static str,
        key: &str,
        version: u64,
        json: &[u8],
        intent: Option<(String, bool, i64, &str)>,
    ) -> Result<Saved, StoreError> {
        if version >= MAX_VERSION {
            return Err(StoreError::encode(
                key,
                format!(
                    "version {version} is above 2^53, the most Redis's scripts compare exactly"
                ),
            ));
        }
        let mut call = SAVE.key(key);
        call.arg(version).arg(json);
        if let Some((set, settled, score, member)) = intent {
            call.key(set)
                .arg(if settled { "1" } else { "0" })
                .arg(score)
                .arg(member);
        }
        let mut conn = self.conn.clone();
        let answer: i64 = run(operation, self.timeout, call.invoke_async(&mut conn)).await?;
        if answer == -2 {
            return Err(StoreError::decode(
                key,
                "the value stored there is not a document with a numeric `version` (written by \
                 something else?): nothing was saved; look at it, and delete it only once its \
                 contents are known",
            ));
        }
        self.check_persistence().await;
        Ok(match u64::try_from(answer) {
            Ok(stored) => Saved::Stale { stored },
            Err(_) => Saved::Written,
        })
    }

    /// Once per store: warns of each of the server's settings that can lose what is saved
    /// there ([`durability_risks`](Self::durability_risks)).
    async fn check_persistence(&self) {
        if self.persistence_checked.swap(true, Ordering::Relaxed) {
            return;
        }
        match self.durability_risks().await {
            Ok(risks) => {
                for risk in risks {
                    tracing::warn!(redis = %self.url, "{risk}");
                }
            }
            Err(e) => tracing::debug!(error = %e, "Redis's persistence settings were not read"),
        }
    }

    /// The server's settings that can lose bot state and order intents saved there: no
    /// append-only file, one synced less often than at every write, an eviction policy that
    /// may evict any key. The append-only file's sync setting is read with `CONFIG GET`, which
    /// a managed Redis may refuse: it is then not judged.
    ///
    /// # Errors
    /// When the server does not answer `INFO`.
    pub async fn durability_risks(&self) -> Result<Vec<DurabilityRisk>, StoreError> {
        let mut conn = self.conn.clone();
        // one section per `INFO` (several in one call need Redis 7)
        let mut info = String::new();
        for section in ["persistence", "memory"] {
            let text: String = run(
                "info",
                self.timeout,
                redis::cmd("INFO").arg(section).query_async(&mut conn),
            )
            .await?;
            info.push_str(&text);
        }
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        let mut risks = Vec::new();
        if field("aof_enabled") == Some("0") {
            risks.push(DurabilityRisk::NoAppendOnlyFile);
        } else {
            let fsync: Result<Vec<String>, _> = run(
                "config get appendfsync",
                self.timeout,
                redis::cmd("CONFIG")
                    .arg("GET")
                    .arg("appendfsync")
                    .query_async(&mut conn),
            )
            .await;
            if let Some(every) = fsync.ok().and_then(|pair| pair.get(1).cloned()) {
                if every != "always" {
                    risks.push(DurabilityRisk::AppendFsync(every));
                }
            }
        }
        if let Some(policy) = field("maxmemory_policy").filter(|p| p.starts_with("allkeys-")) {
            risks.push(DurabilityRisk::Eviction(policy.to_owned()));
        }
        Ok(risks)
    }

    /// The instrument a client id is recorded for (recording it as `instrument` when new).
    async fn owner(
        &self,
        client_id: &ClientOrderId,
        instrument: &Symbol,
    ) -> Result<String, StoreError> {
        let key = self.keys.intent_instrument(client_id);
        let mut conn = self.conn.clone();
        let (owner,): (String,) = run(
            "record_intent",
            self.timeout,
            redis::pipe()
                .set_nx(&key, instrument.as_str())
                .ignore()
                .get(&key)
                .query_async(&mut conn),
        )
        .await?;
        Ok(owner)
    }
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("url", &self.url)
            .field("key_prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}

fn decode<T: serde::de::DeserializeOwned>(key: &str, json: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(json).map_err(|e| StoreError::decode(key, e))
}

fn encode<T: serde::Serialize>(what: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::encode(what, e))
}

#[async_trait]
impl BotStateStore for RedisState {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        let redis_key = self.keys.state(&key.instrument, key.part);
        self.get("load state", &redis_key)
            .await?
            .map(|json| decode(&redis_key, &json))
            .transpose()
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        let key = self.keys.state(&doc.key.instrument, doc.key.part);
        let json = encode(&key, doc)?;
        self.save_json("save state", &key, doc.version, &json, None)
            .await
    }
}

#[async_trait]
impl IntentLog for RedisState {
    async fn record_intent(&self, intent: &IntentRecord) -> Result<Saved, StoreError> {
        let key = self.keys.intent(&intent.instrument, &intent.client_id);
        let json = encode(&key, intent)?;
        let owner = self.owner(&intent.client_id, &intent.instrument).await?;
        if owner != intent.instrument.as_str() {
            return Err(foreign_intent("redis", intent, &Symbol::new(owner)));
        }
        let unsettled = (
            self.keys.unsettled_intents(&intent.instrument),
            intent.status.is_settled(),
            intent.created_at.millis(),
            intent.client_id.as_str(),
        );
        self.save_json(
            "record_intent",
            &key,
            intent.version,
            &json,
            Some(unsettled),
        )
        .await
    }

    async fn intent(&self, client_id: &ClientOrderId) -> Result<Option<IntentRecord>, StoreError> {
        let owner = self
            .get("intent", &self.keys.intent_instrument(client_id))
            .await?;
        let Some(owner) = owner else {
            return Ok(None);
        };
        let instrument = Symbol::new(String::from_utf8_lossy(&owner));
        let key = self.keys.intent(&instrument, client_id);
        self.get("intent", &key)
            .await?
            .map(|json| decode(&key, &json))
            .transpose()
    }

    async fn unsettled_intents(
        &self,
        instrument: &Symbol,
    ) -> Result<Vec<IntentRecord>, StoreError> {
        let stem = self.keys.intent_stem(instrument);
        // Every entry: "the newest N" with an N no bot reaches.
        let entries = commands::recent(
            &self.conn,
            "unsettled_intents",
            self.timeout,
            &self.keys.unsettled_intents(instrument),
            &stem,
            1_000_000_000_000,
        )
        .await?;
        let mut open = Vec::with_capacity(entries.len());
        for (key, _, json) in entries {
            let record: IntentRecord = decode(&key, &json)?;
            // The set and the records change together; one settled between the two reads is
            // left out.
            if !record.status.is_settled() {
                open.push(record);
            }
        }
        oldest_first(&mut open);
        Ok(open)
    }
}
