//! Cache and replay: answers keyed by a stable hash of provider, model, messages, schema and
//! parameters.
//!
//! | mode | on a hit | on a miss |
//! |---|---|---|
//! | [`CacheMode::Off`] | — | the provider is called |
//! | [`CacheMode::ReadWrite`] | the recorded answer (free, `cached: true`) | the provider is called and its answer recorded |
//! | [`CacheMode::ReplayOnly`] | the recorded answer | [`LlmError::CacheMiss`]; no provider is called |
//!
//! Replay makes a backtest repeatable and free to re-run: record once in read-write mode, then
//! replay. In a chain, each provider's answers are recorded under its own key, and a replay
//! looks them up in the same order the recording took, so failovers replay too.
//!
//! Records hold the answer (content, usage, model, finish reason) and the key — no prompt, no
//! key. [`MemoryCache`] and [`JsonlCache`] are here; the stores add Redis and MongoDB by
//! implementing [`LlmCache`].

mod jsonl;
mod key;
mod memory;

pub use jsonl::JsonlCache;
pub use key::CacheKey;
pub use memory::MemoryCache;

use crate::{LlmError, Response};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How the cache is used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheMode {
    /// Not used.
    #[default]
    Off,
    /// Hits are served, misses are asked and recorded.
    ReadWrite,
    /// Hits are served, misses are errors; no provider is ever called.
    ReplayOnly,
}

/// One recorded answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheRecord {
    /// The key it is recorded under.
    pub key: CacheKey,
    /// The answer (for structured calls: the validated JSON).
    pub response: Response,
}

/// Where recorded answers live.
///
/// ```
/// use tradegraph_llm::cache::{CacheKey, CacheRecord, LlmCache};
/// use tradegraph_llm::{async_trait, LlmError};
///
/// /// Remembers nothing.
/// #[derive(Debug)]
/// struct Forgetful;
///
/// #[async_trait]
/// impl LlmCache for Forgetful {
///     async fn get(&self, _key: &CacheKey) -> Result<Option<CacheRecord>, LlmError> { Ok(None) }
///     async fn put(&self, _record: CacheRecord) -> Result<(), LlmError> { Ok(()) }
/// }
/// ```
#[async_trait::async_trait]
pub trait LlmCache: Send + Sync + fmt::Debug {
    /// The record under `key`, if any.
    async fn get(&self, key: &CacheKey) -> Result<Option<CacheRecord>, LlmError>;

    /// Records an answer (replacing any under the same key).
    async fn put(&self, record: CacheRecord) -> Result<(), LlmError>;
}
