//! [`Query`]: an instrument and a time range, for reading history and logs.

use tradegraph_core::{Symbol, Timestamp};

/// An instrument, a half-open time range `[from, to)` and an optional limit.
///
/// Results come oldest first; with a limit, the *newest* `limit` of the range are kept (what a
/// prompt or a chart wants: "the last 100 candles before `to`").
///
/// ```
/// use tradegraph_core::Timestamp;
/// use tradegraph_store::Query;
/// let q = Query::new("BTCUSDT").before("2024-01-02T00:00:00Z".parse()?).limit(100);
/// assert!(q.contains(Timestamp::from_secs(0)));
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The instrument.
    pub instrument: Symbol,
    /// Start, inclusive.
    pub from: Timestamp,
    /// End, exclusive.
    pub to: Timestamp,
    /// Keep at most the newest `limit` results.
    pub limit: Option<usize>,
    /// Only the records of this run (decisions and trades; `None`: every run's). The unset
    /// run selects the records written without one.
    pub run: Option<crate::RunId>,
}

impl Query {
    /// Everything of `instrument`.
    pub fn new(instrument: impl Into<Symbol>) -> Self {
        Self {
            instrument: instrument.into(),
            from: Timestamp::from_millis(i64::MIN),
            to: Timestamp::from_millis(i64::MAX),
            limit: None,
            run: None,
        }
    }

    /// Only the records of `run` (decisions and trades).
    #[must_use]
    pub fn run(mut self, run: crate::RunId) -> Self {
        self.run = Some(run);
        self
    }

    /// Whether a record of `run` is asked for.
    pub fn has_run(&self, run: &crate::RunId) -> bool {
        self.run.as_ref().is_none_or(|wanted| wanted == run)
    }

    /// From `from`, inclusive.
    #[must_use]
    pub fn since(mut self, from: Timestamp) -> Self {
        self.from = from;
        self
    }

    /// Before `to`, exclusive.
    #[must_use]
    pub fn before(mut self, to: Timestamp) -> Self {
        self.to = to;
        self
    }

    /// `[from, to)`.
    #[must_use]
    pub fn between(self, from: Timestamp, to: Timestamp) -> Self {
        self.since(from).before(to)
    }

    /// At most the newest `n`.
    #[must_use]
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Whether `t` is in the range.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.from <= t && t < self.to
    }

    /// Applies the limit to results sorted oldest first.
    pub(crate) fn keep_newest<T>(&self, mut sorted: Vec<T>) -> Vec<T> {
        if let Some(n) = self.limit {
            if sorted.len() > n {
                sorted.drain(..sorted.len() - n);
            }
        }
        sorted
    }
}
