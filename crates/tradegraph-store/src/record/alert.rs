use super::Extra;
use serde::{Deserialize, Serialize};
use tradegraph_core::{Symbol, Timestamp};

/// One alert a bot raised (a circuit breaker, a store down, a performance floor crossed, ...),
/// as stored in `alerts`: what kind, about what, how urgent, what happened and what to do.
/// Writing it again with the same `alert_id` replaces it.
///
/// The store keeps an alert as a document: `kind` and `severity` are the snake_case names the
/// bot's typed alert serializes to (`daily_loss_limit`, `critical`), so that mongosh, Grafana
/// and later versions read them without this crate knowing every kind.
///
/// ```
/// use tradegraph_store::AlertRecord;
/// let at = "2024-01-01T10:00:00Z".parse()?;
/// let a = AlertRecord::new("BTCUSDT".into(), at, 3, "store_down", "store_down:redis")
///     .severity("critical")
///     .message("redis does not answer; the hot cache is in memory: start redis-server");
/// assert_eq!(a.alert_id, "BTCUSDT@2024-01-01T10:00:00Z#3");
/// assert_eq!((a.kind.as_str(), a.severity.as_str()), ("store_down", "critical"));
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Unique key: `<instrument>@<timestamp>#<n>`.
    pub alert_id: String,
    /// The bot's instrument.
    pub instrument: Symbol,
    /// When it was raised (wall clock).
    pub timestamp: Timestamp,
    /// What kind (`circuit_breaker`, `store_down`, `daily_loss_limit`, ...).
    pub kind: String,
    /// What it is deduplicated on: the kind and what it is about (`store_down:redis`).
    pub key: String,
    /// `info` (a recovery, a note), `warning` or `critical`.
    pub severity: String,
    /// What happened and what to do, in words.
    #[serde(default)]
    pub message: String,
    /// Whether it says that an earlier alert of the same key is over.
    #[serde(default)]
    pub recovered: bool,
    /// Further fields (figures behind the alert).
    #[serde(
        flatten,
        default,
        serialize_with = "super::extra::alert",
        deserialize_with = "super::extra::read"
    )]
    pub extra: Extra,
}

impl AlertRecord {
    /// An alert of `instrument`'s bot at `timestamp`, the bot's `n`th, keyed
    /// `<instrument>@<timestamp>#<n>`: a warning, with no message yet.
    pub fn new(
        instrument: Symbol,
        timestamp: Timestamp,
        n: u64,
        kind: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        Self {
            alert_id: format!("{instrument}@{timestamp}#{n}"),
            instrument,
            timestamp,
            kind: kind.into(),
            key: key.into(),
            severity: "warning".to_owned(),
            message: String::new(),
            recovered: false,
            extra: Extra::new(),
        }
    }

    /// Sets how urgent it is.
    #[must_use]
    pub fn severity(mut self, severity: impl Into<String>) -> Self {
        self.severity = severity.into();
        self
    }

    /// Sets what happened and what to do.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Marks it as the end of an earlier alert of the same key.
    #[must_use]
    pub fn recovered(mut self, recovered: bool) -> Self {
        self.recovered = recovered;
        self
    }
}
