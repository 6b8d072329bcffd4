//! `llm`: the model providers' breakers and recent success, every round (read in process),
//! and their key check (a listing of models over HTTP, no tokens) at most every
//! [`HealthConfig::llm_every`](super::HealthConfig::llm_every), each provider within its own
//! time limit.

use super::{Outcome, Probe};
use crate::engine::CheckId;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tradegraph_llm::fallback::BreakerState;
use tradegraph_llm::health::{CheckResult, ProviderHealth};
use tradegraph_llm::Llm;

/// A provider whose recent success rate is below this is degraded.
const LOW_SUCCESS: f64 = 0.5;

/// A provider's last key check.
enum Key {
    /// It answered (its error, if any, in the result).
    Answered(CheckResult),
    /// It did not answer within the limit.
    TimedOut(Duration),
}

/// The key checks.
#[derive(Default)]
struct Keys {
    /// When the last round of them was started.
    started: Option<Instant>,
    /// Each provider's last result, kept until its next one comes in.
    results: BTreeMap<String, Key>,
}

/// The default time limit of one provider's key check.
const KEY_LIMIT: Duration = Duration::from_secs(4);

/// `llm`: every provider of the model chain. A provider is down when its key was rejected
/// (disabled, or its last key check answered 401/403) or its breaker is open; troubled when
/// its breaker is half open, its recent success rate is below 50%, its last key check failed
/// otherwise (a server error, a network error: unknown) or did not answer within its limit,
/// or it has no key check result yet. Every provider down: failing; some down or
/// troubled: degraded; no model chain (rule mode): ok, saying so. Each provider's key check
/// has its own time limit ([`key_limit`](Self::key_limit)) and its result is kept as it
/// comes in, so a slow provider neither holds up nor hides the others.
pub struct LlmProbe {
    llm: Option<Llm>,
    key_every: Duration,
    key_limit: Duration,
    keys: Mutex<Keys>,
}

impl LlmProbe {
    /// The probe of `llm` (`None`: rule mode), its key check at most every `key_every`, each
    /// provider's within 4 s.
    pub fn new(llm: Option<Llm>, key_every: Duration) -> Self {
        Self {
            llm,
            key_every,
            key_limit: KEY_LIMIT,
            keys: Mutex::new(Keys::default()),
        }
    }

    /// Gives each provider's key check `limit` (keep it below the checker's time limit, so
    /// the results come in before the checker gives up on the probe).
    #[must_use]
    pub fn key_limit(mut self, limit: Duration) -> Self {
        self.key_limit = limit;
        self
    }

    /// Checks every provider's key, concurrently, each within the limit, keeping each result
    /// as it comes in.
    async fn check_keys(&self, llm: &Llm) {
        let limit = self.key_limit;
        let providers = llm.providers();
        let checks = providers.iter().map(|(name, _)| async move {
            let key = match tokio::time::timeout(limit, llm.check_key(name)).await {
                Ok(Some(result)) => Key::Answered(result),
                Ok(None) => return,
                Err(_) => Key::TimedOut(limit),
            };
            self.keys().results.insert(name.clone(), key);
        });
        futures::future::join_all(checks).await;
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, Keys> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a key check when one is due (none yet, or the last one `key_every` ago).
    fn key_check_due(&self) -> bool {
        let mut keys = self.keys();
        let due = keys.started.is_none_or(|at| at.elapsed() >= self.key_every);
        if due {
            keys.started = Some(Instant::now());
        }
        due
    }
}

impl std::fmt::Debug for LlmProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmProbe")
            .field("configured", &self.llm.is_some())
            .field("key_every", &self.key_every)
            .field("key_limit", &self.key_limit)
            .finish_non_exhaustive()
    }
}

/// One provider's standing: down, troubled or well, in words.
enum Standing {
    Down(String),
    Troubled(String),
    Well(String),
}

fn standing(health: &ProviderHealth, key: Option<&Key>) -> Standing {
    let who = format!("{} ({})", health.provider, health.model);
    let rate = format!("recent success {:.0}%", health.success_rate * 100.0);
    if health.disabled {
        return Standing::Down(format!(
            "{who}: disabled, its key was rejected; set a valid key and restart"
        ));
    }
    if health.breaker == BreakerState::Open {
        return Standing::Down(format!(
            "{who}: breaker open after repeated failures ({rate})"
        ));
    }
    let key = match key {
        Some(Key::Answered(result)) => match &result.error {
            // Only a rejected key (401/403) means down; a server error or a network blip
            // leaves the key unknown until the next check, so one blip does not fail `llm`.
            Some(error) if error.is_auth() => {
                return Standing::Down(format!("{who}: key check failed ({error})"))
            }
            Some(error) => Some(format!("key check unknown ({error})")),
            None => None,
        },
        Some(Key::TimedOut(limit)) => Some(format!(
            "key check did not answer within {} ms",
            limit.as_millis()
        )),
        None => Some("no key check result yet".to_owned()),
    };
    if let Some(unknown) = key {
        return Standing::Troubled(format!("{who}: {unknown} ({rate})"));
    }
    if health.breaker == BreakerState::HalfOpen {
        return Standing::Troubled(format!("{who}: breaker half open, probing ({rate})"));
    }
    if health.success_rate < LOW_SUCCESS {
        return Standing::Troubled(format!("{who}: {rate}"));
    }
    Standing::Well(format!("{who}: breaker closed, {rate}, key ok"))
}

#[async_trait]
impl Probe for LlmProbe {
    fn id(&self) -> CheckId {
        CheckId::Llm
    }

    async fn check(&self) -> Outcome {
        let Some(llm) = &self.llm else {
            return Outcome::ok("rule mode: no model providers configured");
        };
        if self.key_check_due() {
            self.check_keys(llm).await;
        }
        let standings: Vec<Standing> = {
            let keys = self.keys();
            llm.health()
                .iter()
                .map(|h| standing(h, keys.results.get(&h.provider)))
                .collect()
        };
        let down = standings
            .iter()
            .filter(|s| matches!(s, Standing::Down(_)))
            .count();
        let troubled = standings
            .iter()
            .filter(|s| matches!(s, Standing::Troubled(_)))
            .count();
        let words: Vec<&str> = standings
            .iter()
            .map(|s| match s {
                Standing::Down(w) | Standing::Troubled(w) | Standing::Well(w) => w.as_str(),
            })
            .collect();
        let words = words.join("; ");
        if standings.is_empty() {
            Outcome::ok("rule mode: no model providers configured")
        } else if down == standings.len() {
            Outcome::failing(format!(
                "every model provider is down, the agents fall back to rules: {words}"
            ))
        } else if down + troubled > 0 {
            Outcome::degraded(words)
        } else {
            Outcome::ok(words)
        }
    }
}
