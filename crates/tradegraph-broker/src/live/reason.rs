//! [`VenueReason`]: why a venue refused an order or a request, typed.

use std::fmt;
use std::time::Duration;

/// Why a venue refused an order or failed a request, mapped from its error codes (Binance's
/// `code`, Kite's `error_type` and message) so that the runtime, the alerts and the tests
/// match on a type, not on the venue's words.
///
/// A refusal of the order itself ([`is_refusal`](Self::is_refusal): balance, filter, market
/// closed, other) comes back from [`Broker::submit`](crate::Broker::submit) as an order with
/// status `Rejected` and this reason's text; the others are
/// [`BrokerError::Venue`](crate::BrokerError::Venue): nothing was placed, and the call may be
/// tried again once the cause is gone.
///
/// ```
/// use tradegraph_broker::live::VenueReason;
/// let reason = VenueReason::FilterFailed {
///     filter: "LOT_SIZE".into(),
///     detail: "quantity 0.00001 is below minQty 0.0001".into(),
/// };
/// assert!(reason.is_refusal());
/// assert_eq!(reason.to_string(), "filter LOT_SIZE failed: quantity 0.00001 is below minQty 0.0001");
/// assert!(!VenueReason::AuthExpired.is_refusal());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VenueReason {
    /// Not enough balance or margin for the order.
    InsufficientBalance,
    /// One of the venue's rules for the instrument (Binance's filters, Kite's lot and tick
    /// sizes), checked before sending or reported by the venue.
    FilterFailed {
        /// The rule: `LOT_SIZE`, `PRICE_FILTER`, `NOTIONAL`, `lot size`, `tick size`, ...
        filter: String,
        /// The numbers.
        detail: String,
    },
    /// The market is closed (or the order type is not allowed now).
    MarketClosed,
    /// Too many requests: wait `retry_after` (when the venue said) before the next one.
    RateLimited {
        /// How long the venue asked to wait.
        retry_after: Option<Duration>,
        /// The venue banned the client for a while (Binance's 418) rather than only slowing it.
        banned: bool,
    },
    /// The credentials are wrong or expired (Kite's access token expires every day): log in
    /// again.
    AuthExpired,
    /// The venue does not know the order.
    UnknownOrder,
    /// The venue is unreachable, timed out or answered 5xx: the outcome of an order sent is
    /// unknown until it is queried.
    Unavailable(String),
    /// Anything else, with the venue's code and message (secrets masked).
    Other {
        /// The venue's error code (`-1111`, `InputException`, ...), or the HTTP status.
        code: String,
        /// The venue's message.
        message: String,
    },
}

impl VenueReason {
    /// Whether it is the venue refusing the order itself (an order with status `Rejected`),
    /// rather than a failed request.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::InsufficientBalance
                | Self::FilterFailed { .. }
                | Self::MarketClosed
                | Self::Other { .. }
        )
    }

    /// A short, stable name for metrics and alerts: `insufficient_balance`, `filter_failed`,
    /// `market_closed`, `rate_limited`, `auth_expired`, `unknown_order`, `unavailable`,
    /// `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InsufficientBalance => "insufficient_balance",
            Self::FilterFailed { .. } => "filter_failed",
            Self::MarketClosed => "market_closed",
            Self::RateLimited { .. } => "rate_limited",
            Self::AuthExpired => "auth_expired",
            Self::UnknownOrder => "unknown_order",
            Self::Unavailable(_) => "unavailable",
            Self::Other { .. } => "other",
        }
    }
}

impl fmt::Display for VenueReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InsufficientBalance => f.write_str("insufficient balance for the order"),
            Self::FilterFailed { filter, detail } => write!(f, "filter {filter} failed: {detail}"),
            Self::MarketClosed => f.write_str("the market is closed"),
            Self::RateLimited {
                retry_after,
                banned,
            } => {
                f.write_str(if *banned {
                    "banned for sending too many requests"
                } else {
                    "rate limited"
                })?;
                match retry_after {
                    Some(wait) => write!(f, "; retry after {} s", wait.as_secs_f64()),
                    None => Ok(()),
                }
            }
            Self::AuthExpired => f.write_str(
                "the credentials were refused or have expired: check the key, or log in again",
            ),
            Self::UnknownOrder => f.write_str("the venue does not know the order"),
            Self::Unavailable(what) => write!(f, "the venue is unavailable: {what}"),
            Self::Other { code, message } => write!(f, "venue error {code}: {message}"),
        }
    }
}
