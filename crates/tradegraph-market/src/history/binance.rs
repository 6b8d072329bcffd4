//! Binance spot klines: `GET /api/v3/klines` pages and their parser.

use super::bar::{decimal, shorten, HistoryBar};
use super::PageError;
use serde_json::Value;
use tradegraph_core::{Timeframe, Timestamp};

/// The most klines one request returns (Binance's maximum `limit`).
pub const KLINES_LIMIT: usize = 1000;

/// The endpoint.
pub(crate) const KLINES_PATH: &str = "/api/v3/klines";

/// The query of one page: klines of `symbol` opening in `[start, end)`.
pub(crate) fn query(
    symbol: &str,
    timeframe: Timeframe,
    start: Timestamp,
    end: Timestamp,
) -> String {
    format!(
        "symbol={symbol}&interval={}&startTime={}&endTime={}&limit={KLINES_LIMIT}",
        super::bar::interval_label(timeframe),
        start.millis(),
        // Binance's endTime is inclusive.
        end.millis() - 1,
    )
}

/// The bars of one `GET /api/v3/klines` answer: a JSON array of klines, each an array
/// `[openTime, "open", "high", "low", "close", "volume", closeTime, ...]` (Binance sends 12
/// fields; the first six are read). Prices and volumes are strings (numbers are accepted too),
/// read as exact decimals.
///
/// ```
/// use tradegraph_market::history::parse_klines;
/// let body = r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#;
/// let bars = parse_klines(body.as_bytes())?;
/// assert_eq!(bars[0].open.to_string(), "0.01634790");
/// let err = parse_klines(br#"[[1499040000000,"1","2","0.5","x","1"]]"#).unwrap_err();
/// assert_eq!(err.to_string(), "row 1: column `close`: `x` is not a number");
/// # Ok::<(), tradegraph_market::history::PageError>(())
/// ```
///
/// # Errors
///
/// A [`PageError`] naming the row and column, or saying what the page is instead.
pub fn parse_klines(body: &[u8]) -> Result<Vec<HistoryBar>, PageError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| PageError::page(format!("not JSON: {e}")))?;
    let Value::Array(rows) = value else {
        return Err(PageError::page(format!(
            "expected an array of klines, found {}",
            describe(&value)
        )));
    };
    rows.iter()
        .enumerate()
        .map(|(i, row)| kline(row, i + 1))
        .collect()
}

fn kline(row: &Value, n: usize) -> Result<HistoryBar, PageError> {
    let fields = super::bar::row_fields(row, n, "kline")?;
    let open_time = fields[0]
        .as_i64()
        .and_then(|ms| Timestamp::try_from_millis(ms).ok())
        .ok_or_else(|| {
            PageError::row(
                n,
                format!(
                    "column `open time`: `{}` is not milliseconds since the epoch",
                    shorten(&fields[0].to_string())
                ),
            )
        })?;
    let number = |k: usize, column: &str| match &fields[k] {
        Value::String(text) => decimal(text, n, column),
        Value::Number(number) => decimal(&number.to_string(), n, column),
        other => Err(super::bar::not_a_number(n, column, other)),
    };
    super::bar::checked_bar(open_time, n, number)
}

/// What a JSON value is, for messages: `an object`, `null`, `the string "…"`.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {}", shorten(&n.to_string())),
        Value::String(s) => format!("the string \"{}\"", shorten(s)),
        Value::Array(_) => "an array".into(),
        Value::Object(map) => match map.get("msg").and_then(Value::as_str) {
            Some(msg) => format!("an object (the venue says: {})", shorten(msg)),
            None => "an object".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pages_and_rows_name_what_is_wrong() {
        let cases: [(&[u8], &str); 7] = [
            (b"[", "not JSON"),
            (
                br#"{"code":-1121,"msg":"Invalid symbol."}"#,
                "the venue says: Invalid symbol.",
            ),
            (
                br#"[[1,"1","2","0.5","1","1"],7]"#,
                "row 2: expected a kline array",
            ),
            (
                br#"[[1,"1","2","0.5"]]"#,
                "row 1: a kline has at least 6 fields",
            ),
            (
                br#"[["x","1","2","0.5","1","1"]]"#,
                "row 1: column `open time`",
            ),
            (
                br#"[[1,"1","2","0.5","1",null]]"#,
                "row 1: column `volume`: expected a number",
            ),
            (
                br#"[[1,"3","2","0.5","1","1"]]"#,
                "row 1: open 3 and close 1 must lie",
            ),
        ];
        for (body, expected) in cases {
            let err = parse_klines(body).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "{}: {err}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(parse_klines(b"[]").unwrap().is_empty());
    }

    #[test]
    fn queries_ask_for_a_half_open_range() {
        let q = query(
            "BTCUSDT",
            Timeframe::M1,
            Timestamp::from_millis(60_000),
            Timestamp::from_millis(120_000),
        );
        assert_eq!(
            q,
            "symbol=BTCUSDT&interval=1m&startTime=60000&endTime=119999&limit=1000"
        );
    }
}
