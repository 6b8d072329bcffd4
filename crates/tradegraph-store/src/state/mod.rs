//! What a bot must not forget across restarts, and its order intents.
//!
//! A bot keeps a few parts of state ([`StatePart`]: the risk guard's daily-loss halt and
//! cooldown, the kill switch, the learner's weights and lessons, open trades, the paper broker's
//! account, the decision sequence) in a [`BotStateStore`], one versioned [`StateDoc`] per
//! instrument and part, and restores them at start. Before an order goes to a broker, the bot
//! records an [`IntentRecord`] in an [`IntentLog`]; after a crash it reconciles the
//! [`unsettled_intents`](IntentLog::unsettled_intents) with the broker by client order id, so an
//! order is never placed twice.
//!
//! # Guarantees, every backend
//!
//! - **Durable on `Ok`.** `save` and `record_intent` write directly (never through the
//!   write-behind queue) and return once the backend has the write on disk: the file backend
//!   after `fsync` of the file and its directory, MongoDB with a journaled write concern
//!   (`j: true`), Redis as far as its persistence is configured (`appendonly yes` and
//!   `appendfsync always` make it durable before the reply; the store logs a warning when the
//!   server runs without an append-only file).
//! - **Versioned.** A write is kept only if its version is higher than the stored one; otherwise
//!   it changes nothing and answers [`Saved::Stale`] with the stored version. The check and the
//!   write are one atomic step (a mutex, one Lua script, one conditional upsert), so concurrent
//!   writers cannot make an older version win.
//! - **One instrument per client id.** An intent whose client id is stored for another instrument
//!   is refused ([`StoreError::Refused`]).
//!
//! | backend | type | where |
//! |---|---|---|
//! | memory | [`MemoryState`] | this process (tests, backtests) |
//! | memory-file | [`FileState`] | memory, persisted to one JSON file on every write |
//! | Redis | `redis::RedisState` | `state:{SYM}:<part>`, `intent:{SYM}:<client id>`, `intents:{SYM}:unsettled` |
//! | MongoDB | `mongo::MongoState` | collections `bot_state` and `order_intents` |
//!
//! Every backend passes the same conformance suite (`state::conformance`, feature
//! `conformance`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), tradegraph_store::StoreError> {
//! use tradegraph_core::Timestamp;
//! use tradegraph_store::{BotStateStore, MemoryState, Saved, StateDoc, StateKey, StatePart};
//!
//! let store = MemoryState::new();
//! let key = StateKey::new("BTCUSDT", StatePart::KillSwitch);
//! let now = Timestamp::from_secs(1_704_103_200);
//! let next = store.load(&key).await?.map_or(1, |doc| doc.version + 1);
//! let doc = StateDoc::encode(key.clone(), next, now, &true)?;
//! assert_eq!(store.save(&doc).await?, Saved::Written);
//! assert_eq!(store.save(&doc).await?, Saved::Stale { stored: 1 });
//! assert!(store.load(&key).await?.unwrap().decode::<bool>()?);
//! # Ok(()) }
//! ```

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod doc;
mod file;
mod intent;
mod key;
mod memory;

pub use doc::{Saved, StateDoc};
pub use file::FileState;
pub use intent::{IntentRecord, IntentStatus};
pub use key::{StateKey, StatePart};
pub use memory::MemoryState;

use crate::StoreError;
use async_trait::async_trait;
use tradegraph_core::order::ClientOrderId;
use tradegraph_core::Symbol;

/// The name of the host this process runs on (`HOSTNAME`, else `/etc/hostname`), to name a
/// process to an operator (a worker, the instance holding a bot's claim); `None` when neither
/// says.
pub fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

/// A bot's state, one versioned document per instrument and part.
#[async_trait]
pub trait BotStateStore: Send + Sync + 'static {
    /// The newest saved document of `key`, `None` when nothing was saved.
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError>;

    /// Saves `doc` unless a document with the same or a higher version is stored (then
    /// [`Saved::Stale`] with the stored version, and nothing changes).
    /// Durable when it returns Ok.
    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError>;
}

/// Order intents, written before an order goes to a broker.
#[async_trait]
pub trait IntentLog: Send + Sync + 'static {
    /// Versioned write, as [`BotStateStore::save`]. Durable when it returns Ok.
    ///
    /// # Errors
    /// [`StoreError::Refused`] when the client id is stored for another instrument.
    async fn record_intent(&self, intent: &IntentRecord) -> Result<Saved, StoreError>;

    /// The newest version of the intent with `client_id`.
    async fn intent(&self, client_id: &ClientOrderId) -> Result<Option<IntentRecord>, StoreError>;

    /// Intents of `instrument` not settled (Pending or Submitted), oldest first (by
    /// `created_at`, then client id).
    async fn unsettled_intents(&self, instrument: &Symbol)
        -> Result<Vec<IntentRecord>, StoreError>;
}

/// What a write of `offered` does when `stored` is stored.
pub(crate) fn versioned(stored: Option<u64>, offered: u64) -> Saved {
    match stored {
        Some(stored) if stored >= offered => Saved::Stale { stored },
        _ => Saved::Written,
    }
}

/// The refusal of an intent whose client id belongs to another instrument.
pub(crate) fn foreign_intent(
    backend: &'static str,
    intent: &IntentRecord,
    stored: &Symbol,
) -> StoreError {
    StoreError::Refused {
        backend,
        record: format!("order intent {}", intent.client_id),
        reason: format!(
            "the client order id is recorded for {stored}, not {}; client order ids must be unique across instruments",
            intent.instrument
        ),
    }
}

/// Oldest first: by creation time, then client id.
pub(crate) fn oldest_first(intents: &mut [IntentRecord]) {
    intents.sort_by(|a, b| {
        (a.created_at, a.client_id.as_str()).cmp(&(b.created_at, b.client_id.as_str()))
    });
}
