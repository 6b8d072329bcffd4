//! [`Probe`]: one named health check; [`Outcome`]: what one run of it found.

use crate::engine::{CheckId, CheckState};
use async_trait::async_trait;
use std::time::Duration;

/// What a probe found: a state and, in words, why (what failed and what to do, when it fails).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How the check stands.
    pub state: CheckState,
    /// What it found.
    pub message: String,
}

impl Outcome {
    /// Working.
    pub fn ok(message: impl Into<String>) -> Self {
        Self::new(CheckState::Ok, message)
    }

    /// Working with trouble; the bot may still trade.
    pub fn degraded(message: impl Into<String>) -> Self {
        Self::new(CheckState::Degraded, message)
    }

    /// Not working: the bot is not ready to trade.
    pub fn failing(message: impl Into<String>) -> Self {
        Self::new(CheckState::Failing, message)
    }

    /// An outcome in `state`.
    pub fn new(state: CheckState, message: impl Into<String>) -> Self {
        Self {
            state,
            message: message.into(),
        }
    }
}

/// One health check the [`Checker`](super::Checker) runs: which check it is (its
/// [`CheckId`], the check's name on the [`HealthBoard`](crate::service::HealthBoard), in
/// `/readyz` and in `health` events), the check itself, and how often it may run.
///
/// ```
/// use async_trait::async_trait;
/// use std::time::Duration;
/// use tradegraph::engine::CheckId;
/// use tradegraph::service::checks::{Outcome, Probe};
///
/// /// A Redis that always answers.
/// struct AlwaysUp;
///
/// #[async_trait]
/// impl Probe for AlwaysUp {
///     fn id(&self) -> CheckId {
///         CheckId::Redis
///     }
///     async fn check(&self) -> Outcome {
///         Outcome::ok("PONG in 1 ms")
///     }
///     fn every(&self) -> Option<Duration> {
///         Some(Duration::from_secs(60)) // at most once a minute
///     }
/// }
/// ```
#[async_trait]
pub trait Probe: Send + Sync {
    /// Which check it is ([`CheckId::Redis`], [`CheckId::Mongodb`], [`CheckId::Llm`], ...).
    fn id(&self) -> CheckId;

    /// Runs the check once. The checker gives it a time limit: a check that does not answer
    /// within it is failing, saying so (its future is dropped).
    async fn check(&self) -> Outcome;

    /// The shortest time between two runs, for an expensive check (its last outcome stands in
    /// between); `None`: every round of the checker.
    fn every(&self) -> Option<Duration> {
        None
    }
}
