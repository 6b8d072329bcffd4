//! Readiness: the checks, each with a state and a message, the report they make, and what a
//! new result of a check does ([`Check::next`]).

use super::HealthChange;
use serde::{Deserialize, Serialize};
use tradegraph_core::Timestamp;

/// Which check: the engine's own ([`Engine`](Self::Engine), [`Feed`](Self::Feed),
/// [`Broker`](Self::Broker), [`StateStore`](Self::StateStore)) or one of the service's periodic
/// [checks](crate::service::checks) ([`Redis`](Self::Redis), [`Mongodb`](Self::Mongodb),
/// [`Llm`](Self::Llm)). Serialized as its name (`state_store`, `mongodb`, ...).
///
/// ```
/// use tradegraph::engine::CheckId;
/// assert_eq!(CheckId::StateStore.as_str(), "state_store");
/// assert_eq!(serde_json::to_string(&CheckId::Mongodb)?, "\"mongodb\"");
/// assert_eq!(CheckId::from_name("llm"), Some(CheckId::Llm));
/// assert_eq!(CheckId::from_name("disk"), None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    /// The engine's loop.
    Engine,
    /// The market data feed.
    Feed,
    /// The bot's state store.
    StateStore,
    /// The broker (paper books or the venue).
    Broker,
    /// Redis.
    Redis,
    /// MongoDB.
    Mongodb,
    /// The model providers.
    Llm,
}

impl CheckId {
    /// Every check.
    pub const ALL: [CheckId; 7] = [
        Self::Engine,
        Self::Feed,
        Self::StateStore,
        Self::Broker,
        Self::Redis,
        Self::Mongodb,
        Self::Llm,
    ];

    /// Its name (`engine`, `feed`, `state_store`, `broker`, `redis`, `mongodb`, `llm`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Engine => "engine",
            Self::Feed => "feed",
            Self::StateStore => "state_store",
            Self::Broker => "broker",
            Self::Redis => "redis",
            Self::Mongodb => "mongodb",
            Self::Llm => "llm",
        }
    }

    /// The check of that name, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|id| id.as_str() == name)
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// Working.
    Ok,
    /// Working with trouble (slow, falling back); the bot may still trade.
    Degraded,
    /// Not working: the bot is not ready to trade.
    Failing,
}

/// One check: the engine's own (`engine`, `feed`, `broker`, `state_store`) or one added by the
/// service's periodic [checks](crate::service::checks) (`redis`, `mongodb`, `llm`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Which check (serialized as its name).
    pub name: CheckId,
    /// How it stands.
    pub state: CheckState,
    /// What it found, in words (what failed and what to do, when it fails).
    pub message: String,
    /// When it last changed state (wall clock).
    pub since: Timestamp,
}

impl Check {
    /// Check `name` in `state` since `since`.
    pub fn new(
        name: CheckId,
        state: CheckState,
        message: impl Into<String>,
        since: Timestamp,
    ) -> Self {
        Self {
            name,
            state,
            message: message.into(),
            since,
        }
    }

    /// What a new result of check `name` at `at` does, given the check as it stood (`before`):
    /// the check now (its `since` kept while its state is unchanged) and, on a change of
    /// state, the change (a first result is a change only when it is not ok). Sets the gauge
    /// `tradegraph_health_check_state{check, instrument}` and logs a change (warn when degraded
    /// or failing, info when it recovered). The engine and the service's
    /// [`Checker`](crate::service::checks::Checker) both record their results through it;
    /// each publishes the change as a [`BotEvent::Health`](super::BotEvent::Health).
    ///
    /// ```
    /// use tradegraph::engine::{Check, CheckId, CheckState};
    /// use tradegraph::core::Timestamp;
    /// let (t0, t1) = (Timestamp::from_secs(1_704_103_200), Timestamp::from_secs(1_704_103_210));
    /// let (first, change) = Check::next(None, CheckId::Redis, CheckState::Ok, "PONG", t0, "BTCUSDT");
    /// assert!(change.is_none(), "a first ok is no change");
    /// let (same, change) = Check::next(Some(&first), CheckId::Redis, CheckState::Ok, "PONG", t1, "BTCUSDT");
    /// assert_eq!((same.since, change), (t0, None));
    /// let (down, change) = Check::next(Some(&same), CheckId::Redis, CheckState::Failing, "refused", t1, "BTCUSDT");
    /// assert_eq!((down.since, change.map(|c| c.state)), (t1, Some(CheckState::Failing)));
    /// ```
    pub fn next(
        before: Option<&Check>,
        name: CheckId,
        state: CheckState,
        message: impl Into<String>,
        at: Timestamp,
        instrument: &str,
    ) -> (Check, Option<HealthChange>) {
        let message = message.into();
        crate::telemetry::record_health_check(name, instrument, state);
        let since = match before {
            Some(c) if c.state == state => c.since,
            _ => at,
        };
        let changed = match before {
            None => state != CheckState::Ok,
            Some(c) => c.state != state,
        };
        let change = changed.then(|| {
            match state {
                CheckState::Ok => tracing::info!(check = %name, %message, "health: recovered"),
                CheckState::Degraded => tracing::warn!(check = %name, %message, "health: degraded"),
                CheckState::Failing => tracing::warn!(check = %name, %message, "health: failing"),
            }
            HealthChange {
                check: name,
                state,
                message: message.clone(),
                at,
            }
        });
        (Check::new(name, state, message, since), change)
    }
}

/// Every check at one time: what `GET /readyz` answers. Ready means no check is failing.
///
/// ```
/// use tradegraph::engine::{Check, CheckId, CheckState, HealthReport};
/// use tradegraph::core::Timestamp;
/// let now = Timestamp::from_secs(1_704_103_200);
/// let report = HealthReport::new(now, vec![
///     Check::new(CheckId::Feed, CheckState::Ok, "connected", now),
///     Check::new(CheckId::Mongodb, CheckState::Failing, "no answer for 30 s; writes spill to disk", now),
/// ]);
/// assert!(!report.is_ready());
/// assert_eq!(report.failing().map(|c| c.name).collect::<Vec<_>>(), [CheckId::Mongodb]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    /// When it was made (wall clock).
    pub at: Timestamp,
    /// Ready to trade: no check is failing.
    pub ready: bool,
    /// Every check, sorted by name.
    pub checks: Vec<Check>,
}

impl HealthReport {
    /// A report of `checks` (sorted by name; a later check of the same name replaces an
    /// earlier one).
    pub fn new(at: Timestamp, checks: Vec<Check>) -> Self {
        let mut by_name = std::collections::BTreeMap::new();
        for check in checks {
            by_name.insert(check.name.as_str(), check);
        }
        let checks: Vec<Check> = by_name.into_values().collect();
        let ready = checks.iter().all(|c| c.state != CheckState::Failing);
        Self { at, ready, checks }
    }

    /// Whether no check is failing.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// The failing checks.
    pub fn failing(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| c.state == CheckState::Failing)
    }
}
