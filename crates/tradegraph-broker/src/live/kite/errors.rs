//! Kite's error answers (`{"status":"error","message":..,"error_type":..}`) to typed reasons.

use crate::live::VenueReason;
use std::time::Duration;

/// Kite's error envelope, read from a response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KiteError {
    /// `TokenException`, `InputException`, `OrderException`, `NetworkException`,
    /// `GeneralException`, ... (empty when the body was not Kite's JSON).
    pub error_type: String,
    /// Kite's message.
    pub message: String,
}

impl KiteError {
    /// Reads the envelope; a body that is not one keeps (at most 200 characters of) its text
    /// as the message.
    pub fn from_body(body: &str) -> Self {
        let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
        let field = |name: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        match (field("error_type"), field("message")) {
            (error_type, Some(message)) => Self {
                error_type: error_type.unwrap_or_default(),
                message,
            },
            (error_type, None) => Self {
                error_type: error_type.unwrap_or_default(),
                message: body.chars().take(200).collect(),
            },
        }
    }

    /// The typed reason for an HTTP `status` with this envelope. Only a `TokenException` is
    /// an expired session; another 401/403 (a `PermissionException`: the app or account may
    /// not do this) is `Other` with Kite's `error_type`, so that nobody logs in again for it.
    ///
    /// ```
    /// use tradegraph_broker::live::kite::KiteError;
    /// use tradegraph_broker::live::VenueReason;
    /// let e = KiteError::from_body(r#"{"status":"error","message":"Incorrect `api_key` or `access_token`.","error_type":"TokenException"}"#);
    /// assert_eq!(e.reason(403, None), VenueReason::AuthExpired);
    /// ```
    pub fn reason(&self, status: u16, retry_after: Option<Duration>) -> VenueReason {
        let message = self.message.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| message.contains(w));
        if status == 429 || has(&["too many requests"]) {
            return VenueReason::RateLimited {
                retry_after,
                banned: false,
            };
        }
        match self.error_type.as_str() {
            "TokenException" => return VenueReason::AuthExpired,
            "NetworkException" | "DataException" => {
                return VenueReason::Unavailable(format!("{}: {}", self.error_type, self.message))
            }
            _ => {}
        }
        if has(&["insufficient funds", "margin", "insufficient balance"]) {
            return VenueReason::InsufficientBalance;
        }
        if has(&[
            "market is closed",
            "markets are closed",
            "outside market hours",
            "after market",
            "market closed",
        ]) {
            return VenueReason::MarketClosed;
        }
        if has(&["lot size", "multiple of lot", "multiples of"]) {
            return VenueReason::FilterFailed {
                filter: "lot size".into(),
                detail: self.message.clone(),
            };
        }
        if has(&["tick size"]) {
            return VenueReason::FilterFailed {
                filter: "tick size".into(),
                detail: self.message.clone(),
            };
        }
        if has(&[
            "couldn't find that order",
            "order not found",
            "invalid `order_id`",
        ]) || status == 404 && self.error_type == "OrderException"
        {
            return VenueReason::UnknownOrder;
        }
        if status >= 500 {
            return VenueReason::Unavailable(format!(
                "HTTP {status} {}: {}",
                self.error_type, self.message
            ));
        }
        VenueReason::Other {
            code: if self.error_type.is_empty() {
                format!("HTTP {status}")
            } else {
                self.error_type.clone()
            },
            message: self.message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(status: u16, error_type: &str, message: &str) -> VenueReason {
        let body = serde_json::json!({"status": "error", "message": message, "data": null, "error_type": error_type});
        KiteError::from_body(&body.to_string()).reason(status, None)
    }

    #[test]
    fn every_error_type_has_its_reason() {
        assert_eq!(
            reason(403, "TokenException", "Token is invalid or has expired."),
            VenueReason::AuthExpired
        );
        assert_eq!(
            reason(
                400,
                "OrderException",
                "Insufficient funds. Required margin is 95417.84 but available margin is 74251.80."
            ),
            VenueReason::InsufficientBalance
        );
        assert_eq!(
            reason(
                400,
                "InputException",
                "Markets are closed right now. Use GTT for placing long standing orders instead."
            ),
            VenueReason::MarketClosed
        );
        assert_eq!(
            reason(
                400,
                "OrderException",
                "Your order could not be placed as it is outside market hours."
            ),
            VenueReason::MarketClosed
        );
        assert!(matches!(
            reason(400, "InputException", "Quantity should be a multiple of lot size 30"),
            VenueReason::FilterFailed { filter, .. } if filter == "lot size"
        ));
        assert!(matches!(
            reason(400, "InputException", "Price is not a multiple of tick size 0.05"),
            VenueReason::FilterFailed { filter, .. } if filter == "tick size"
        ));
        assert!(
            matches!(reason(503, "NetworkException", "Gateway timeout"), VenueReason::Unavailable(m) if m.contains("NetworkException"))
        );
        assert!(matches!(
            reason(500, "GeneralException", "Something went wrong"),
            VenueReason::Unavailable(_)
        ));
        assert_eq!(
            reason(400, "OrderException", "Couldn't find that order."),
            VenueReason::UnknownOrder
        );
        assert_eq!(
            reason(400, "InputException", "Invalid `transaction_type`."),
            VenueReason::Other {
                code: "InputException".into(),
                message: "Invalid `transaction_type`.".into()
            }
        );
        assert_eq!(
            reason(
                403,
                "PermissionException",
                "Insufficient permission for that call."
            ),
            VenueReason::Other {
                code: "PermissionException".into(),
                message: "Insufficient permission for that call.".into()
            }
        );
        let limited =
            KiteError::from_body("Too many requests").reason(429, Some(Duration::from_secs(2)));
        assert_eq!(
            limited,
            VenueReason::RateLimited {
                retry_after: Some(Duration::from_secs(2)),
                banned: false
            }
        );
        assert_eq!(
            KiteError::from_body("<html>bad gateway</html>")
                .reason(502, None)
                .kind(),
            "unavailable"
        );
    }
}
