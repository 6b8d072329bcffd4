//! `GET /api/v3/klines`: the bars a test set, as Binance pages them.

use super::auth::{get, Params};
use crate::venue::VenueBar;
use serde_json::{json, Value};

/// The klines the venue serves: one interval's bars, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Klines {
    /// `1m`, `1h`, ...
    pub(crate) interval: String,
    pub(crate) bars: Vec<VenueBar>,
}

/// Binance's interval names and their lengths in ms.
const INTERVALS: [(&str, i64); 15] = [
    ("1s", 1_000),
    ("1m", 60_000),
    ("3m", 180_000),
    ("5m", 300_000),
    ("15m", 900_000),
    ("30m", 1_800_000),
    ("1h", 3_600_000),
    ("2h", 7_200_000),
    ("4h", 14_400_000),
    ("6h", 21_600_000),
    ("8h", 28_800_000),
    ("12h", 43_200_000),
    ("1d", 86_400_000),
    ("3d", 259_200_000),
    ("1w", 604_800_000),
];

/// Klines with open times in `[startTime, endTime]` (both inclusive, as on Binance), at most
/// `limit` (default 500, at most 1,000), oldest first, in Binance's 12-field arrays.
pub(crate) fn answer(
    symbol: &str,
    klines: &Klines,
    params: &Params,
) -> Result<Value, (u16, i64, String)> {
    let bad = |code: i64, msg: &str| Err((400, code, msg.to_owned()));
    match get(params, "symbol") {
        None => {
            return bad(
                -1102,
                "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
            )
        }
        Some(s) if s != symbol => return bad(-1121, "Invalid symbol."),
        Some(_) => {}
    }
    let Some(interval) = get(params, "interval") else {
        return bad(
            -1102,
            "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.",
        );
    };
    let Some(&(_, step)) = INTERVALS.iter().find(|(name, _)| *name == interval) else {
        return bad(-1120, "Invalid interval.");
    };
    let number = |key: &str| -> Result<Option<i64>, (u16, i64, String)> {
        get(params, key)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    (400, -1100, format!("Illegal characters found in parameter '{key}'; legal range is '^[0-9]{{1,20}}$'."))
                })
            })
            .transpose()
    };
    let start = number("startTime")?.unwrap_or(i64::MIN);
    let end = number("endTime")?.unwrap_or(i64::MAX);
    let limit = number("limit")?.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return bad(-1130, "Invalid data sent for a parameter.");
    }
    if start > end {
        return bad(-1127, "More than 200 hours between startTime and endTime.");
    }
    if interval != klines.interval {
        return Ok(json!([]));
    }
    let f8 = |d: rust_decimal::Decimal| format!("{d:.8}");
    let rows: Vec<Value> = klines
        .bars
        .iter()
        .filter(|b| b.open_time_ms >= start && b.open_time_ms <= end)
        .take(usize::try_from(limit).unwrap_or(500))
        .map(|b| {
            json!([
                b.open_time_ms,
                f8(b.open),
                f8(b.high),
                f8(b.low),
                f8(b.close),
                f8(b.volume),
                b.open_time_ms + step - 1,
                f8(b.volume * b.close),
                1,
                f8(b.volume),
                f8(b.volume * b.close),
                "0"
            ])
        })
        .collect();
    Ok(Value::Array(rows))
}
