//! One line of a replay file into one [`MarketEvent`]: the pure parser, without I/O.

use super::csv::{split, CsvKind, CsvLayout, CANDLE_COLUMNS};
use super::error::shorten;
use super::value::{parse_decimal, parse_timestamp};
use super::LineError;
use crate::feed::check_prices;
use crate::MarketEvent;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::str::FromStr;
use tradegraph_core::{Candle, Symbol, Tick, Timeframe, Timestamp};

/// Parses the lines of one file: JSONL lines, or the rows of a CSV file whose header it was
/// made from. Pure and cheap to call; the fuzz target and property tests drive it directly.
///
/// ```
/// use tradegraph_core::Timeframe;
/// use tradegraph_market::feed::replay::LineParser;
/// use tradegraph_market::MarketEvent;
///
/// let parser = LineParser::csv("timestamp,open,high,low,close,volume", "NIFTY50".into(), Timeframe::M1)?;
/// let event = parser.parse("2024-12-02T03:45:00Z,24045.25,24073.95,24027.75,24059.35,38550")?;
/// assert_eq!(event.known_at().to_string(), "2024-12-02T03:46:00Z");
/// assert!(matches!(event, MarketEvent::Candle { closed: true, .. }));
/// assert!(parser.parse("2024-12-02T03:46:00Z,1,0.5,2,1,1").is_err()); // high below low
///
/// let jsonl = LineParser::jsonl();
/// let again = jsonl.parse(&serde_json::to_string(&event).unwrap())?;
/// assert_eq!(again, event);
/// # Ok::<(), tradegraph_market::feed::replay::LineError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineParser {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Jsonl,
    Csv {
        layout: CsvLayout,
        symbol: Symbol,
        timeframe: Timeframe,
    },
}

impl LineParser {
    /// A parser of JSONL lines: each a `serde_json` [`MarketEvent`] (tag `type`), as the
    /// recorder writes them. Events keep the instrument they name.
    pub fn jsonl() -> Self {
        Self { kind: Kind::Jsonl }
    }

    /// A parser of the rows below `header`, stamped with `symbol`; candle rows without a
    /// `timeframe` column have `timeframe`.
    ///
    /// # Errors
    ///
    /// What [`CsvLayout::from_header`] reports.
    pub fn csv(header: &str, symbol: Symbol, timeframe: Timeframe) -> Result<Self, LineError> {
        Ok(Self::from_layout(
            CsvLayout::from_header(header)?,
            symbol,
            timeframe,
        ))
    }

    /// A parser of CSV rows laid out as `layout`.
    pub fn from_layout(layout: CsvLayout, symbol: Symbol, timeframe: Timeframe) -> Self {
        Self {
            kind: Kind::Csv {
                layout,
                symbol,
                timeframe,
            },
        }
    }

    /// The CSV layout, for a CSV parser.
    pub fn layout(&self) -> Option<&CsvLayout> {
        match &self.kind {
            Kind::Jsonl => None,
            Kind::Csv { layout, .. } => Some(layout),
        }
    }

    /// The event on `line` (without its line break).
    ///
    /// CSV timestamps are RFC 3339 (`2024-01-01T10:00:00Z`, any offset) or integer
    /// milliseconds since the epoch; numbers are exact decimals (`1e-3` is accepted too).
    /// Candles must satisfy `low <= open, close <= high` and `volume >= 0`; tick volumes must
    /// not be negative; every event, JSONL too, must pass [`check_prices`] (prices above
    /// zero); a tick without a `volume` column has volume 0. Candle rows become
    /// closed candles with 0 trades.
    ///
    /// # Errors
    ///
    /// A [`LineError`] saying what is wrong, naming the column for CSV.
    pub fn parse(&self, line: &str) -> Result<MarketEvent, LineError> {
        let event = self.parse_unchecked(line)?;
        check_prices(&event).map_err(LineError::Inconsistent)?;
        Ok(event)
    }

    fn parse_unchecked(&self, line: &str) -> Result<MarketEvent, LineError> {
        match &self.kind {
            Kind::Jsonl => serde_json::from_str(line).map_err(|e| LineError::Json(e.to_string())),
            Kind::Csv {
                layout,
                symbol,
                timeframe,
            } => {
                let fields = split(line)?;
                let row = Row {
                    fields: &fields,
                    layout,
                };
                match layout.kind {
                    CsvKind::Candles => row.candle(symbol, *timeframe),
                    CsvKind::Ticks => row.tick(symbol),
                }
            }
        }
    }
}

struct Row<'a> {
    fields: &'a [Cow<'a, str>],
    layout: &'a CsvLayout,
}

impl Row<'_> {
    /// The non-empty value at `position`.
    fn get(&self, position: Option<usize>) -> Option<&str> {
        let value = self.fields.get(position?)?;
        (!value.is_empty()).then_some(value.as_ref())
    }

    fn required(&self, position: Option<usize>, column: &'static str) -> Result<&str, LineError> {
        self.get(position)
            .ok_or(LineError::MissingColumn { column })
    }

    fn timestamp(&self) -> Result<Timestamp, LineError> {
        parse_timestamp(self.required(Some(self.layout.timestamp), "timestamp")?)
    }

    fn candle(&self, symbol: &Symbol, timeframe: Timeframe) -> Result<MarketEvent, LineError> {
        let open_time = self.timestamp()?;
        let mut values = [Decimal::ZERO; 5];
        for ((value, position), column) in values
            .iter_mut()
            .zip(self.layout.values)
            .zip(CANDLE_COLUMNS)
        {
            *value = parse_decimal(self.required(position, column)?, column)?;
        }
        let timeframe = match self.get(self.layout.timeframe) {
            Some(text) => Timeframe::from_str(text).map_err(|_| LineError::BadTimeframe {
                value: shorten(text),
            })?,
            None => timeframe,
        };
        let [open, high, low, close, mut volume] = values;
        if volume.is_zero() {
            volume.set_sign_positive(true);
        }
        let candle = Candle {
            open_time,
            timeframe,
            open,
            high,
            low,
            close,
            volume,
            trades: 0,
            quote_volume: None,
            taker_buy_volume: None,
            taker_buy_quote_volume: None,
        };
        if volume.is_sign_negative() {
            return Err(LineError::Inconsistent(format!(
                "column `volume`: {volume} is negative"
            )));
        }
        if !candle.is_consistent() {
            return Err(LineError::Inconsistent(format!(
                "open {open} and close {close} must lie within low {low} and high {high}"
            )));
        }
        Ok(MarketEvent::Candle {
            symbol: symbol.clone(),
            candle,
            closed: true,
        })
    }

    fn tick(&self, symbol: &Symbol) -> Result<MarketEvent, LineError> {
        let ts = self.timestamp()?;
        let [price, volume, ..] = self.layout.values;
        let price = parse_decimal(self.required(price, "price")?, "price")?;
        let mut volume = match volume {
            Some(_) => parse_decimal(self.required(volume, "volume")?, "volume")?,
            None => Decimal::ZERO,
        };
        if volume.is_zero() {
            volume.set_sign_positive(true);
        }
        if volume.is_sign_negative() {
            return Err(LineError::Inconsistent(format!(
                "column `volume`: {volume} is negative"
            )));
        }
        let [bid, ask] = self.layout.quotes;
        let mut tick = Tick::new(ts, price, volume);
        tick.bid = self.get(bid).map(|v| parse_decimal(v, "bid")).transpose()?;
        tick.ask = self.get(ask).map(|v| parse_decimal(v, "ask")).transpose()?;
        Ok(MarketEvent::Tick {
            symbol: symbol.clone(),
            tick,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn candles() -> LineParser {
        LineParser::csv(
            "timestamp,open,high,low,close,volume,timeframe",
            "BTC".into(),
            Timeframe::M1,
        )
        .unwrap()
    }

    #[test]
    fn candle_rows_name_what_is_wrong() {
        let p = candles();
        let ok = p.parse("1704103200000,1,2,0.5,1.5,10,5m").unwrap();
        assert_eq!(ok.known_at(), Timestamp::from_millis(1_704_103_500_000));
        let cases = [
            ("x,1,2,0.5,1.5,10", "column `timestamp`: `x`"),
            ("1,1,2,0.5", "column `close` is missing"),
            ("1,1,,0.5,1,1", "column `high` is missing"),
            ("1,1,two,0.5,1,1", "column `high`: `two` is not a number"),
            ("1,1,2,0.5,1,-1", "column `volume`: -1 is negative"),
            (
                "1,3,2,0.5,1,1",
                "open 3 and close 1 must lie within low 0.5 and high 2",
            ),
            ("1,1,2,0.5,1,1,2m", "column `timeframe`: `2m`"),
            ("1,\"1,2", "no closing quote"),
        ];
        for (line, expected) in cases {
            let err = p.parse(line).unwrap_err().to_string();
            assert!(err.contains(expected), "{line}: {err}");
        }
    }

    #[test]
    fn tick_rows_take_optional_quotes() {
        let p = LineParser::csv(
            "timestamp,price,volume,bid,ask,venue",
            "X".into(),
            Timeframe::M1,
        )
        .unwrap();
        let MarketEvent::Tick { tick, .. } = p
            .parse("2024-01-01T10:00:00.250Z,100.5,2,100.25,,NSE")
            .unwrap()
        else {
            unreachable!("a tick")
        };
        assert_eq!(tick.ts.millis(), 1_704_103_200_250);
        assert_eq!(
            (tick.price.to_string(), tick.volume.to_string()),
            ("100.5".into(), "2".into())
        );
        assert_eq!(tick.bid.map(|b| b.to_string()), Some("100.25".into()));
        assert_eq!(tick.ask, None);
        let err = p.parse("1,1,1,x").unwrap_err().to_string();
        assert!(err.contains("column `bid`"), "{err}");
        let err = p.parse("1,1,-0.5").unwrap_err().to_string();
        assert!(err.contains("negative"), "{err}");
    }

    #[test]
    fn jsonl_errors_quote_serde() {
        let err = LineParser::jsonl()
            .parse(r#"{"type":"trade"}"#)
            .unwrap_err();
        assert!(matches!(err, LineError::Json(_)), "{err}");
        assert!(err.to_string().starts_with("not a market event: "), "{err}");
    }
}
