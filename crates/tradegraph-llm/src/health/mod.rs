//! Health as data: per-provider counters, recent success rate and latency, a latency
//! histogram, breaker state; and the key checks. In the `tradegraph` crate, a bot's service
//! shows them in `GET /api/v1/status` and `GET /api/v1/llm/usage` and records them in its
//! periodic `llm` health check, and `tradegraph providers check` runs the key checks;
//! [`prometheus`] renders them as Prometheus text for an embedder's own endpoint.

mod check;
mod histogram;
mod prometheus;

pub use check::{check_key, probe};
pub use histogram::{LatencyHistogram, BOUNDS_MS};
pub use prometheus::prometheus;

use crate::fallback::BreakerState;
use crate::{ErrorKind, LlmError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// How fast the recent success rate and latency follow new calls.
const EWMA_ALPHA: f64 = 0.2;

/// One provider's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderHealth {
    /// Provider name.
    pub provider: String,
    /// Its default model.
    pub model: String,
    /// Breaker state.
    pub breaker: BreakerState,
    /// Disabled after its key was rejected.
    pub disabled: bool,
    /// Calls made to the provider (cache hits not included).
    pub calls: u64,
    /// Calls that returned an answer.
    pub successes: u64,
    /// Calls that failed, by kind.
    pub failures: BTreeMap<ErrorKind, u64>,
    /// Answers served from the cache.
    pub cache_hits: u64,
    /// Recent success rate (exponential moving average; 1.0 before any call).
    pub success_rate: f64,
    /// Recent latency (exponential moving average), once known.
    #[serde(serialize_with = "crate::config::opt_secs::serialize")]
    pub recent_latency: Option<Duration>,
    /// Latencies of answered calls.
    pub latency: LatencyHistogram,
}

impl ProviderHealth {
    pub(crate) fn new(provider: &str, model: &str) -> Self {
        Self {
            provider: provider.to_owned(),
            model: model.to_owned(),
            breaker: BreakerState::Closed,
            disabled: false,
            calls: 0,
            successes: 0,
            failures: BTreeMap::new(),
            cache_hits: 0,
            success_rate: 1.0,
            recent_latency: None,
            latency: LatencyHistogram::default(),
        }
    }

    pub(crate) fn record_success(&mut self, latency: Duration) {
        self.calls += 1;
        self.successes += 1;
        self.success_rate += EWMA_ALPHA * (1.0 - self.success_rate);
        self.latency.record(latency);
        self.recent_latency = Some(match self.recent_latency {
            None => latency,
            Some(prev) => prev.mul_f64(1.0 - EWMA_ALPHA) + latency.mul_f64(EWMA_ALPHA),
        });
    }

    /// Records a failed call. Only service failures lower the success rate; a bad request or a
    /// refusal says nothing about the service.
    pub(crate) fn record_failure(&mut self, error: &LlmError) {
        self.calls += 1;
        *self.failures.entry(error.kind()).or_default() += 1;
        if error.is_provider_failure()
            || error.is_auth()
            || matches!(error, LlmError::SchemaInvalid { .. })
        {
            self.success_rate -= EWMA_ALPHA * self.success_rate;
        }
    }

    /// Total failed calls.
    pub fn failed(&self) -> u64 {
        self.failures.values().sum()
    }
}

/// The outcome of one provider's check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// Provider name.
    pub provider: String,
    /// The model checked.
    pub model: String,
    /// How long it took.
    pub latency: Duration,
    /// What went wrong, if anything.
    pub error: Option<LlmError>,
}

impl CheckResult {
    /// Whether the check passed.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// The result in words: `ok`, or the error's kind (`bad key`, `rate limited`,
    /// `unreachable`, `schema not supported`, ...).
    pub fn status(&self) -> &'static str {
        self.error.as_ref().map_or("ok", |e| e.kind().words())
    }
}
