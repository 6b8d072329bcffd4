//! Errors of market data.

use std::path::PathBuf;

/// What went wrong with market data. Feeds report recoverable problems (a malformed frame, a
/// disconnect) as [`MarketEvent`](crate::MarketEvent)s and keep going; these are the errors that
/// stop something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MarketError {
    /// A file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Input that cannot be used, with where it came from (`file:line`, `frame 12`).
    #[error("{origin}: {reason}")]
    Malformed {
        /// Where.
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// A configuration value that cannot work.
    #[error("configuration: {0}")]
    Config(String),
    /// A network failure that retrying did not fix.
    #[error("{feed}: {reason}")]
    Connection {
        /// Which feed.
        feed: String,
        /// Why.
        reason: String,
    },
    /// A domain error.
    #[error(transparent)]
    Core(#[from] tradegraph_core::CoreError),
    /// A news or macro source failed.
    #[cfg(feature = "news")]
    #[error(transparent)]
    News(#[from] crate::news::NewsError),
    /// A historical download failed.
    #[cfg(feature = "history")]
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
}
