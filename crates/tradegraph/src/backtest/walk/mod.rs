//! Walk-forward: the data's period cut into consecutive windows, each backtested and reported
//! on its own (`DIR/window-01/...`), with an overview (`DIR/walk-forward.json`, a table in the
//! terminal and `DIR/report.html`), so a result that holds in one regime only shows.
//!
//! The period runs from the first bar to the last (within `--from`/`--to`); [`split`] cuts it by
//! time into `N` windows of about equal length, `[from, to)` each, the inner edges on the
//! decision timeframe, the last one ending just after the last bar: every bar is in exactly one
//! window. Each window must hold at least [`MIN_CYCLES_PER_WINDOW`] decision cycles' worth of
//! bars. [`run`] backtests every window (each a fresh bot; the model and its spending cap are
//! shared: one budget for the whole walk-forward) and returns the [`Overview`]; [`run_one`]
//! backtests one period, with or without a report.

mod overview;
mod run;
mod split;
#[cfg(test)]
mod tests;

pub use overview::{Aggregate, Overview, WindowResult};
pub use run::{run, run_one, Observer, Outcome, RunSpec, WalkHooks};
pub use split::{bar_times, bars_per_cycle, cycle_minutes, plan, split, DataScan};

use super::report::ReportError;
use crate::engine::EngineError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tradegraph_core::{Timeframe, Timestamp};

/// Decision cycles a window must hold at least.
pub const MIN_CYCLES_PER_WINDOW: u64 = 10;

/// The overview's file.
pub const OVERVIEW_FILE: &str = "walk-forward.json";

/// Why the data cannot be split.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalkError {
    /// The data file could not be opened or read.
    #[error("{}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The data file's bars are longer than a minute: a backtest's paper fills and equity curve
    /// are per one-minute bar, so it would run with no price and report nothing.
    #[error(
        "{}: line {line}: {timeframe} bars: a backtest replays one-minute bars (its paper fills \
         and equity curve are per minute); download the period with `tradegraph data download \
         ... --interval 1m`",
        path.display()
    )]
    NotMinuteBars {
        /// The file.
        path: PathBuf,
        /// The first line (from 1) holding a longer bar.
        line: usize,
        /// That bar's interval.
        timeframe: Timeframe,
    },
    /// The data (within `--from`/`--to`) holds no closed one-minute bar.
    #[error(
        "--split: no one-minute bars in the data or the period; --split needs a file of bars \
         (a CSV of one-minute bars, or a recording with closed candles) and a --from/--to that holds some"
    )]
    NoBars,
    /// Fewer than two windows were asked for.
    #[error("--split {0}: walk-forward needs at least 2 windows")]
    TooFewWindows(usize),
    /// More windows were asked for than the bars can fill with the least a window needs.
    #[error(
        "--split {windows}: {bars} bars hold at most {most} windows; {windows} would hold \
         fewer than the {min} bars ({MIN_CYCLES_PER_WINDOW} decision cycles) a window needs; \
         split into fewer windows or give more data"
    )]
    TooManyWindows {
        /// Windows asked for.
        windows: usize,
        /// The bars in the data and period.
        bars: usize,
        /// The most windows they hold.
        most: u64,
        /// The least a window needs.
        min: u64,
    },
    /// A window would hold too few bars.
    #[error(
        "--split {windows}: window {index} ({from} to {to}) holds {bars} bars, fewer than the {min} \
         ({MIN_CYCLES_PER_WINDOW} decision cycles) a window needs; split into fewer windows or give more data"
    )]
    WindowTooSmall {
        /// Windows asked for.
        windows: usize,
        /// The window, from 1.
        index: usize,
        /// Its start.
        from: Timestamp,
        /// Its end (exclusive).
        to: Timestamp,
        /// Its bars.
        bars: u64,
        /// The least a window needs.
        min: u64,
    },
    /// A backtest could not be set up or a cycle failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A report file could not be written.
    #[error("report: {0}")]
    Report(#[from] ReportError),
    /// The caller stopped the walk-forward after a window (a replay that missed answers, say).
    #[error("{0}")]
    Stopped(String),
}

/// One window of a walk-forward run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Its number, from 1.
    pub index: usize,
    /// Its start (inclusive).
    pub from: Timestamp,
    /// Its end (exclusive).
    pub to: Timestamp,
    /// The bars in it.
    pub bars: u64,
}

impl Window {
    /// Its report's folder name: `window-01`, `window-02`, ...
    pub fn dir_name(&self) -> String {
        format!("window-{:02}", self.index)
    }
}
