//! The walk-forward overview: one line per window, the windows taken together, written as
//! `walk-forward.json` and `report.html`.

use super::{Window, OVERVIEW_FILE};
use crate::backtest::metrics::{Baselines, Metrics, RULE_MODE_IS_THE_RUN};
use crate::backtest::report::{self, BarPoint, Report, ReportError};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// One window's line of the overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowResult {
    /// The window.
    #[serde(flatten)]
    pub window: Window,
    /// Its report's folder, relative to the overview.
    pub dir: String,
    /// The first bar the run was given.
    pub first: Option<BarPoint>,
    /// The last bar.
    pub last: Option<BarPoint>,
    /// The run's counts (cycles, verdicts, orders), as in its `summary.json`.
    pub results: report::Results,
    /// The run's metrics, as empyrical defines them.
    pub metrics: Metrics,
    /// Its baselines on the window's data (`null` when they were not run).
    pub baselines: Option<Baselines>,
    /// The window's suspicious-result warning, if any.
    pub suspicious: Option<String>,
}

impl WindowResult {
    /// The line of `window`, whose report is `report`.
    pub fn of(window: Window, report: &Report) -> Self {
        Self {
            window,
            dir: window.dir_name(),
            first: report.summary.data.first,
            last: report.summary.data.last,
            results: report.summary.results.clone(),
            metrics: report.summary.metrics.clone(),
            baselines: report.summary.baselines.clone(),
            suspicious: report.summary.suspicious.clone(),
        }
    }

    /// Buy-and-hold's total return in the window, when it was run.
    pub fn hold_return(&self) -> Option<f64> {
        self.baselines
            .as_ref()
            .and_then(|b| b.buy_and_hold.total_return)
    }

    /// The graph in rule mode's total return: its baseline's, or the run's own when the run is
    /// in rule mode.
    pub fn rule_mode_return(&self) -> Option<f64> {
        let b = self.baselines.as_ref()?;
        match &b.rule_mode {
            Some(m) => m.total_return,
            None if b.rule_mode_note.as_deref() == Some(RULE_MODE_IS_THE_RUN) => {
                self.metrics.total_return
            }
            None => None,
        }
    }
}

/// The windows taken together: whether the result holds across regimes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aggregate {
    /// Windows whose total return beat buy-and-hold's.
    pub beat_buy_and_hold: u64,
    /// Windows where both returns are known (the denominator of the above).
    pub compared: u64,
    /// The median of the windows' total returns (fractions), `null` without any.
    pub median_return: Option<f64>,
    /// The worst window's total return.
    pub worst_return: Option<f64>,
    /// The lowest window Sharpe ratio.
    pub sharpe_min: Option<f64>,
    /// The highest window Sharpe ratio.
    pub sharpe_max: Option<f64>,
}

impl Aggregate {
    /// The aggregate of `windows`.
    ///
    /// ```
    /// use tradegraph::backtest::walk::Aggregate;
    /// let a = Aggregate::of(&[]);
    /// assert_eq!((a.beat_buy_and_hold, a.compared, a.median_return), (0, 0, None));
    /// ```
    pub fn of(windows: &[WindowResult]) -> Self {
        let mut returns: Vec<f64> = windows
            .iter()
            .filter_map(|w| w.metrics.total_return)
            .filter(|v| v.is_finite())
            .collect();
        returns.sort_by(f64::total_cmp);
        let median = match returns.len() {
            0 => None,
            n if n % 2 == 1 => Some(returns[n / 2]),
            n => Some((returns[n / 2 - 1] + returns[n / 2]) / 2.0),
        };
        let pairs: Vec<(f64, f64)> = windows
            .iter()
            .filter_map(|w| Some((w.metrics.total_return?, w.hold_return()?)))
            .collect();
        let sharpes: Vec<f64> = windows
            .iter()
            .filter_map(|w| w.metrics.sharpe)
            .filter(|v| v.is_finite())
            .collect();
        Self {
            beat_buy_and_hold: pairs.iter().filter(|(r, h)| r > h).count() as u64,
            compared: pairs.len() as u64,
            median_return: median,
            worst_return: returns.first().copied(),
            sharpe_min: sharpes.iter().copied().reduce(f64::min),
            sharpe_max: sharpes.iter().copied().reduce(f64::max),
        }
    }

    /// The aggregate in one line, as the terminal and the page show it.
    pub fn line(&self) -> String {
        format!(
            "beat buy-and-hold in {}/{} windows; median return {}, worst {}; Sharpe from {} to {}",
            self.beat_buy_and_hold,
            self.compared,
            frac(self.median_return),
            frac(self.worst_return),
            num(self.sharpe_min),
            num(self.sharpe_max)
        )
    }
}

fn frac(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{:+.2}%", 100.0 * v))
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"))
}

/// The overview of a walk-forward run: `walk-forward.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    /// The instrument's symbol.
    pub instrument: String,
    /// The windows, in time order.
    pub windows: Vec<WindowResult>,
    /// The windows taken together.
    pub aggregate: Aggregate,
    /// Notes on the run as a whole (how the model budget was shared, say).
    pub notes: Vec<String>,
}

impl Overview {
    /// The overview of `windows` of a run on `instrument`.
    pub fn new(instrument: &str, windows: Vec<WindowResult>, notes: Vec<String>) -> Self {
        Self {
            instrument: instrument.to_owned(),
            aggregate: Aggregate::of(&windows),
            windows,
            notes,
        }
    }

    /// The table the terminal shows: one line per window (returns are total returns; "hold"
    /// is the buy-and-hold baseline, costs included; "rules" the graph in rule mode), then the
    /// aggregate.
    pub fn table(&self) -> String {
        let mut t = format!(
            "--- walk-forward: {} windows ---\n{:<4} {:<24} {:<24} {:>7} {:>9} {:>9} {:>9} {:>7} {:>8} {:>7}\n",
            self.windows.len(),
            "win",
            "from",
            "to",
            "bars",
            "return",
            "hold",
            "rules",
            "Sharpe",
            "max dd",
            "trades"
        );
        for w in &self.windows {
            let m = &w.metrics;
            let _ = writeln!(
                t,
                "{:<4} {:<24} {:<24} {:>7} {:>9} {:>9} {:>9} {:>7} {:>8} {:>7}{}",
                w.window.index,
                w.window.from.to_string(),
                w.window.to.to_string(),
                w.window.bars,
                frac(m.total_return),
                frac(w.hold_return()),
                frac(w.rule_mode_return()),
                num(m.sharpe),
                frac(m.max_drawdown),
                m.trades,
                if w.suspicious.is_some() {
                    "  suspicious"
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(t, "all: {}", self.aggregate.line());
        for note in &self.notes {
            let _ = writeln!(t, "note: {note}");
        }
        t
    }

    /// The overview page: the table, each window linking to its report, and the aggregate.
    pub fn html(&self) -> String {
        let mut h = report::page_start(&format!("Walk-forward of {}", self.instrument));
        let _ = writeln!(
            h,
            "<h1>Walk-forward of {}: {} windows</h1>",
            report::escape(&self.instrument),
            self.windows.len()
        );
        h += "<p>Each window is a backtest of its own; a result that holds in one window only is a result of that regime.</p>\n";
        let _ = writeln!(
            h,
            "<p><strong>{}</strong></p>",
            report::escape(&self.aggregate.line())
        );
        for note in &self.notes {
            let _ = writeln!(h, "<p>{}</p>", report::escape(note));
        }
        h += "<table><thead><tr><th>window</th><th>from</th><th>to</th><th>bars</th><th>total return</th><th>buy-and-hold</th><th>rule mode</th><th>Sharpe</th><th>max drawdown</th><th>trades</th><th>suspicious</th></tr></thead><tbody>\n";
        for w in &self.windows {
            let m = &w.metrics;
            let cells = [
                w.window.from.to_string(),
                w.window.to.to_string(),
                w.window.bars.to_string(),
                frac(m.total_return),
                frac(w.hold_return()),
                frac(w.rule_mode_return()),
                num(m.sharpe),
                frac(m.max_drawdown),
                m.trades.to_string(),
                w.suspicious.clone().unwrap_or_default(),
            ];
            let _ = write!(
                h,
                "<tr><td><a href=\"{0}/{1}\">{0}</a></td>",
                report::escape(&w.dir),
                report::REPORT_FILE
            );
            for c in cells {
                let _ = write!(h, "<td>{}</td>", report::escape(&c));
            }
            h += "</tr>\n";
        }
        h += "</tbody></table>\n";
        h + report::PAGE_END
    }

    /// Writes `walk-forward.json` and `report.html` into `dir`.
    ///
    /// # Errors
    /// [`ReportError`] naming the file that could not be written.
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        let path = dir.join(OVERVIEW_FILE);
        let mut json = serde_json::to_string_pretty(self).map_err(|source| ReportError::Json {
            path: path.clone(),
            source,
        })?;
        json.push('\n');
        std::fs::write(&path, json)
            .map_err(|e| ReportError::io(&path, "writing the file failed", e))?;
        let path = dir.join(report::REPORT_FILE);
        std::fs::write(&path, self.html())
            .map_err(|e| ReportError::io(&path, "writing the file failed", e))
    }
}
