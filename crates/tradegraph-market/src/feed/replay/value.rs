//! Single values of CSV rows: timestamps and exact decimals.

use super::error::shorten;
use super::LineError;
use rust_decimal::Decimal;
use std::str::FromStr;
use tradegraph_core::Timestamp;

/// RFC 3339, or integer milliseconds since the epoch, within years 0000 to 9999 (what RFC 3339
/// can carry back).
///
/// ```
/// use tradegraph_market::feed::replay::parse_timestamp;
/// assert_eq!(parse_timestamp("1704103200000")?, parse_timestamp("2024-01-01T10:00:00Z")?);
/// assert!(parse_timestamp("2024-01-01").is_err());
/// # Ok::<(), tradegraph_market::feed::replay::LineError>(())
/// ```
///
/// # Errors
///
/// [`LineError::BadTimestamp`] with the value; [`LineError::Inconsistent`] for milliseconds
/// outside years 0000 to 9999.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, LineError> {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(millis) = text.parse::<i64>() {
            return Timestamp::try_from_millis(millis)
                .map_err(|e| LineError::Inconsistent(format!("column `timestamp`: {e}")));
        }
    }
    text.parse().map_err(|_| LineError::BadTimestamp {
        value: shorten(text),
    })
}

/// An exact decimal: plain (`93512.10`) or scientific (`1.5e-3`).
pub(super) fn parse_decimal(text: &str, column: &'static str) -> Result<Decimal, LineError> {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| LineError::BadNumber {
            column,
            value: shorten(text),
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scientific_numbers_and_negative_millis() {
        assert_eq!(parse_decimal("1.5e-3", "x").unwrap().to_string(), "0.0015");
        assert_eq!(parse_timestamp("-1000").unwrap().millis(), -1000);
        assert!(parse_timestamp("-").is_err());
        assert!(parse_timestamp("99999999999999999999").is_err());
    }
}
