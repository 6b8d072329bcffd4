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
    /// A timestamp outside years 0000–9999, which RFC 3339 text (and so checkpoints) cannot carry.
    #[error(
        "timestamp `{input}` is outside 0000-01-01T00:00:00Z..=9999-12-31T23:59:59.999Z \
         (milliseconds -62167219200000..=253402300799999): check the feed or file it came from"
    )]
    TimestampRange {
        /// What was given: the text, or the milliseconds.
        input: String,
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
    /// A decimal computation that does not fit (absurd prices or quantities).
    #[error("{what} overflows the decimal range: check the prices and quantities given")]
    Overflow {
        /// What was being computed.
        what: &'static str,
    },
    /// A client order id that exchanges would refuse.
    #[error("client order id `{id}` is not usable: {reason}")]
    ClientOrderId {
        /// What was given (cut to 48 characters).
        id: String,
        /// Why.
        reason: String,
    },
    /// A status change the order lifecycle does not allow.
    #[error("order {client_id}: cannot go from {from} to {to}")]
    OrderLifecycle {
        /// The order.
        client_id: String,
        /// Its status.
        from: crate::order::OrderStatus,
        /// The status asked for.
        to: crate::order::OrderStatus,
    },
    /// A fill that cannot be booked on an order or a position.
    #[error("fill of order {client_id} refused: {reason}")]
    Fill {
        /// The order.
        client_id: String,
        /// Why.
        reason: String,
    },
    /// Risk limits that cannot work.
    #[error("risk limit `{field}`: {reason}")]
    RiskLimits {
        /// The field of `RiskLimits`.
        field: &'static str,
        /// Why.
        reason: String,
    },
}
