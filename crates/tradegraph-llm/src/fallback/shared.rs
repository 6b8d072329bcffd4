//! Rate limits kept outside the process ([`SharedLimits`]), so that every process calling a
//! provider with the same key (the bots of several instruments, workers on several machines)
//! shares its quota.

use super::Limits;
use async_trait::async_trait;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Why a shared limit could not be consulted (its store is away...). The client then goes on
/// with its own in-process limits, and logs it.
pub type SharedLimitError = Box<dyn std::error::Error + Send + Sync>;

/// A provider's request and token buckets kept where several processes see them: a call takes
/// from them before it goes, as it takes from its own in-process [`Limits`]. Implemented for
/// Redis by `tradegraph_store::redis::RedisLlmLimits`.
///
/// The buckets are those of [`Limits`]: `requests_per_minute` and `tokens_per_minute`, each
/// refilled continuously, full at start. (`max_concurrency` stays per process.)
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not keep shared rate limits",
    note = "implement `tradegraph_llm::fallback::SharedLimits` (take, settle), or use `tradegraph_store::redis::RedisLlmLimits`"
)]
#[async_trait]
pub trait SharedLimits: Send + Sync + fmt::Debug {
    /// Takes one request and `tokens` tokens from `provider`'s buckets sized by `limits` when
    /// both fit now, and answers zero; else takes nothing and answers how long until they would.
    async fn take(
        &self,
        provider: &str,
        limits: Limits,
        tokens: u64,
    ) -> Result<Duration, SharedLimitError>;

    /// Corrects `provider`'s token bucket once a call's real usage is known (`estimated` was
    /// taken).
    async fn settle(
        &self,
        provider: &str,
        limits: Limits,
        estimated: u64,
        actual: u64,
    ) -> Result<(), SharedLimitError>;
}

/// A [`SharedLimits`] in a configuration: compared by identity, never read from a file.
#[derive(Clone)]
pub struct SharedLimitsHandle(pub Arc<dyn SharedLimits>);

impl fmt::Debug for SharedLimitsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq for SharedLimitsHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
