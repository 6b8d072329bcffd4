//! Binance's error answers (`{"code": -2010, "msg": "..."}` and HTTP statuses) as typed
//! [`VenueReason`]s.

use crate::live::VenueReason;
use serde::Deserialize;
use std::time::Duration;

/// Binance's error body: a JSON object `{"code": ..., "msg": ...}` only (serde would read a
/// struct from an array, so `[-2010, "Duplicate order sent."]` from a proxy must not pass for
/// one).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct ApiError {
    /// The code (`-2010`, `-1013`, ...).
    pub code: i64,
    /// The message.
    pub msg: String,
}

#[derive(Deserialize)]
struct ApiErrorFields {
    code: i64,
    #[serde(default)]
    msg: String,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for ApiError {
    type Error = serde_json::Error;
    fn try_from(map: serde_json::Map<String, serde_json::Value>) -> Result<Self, Self::Error> {
        let fields: ApiErrorFields = serde_json::from_value(serde_json::Value::Object(map))?;
        Ok(Self {
            code: fields.code,
            msg: fields.msg,
        })
    }
}

/// What an error answer means for the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// A typed reason (a refusal of the order, or a failed request).
    Reason(VenueReason),
    /// `-2010 Duplicate order sent.`: the client order id is already at the venue; query it.
    Duplicate,
    /// `-1021`: the timestamp is outside `recvWindow`; resynchronise the clock and retry once.
    ClockSkew,
}

/// The typed meaning of Binance's `code` and `msg` (`status` is the HTTP status, `retry_after`
/// its `Retry-After`).
///
/// ```
/// use tradegraph_broker::live::binance::{classify, Classified};
/// use tradegraph_broker::live::VenueReason;
/// let c = classify(400, -1013, "Filter failure: LOT_SIZE", None);
/// assert!(matches!(c, Classified::Reason(VenueReason::FilterFailed { ref filter, .. }) if filter == "LOT_SIZE"));
/// let c = classify(400, -2010, "Account has insufficient balance for requested action.", None);
/// assert_eq!(c, Classified::Reason(VenueReason::InsufficientBalance));
/// assert_eq!(classify(400, -2010, "Duplicate order sent.", None), Classified::Duplicate);
/// ```
pub fn classify(status: u16, code: i64, msg: &str, retry_after: Option<Duration>) -> Classified {
    let lower = msg.to_ascii_lowercase();
    let reason = match (status, code) {
        (418, _) => VenueReason::RateLimited {
            retry_after,
            banned: true,
        },
        (429, _) | (_, -1003 | -1015) => VenueReason::RateLimited {
            retry_after,
            banned: false,
        },
        (_, -1021) => return Classified::ClockSkew,
        (_, -1022 | -2014 | -2015) | (401, _) => VenueReason::AuthExpired,
        (_, -2013 | -2026) => VenueReason::UnknownOrder,
        (_, -2011) if lower.contains("unknown order") => VenueReason::UnknownOrder,
        (_, -2010 | -2021 | -2022) if lower.contains("duplicate order") => {
            return Classified::Duplicate
        }
        (_, -2010) if lower.contains("insufficient balance") => VenueReason::InsufficientBalance,
        (_, -2010 | -1013) if lower.contains("market is closed") => VenueReason::MarketClosed,
        (_, -1013 | -2010) if lower.starts_with("filter failure:") => VenueReason::FilterFailed {
            filter: msg
                .get("filter failure:".len()..)
                .unwrap_or("")
                .trim()
                .to_owned(),
            detail: msg.to_owned(),
        },
        (_, -1000 | -1001 | -1006 | -1007 | -1008) => VenueReason::Unavailable(format!(
            "code {code}: {msg}; the outcome of an order sent is unknown until it is queried"
        )),
        (500..=599, _) => VenueReason::Unavailable(format!("HTTP {status}: {msg}")),
        _ => VenueReason::Other {
            code: code.to_string(),
            message: msg.to_owned(),
        },
    };
    Classified::Reason(reason)
}

/// The meaning of an HTTP error whose body is not Binance's JSON (a proxy's page, a WAF's 403).
pub fn classify_status(status: u16, retry_after: Option<Duration>) -> VenueReason {
    match classify(status, 0, "", retry_after) {
        Classified::Reason(VenueReason::Other { .. }) => VenueReason::Other {
            code: format!("HTTP {status}"),
            message: "an answer without Binance's error body".to_owned(),
        },
        Classified::Reason(r) => r,
        Classified::Duplicate | Classified::ClockSkew => VenueReason::Other {
            code: format!("HTTP {status}"),
            message: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]
    use super::*;

    fn reason(status: u16, code: i64, msg: &str) -> VenueReason {
        match classify(status, code, msg, Some(Duration::from_secs(3))) {
            Classified::Reason(r) => r,
            other => panic!("{code} {msg}: {other:?}"),
        }
    }

    #[test]
    fn every_documented_code_has_its_reason() {
        assert_eq!(
            reason(
                400,
                -2010,
                "Account has insufficient balance for requested action."
            ),
            VenueReason::InsufficientBalance
        );
        assert_eq!(
            reason(400, -2010, "Market is closed."),
            VenueReason::MarketClosed
        );
        assert_eq!(
            reason(400, -1013, "Filter failure: PERCENT_PRICE_BY_SIDE"),
            VenueReason::FilterFailed {
                filter: "PERCENT_PRICE_BY_SIDE".into(),
                detail: "Filter failure: PERCENT_PRICE_BY_SIDE".into()
            }
        );
        assert_eq!(
            reason(400, -2011, "Unknown order sent."),
            VenueReason::UnknownOrder
        );
        assert_eq!(
            reason(400, -2013, "Order does not exist."),
            VenueReason::UnknownOrder
        );
        for code in [-1022, -2014, -2015] {
            assert_eq!(reason(401, code, "x"), VenueReason::AuthExpired, "{code}");
            assert_eq!(reason(400, code, "x"), VenueReason::AuthExpired, "{code}");
        }
        let limited = VenueReason::RateLimited {
            retry_after: Some(Duration::from_secs(3)),
            banned: false,
        };
        assert_eq!(reason(429, -1003, "Too many requests"), limited);
        assert_eq!(reason(400, -1003, "Too much request weight used"), limited);
        assert_eq!(
            reason(418, -1003, "Way too much request weight used; IP banned"),
            VenueReason::RateLimited {
                retry_after: Some(Duration::from_secs(3)),
                banned: true
            }
        );
        assert!(matches!(
            reason(503, -1001, "Internal error"),
            VenueReason::Unavailable(_)
        ));
        assert_eq!(
            reason(
                400,
                -1111,
                "Precision is over the maximum defined for this asset."
            ),
            VenueReason::Other {
                code: "-1111".into(),
                message: "Precision is over the maximum defined for this asset.".into()
            }
        );
        assert_eq!(
            classify(400, -1021, "Timestamp", None),
            Classified::ClockSkew
        );
        assert_eq!(
            classify(400, -2010, "Duplicate order sent.", None),
            Classified::Duplicate
        );
        assert!(matches!(
            classify_status(502, None),
            VenueReason::Unavailable(_)
        ));
        assert!(matches!(
            classify_status(403, None),
            VenueReason::Other { .. }
        ));
    }
}
