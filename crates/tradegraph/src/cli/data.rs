//! `tradegraph data indicators` and `tradegraph data download`.

mod download;

use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use clap::Subcommand;
use std::io::Write;
use std::path::{Path, PathBuf};
use tradegraph_core::Timestamp;
use tradegraph_market::indicators::{Bar, IndicatorConfig, IndicatorSet, IndicatorValues};

/// The columns a bar file must have (in any order; others are ignored).
const COLUMNS: [&str; 6] = ["timestamp", "open", "high", "low", "close", "volume"];

#[derive(Debug, Subcommand)]
pub(super) enum DataCommand {
    /// Compute SMA(20), EMA(20), RSI(14), MACD(12,26,9), Bollinger(20,2), ATR(14),
    /// Stochastic(14,3,3), ADX(14), OBV and the UTC-day VWAP over a CSV of bars; print JSON.
    ///
    /// The CSV has a header with the columns timestamp,open,high,low,close,volume; timestamps
    /// are RFC 3339 or integer milliseconds since the epoch, in increasing order. Malformed rows
    /// are skipped with a warning on stderr. Prints the last bar's values (null during an
    /// indicator's lead-in), or every bar's with --all. Values match TA-Lib.
    Indicators {
        /// The CSV file of bars.
        file: PathBuf,
        /// Print every bar's values as a JSON array, not only the last bar's.
        #[arg(long)]
        all: bool,
    },
    /// Download historical bars from Binance (spot klines) or Kite (historical candles) into
    /// the candle CSV that `backtest` and replay read (a backtest replays one-minute bars:
    /// `--interval 1m`; longer bars are for `data indicators` and other tools).
    ///
    /// Binance: `GET /api/v3/klines` in pages of 1,000 bars (public, no key). Kite: `GET
    /// /instruments/historical/{token}/{interval}` in windows within Kite's limits (60 days of
    /// minute bars, 100 of 5-minute, 200 of 15-minute, 400 of hourly, 2,000 of day bars), with
    /// KITE_API_KEY and KITE_ACCESS_TOKEN (or the day's token of `tradegraph kite login`).
    /// BINANCE_API_URL and KITE_API_URL set other hosts.
    ///
    /// Each page is checked whole before it is written (bars in order, inside the range, prices
    /// consistent); nothing is filled in: where the venue has no bars, a warning names the gap.
    /// An existing file is continued after its last row (an interrupted download is finished
    /// by running the same command again); FILE.meta beside it records the source and the
    /// start, and a run for another source or an earlier start is refused. Rate limits are honoured (Retry-After on 429 and
    /// 418, Binance's request weight). A progress bar is drawn on stderr when it is a terminal;
    /// the summary goes to stdout. Exit code 2 when the options or credentials are wrong, 3
    /// when the venue or the file fails.
    Download(download::DownloadArgs),
}

pub(super) fn run(command: DataCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match command {
        DataCommand::Indicators { file, all } => indicators(&file, all, out, err),
        DataCommand::Download(args) => download::run(&args, out, err),
    }
}

fn indicators(file: &Path, all: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let origin = file.display().to_string();
    let bars = match read_bars(file, &origin, err) {
        Ok(bars) => bars,
        Err(code) => return code,
    };
    let mut set = match IndicatorSet::new(IndicatorConfig::default()) {
        Ok(set) => set,
        Err(e) => {
            let _ = writeln!(err, "tradegraph: {e}");
            return EXIT_INVALID;
        }
    };
    let json = if all {
        let values: Vec<IndicatorValues> = bars.iter().map(|bar| set.update(bar)).collect();
        serde_json::to_string_pretty(&values)
    } else {
        // `read_bars` never returns an empty list, so this is an object, never `null`.
        let last = bars.iter().fold(None, |_, bar| Some(set.update(bar)));
        serde_json::to_string_pretty(&last)
    };
    match json {
        Ok(text) => match writeln!(out, "{text}") {
            Ok(()) => EXIT_OK,
            Err(_) => EXIT_INVALID,
        },
        Err(e) => {
            let _ = writeln!(err, "tradegraph: cannot write the values: {e}");
            EXIT_INVALID
        }
    }
}

/// Reads the bars of `file`; skips malformed rows with a warning each and a count at the end.
fn read_bars(file: &Path, origin: &str, err: &mut dyn Write) -> Result<Vec<Bar>, u8> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(file)
        .map_err(|e| {
            let _ = writeln!(err, "{origin}: cannot read the bar file: {e}");
            EXIT_USAGE
        })?;
    let headers = match reader.headers() {
        Ok(headers) if headers.iter().any(|h| !h.is_empty()) => headers.clone(),
        Ok(_) => {
            let _ = writeln!(
                err,
                "{origin}: the file is empty: expected a header with {}, then one bar per line",
                COLUMNS.join(",")
            );
            return Err(EXIT_INVALID);
        }
        Err(e) => {
            let _ = writeln!(err, "{origin}:1: cannot read the header: {e}");
            return Err(EXIT_INVALID);
        }
    };
    let mut positions = [0usize; 6];
    for (slot, name) in positions.iter_mut().zip(COLUMNS) {
        match headers.iter().position(|h| h.eq_ignore_ascii_case(name)) {
            Some(position) => *slot = position,
            None => {
                let _ = writeln!(
                    err,
                    "{origin}:1: the header has no `{name}` column: expected {}",
                    COLUMNS.join(",")
                );
                return Err(EXIT_INVALID);
            }
        }
    }

    let mut bars: Vec<Bar> = Vec::new();
    let mut skipped = 0usize;
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                if record.iter().all(str::is_empty) {
                    continue;
                }
                match parse_bar(&record, &positions, bars.last().map(|b| b.ts)) {
                    Ok(bar) => bars.push(bar),
                    Err(reason) => {
                        skipped += 1;
                        let _ = writeln!(err, "{origin}:{line}: warning: {reason}; row skipped");
                    }
                }
            }
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                let _ = writeln!(err, "{origin}:{line}: cannot read the bar file: {e}");
                return Err(EXIT_USAGE);
            }
            Err(e) => {
                skipped += 1;
                let line = e.position().map_or(line, |p| p.line());
                let _ = writeln!(err, "{origin}:{line}: warning: {e}; row skipped");
            }
        }
    }
    if skipped > 0 {
        let _ = writeln!(
            err,
            "{origin}: warning: skipped {skipped} malformed row{}, used {} bar{}",
            plural(skipped),
            bars.len(),
            plural(bars.len())
        );
    }
    if bars.is_empty() {
        let _ = writeln!(err, "{origin}: no bars to compute indicators over");
        return Err(EXIT_INVALID);
    }
    Ok(bars)
}

/// One bar from a row, or why the row is malformed (naming the column and the bad value).
fn parse_bar(
    record: &csv::StringRecord,
    positions: &[usize; 6],
    previous: Option<Timestamp>,
) -> Result<Bar, String> {
    let field = |k: usize| -> Result<&str, String> {
        let (name, position) = (COLUMNS[k], positions[k]);
        match record.get(position) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(format!("column `{name}` is missing")),
        }
    };
    let ts = parse_timestamp(field(0)?)?;
    if let Some(previous) = previous.filter(|p| ts <= *p) {
        return Err(format!(
            "column `timestamp`: {ts} is not after the previous bar's {previous}"
        ));
    }
    let mut prices = [0.0f64; 5];
    for (k, price) in prices.iter_mut().enumerate() {
        let name = COLUMNS[k + 1];
        let text = field(k + 1)?;
        *price = text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("column `{name}`: `{}` is not a number", shorten(text)))?;
    }
    let [open, high, low, close, volume] = prices;
    if volume < 0.0 {
        return Err(format!("column `volume`: {volume} is negative"));
    }
    if low > high {
        return Err(format!("column `low`: {low} is above the high {high}"));
    }
    Ok(Bar::new(ts, open, high, low, close, volume))
}

/// RFC 3339, or integer milliseconds since the epoch.
fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    if let Ok(millis) = text.parse::<i64>() {
        return Timestamp::try_from_millis(millis).map_err(|e| format!("column `timestamp`: {e}"));
    }
    text.parse().map_err(|_| {
        format!(
            "column `timestamp`: `{}` is neither RFC 3339 nor integer milliseconds",
            shorten(text)
        )
    })
}

fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
