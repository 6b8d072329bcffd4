//! One provider in the chain, with its breaker, limits and health.

use crate::fallback::{
    Blocked, Breaker, BreakerPolicy, Candidate, Limiter, Limits, Permit, Transition,
};
use crate::health::ProviderHealth;
use crate::Provider;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

pub(crate) struct Member {
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) position: usize,
    pub(crate) weight: f64,
    /// Its rate limits, as configured (the shared buckets are sized by them).
    pub(crate) limits: Limits,
    state: Mutex<State>,
}

pub(crate) struct State {
    pub(crate) breaker: Breaker,
    pub(crate) limiter: Limiter,
    pub(crate) disabled: bool,
    pub(crate) health: ProviderHealth,
}

/// Whether a call may go to a member now.
pub(crate) enum Admission {
    Go(Permit, Option<Transition>),
    Later(Blocked),
    Skip(crate::LlmError),
}

impl Member {
    pub(crate) fn new(
        provider: Arc<dyn Provider>,
        position: usize,
        weight: f64,
        limits: Limits,
        breaker: Option<BreakerPolicy>,
    ) -> Self {
        let health = ProviderHealth::new(provider.name(), provider.model());
        Self {
            provider,
            position,
            weight,
            limits,
            state: Mutex::new(State {
                breaker: breaker.map_or_else(Breaker::off, Breaker::new),
                limiter: Limiter::new(limits, Instant::now()),
                disabled: false,
                health,
            }),
        }
    }

    pub(crate) fn name(&self) -> &str {
        self.provider.name()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn candidate(&self) -> Candidate<'_> {
        let state = self.lock();
        Candidate {
            name: self.provider.name(),
            position: self.position,
            weight: self.weight,
            success_rate: state.health.success_rate,
            latency: state.health.recent_latency,
        }
    }

    pub(crate) fn health(&self) -> ProviderHealth {
        let state = self.lock();
        let mut h = state.health.clone();
        h.breaker = state.breaker.state();
        h.disabled = state.disabled;
        h
    }

    /// Admits a call of about `tokens` tokens now (with a concurrency `slot` already waited
    /// for), or says why not.
    pub(crate) fn admit_with(&self, tokens: u64, slot: Option<OwnedSemaphorePermit>) -> Admission {
        let now = Instant::now();
        let mut state = self.lock();
        if state.disabled {
            return Admission::Skip(crate::LlmError::Disabled {
                provider: self.name().to_owned(),
            });
        }
        let (admitted, transition) = state.breaker.admit(now);
        if let Err(retry_in) = admitted {
            return Admission::Skip(crate::LlmError::CircuitOpen {
                provider: self.name().to_owned(),
                retry_in,
            });
        }
        match state.limiter.try_admit(tokens, now, slot) {
            Ok(permit) => Admission::Go(permit, transition),
            Err(blocked) => {
                state.breaker.on_abandoned();
                Admission::Later(blocked)
            }
        }
    }
}

/// Releases a half-open probe if the call is dropped before its outcome is recorded.
pub(crate) struct ProbeGuard<'a> {
    pub(crate) member: &'a Member,
    pub(crate) armed: bool,
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.member.lock().breaker.on_abandoned();
        }
    }
}
