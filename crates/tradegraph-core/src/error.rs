//! Errors of the trading domain.

/// What went wrong while building or parsing domain values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A timestamp string that is not RFC 3339.
    #[error("timestamp `{input}` is not RFC 3339 (like 2024-01-01T10:00:00Z): {reason}")]
    Timestamp {
        /// What was given.
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// A timeframe name that is not one of 1m, 5m, 15m, 1h, 1d.
    #[error("timeframe `{0}` is unknown: use 1m, 5m, 15m, 1h or 1d")]
    Timeframe(String),
    /// An instrument that the presets do not know.
    #[error(
        "instrument `{0}` is unknown: use BTCUSDT, BANKNIFTY or NIFTY50, or build an Instrument"
    )]
    Instrument(String),
    /// A session definition that cannot work.
    #[error("trading session: {0}")]
    Session(String),
    /// A holiday list line that is not a date.
    #[error("holiday list line {line}: `{text}` is not a date like 2025-01-26")]
    Holiday {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
}
