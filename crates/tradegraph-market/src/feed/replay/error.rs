//! Why a line of a replay file could not be used.

/// What is wrong with one line. The replay reports it as a
/// [`FeedNotice::Malformed`](crate::FeedNotice::Malformed) naming `file:line`, skips the line
/// and goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// A JSONL line that is not a JSON [`MarketEvent`](crate::MarketEvent).
    #[error("not a market event: {0}")]
    Json(String),
    /// A CSV header without the columns of a candle or a tick file.
    #[error("the header {found} has no {missing} column: expected timestamp,open,high,low,close,volume (candles) or timestamp,price,volume (ticks)")]
    Header {
        /// The header's columns, as given.
        found: String,
        /// The first missing column.
        missing: &'static str,
    },
    /// A CSV row without a value in a required column.
    #[error("column `{column}` is missing")]
    MissingColumn {
        /// The column.
        column: &'static str,
    },
    /// A value that is not a decimal number.
    #[error("column `{column}`: `{value}` is not a number")]
    BadNumber {
        /// The column.
        column: &'static str,
        /// The value (at most 40 characters of it).
        value: String,
    },
    /// A timestamp that is neither RFC 3339 nor integer milliseconds since the epoch.
    #[error("column `timestamp`: `{value}` is neither RFC 3339 nor integer milliseconds")]
    BadTimestamp {
        /// The value (at most 40 characters of it).
        value: String,
    },
    /// A `timeframe` value that is not one of 1m, 5m, 15m, 1h, 1d.
    #[error("column `timeframe`: `{value}` is not one of 1m, 5m, 15m, 1h, 1d")]
    BadTimeframe {
        /// The value (at most 40 characters of it).
        value: String,
    },
    /// Values that cannot go together (a low above the high, a negative volume).
    #[error("{0}")]
    Inconsistent(String),
    /// A quoted CSV field without its closing quote (fields cannot span lines).
    #[error("a quoted field has no closing quote")]
    Quote,
    /// Bytes that are not UTF-8.
    #[error("the line is not UTF-8 text")]
    NotUtf8,
    /// A line over [`ReplayConfig::MAX_LINE_BYTES`](super::ReplayConfig::MAX_LINE_BYTES).
    #[error("the line has {len} bytes, more than the limit of {max}")]
    TooLong {
        /// Its length in bytes (at least).
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// At most 40 characters of `text`, for error messages.
pub(super) fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if out.len() < text.len() {
        out.push_str("...");
    }
    out
}
