//! Kite Connect historical candles: `GET /instruments/historical/{token}/{interval}` windows and
//! their parser.

use super::bar::{decimal, shorten, HistoryBar};
use super::binance::describe;
use super::PageError;
use chrono::DateTime;
use serde_json::Value;
use tradegraph_core::{Timeframe, Timestamp};

/// India Standard Time's offset from UTC: Kite's `from` and `to` are in it, and so are its
/// candles' times (a day candle opens at 00:00 IST).
pub use tradegraph_core::time::IST_OFFSET_MS;

/// A day in milliseconds.
const DAY_MS: i64 = 86_400_000;

/// `t`, or the next midnight in India when `t` is not one: where Kite's day candles open.
pub(crate) fn next_ist_midnight(t: Timestamp) -> Timestamp {
    let into_day = t.millis().saturating_add(IST_OFFSET_MS).rem_euclid(DAY_MS);
    match into_day {
        0 => t,
        n => t.add_millis(DAY_MS - n),
    }
}

/// Kite's name of an interval (`minute`, `5minute`, `15minute`, `60minute`, `day`).
pub(crate) fn interval(timeframe: Timeframe) -> &'static str {
    match timeframe {
        Timeframe::M1 => "minute",
        Timeframe::M5 => "5minute",
        Timeframe::M15 => "15minute",
        Timeframe::H1 => "60minute",
        Timeframe::D1 => "day",
    }
}

/// The most days one request may span, per interval, as Kite limits them: 60 for minute
/// candles, 100 for 5-minute, 200 for 15-minute, 400 for hourly and 2,000 for day candles.
///
/// ```
/// use tradegraph_core::Timeframe;
/// use tradegraph_market::history::kite_window_days;
/// assert_eq!(kite_window_days(Timeframe::D1), 2_000);
/// assert_eq!(kite_window_days(Timeframe::M1), 60);
/// ```
pub const fn kite_window_days(timeframe: Timeframe) -> i64 {
    match timeframe {
        Timeframe::M1 => 60,
        Timeframe::M5 => 100,
        Timeframe::M15 => 200,
        Timeframe::H1 => 400,
        Timeframe::D1 => 2_000,
    }
}

/// `[start, end)` cut into consecutive windows Kite accepts for `timeframe`.
pub(crate) fn windows(
    timeframe: Timeframe,
    start: Timestamp,
    end: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let span = kite_window_days(timeframe) * DAY_MS;
    let mut windows = Vec::new();
    let mut from = start;
    while from < end {
        let to = Timestamp::from_millis(from.millis().saturating_add(span).min(end.millis()));
        windows.push((from, to));
        from = to;
    }
    windows
}

/// The path and query of one window: candles opening in `[from, to)` (Kite's `to` is
/// inclusive, to the second: the second of the window's last millisecond, never before `from`
/// when the window is shorter than a second).
pub(crate) fn path(token: u32, timeframe: Timeframe, from: Timestamp, to: Timestamp) -> String {
    let text = |t: Timestamp| t.in_india().format("%Y-%m-%d+%H:%M:%S").to_string();
    let last = Timestamp::from_millis(to.millis().saturating_sub(1).max(from.millis()));
    format!(
        "/instruments/historical/{token}/{}?from={}&to={}",
        interval(timeframe),
        text(from),
        text(last),
    )
}

/// The bars of one historical-candles answer: `{"status": "success", "data": {"candles":
/// [["2015-12-28T09:15:00+0530", 1386.4, 1388, 1381.05, 1385.1, 788], ...]}}` (a seventh
/// field, the open interest, is ignored). Times carry their offset and become UTC; prices are
/// read as exact decimals from the numbers' text.
///
/// ```
/// use tradegraph_market::history::parse_kite_candles;
/// let body = r#"{"status":"success","data":{"candles":[["2015-12-28T09:15:00+0530",1386.4,1388,1381.05,1385.1,788]]}}"#;
/// let bars = parse_kite_candles(body.as_bytes())?;
/// assert_eq!(bars[0].open_time.to_string(), "2015-12-28T03:45:00Z");
/// assert_eq!(bars[0].low.to_string(), "1381.05");
/// let err = parse_kite_candles(br#"{"status":"error","error_type":"TokenException","message":"Invalid token"}"#);
/// assert!(err.unwrap_err().to_string().contains("TokenException: Invalid token"));
/// # Ok::<(), tradegraph_market::history::PageError>(())
/// ```
///
/// # Errors
///
/// A [`PageError`] naming the row and column, or saying what the page is instead.
pub fn parse_kite_candles(body: &[u8]) -> Result<Vec<HistoryBar>, PageError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| PageError::page(format!("not JSON: {e}")))?;
    if value.get("status").and_then(Value::as_str) == Some("error") {
        let field = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("?");
        return Err(PageError::page(format!(
            "Kite answered an error: {}: {}",
            shorten(field("error_type")),
            shorten(field("message"))
        )));
    }
    let Some(rows) = value
        .get("data")
        .and_then(|d| d.get("candles"))
        .and_then(Value::as_array)
    else {
        return Err(PageError::page(format!(
            "expected {{\"status\": \"success\", \"data\": {{\"candles\": [...]}}}}, found {}",
            describe(&value)
        )));
    };
    rows.iter()
        .enumerate()
        .map(|(i, row)| candle(row, i + 1))
        .collect()
}

fn candle(row: &Value, n: usize) -> Result<HistoryBar, PageError> {
    let fields = super::bar::row_fields(row, n, "candle")?;
    let open_time = fields[0]
        .as_str()
        .and_then(|t| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z").ok())
        .map(Timestamp::from_datetime)
        .filter(|t| t.is_representable())
        .ok_or_else(|| {
            PageError::row(
                n,
                format!(
                    "column `timestamp`: `{}` is not a time like 2015-12-28T09:15:00+0530",
                    shorten(&fields[0].to_string())
                ),
            )
        })?;
    // Kite's numbers are floats: their shortest text, without a trailing `.0`.
    let number = |k: usize, column: &str| match &fields[k] {
        Value::Number(number) => decimal(&number.to_string(), n, column).map(|d| d.normalize()),
        other => Err(super::bar::not_a_number(n, column, other)),
    };
    super::bar::checked_bar(open_time, n, number)
}

/// The IST calendar day of `t` (Kite's trading day).
pub(crate) fn ist_day(t: Timestamp) -> chrono::NaiveDate {
    t.in_india().date()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn windows_respect_the_interval_limits() {
        let day = 86_400_000;
        let start = Timestamp::from_millis(0);
        let end = Timestamp::from_millis(150 * day);
        let w = windows(Timeframe::M1, start, end);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0], (start, Timestamp::from_millis(60 * day)));
        assert_eq!(w[2].1, end);
        assert_eq!(windows(Timeframe::D1, start, end).len(), 1);
        assert!(windows(Timeframe::D1, end, start).is_empty());
    }

    #[test]
    fn prices_are_read_correctly_rounded_in_the_shipped_build() {
        // `history` itself turns on serde_json's correctly rounded float parsing: the tests'
        // dev-dependencies turn it on too, so without this the shipped library could differ.
        let manifest = include_str!("../../Cargo.toml");
        let history = manifest
            .lines()
            .find(|l| l.starts_with("history = "))
            .unwrap();
        assert!(
            history.contains("\"serde_json/float_roundtrip\""),
            "{history}"
        );
        // 17 significant digits: the fast path may land one float off, and print other digits.
        let body = br#"{"data":{"candles":[["2024-01-01T09:15:00+0530",0.30000000000000004,2.2250738585072014,0.1,1.0000000000000002,7]]}}"#;
        let bar = &parse_kite_candles(body).unwrap()[0];
        assert_eq!(bar.open.to_string(), "0.30000000000000004");
        assert_eq!(bar.high.to_string(), "2.2250738585072014");
        assert_eq!(bar.close.to_string(), "1.0000000000000002");
    }

    #[test]
    fn day_windows_start_at_midnight_in_india() {
        let midnight: Timestamp = "2023-12-31T18:30:00Z".parse().unwrap();
        assert_eq!(next_ist_midnight(midnight), midnight);
        let next: Timestamp = "2024-01-01T18:30:00Z".parse().unwrap();
        for t in [
            "2024-01-01T00:00:00Z",
            "2023-12-31T18:30:01Z",
            "2024-01-01T18:29:59Z",
        ] {
            assert_eq!(next_ist_midnight(t.parse().unwrap()), next, "{t}");
        }
    }

    #[test]
    fn paths_are_in_ist_with_an_inclusive_end() {
        let from: Timestamp = "2024-01-01T03:45:00Z".parse().unwrap();
        let to: Timestamp = "2024-01-01T10:00:00Z".parse().unwrap();
        assert_eq!(
            path(256_265, Timeframe::M1, from, to),
            "/instruments/historical/256265/minute?from=2024-01-01+09:15:00&to=2024-01-01+15:29:59"
        );
    }

    /// A last window shorter than a second (a download resumed just after a bar closed) asks
    /// for the second its one bar opens in, never for a `to` before its `from`.
    #[test]
    fn a_window_shorter_than_a_second_keeps_its_end_after_its_start() {
        let from: Timestamp = "2024-01-01T04:00:00Z".parse().unwrap();
        let to = from.add_millis(500);
        assert_eq!(
            path(256_265, Timeframe::M1, from, to),
            "/instruments/historical/256265/minute?from=2024-01-01+09:30:00&to=2024-01-01+09:30:00"
        );
    }

    #[test]
    fn rows_name_what_is_wrong() {
        let cases: [(&[u8], &str); 5] = [
            (b"{", "not JSON"),
            (br#"{"status":"success","data":{}}"#, "expected {\"status\""),
            (
                br#"{"data":{"candles":[["x",1,2,0.5,1,1]]}}"#,
                "row 1: column `timestamp`",
            ),
            (
                br#"{"data":{"candles":[["2015-12-28T09:15:00+0530",1,"2",0.5,1,1]]}}"#,
                "row 1: column `high`: expected a number",
            ),
            (
                br#"{"data":{"candles":[["2015-12-28T09:15:00+0530",1,2,0.5,1,1],[]]}}"#,
                "row 2: a candle has at least 6",
            ),
        ];
        for (body, expected) in cases {
            let err = parse_kite_candles(body).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "{}: {err}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
