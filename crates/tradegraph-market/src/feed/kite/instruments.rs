//! Kite's instruments dump (`GET /instruments/NFO`, `/instruments/NSE`): CSV to typed records,
//! and the nearest-month future of an underlying with a roll before expiry. Pure: the caller
//! fetches the text (authenticated) and keeps the records for the day.

use crate::MarketError;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

/// The columns of the dump, in Kite's order.
pub const INSTRUMENT_COLUMNS: [&str; 12] = [
    "instrument_token",
    "exchange_token",
    "tradingsymbol",
    "name",
    "last_price",
    "expiry",
    "strike",
    "tick_size",
    "lot_size",
    "instrument_type",
    "segment",
    "exchange",
];

/// One row of the instruments dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KiteInstrument {
    /// The token the ticker subscribes to.
    pub instrument_token: u32,
    /// The exchange's own token.
    pub exchange_token: u32,
    /// The trading symbol orders use (`BANKNIFTY25JANFUT`).
    pub tradingsymbol: String,
    /// The underlying's name (`BANKNIFTY`), empty for some indices.
    pub name: String,
    /// The last price in the dump (often `0`).
    pub last_price: Decimal,
    /// The expiry date of a derivative; `None` for cash instruments.
    pub expiry: Option<NaiveDate>,
    /// The strike of an option; `0` otherwise.
    pub strike: Decimal,
    /// The price grid: every order price is a multiple of it.
    pub tick_size: Decimal,
    /// The lot: every order quantity is a multiple of it.
    pub lot_size: u32,
    /// `EQ`, `FUT`, `CE`, `PE`, ...
    pub instrument_type: String,
    /// `NFO-FUT`, `NSE`, `INDICES`, ...
    pub segment: String,
    /// `NFO`, `NSE`, ...
    pub exchange: String,
}

impl KiteInstrument {
    /// Whether it is a future.
    pub fn is_future(&self) -> bool {
        self.instrument_type == "FUT"
    }
}

/// Parses a dump, strictly: the first bad row fails it (see [`read_instruments`] for the
/// dump the broker reads, which skips bad rows). The header must carry Kite's columns (in any
/// order; extra columns are ignored).
///
/// ```
/// use tradegraph_market::feed::kite::parse_instruments;
/// let csv = "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n\
///            12074242,47165,BANKNIFTY25JANFUT,\"BANKNIFTY\",0,2025-01-30,0,0.05,30,FUT,NFO-FUT,NFO\n";
/// let rows = parse_instruments(csv).unwrap();
/// assert_eq!((rows[0].lot_size, rows[0].tick_size.to_string()), (30, "0.05".to_owned()));
/// ```
///
/// # Errors
///
/// [`MarketError::Malformed`] naming the line (1 is the header) and the column of the first
/// bad row, or the missing columns.
pub fn parse_instruments(text: &str) -> Result<Vec<KiteInstrument>, MarketError> {
    let bad = |line: u64, reason: String| MarketError::Malformed {
        origin: format!("Kite instruments dump line {line}"),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let index = columns(&mut reader)?;
    let mut out = Vec::new();
    for (line, record) in records_by_line(&mut reader, text) {
        let record = record.map_err(|e| bad(line, e.to_string()))?;
        let field = |column: usize| record.get(index[column]).unwrap_or("").trim();
        let parsed = parse_row(&field).map_err(|reason| bad(line, reason))?;
        out.push(parsed);
    }
    Ok(out)
}

/// A row of the dump that could not be read: its line (1 is the header), what it names as
/// far as it could be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadInstrumentRow {
    /// The line in the dump (1 is the header).
    pub line: u64,
    /// Its `tradingsymbol` field as written (may be empty).
    pub tradingsymbol: String,
    /// Its `name` field as written (the underlying).
    pub name: String,
    /// Its `instrument_type` field as written.
    pub instrument_type: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A dump read row by row: the rows that could be read, and the ones that could not (Kite's
/// dump has tens of thousands of rows; one bad row elsewhere must not stop trading).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstrumentsDump {
    /// The rows read, in the dump's order.
    pub instruments: Vec<KiteInstrument>,
    /// The rows skipped, with their lines.
    pub bad_rows: Vec<BadInstrumentRow>,
}

impl InstrumentsDump {
    /// Checks that no bad row could be `wanted`: the contract of that trading symbol, or a
    /// future of that underlying (its name, or a `FUT` symbol starting with it).
    ///
    /// # Errors
    /// [`MarketError::Malformed`] naming the first such row's line and what is wrong with it.
    pub fn check_needed(&self, wanted: &str) -> Result<(), MarketError> {
        let needed = |row: &&BadInstrumentRow| {
            row.tradingsymbol == wanted
                || (row.instrument_type == "FUT" || row.tradingsymbol.ends_with("FUT"))
                    && (row.name == wanted || row.tradingsymbol.starts_with(wanted))
        };
        match self.bad_rows.iter().find(needed) {
            Some(row) => Err(MarketError::Malformed {
                origin: format!("Kite instruments dump line {}", row.line),
                reason: format!(
                    "{} (a row {wanted} may need: its lot and tick size or its roll cannot be trusted)",
                    row.reason
                ),
            }),
            None => Ok(()),
        }
    }
}

/// Reads a dump row by row: rows that cannot be read are skipped and listed with their
/// lines (see [`InstrumentsDump::check_needed`]); only a bad header fails.
///
/// ```
/// use tradegraph_market::feed::kite::read_instruments;
/// let csv = "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n\
///            12074242,47165,BANKNIFTY25JANFUT,BANKNIFTY,0,2025-01-30,0,0.05,30,FUT,NFO-FUT,NFO\n\
///            x,1,INFY,INFY,0,,0,0.05,1,EQ,NSE,NSE\n";
/// let dump = read_instruments(csv).unwrap();
/// assert_eq!((dump.instruments.len(), dump.bad_rows[0].line), (1, 3));
/// assert!(dump.check_needed("BANKNIFTY").is_ok());
/// assert!(dump.check_needed("INFY").is_err());
/// ```
///
/// # Errors
/// [`MarketError::Malformed`] for a header without Kite's columns.
pub fn read_instruments(text: &str) -> Result<InstrumentsDump, MarketError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let index = columns(&mut reader)?;
    let mut dump = InstrumentsDump::default();
    for (line, record) in records_by_line(&mut reader, text) {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                dump.bad_rows.push(BadInstrumentRow {
                    line,
                    tradingsymbol: String::new(),
                    name: String::new(),
                    instrument_type: String::new(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let field = |column: usize| record.get(index[column]).unwrap_or("").trim();
        match parse_row(&field) {
            Ok(parsed) => dump.instruments.push(parsed),
            Err(reason) => dump.bad_rows.push(BadInstrumentRow {
                line,
                tradingsymbol: field(2).to_owned(),
                name: field(3).to_owned(),
                instrument_type: field(9).to_owned(),
                reason,
            }),
        }
    }
    Ok(dump)
}

/// Where each of Kite's columns is in the header.
fn columns(reader: &mut csv::Reader<&[u8]>) -> Result<[usize; 12], MarketError> {
    let bad = |reason: String| MarketError::Malformed {
        origin: "Kite instruments dump line 1".to_owned(),
        reason,
    };
    let header = reader
        .headers()
        .map_err(|e| bad(format!("unreadable header: {e}")))?
        .clone();
    let mut index = [0usize; 12];
    let mut missing = Vec::new();
    for (slot, name) in index.iter_mut().zip(INSTRUMENT_COLUMNS) {
        match header.iter().position(|h| h.trim() == name) {
            Some(at) => *slot = at,
            None => missing.push(name),
        }
    }
    if !missing.is_empty() {
        return Err(bad(format!(
            "the header lacks the column(s) {}: is this Kite's instruments dump?",
            missing.join(", ")
        )));
    }
    Ok(index)
}

fn parse_row<'a>(field: &impl Fn(usize) -> &'a str) -> Result<KiteInstrument, String> {
    let int = |column: usize| -> Result<u32, String> {
        let text = field(column);
        text.parse::<u32>().map_err(|_| {
            format!(
                "{} `{}` is not a whole number",
                INSTRUMENT_COLUMNS[column],
                shorten(text)
            )
        })
    };
    let dec = |column: usize| -> Result<Decimal, String> {
        let text = field(column);
        if text.is_empty() {
            return Ok(Decimal::ZERO);
        }
        Decimal::from_str(text)
            .or_else(|_| Decimal::from_scientific(text))
            .map_err(|_| {
                format!(
                    "{} `{}` is not a decimal number",
                    INSTRUMENT_COLUMNS[column],
                    shorten(text)
                )
            })
    };
    let expiry = match field(5) {
        "" => None,
        text => Some(
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| format!("expiry `{}` is not a date YYYY-MM-DD", shorten(text)))?,
        ),
    };
    let tick_size = dec(7)?;
    if tick_size.is_sign_negative() {
        return Err(format!("tick_size {tick_size} is negative"));
    }
    let tradingsymbol = field(2);
    if tradingsymbol.is_empty() {
        return Err("tradingsymbol is empty".to_owned());
    }
    Ok(KiteInstrument {
        instrument_token: int(0)?,
        exchange_token: int(1)?,
        tradingsymbol: tradingsymbol.to_owned(),
        name: field(3).to_owned(),
        last_price: dec(4)?,
        expiry,
        strike: dec(6)?,
        tick_size,
        lot_size: int(8)?,
        instrument_type: field(9).to_owned(),
        segment: field(10).to_owned(),
        exchange: field(11).to_owned(),
    })
}

/// At most 40 characters of a bad value, for messages.
fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

/// The future of `underlying` (its `name`, e.g. `BANKNIFTY`) to trade on `today`: the one
/// with the nearest expiry more than `roll_days` days away. A contract is thus left on the day
/// `roll_days` days before its expiry (`roll_days = 0`: on its expiry day, when intraday
/// positions are squared off anyway). `None` when the dump has no such future.
///
/// ```
/// use chrono::NaiveDate;
/// use tradegraph_market::feed::kite::{nearest_future, parse_instruments};
/// let csv = "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n\
///            1,1,BANKNIFTY25JANFUT,BANKNIFTY,0,2025-01-30,0,0.05,30,FUT,NFO-FUT,NFO\n\
///            2,2,BANKNIFTY25FEBFUT,BANKNIFTY,0,2025-02-27,0,0.05,30,FUT,NFO-FUT,NFO\n";
/// let all = parse_instruments(csv).unwrap();
/// let day = |d| NaiveDate::from_ymd_opt(2025, 1, d).unwrap();
/// assert_eq!(nearest_future(&all, "BANKNIFTY", day(20), 3).unwrap().tradingsymbol, "BANKNIFTY25JANFUT");
/// // Three days before the January expiry, it rolls to February.
/// assert_eq!(nearest_future(&all, "BANKNIFTY", day(27), 3).unwrap().tradingsymbol, "BANKNIFTY25FEBFUT");
/// ```
pub fn nearest_future<'a>(
    instruments: &'a [KiteInstrument],
    underlying: &str,
    today: NaiveDate,
    roll_days: u32,
) -> Option<&'a KiteInstrument> {
    instruments
        .iter()
        .filter(|i| i.is_future() && i.name == underlying)
        .filter_map(|i| i.expiry.map(|e| (e, i)))
        .filter(|(expiry, _)| (*expiry - today).num_days() > i64::from(roll_days))
        .min_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.tradingsymbol.cmp(&y.tradingsymbol)))
        .map(|(_, i)| i)
}

#[cfg(test)]
#[path = "instruments_tests.rs"]
mod tests;

/// The records of `reader` (reading `text`), each with the line it starts on in `text` (1 is
/// the header): blank lines and line breaks inside quoted fields counted, as an editor shows
/// them.
fn records_by_line<'r>(
    reader: &'r mut csv::Reader<&'r [u8]>,
    text: &'r str,
) -> impl Iterator<Item = (u64, Result<csv::StringRecord, csv::Error>)> + 'r {
    let mut stuck = false;
    // the line breaks before `counted_to`, counted once as the reader moves on
    let (mut counted_to, mut breaks) = (0usize, 0usize);
    std::iter::from_fn(move || {
        if stuck {
            return None;
        }
        let after_previous = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        let rest = text.as_bytes().get(after_previous..).unwrap_or_default();
        let start = after_previous
            + rest
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        let mut record = csv::StringRecord::new();
        let outcome = match reader.read_record(&mut record) {
            Ok(false) => return None,
            Ok(true) => Ok(record),
            Err(e) => {
                // An error that consumed nothing would be read again forever: the last one.
                stuck = reader.position().byte() == after_previous as u64;
                Err(e)
            }
        };
        let start = start.min(text.len());
        if start > counted_to {
            breaks += text.as_bytes()[counted_to..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            counted_to = start;
        }
        Some((
            u64::try_from(breaks).unwrap_or(u64::MAX).saturating_add(1),
            outcome,
        ))
    })
}
