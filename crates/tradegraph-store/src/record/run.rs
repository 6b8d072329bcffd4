//! [`RunId`]: which run of a bot or a backtest wrote a record.

use serde::{Deserialize, Serialize};
use tradegraph_core::Timestamp;

/// Which run wrote a record: `<start, UTC, compact>-<8 hex digits>`
/// (`20261205T230800Z-3f9a12bc`). A decision, trade or lesson is keyed by its run and its own
/// id, so re-running a period (a second backtest of the same days, into the same MongoDB) adds
/// its records beside the first run's instead of replacing them, while a retry or a crash
/// recovery within a run still replaces its own. A running bot keeps one run id across its
/// restarts (it is saved with the decision sequence); each backtest has a new one.
///
/// The default is the unset id, which records written without a run carry (and which older
/// documents, without the field, read as).
///
/// ```
/// use tradegraph_store::RunId;
/// let at = "2026-12-05T23:08:00Z".parse()?;
/// let (a, b) = (RunId::new(at), RunId::new(at));
/// assert!(a.as_str().starts_with("20261205T230800Z-") && a.as_str().len() == 25);
/// assert_ne!(a, b);
/// assert!(RunId::default().is_unset());
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(String);

impl RunId {
    /// A new id for a run started at `started`.
    pub fn new(started: Timestamp) -> Self {
        let random: u32 = rand::random();
        Self(format!("{}-{random:08x}", started.compact()))
    }

    /// An id given as text (read back from a store or a flag).
    pub fn from_text(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The id as text (empty when unset).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the unset id.
    pub fn is_unset(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
