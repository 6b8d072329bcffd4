//! One downloaded bar, the checks every venue's bars pass, and its CSV row.

use super::PageError;
use rust_decimal::Decimal;
use std::fmt::Write as _;
use std::str::FromStr;
use tradegraph_core::{Timeframe, Timestamp};

/// One bar as a venue sent it: open time, prices and volume, exact decimals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryBar {
    /// The bar's start (inclusive).
    pub open_time: Timestamp,
    /// First price.
    pub open: Decimal,
    /// Highest price.
    pub high: Decimal,
    /// Lowest price.
    pub low: Decimal,
    /// Last price.
    pub close: Decimal,
    /// Quantity traded.
    pub volume: Decimal,
}

impl HistoryBar {
    /// Why this bar cannot be a bar: prices at or below zero, open or close outside the low
    /// and high, or a negative volume.
    pub(crate) fn problem(&self) -> Option<String> {
        let prices = [
            ("open", self.open),
            ("high", self.high),
            ("low", self.low),
            ("close", self.close),
        ];
        if let Some((name, price)) = prices.iter().find(|(_, p)| *p <= Decimal::ZERO) {
            return Some(format!("{name} {price} is not above zero"));
        }
        if self.volume.is_sign_negative() && !self.volume.is_zero() {
            return Some(format!("volume {} is negative", self.volume));
        }
        let within = |p: Decimal| self.low <= p && p <= self.high;
        if !within(self.open) || !within(self.close) {
            return Some(format!(
                "open {} and close {} must lie within low {} and high {}",
                self.open, self.close, self.low, self.high
            ));
        }
        None
    }

    /// Appends the bar's CSV row (see [`HEADER`](super::HEADER)) and its line break.
    pub(crate) fn write_row(&self, timeframe: Timeframe, out: &mut String) {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            self.open_time,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            interval_label(timeframe)
        );
    }
}

/// The interval's name as Binance writes it (`1m`, `5m`, `15m`, `1h`, `1d`): the
/// `timeframe` column of a downloaded file (replay reads it) and the names of the files
/// `tradegraph data download` writes.
///
/// ```
/// use tradegraph_core::Timeframe;
/// use tradegraph_market::history::interval_label;
/// assert_eq!(interval_label(Timeframe::M15), "15m");
/// assert_eq!(interval_label(Timeframe::D1), "1d");
/// ```
pub fn interval_label(timeframe: Timeframe) -> &'static str {
    match timeframe {
        Timeframe::M1 => "1m",
        Timeframe::M5 => "5m",
        Timeframe::M15 => "15m",
        Timeframe::H1 => "1h",
        Timeframe::D1 => "1d",
    }
}

/// Row `n`'s bar from its open time and `number`, which reads field `k` as column `column`
/// (fields 1 to 5: open, high, low, close, volume); refused when its prices or volume cannot
/// be a bar's.
pub(crate) fn checked_bar(
    open_time: Timestamp,
    n: usize,
    number: impl Fn(usize, &str) -> Result<Decimal, PageError>,
) -> Result<HistoryBar, PageError> {
    let bar = HistoryBar {
        open_time,
        open: number(1, "open")?,
        high: number(2, "high")?,
        low: number(3, "low")?,
        close: number(4, "close")?,
        volume: number(5, "volume")?,
    };
    match bar.problem() {
        Some(problem) => Err(PageError::row(n, problem)),
        None => Ok(bar),
    }
}

/// Row `n`'s column `column` holds `found`, not a number.
pub(crate) fn not_a_number(n: usize, column: &str, found: &serde_json::Value) -> PageError {
    PageError::row(
        n,
        format!(
            "column `{column}`: expected a number, found {}",
            super::binance::describe(found)
        ),
    )
}

/// The fields of row `n` of a page, a JSON array of at least six (`what`: "kline", "candle").
pub(crate) fn row_fields<'a>(
    row: &'a serde_json::Value,
    n: usize,
    what: &str,
) -> Result<&'a [serde_json::Value], PageError> {
    let Some(fields) = row.as_array() else {
        return Err(PageError::row(
            n,
            format!(
                "expected a {what} array, found {}",
                super::binance::describe(row)
            ),
        ));
    };
    if fields.len() < 6 {
        return Err(PageError::row(
            n,
            format!("a {what} has at least 6 fields, this one {}", fields.len()),
        ));
    }
    Ok(fields)
}

/// An exact decimal from a venue's text (`"0.01634790"`, `1386.4`, `1e-3`), naming the column.
pub(crate) fn decimal(text: &str, row: usize, column: &str) -> Result<Decimal, PageError> {
    let text = text.trim();
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str(text)
    };
    parsed.map_err(|_| {
        PageError::row(
            row,
            format!("column `{column}`: `{}` is not a number", shorten(text)),
        )
    })
}

/// At most 40 characters of a value, for messages.
pub(crate) fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn bar(o: i64, h: i64, l: i64, c: i64, v: i64) -> HistoryBar {
        HistoryBar {
            open_time: Timestamp::from_millis(0),
            open: o.into(),
            high: h.into(),
            low: l.into(),
            close: c.into(),
            volume: v.into(),
        }
    }

    #[test]
    fn problems_are_named() {
        assert_eq!(bar(2, 3, 1, 2, 0).problem(), None);
        assert!(bar(0, 3, 1, 2, 0).problem().unwrap().contains("open 0"));
        assert!(bar(2, 3, 1, 2, -1).problem().unwrap().contains("negative"));
        assert!(bar(4, 3, 1, 2, 1).problem().unwrap().contains("within low"));
    }

    #[test]
    fn rows_keep_the_venue_digits() {
        let mut b = bar(2, 3, 1, 2, 0);
        b.volume = Decimal::from_str("13.60413000").unwrap();
        let mut out = String::new();
        b.write_row(Timeframe::H1, &mut out);
        assert_eq!(out, "1970-01-01T00:00:00Z,2,3,1,2,13.60413000,1h\n");
        assert!(decimal("1e-3", 1, "open").is_ok());
        let err = decimal("x", 4, "low").unwrap_err().to_string();
        assert_eq!(err, "row 4: column `low`: `x` is not a number");
    }
}
