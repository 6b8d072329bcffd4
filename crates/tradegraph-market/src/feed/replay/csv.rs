//! CSV headers and rows: which column is which, and splitting a line into fields.

use super::error::shorten;
use super::LineError;
use std::borrow::Cow;

/// What the rows of a CSV file are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CsvKind {
    /// `timestamp,open,high,low,close,volume` (and optionally `timeframe`): one candle per row,
    /// stamped with its open time.
    Candles,
    /// `timestamp,price` (and optionally `volume`, `bid`, `ask`): one tick per row.
    Ticks,
}

/// Where the columns of a CSV file are, from its header.
///
/// Column names are matched without regard to case or surrounding spaces; `time` and `ts` are
/// accepted for `timestamp`. Columns may come in any order; columns not named here are ignored.
///
/// ```
/// use tradegraph_market::feed::replay::{CsvKind, CsvLayout};
/// let layout = CsvLayout::from_header("Timestamp,Price,Volume,Bid,Ask,Exchange")?;
/// assert_eq!(layout.kind(), CsvKind::Ticks);
/// let layout = CsvLayout::from_header("timestamp,open,high,low,close,volume")?;
/// assert_eq!(layout.kind(), CsvKind::Candles);
/// assert!(CsvLayout::from_header("time,close").is_err());
/// # Ok::<(), tradegraph_market::feed::replay::LineError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvLayout {
    pub(super) kind: CsvKind,
    pub(super) timestamp: usize,
    /// Candles: open, high, low, close, volume. Ticks: price, then volume when present.
    pub(super) values: [Option<usize>; 5],
    /// Ticks: bid and ask, when present.
    pub(super) quotes: [Option<usize>; 2],
    /// Candles: a per-row timeframe, when present.
    pub(super) timeframe: Option<usize>,
}

/// The candle columns, in the order of [`CsvLayout::values`].
pub(super) const CANDLE_COLUMNS: [&str; 5] = ["open", "high", "low", "close", "volume"];

impl CsvLayout {
    /// The layout a header line describes.
    ///
    /// # Errors
    ///
    /// [`LineError::Header`] naming the first missing column (`timestamp`, or `price` when the
    /// header has neither all candle columns nor a price), [`LineError::Quote`] for a broken
    /// quoted name.
    pub fn from_header(header: &str) -> Result<Self, LineError> {
        let header = header.strip_prefix('\u{feff}').unwrap_or(header);
        let names: Vec<String> = split(header)?
            .iter()
            .map(|n| n.trim().to_ascii_lowercase())
            .collect();
        let find = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
        let missing = |missing| LineError::Header {
            found: shorten(header.trim()),
            missing,
        };
        let timestamp = find(&["timestamp", "time", "ts"]).ok_or_else(|| missing("timestamp"))?;
        let candle = CANDLE_COLUMNS.map(|c| find(&[c]));
        if candle.iter().all(Option::is_some) {
            return Ok(Self {
                kind: CsvKind::Candles,
                timestamp,
                values: candle,
                quotes: [None, None],
                timeframe: find(&["timeframe"]),
            });
        }
        let price = find(&["price"]).ok_or_else(|| missing("price"))?;
        Ok(Self {
            kind: CsvKind::Ticks,
            timestamp,
            values: [Some(price), find(&["volume"]), None, None, None],
            quotes: [find(&["bid"]), find(&["ask"])],
            timeframe: None,
        })
    }

    /// Candles or ticks.
    pub fn kind(&self) -> CsvKind {
        self.kind
    }
}

/// The fields of one CSV line: split at commas, each trimmed of spaces; a field may be quoted
/// (`"a,b"`, with `""` for a quote inside). A quoted field cannot span lines.
pub(super) fn split(line: &str) -> Result<Vec<Cow<'_, str>>, LineError> {
    let mut fields = Vec::with_capacity(8);
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start();
        if let Some(quoted) = trimmed.strip_prefix('"') {
            let (field, after) = unquote(quoted)?;
            fields.push(field);
            let after = after.trim_start();
            match after.strip_prefix(',') {
                Some(next) => rest = next,
                None if after.is_empty() => return Ok(fields),
                // Text after the closing quote is kept, as most CSV readers do.
                None => match after.split_once(',') {
                    Some((_, next)) => rest = next,
                    None => return Ok(fields),
                },
            }
        } else {
            match rest.split_once(',') {
                Some((field, next)) => {
                    fields.push(Cow::Borrowed(field.trim()));
                    rest = next;
                }
                None => {
                    fields.push(Cow::Borrowed(rest.trim()));
                    return Ok(fields);
                }
            }
        }
    }
}

/// A quoted field's text (after its opening quote) and what follows its closing quote.
fn unquote(text: &str) -> Result<(Cow<'_, str>, &str), LineError> {
    let mut owned: Option<String> = None;
    let mut start = 0;
    let mut search = 0;
    loop {
        let close = text
            .get(search..)
            .and_then(|t| t.find('"'))
            .map(|i| i + search)
            .ok_or(LineError::Quote)?;
        if text.get(close + 1..close + 2) == Some("\"") {
            // `""` is one quote.
            owned
                .get_or_insert_with(String::new)
                .push_str(&text[start..=close]);
            start = close + 2;
            search = close + 2;
            continue;
        }
        let after = &text[close + 1..];
        return Ok(match owned {
            Some(mut s) => {
                s.push_str(&text[start..close]);
                (Cow::Owned(s), after)
            }
            None => (Cow::Borrowed(&text[..close]), after),
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn splits_plain_and_quoted_fields() {
        let fields = split(r#" a , "b,c" ,"say ""hi""", ,"" "#).unwrap();
        assert_eq!(fields, ["a", "b,c", r#"say "hi""#, "", ""]);
        assert_eq!(split("").unwrap(), [""]);
        assert_eq!(split(r#""x"tail,y"#).unwrap(), ["x", "y"]);
        assert_eq!(split(r#"a,"open"#), Err(LineError::Quote));
    }

    #[test]
    fn headers_pick_candles_or_ticks() {
        let layout =
            CsvLayout::from_header("\u{feff}volume,close,low,high,open,timestamp").unwrap();
        assert_eq!(layout.kind, CsvKind::Candles);
        assert_eq!(layout.timestamp, 5);
        assert_eq!(layout.values, [Some(4), Some(3), Some(2), Some(1), Some(0)]);
        let layout = CsvLayout::from_header("ts,price").unwrap();
        assert_eq!(layout.kind, CsvKind::Ticks);
        assert_eq!(layout.values[1], None);
        let err = CsvLayout::from_header("date,open").unwrap_err();
        assert!(err.to_string().contains("no timestamp column"), "{err}");
        let err = CsvLayout::from_header("timestamp,open,high").unwrap_err();
        assert!(err.to_string().contains("no price column"), "{err}");
    }
}
