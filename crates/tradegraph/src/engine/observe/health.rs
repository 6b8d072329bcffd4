//! Readiness: named checks, each with a state and a message, and the report they make.

use serde::{Deserialize, Serialize};
use tradegraph_core::Timestamp;

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

/// One named check: the engine's own (`engine`, `feed`, `state_store`) or one added by the
/// service's periodic checks (`redis`, `mongodb`, `llm`, `broker`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Its name.
    pub name: String,
    /// How it stands.
    pub state: CheckState,
    /// What it found, in words (what failed and what to do, when it fails).
    pub message: String,
    /// When it last changed state (wall clock).
    pub since: Timestamp,
}

impl Check {
    /// A check named `name` in `state` since `since`.
    pub fn new(
        name: impl Into<String>,
        state: CheckState,
        message: impl Into<String>,
        since: Timestamp,
    ) -> Self {
        Self {
            name: name.into(),
            state,
            message: message.into(),
            since,
        }
    }
}

/// Every check at one time: what `GET /readyz` answers. Ready means no check is failing.
///
/// ```
/// use tradegraph::engine::{Check, CheckState, HealthReport};
/// use tradegraph::core::Timestamp;
/// let now = Timestamp::from_secs(1_704_103_200);
/// let report = HealthReport::new(now, vec![
///     Check::new("feed", CheckState::Ok, "connected", now),
///     Check::new("mongodb", CheckState::Failing, "no answer for 30 s; writes spill to disk", now),
/// ]);
/// assert!(!report.is_ready());
/// assert_eq!(report.failing().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["mongodb"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    /// When it was made (wall clock).
    pub at: Timestamp,
    /// Ready to trade: no check is failing.
    pub ready: bool,
    /// Every check, by name.
    pub checks: Vec<Check>,
}

impl HealthReport {
    /// A report of `checks` (sorted by name; a later check of the same name replaces an
    /// earlier one).
    pub fn new(at: Timestamp, checks: Vec<Check>) -> Self {
        let mut by_name = std::collections::BTreeMap::new();
        for check in checks {
            by_name.insert(check.name.clone(), check);
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
