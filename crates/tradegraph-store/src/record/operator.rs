use super::Extra;
use serde::{Deserialize, Serialize};
use tradegraph_core::{Symbol, Timestamp};

/// What came of an operator's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionOutcome {
    /// Carried out.
    Done,
    /// Refused by a rule (nothing to close, the market is closed, no such approval): nothing
    /// changed.
    Refused,
    /// Tried and failed (the broker or a store failed); the message says what to do.
    Failed,
}

impl ActionOutcome {
    /// `done`, `refused`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

/// One action an operator took on a bot (engaging the kill switch, pausing entries, closing
/// every position, approving an order, ...), as stored in `operator_actions`: what, when, from
/// where, and what came of it. Writing it again with the same `action_id` replaces it.
///
/// ```
/// use tradegraph_store::{ActionOutcome, OperatorAction};
/// let at = "2024-01-01T10:00:00Z".parse()?;
/// let a = OperatorAction::new("BTCUSDT".into(), at, 7, "kill_switch.engage")
///     .source("127.0.0.1:50312")
///     .outcome(ActionOutcome::Done, "the kill switch is engaged: no new entries");
/// assert_eq!(a.action_id, "BTCUSDT@2024-01-01T10:00:00Z#7");
/// assert_eq!(a.outcome, ActionOutcome::Done);
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorAction {
    /// Unique key: `<instrument>@<timestamp>#<n>`.
    pub action_id: String,
    /// The bot's instrument.
    pub instrument: Symbol,
    /// When the bot took it (wall clock).
    pub timestamp: Timestamp,
    /// What: `kill_switch.engage`, `kill_switch.release`, `entries.pause`, `entries.resume`,
    /// `positions.close_all`, `orders.cancel_all`, `approval.approve`, `approval.reject`,
    /// `reconciliation.confirm`, `prompt.approve`, `prompt.withdraw`, `prompt.rollback`,
    /// `decision.replay`.
    pub action: String,
    /// From where: the peer address of the HTTP request, or the embedding program's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Done, refused or failed.
    pub outcome: ActionOutcome,
    /// What happened, in words.
    #[serde(default)]
    pub message: String,
    /// Further fields (the orders sent, the approval's id, ...).
    #[serde(
        flatten,
        default,
        serialize_with = "super::extra::operator_action",
        deserialize_with = "super::extra::read"
    )]
    pub extra: Extra,
}

impl OperatorAction {
    /// An action of `instrument`'s bot at `timestamp`, the bot's `n`th, keyed
    /// `<instrument>@<timestamp>#<n>`, done, from nowhere in particular.
    pub fn new(
        instrument: Symbol,
        timestamp: Timestamp,
        n: u64,
        action: impl Into<String>,
    ) -> Self {
        Self {
            action_id: format!("{instrument}@{timestamp}#{n}"),
            instrument,
            timestamp,
            action: action.into(),
            source: None,
            outcome: ActionOutcome::Done,
            message: String::new(),
            extra: Extra::new(),
        }
    }

    /// Sets where it came from.
    #[must_use]
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Sets what came of it.
    #[must_use]
    pub fn outcome(mut self, outcome: ActionOutcome, message: impl Into<String>) -> Self {
        self.outcome = outcome;
        self.message = message.into();
        self
    }
}
