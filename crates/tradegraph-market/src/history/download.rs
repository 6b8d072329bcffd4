//! The download loop: pages in order, each checked whole before it is written, gaps reported.

use super::bar::HistoryBar;
use super::fetch::Fetcher;
use super::file::Output;
use super::meta::Meta;
use super::{binance, kite, DownloadConfig, HistoryError, HistorySource, PageError};
use std::fmt;
use std::path::PathBuf;
use tradegraph_core::{Timeframe, Timestamp};

/// No bar opens in `[from, to)`: the venue has none there (an outage, a halt, a listing later
/// than asked). Reported, never filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The first missing bar's open time.
    pub from: Timestamp,
    /// The open time of the next bar there is (or the end of the range).
    pub to: Timestamp,
}

/// How far a download is, after each page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Where this run started (after the rows already in the file).
    pub start: Timestamp,
    /// Where it ends: the end asked for, or the last bar closed by now.
    pub end: Timestamp,
    /// The last bar written so far (`None` before the first).
    pub last: Option<Timestamp>,
    /// Bars written by this run.
    pub bars: u64,
    /// Requests answered.
    pub pages: u64,
}

impl Progress {
    /// The share of `[start, end)` done, from 0 to 1.
    pub fn fraction(&self, timeframe: Timeframe) -> f64 {
        let total = (self.end.millis() - self.start.millis()).max(1) as f64;
        let done = self.last.map_or(0, |last| {
            last.millis() + timeframe.millis() - self.start.millis()
        });
        (done as f64 / total).clamp(0.0, 1.0)
    }
}

/// What a download did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadSummary {
    /// The file written.
    pub path: PathBuf,
    /// The last bar the file held before this run, when it was continued.
    pub resumed_after: Option<Timestamp>,
    /// Whether a torn last line (a row cut short by an interruption) was cut off first.
    pub dropped_torn_line: bool,
    /// Bars written by this run.
    pub bars: u64,
    /// Requests answered.
    pub pages: u64,
    /// The first and last bar written by this run.
    pub first: Option<Timestamp>,
    /// See [`first`](Self::first).
    pub last: Option<Timestamp>,
    /// The end of the range fetched (bars open before it): the end asked for, or earlier when
    /// later bars had not closed yet.
    pub end: Timestamp,
    /// Where the venue had no bars.
    pub gaps: Vec<Gap>,
}

impl fmt::Display for DownloadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} bars written", self.path.display(), self.bars)?;
        if let (Some(first), Some(last)) = (self.first, self.last) {
            write!(f, " ({first} .. {last})")?;
        }
        if let Some(after) = self.resumed_after {
            write!(f, ", continued after {after}")?;
        }
        if self.dropped_torn_line {
            f.write_str(", a torn last row cut off and fetched again")?;
        }
        write!(f, ", {} requests", self.pages)?;
        match self.gaps.len() {
            0 => f.write_str(", no gaps"),
            n => write!(f, ", {n} gap{}", if n == 1 { "" } else { "s" }),
        }
    }
}

/// Downloads the bars `config` asks for into its file, calling `progress` after each page.
///
/// An existing file is continued after its last row (a torn last line, left by an interrupted
/// run, is cut off and fetched again) once its header and its `FILE.meta` (the source and the
/// start it was downloaded from) show it can be: another source, or a `from` before that
/// start, is refused. Otherwise the file is created with [`HEADER`](super::HEADER) and its
/// `.meta` when the first page arrives (at the end, when no page had bars). The gaps are
/// returned in [`DownloadSummary::gaps`], not logged: the caller shows them. Each page is checked whole before any of it is written: rows the
/// venue documents, bars in increasing order inside the range asked, on the interval's
/// boundaries (Binance). Only bars closed by [`DownloadConfig::now`] are fetched.
///
/// # Errors
///
/// [`HistoryError`]: the configuration, the file, the venue (after the retries the rate limits
/// and failures allow), or a page that is not what the venue documents (naming the row).
pub async fn download(
    config: &DownloadConfig,
    mut progress: impl FnMut(&Progress),
) -> Result<DownloadSummary, HistoryError> {
    let timeframe = config.timeframe;
    let step = timeframe.millis();
    if config.from >= config.to {
        return Err(HistoryError::Config(format!(
            "the range is empty: --from {} is not before --to {}",
            config.from, config.to
        )));
    }
    if let HistorySource::Binance { symbol, .. } = &config.source {
        if symbol.is_empty()
            || !symbol
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(HistoryError::Config(format!(
                "`{}` is not a Binance symbol: capital letters and digits, like BTCUSDT",
                super::bar::shorten(symbol)
            )));
        }
    }
    // Where bars can open: Binance's on the interval's boundaries, Kite's day candles at
    // midnight in India. A `from` between two is moved up, so no false gap opens the range.
    let from = match &config.source {
        HistorySource::Binance { .. } => Timestamp::from_millis(
            config
                .from
                .millis()
                .saturating_add(step - 1)
                .div_euclid(step)
                * step,
        ),
        HistorySource::Kite { .. } if timeframe == Timeframe::D1 => {
            kite::next_ist_midnight(config.from)
        }
        HistorySource::Kite { .. } => config.from,
    };
    // Only bars closed by now: a bar still open would change after it is written.
    let closed_by = Timestamp::from_millis(config.now.millis() - step + 1);
    let end = config.to.min(closed_by);
    if from >= end {
        return Err(HistoryError::Config(format!(
            "no {} bar from {} has closed yet (it is {} now)",
            super::bar::interval_label(timeframe),
            config.from,
            config.now
        )));
    }
    let mut fetcher = Fetcher::new(config)?;
    let wanted = Meta::new(&config.source, timeframe, from);
    let (mut output, existing) = Output::open(&config.out, timeframe, wanted)?;
    // A file is continued from the bar after its last row, whatever `--from` says (a later
    // one would leave a hole in a file that holds every bar from its start on).
    let start = match existing.last {
        Some(last) => last.add_millis(step),
        None => from,
    };
    let mut run = Run {
        timeframe,
        gaps_everywhere: matches!(config.source, HistorySource::Binance { .. }),
        previous: existing.last,
        progress: Progress {
            start,
            end,
            last: None,
            bars: 0,
            pages: 0,
        },
        first: None,
        gaps: Vec::new(),
    };
    match &config.source {
        HistorySource::Binance { symbol, .. } => {
            let mut next = start;
            while next < end {
                let path = format!(
                    "{}?{}",
                    binance::KLINES_PATH,
                    binance::query(symbol, timeframe, next, end)
                );
                let body = fetcher.get(&path).await?;
                let bars = binance::parse_klines(&body)
                    .map_err(|error| malformed("binance", &path, error))?;
                run.progress.pages += 1;
                if bars.is_empty() {
                    break;
                }
                run.check(&bars, next, end, true)
                    .map_err(|error| malformed("binance", &path, error))?;
                run.write(&mut output, &bars, next)?;
                progress(&run.progress);
                next = run.progress.last.map_or(end, |last| last.add_millis(step));
            }
            let expected = run.previous.map_or(start, |p| p.add_millis(step));
            if expected < end {
                run.gaps.push(Gap {
                    from: expected,
                    to: end,
                });
            }
        }
        HistorySource::Kite { token, .. } => {
            for (from, to) in kite::windows(timeframe, start, end) {
                let path = kite::path(*token, timeframe, from, to);
                let body = fetcher.get(&path).await?;
                let bars = kite::parse_kite_candles(&body)
                    .map_err(|error| malformed("kite", &path, error))?;
                run.progress.pages += 1;
                run.check(&bars, from, to, false)
                    .map_err(|error| malformed("kite", &path, error))?;
                if !bars.is_empty() {
                    run.write(&mut output, &bars, from)?;
                }
                progress(&run.progress);
            }
        }
    }
    output.finish()?;
    Ok(DownloadSummary {
        path: config.out.clone(),
        resumed_after: existing.last,
        dropped_torn_line: existing.torn,
        bars: run.progress.bars,
        pages: run.progress.pages,
        first: run.first,
        last: run.progress.last,
        end,
        gaps: run.gaps,
    })
}

fn malformed(venue: &'static str, path: &str, error: PageError) -> HistoryError {
    HistoryError::Malformed {
        venue,
        endpoint: path.to_owned(),
        error,
    }
}

/// The state of one download between pages.
struct Run {
    timeframe: Timeframe,
    /// Binance trades around the clock: every missing bar is a gap. Kite's markets close at
    /// night and on holidays: only a missing bar inside a trading day (IST) is.
    gaps_everywhere: bool,
    previous: Option<Timestamp>,
    progress: Progress,
    first: Option<Timestamp>,
    gaps: Vec<Gap>,
}

impl Run {
    /// Every bar opens in `[from, to)`, after the one before it, and (when `aligned`) on a
    /// boundary of the interval.
    fn check(
        &self,
        bars: &[HistoryBar],
        from: Timestamp,
        to: Timestamp,
        aligned: bool,
    ) -> Result<(), PageError> {
        let step = self.timeframe.millis();
        let mut previous = self.previous;
        for (i, bar) in bars.iter().enumerate() {
            let (row, at) = (i + 1, bar.open_time);
            if at < from || at >= to {
                return Err(PageError::row(
                    row,
                    format!("the bar opening at {at} is outside the range asked ({from} .. {to})"),
                ));
            }
            if let Some(before) = previous.filter(|p| at <= *p) {
                return Err(PageError::row(
                    row,
                    format!("the bar opening at {at} is not after the bar before it ({before}): bars out of order or repeated"),
                ));
            }
            if aligned && at.millis().rem_euclid(step) != 0 {
                return Err(PageError::row(
                    row,
                    format!(
                        "the bar opening at {at} is not on a {} boundary",
                        super::bar::interval_label(self.timeframe)
                    ),
                ));
            }
            previous = Some(at);
        }
        Ok(())
    }

    /// Notes the gaps before each bar, then appends the page.
    fn write(
        &mut self,
        output: &mut Output,
        bars: &[HistoryBar],
        page_start: Timestamp,
    ) -> Result<(), HistoryError> {
        let step = self.timeframe.millis();
        for bar in bars {
            let at = bar.open_time;
            match self.previous {
                Some(before) => {
                    let expected = before.add_millis(step);
                    let same_day = self.timeframe != Timeframe::D1
                        && kite::ist_day(before) == kite::ist_day(at);
                    if at > expected && (self.gaps_everywhere || same_day) {
                        self.gaps.push(Gap {
                            from: expected,
                            to: at,
                        });
                    }
                }
                // A range that starts with no bars (a listing later than asked) is a gap too.
                None if self.gaps_everywhere && at > page_start => {
                    self.gaps.push(Gap {
                        from: page_start,
                        to: at,
                    });
                }
                None => {}
            }
            self.previous = Some(at);
        }
        output.append(bars, self.timeframe)?;
        self.first = self.first.or(bars.first().map(|b| b.open_time));
        self.progress.last = bars.last().map(|b| b.open_time);
        self.progress.bars += bars.len() as u64;
        Ok(())
    }
}
