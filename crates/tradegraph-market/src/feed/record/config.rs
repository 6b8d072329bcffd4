//! Where a recording goes and when it stops.

use std::path::PathBuf;
use std::time::Duration;

/// Configuration of a [`Recorder`](super::Recorder).
///
/// ```
/// use std::time::Duration;
/// use tradegraph_market::feed::record::RecordConfig;
///
/// let config = RecordConfig {
///     max_events: Some(10_000),
///     duration: Some(Duration::from_secs(3600)),
///     ..RecordConfig::new("btc.jsonl")
/// };
/// assert_eq!(config.flush_interval, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordConfig {
    /// The JSONL file to write; created, or truncated if it exists.
    pub path: PathBuf,
    /// Stop after this many events (notices included).
    pub max_events: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Written events reach the file at least this often (and when the recording ends), so a
    /// recording killed mid-way loses at most this much.
    pub flush_interval: Duration,
}

impl RecordConfig {
    /// Records to `path` with no limit, flushing every second.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            max_events: None,
            duration: None,
            flush_interval: Duration::from_secs(1),
        }
    }
}
