//! What stops a download.

use std::fmt;
use std::path::PathBuf;

/// Why one page of a venue's answer cannot be used: the row (from 1) when one row is at fault,
/// and what is wrong with it.
///
/// ```
/// use tradegraph_market::history::PageError;
/// let err = PageError::row(3, "column `high`: `x` is not a number");
/// assert_eq!(err.to_string(), "row 3: column `high`: `x` is not a number");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    /// The row at fault (from 1), or `None` when the page as a whole is wrong.
    pub row: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl PageError {
    /// A whole page is wrong (not JSON, not the expected shape).
    pub fn page(reason: impl Into<String>) -> Self {
        Self {
            row: None,
            reason: reason.into(),
        }
    }

    /// Row `row` (from 1) is wrong.
    pub fn row(row: usize, reason: impl Into<String>) -> Self {
        Self {
            row: Some(row),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.row {
            Some(row) => write!(f, "row {row}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for PageError {}

/// What stops a [`download`](super::download). Nothing is written from a page that fails: the
/// file keeps only whole, checked rows, and the same command continues it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The request cannot work (the range, the symbol, the URL).
    #[error("download: {0}")]
    Config(String),
    /// The output file cannot be read, continued or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong, and what to do.
        reason: String,
    },
    /// The venue could not be reached, after every retry.
    #[error("{venue} {endpoint}: {reason}; the rows so far are kept: run the same command again to continue")]
    Request {
        /// `binance` or `kite`.
        venue: &'static str,
        /// The path and query asked (no credentials: they travel in headers).
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The venue refused the request.
    #[error("{venue} {endpoint}: HTTP {status}: {body}")]
    Status {
        /// `binance` or `kite`.
        venue: &'static str,
        /// The path and query asked.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer, credentials redacted.
        body: String,
    },
    /// The venue kept answering 429 (or 418) after every retry.
    #[error("{venue} {endpoint}: still rate limited (HTTP {status}) after {attempts} attempts; wait a few minutes and run the same command again: the file is continued")]
    RateLimited {
        /// `binance` or `kite`.
        venue: &'static str,
        /// The path and query asked.
        endpoint: String,
        /// 429 or 418.
        status: u16,
        /// How many requests were sent.
        attempts: u32,
    },
    /// The venue asks to wait longer than [`DownloadConfig::max_retry_after`](super::DownloadConfig::max_retry_after)
    /// (Binance's 418 is an IP ban that can last hours): stopped rather than sleeping through it.
    #[error("{venue} {endpoint}: HTTP {status}: the venue asks to wait {} s, until {until}; run the same command again after {until}: the file is continued", wait.as_secs())]
    RetryLater {
        /// `binance` or `kite`.
        venue: &'static str,
        /// The path and query asked.
        endpoint: String,
        /// 429 or 418.
        status: u16,
        /// The wait the venue asks for.
        wait: std::time::Duration,
        /// When that wait ends.
        until: tradegraph_core::Timestamp,
    },
    /// An answer that is not what the venue documents, or bars out of order or out of range.
    #[error("{venue} {endpoint}: {error}")]
    Malformed {
        /// `binance` or `kite`.
        venue: &'static str,
        /// The path and query asked.
        endpoint: String,
        /// What is wrong, and where.
        error: PageError,
    },
}
