//! Reading a data file's bars and cutting its period into windows.

use super::{WalkError, Window};
use crate::backtest::metrics::Period;
use std::io::BufRead;
use std::path::Path;
use tradegraph_core::{Instrument, Symbol, Timeframe, Timestamp, TradingSession};
use tradegraph_market::aggregate::bucket_start;
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::MarketEvent;

/// What a pass over a data file found: its records (the progress bar's length), whether they
/// are one-minute bars (a CSV) rather than a recording's events (JSONL), and, when asked for,
/// the open times of its closed one-minute bars within a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataScan {
    /// Non-empty data lines (a CSV's header line not counted).
    pub records: u64,
    /// Whether the file is a CSV of one-minute bars.
    pub csv: bool,
    /// The open times of the closed one-minute bars within the period, in file order (empty
    /// from [`DataScan::count`]).
    pub bar_times: Vec<Timestamp>,
    /// Whether [`bar_times`](Self::bar_times) were read ([`DataScan::bars`]), not only the
    /// records counted.
    pub read_bars: bool,
}

impl DataScan {
    /// Counts the records of `path` without parsing them (a plain backtest's progress bar),
    /// but its first bar: a CSV's bars must be one-minute bars.
    ///
    /// # Errors
    /// [`WalkError::Read`] naming the file when it cannot be opened or read;
    /// [`WalkError::NotMinuteBars`] for a CSV of longer bars.
    pub fn count(path: &Path, symbol: &Symbol) -> Result<Self, WalkError> {
        let csv = is_csv(path);
        let parser = if csv {
            let replay = Replay::new(ReplayConfig::new(path.to_path_buf(), symbol.clone()))
                .map_err(|e| read_error(path, e.to_string()))?;
            Some(replay.parser().clone())
        } else {
            None
        };
        let skip = usize::from(parser.as_ref().is_some_and(|p| p.layout().is_some()));
        let file = open(path)?;
        let mut records: u64 = 0;
        let mut first_bar = true;
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = read_line(path, n, line)?;
            if line.trim().is_empty() {
                continue;
            }
            records += 1;
            if let (Some(parser), true, true) = (&parser, first_bar, n >= skip) {
                if let Ok(event) = parser.parse(line.trim_end_matches('\r')) {
                    first_bar = false;
                    minute_bar(path, n, &event)?;
                }
            }
        }
        Ok(Self::finish(path, records, Vec::new()))
    }

    /// Counts the records of `path` and reads the open times of its closed one-minute bars
    /// within `period` (as the backtest reads them; malformed lines are skipped as the replay
    /// skips them), in one pass.
    ///
    /// # Errors
    /// [`WalkError::Read`] naming the file when it cannot be opened or read.
    pub fn bars(path: &Path, symbol: &Symbol, period: Period) -> Result<Self, WalkError> {
        let replay = Replay::new(ReplayConfig::new(path.to_path_buf(), symbol.clone()))
            .map_err(|e| read_error(path, e.to_string()))?;
        let parser = replay.parser().clone();
        let skip = usize::from(parser.layout().is_some());
        let csv = is_csv(path);
        let file = open(path)?;
        let (mut records, mut times) = (0u64, Vec::new());
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = read_line(path, n, line)?;
            if line.trim().is_empty() {
                continue;
            }
            records += 1;
            if n < skip {
                continue;
            }
            let Ok(event) = parser.parse(line.trim_end_matches('\r')) else {
                continue;
            };
            if csv {
                minute_bar(path, n, &event)?;
            }
            if let MarketEvent::Candle {
                candle,
                closed: true,
                ..
            } = event
            {
                if period.contains(candle.open_time) {
                    times.push(candle.open_time);
                }
            }
        }
        Ok(Self {
            read_bars: true,
            ..Self::finish(path, records, times)
        })
    }

    /// The one-minute bars a run of the scanned period gets: those read within the period
    /// ([`DataScan::bars`]) when it holds some, else a CSV's records (the whole file: at most
    /// that many); `None` when the file's events do not tell (a recording of ticks).
    pub fn run_bars(&self) -> Option<u64> {
        if self.read_bars && !self.bar_times.is_empty() {
            Some(self.bar_times.len() as u64)
        } else {
            self.csv.then_some(self.records)
        }
    }

    fn finish(path: &Path, records: u64, bar_times: Vec<Timestamp>) -> Self {
        let csv = is_csv(path);
        Self {
            // a CSV's header line is not a record
            records: if csv {
                records.saturating_sub(1)
            } else {
                records
            },
            csv,
            bar_times,
            read_bars: false,
        }
    }
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// A CSV's bar on line `n` (from 0) is a one-minute bar, or the error saying what it is.
fn minute_bar(path: &Path, n: usize, event: &MarketEvent) -> Result<(), WalkError> {
    match event {
        MarketEvent::Candle { candle, .. } if candle.timeframe != Timeframe::M1 => {
            Err(WalkError::NotMinuteBars {
                path: path.to_path_buf(),
                line: n + 1,
                timeframe: candle.timeframe,
            })
        }
        _ => Ok(()),
    }
}

fn read_error(path: &Path, message: String) -> WalkError {
    WalkError::Read {
        path: path.to_path_buf(),
        message,
    }
}

fn open(path: &Path) -> Result<std::fs::File, WalkError> {
    std::fs::File::open(path).map_err(|e| read_error(path, format!("cannot be opened: {e}")))
}

fn read_line(path: &Path, n: usize, line: std::io::Result<String>) -> Result<String, WalkError> {
    line.map_err(|e| read_error(path, format!("line {}: cannot be read: {e}", n + 1)))
}

/// The open times of the closed one-minute bars in the file `path` within `period`, in file
/// order ([`DataScan::bars`]'s).
///
/// # Errors
/// [`WalkError::Read`] naming the file when it cannot be opened or read.
pub fn bar_times(
    path: &Path,
    symbol: &Symbol,
    period: Period,
) -> Result<Vec<Timestamp>, WalkError> {
    Ok(DataScan::bars(path, symbol, period)?.bar_times)
}

/// Cuts the period of the bars stamped `times` into `n` windows of about equal length, refusing
/// windows with fewer than `min_bars` bars. The first window starts at the first bar, the last
/// ends just after the last bar, and every edge in between is floored to the start of the
/// decision candle (`cycle`, on `session`: UTC multiples around the clock, from the open on an
/// exchange) it falls in, or to a multiple of `cycle` outside the session's hours, so no window
/// starts inside a decision candle. Each window's `bars` are the bars within its `[from, to)`,
/// the bars its run gets.
///
/// ```
/// use tradegraph::backtest::walk::split;
/// use tradegraph::core::{Instrument, Timeframe, Timestamp};
/// let times: Vec<Timestamp> = (0..100).map(|i| Timestamp::from_millis(i * 60_000)).collect();
/// let session = Instrument::btc_usdt().session;
/// let windows = split(&times, 4, 10, Timeframe::M5, &session)?;
/// assert_eq!(windows.iter().map(|w| w.bars).sum::<u64>(), 100);
/// assert_eq!(windows[1].from, windows[0].to);
/// // a quarter of the 99 minutes from the first bar to the last is 24.75 minutes, floored to
/// // the 5-minute decision candle: 20
/// assert_eq!(windows[1].from, Timestamp::from_millis(20 * 60_000));
/// assert!(split(&times, 1, 10, Timeframe::M5, &session).is_err());
/// assert!(split(&times, 20, 10, Timeframe::M5, &session).is_err());
/// # Ok::<(), tradegraph::backtest::walk::WalkError>(())
/// ```
///
/// # Errors
/// [`WalkError::TooFewWindows`] for `n < 2`, [`WalkError::NoBars`] when `times` is empty,
/// [`WalkError::TooManyWindows`] when `n` windows of `min_bars` are more than `times` holds,
/// [`WalkError::WindowTooSmall`] naming the first window with too few bars.
pub fn split(
    times: &[Timestamp],
    n: usize,
    min_bars: u64,
    cycle: Timeframe,
    session: &TradingSession,
) -> Result<Vec<Window>, WalkError> {
    if n < 2 {
        return Err(WalkError::TooFewWindows(n));
    }
    let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else {
        return Err(WalkError::NoBars);
    };
    // Refused before any window is made: a count beyond what the bars can fill (however
    // large) is an answer, not an allocation.
    let most = times.len() as u64 / min_bars.max(1);
    if n as u64 > most {
        return Err(WalkError::TooManyWindows {
            windows: n,
            bars: times.len(),
            most,
            min: min_bars.max(1),
        });
    }
    let start = i128::from(first.millis());
    let end = i128::from(last.millis()) + 1;
    let step = i128::from(cycle.millis().max(1));
    let edge = |i: usize| {
        let at = if i == 0 {
            start
        } else if i == n {
            end
        } else {
            let raw = start + (end - start) * i as i128 / n as i128;
            let candle = i64::try_from(raw)
                .ok()
                .and_then(|raw| bucket_start(session, cycle, Timestamp::from_millis(raw)))
                .map(|(candle, _)| i128::from(candle.millis()));
            candle.unwrap_or(raw - raw.rem_euclid(step)).max(start)
        };
        Timestamp::from_millis(i64::try_from(at).unwrap_or(i64::MAX))
    };
    let mut windows: Vec<Window> = (0..n)
        .map(|i| Window {
            index: i + 1,
            from: edge(i),
            to: edge(i + 1),
            bars: 0,
        })
        .collect();
    for ts in times {
        // the last window whose start is not after the bar: the one whose run gets it
        let i = windows.partition_point(|w| w.from <= *ts).saturating_sub(1);
        if let Some(w) = windows.get_mut(i) {
            w.bars += 1;
        }
    }
    if let Some(w) = windows.iter().find(|w| w.bars < min_bars.max(1)) {
        return Err(WalkError::WindowTooSmall {
            windows: n,
            index: w.index,
            from: w.from,
            to: w.to,
            bars: w.bars,
            min: min_bars.max(1),
        });
    }
    Ok(windows)
}

/// The `n` windows of a walk-forward of `instrument`'s bars in `data` within `period`, decided
/// every `cycle`: the file read once ([`DataScan::bars`]), its period [`split`] on `cycle`
/// (on the instrument's session),
/// each window holding at least [`MIN_CYCLES_PER_WINDOW`](super::MIN_CYCLES_PER_WINDOW)
/// cycles' worth of bars. Also the scan (the records, for a progress bar).
///
/// # Errors
/// [`WalkError`] as [`DataScan::bars`] and [`split`] say.
pub fn plan(
    data: &Path,
    instrument: &Instrument,
    period: Period,
    cycle: Timeframe,
    n: usize,
) -> Result<(DataScan, Vec<Window>), WalkError> {
    if n < 2 {
        return Err(WalkError::TooFewWindows(n));
    }
    let scan = DataScan::bars(data, &instrument.symbol, period)?;
    let min = super::MIN_CYCLES_PER_WINDOW * bars_per_cycle(cycle, &instrument.session);
    let windows = split(&scan.bar_times, n, min, cycle, &instrument.session)?;
    Ok((scan, windows))
}

/// One-minute bars per decision cycle of `cycle` on `session`: around the clock, the cycle's
/// minutes; on an exchange, its day's minutes shared among its decision candles, which start
/// at the open (NSE's 375-minute day holds one daily cycle of 375 bars, and seven hourly ones,
/// the last a quarter hour: 53 bars a cycle), so that bars divided by it never count fewer
/// cycles than a backtest runs.
///
/// ```
/// use tradegraph::backtest::walk::bars_per_cycle;
/// use tradegraph::core::{Instrument, Timeframe};
/// let nse = Instrument::nifty_50().session;
/// assert_eq!(bars_per_cycle(Timeframe::D1, &nse), 375);
/// assert_eq!(bars_per_cycle(Timeframe::H1, &nse), 53);
/// assert_eq!(bars_per_cycle(Timeframe::M15, &nse), 15);
/// assert_eq!(bars_per_cycle(Timeframe::D1, &Instrument::btc_usdt().session), 1440);
/// ```
pub fn bars_per_cycle(cycle: Timeframe, session: &TradingSession) -> u64 {
    use chrono::Timelike;
    let minutes = cycle_minutes(cycle);
    let Some(exchange) = session.exchange() else {
        return minutes;
    };
    let minute_of = |t: chrono::NaiveTime| u64::from(t.num_seconds_from_midnight() / 60);
    let day = minute_of(exchange.close)
        .saturating_sub(minute_of(exchange.open))
        .max(1);
    let candles = day.div_ceil(minutes).max(1);
    (day / candles).max(1)
}

/// One-minute bars per decision cycle of `cycle` (at least 1).
///
/// ```
/// use tradegraph::backtest::walk::cycle_minutes;
/// use tradegraph::core::Timeframe;
/// assert_eq!(cycle_minutes(Timeframe::M15), 15);
/// ```
pub fn cycle_minutes(cycle: Timeframe) -> u64 {
    u64::try_from(cycle.millis() / Timeframe::M1.millis())
        .unwrap_or(1)
        .max(1)
}
