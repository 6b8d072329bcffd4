//! Rate limits kept outside the process ([`SharedLimits`]), so that every process calling a
//! provider with the same key (the bots of several instruments, workers on several machines)
//! shares its quota.

use super::Limits;
use async_trait::async_trait;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

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

/// How long the shared limits are left alone after they could not be consulted: calls go by
/// their process's own limits meanwhile, without waiting on a store that is away.
pub(crate) const SHARED_COOL_DOWN: Duration = Duration::from_secs(30);

/// The client's side of [`SharedLimits`]: consulted unless it failed within
/// [`SHARED_COOL_DOWN`], with one warning per outage and a note when it answers again.
pub(crate) struct SharedGate {
    limits: Arc<dyn SharedLimits>,
    /// Until when it is left alone (set by a failure).
    away_until: Mutex<Option<Instant>>,
}

impl SharedGate {
    pub(crate) fn new(limits: Arc<dyn SharedLimits>) -> Self {
        Self {
            limits,
            away_until: Mutex::new(None),
        }
    }

    /// Whether it is being left alone now.
    fn away(&self) -> bool {
        let until = *self
            .away_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        until.is_some_and(|t| Instant::now() < t)
    }

    fn failed(&self, provider: &str, error: &SharedLimitError) {
        let mut until = self
            .away_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if until.is_none() {
            tracing::warn!(provider, %error, "the shared rate limits cannot be consulted: each process's own limits apply, tried again every {} s", SHARED_COOL_DOWN.as_secs());
        }
        *until = Some(Instant::now() + SHARED_COOL_DOWN);
    }

    fn answered(&self) {
        let mut until = self
            .away_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if until.take().is_some() {
            tracing::info!("the shared rate limits answer again");
        }
    }

    /// Takes from the shared buckets: the wait they ask for (zero: taken), or `None` when they
    /// are not consulted (away).
    pub(crate) async fn take(
        &self,
        provider: &str,
        limits: Limits,
        tokens: u64,
    ) -> Option<Duration> {
        if self.away() {
            return None;
        }
        match self.limits.take(provider, limits, tokens).await {
            Ok(wait) => {
                self.answered();
                Some(wait)
            }
            Err(error) => {
                self.failed(provider, &error);
                None
            }
        }
    }

    /// Corrects the shared token bucket, on a task of its own: the call it is about is done,
    /// and neither waits for nor is cancelled with the store.
    pub(crate) fn settle(
        self: &Arc<Self>,
        provider: &str,
        limits: Limits,
        estimated: u64,
        actual: u64,
    ) {
        if limits.tokens_per_minute.is_none() || estimated == actual || self.away() {
            return;
        }
        let (gate, provider) = (Arc::clone(self), provider.to_owned());
        tokio::spawn(async move {
            if let Err(error) = gate
                .limits
                .settle(&provider, limits, estimated, actual)
                .await
            {
                gate.failed(&provider, &error);
            }
        });
    }
}
