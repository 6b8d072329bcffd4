//! Backtest report files: what `tradegraph backtest --out DIR` writes.
//!
//! | file | what |
//! |---|---|
//! | `summary.json` | every figure, the bars (first, last, count), the fill and cost model, the graph's hash and each agent's prompt version, the agents' tallies, the model usage and the resolved settings (secrets masked); deterministic: two identical runs write identical bytes |
//! | `equity.csv` | `timestamp,equity,drawdown_pct`, one row per one-minute bar |
//! | `trades.csv` | one row per round trip: entry and exit time and price, side, quantity, P&L, fees |
//! | `decisions.jsonl` | one line per decision cycle: the agents' reports, the debate, the decision, the guard's verdict, the orders ([`Decision`]) |
//! | `equity.svg`, `drawdown.svg` | the curves, drawn with plotters' SVG backend (text as SVG text, no system font) |
//! | `report.html` | one self-contained page (inline SVG and CSS, no script, no external URL): the plots, the figures, the agents, the model calls, tokens and cost, the trades |
//!
//! A run fills a [`Recorder`] (the decisions, as the cycles finish) and a [`DataSpan`] (the
//! bars, as the feed gives them); [`Report::new`] puts them together with the engine's
//! [`BotSummary`] and the run's [`Context`], and [`Report::write`]
//! writes the files. Walk-forward runs (`--split N`) write one report per window and an
//! overview ([`super::walk`]).

mod context;
mod csv;
mod decisions;
mod error;
mod html;
mod summary;
mod svg;
mod trades;

pub use self::csv::{equity_rows, EquityRow, EQUITY_HEADER, TRADES_HEADER};
pub use context::Context;
pub use decisions::{
    AgentStats, BarPoint, DataSpan, Decision, DecisionRecord, Recorder, RunLog, DECISIONS_FILE,
    PROMPTS_FILE,
};
pub use error::ReportError;
pub use html::{escape, render, MAX_TRADE_ROWS, REPORT_FILE};
pub(crate) use html::{page_start, PAGE_END};
pub use summary::{Costs, GraphVersion, Results, Summary, SUMMARY_FILE, SUMMARY_FORMAT};
pub use svg::{drawdown_svg, equity_svg, MAX_PLOT_POINTS};
pub use trades::{round_trips, TradeRow};

use crate::backtest::metrics::Metrics;
use crate::engine::BotSummary;
use std::path::{Path, PathBuf};
use tradegraph_agents::reports::Signal;

/// The equity curve's file.
pub const EQUITY_CSV: &str = "equity.csv";
/// The trades' file.
pub const TRADES_CSV: &str = "trades.csv";
/// The equity plot's file.
pub const EQUITY_SVG: &str = "equity.svg";
/// The drawdown plot's file.
pub const DRAWDOWN_SVG: &str = "drawdown.svg";

/// The files and folders a report (or a walk-forward's) leaves in its folder.
const REPORT_ENTRIES: [&str; 10] = [
    SUMMARY_FILE,
    DECISIONS_FILE,
    PROMPTS_FILE,
    EQUITY_CSV,
    TRADES_CSV,
    EQUITY_SVG,
    DRAWDOWN_SVG,
    REPORT_FILE,
    crate::backtest::walk::OVERVIEW_FILE,
    "window-",
];

/// Prepares the output folder `dir`: refuses one that holds a report already (a report file,
/// or a walk-forward's `window-NN` folder), so a new run never mixes its files with an old
/// run's, then creates it (and its parents). A missing or empty folder, or one holding other
/// files only, is fine.
///
/// ```
/// use tradegraph::backtest::report::prepare_out;
/// let dir = std::env::temp_dir().join(format!("tg-check-out-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// assert!(prepare_out(&dir).is_ok());
/// std::fs::write(dir.join("summary.json"), "{}")?;
/// assert!(prepare_out(&dir).unwrap_err().to_string().contains("summary.json"));
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`ReportError::NotEmpty`] naming the folder and the entry found, [`ReportError::Io`] when
/// the folder cannot be created.
pub fn prepare_out(dir: &Path) -> Result<(), ReportError> {
    let create = || {
        std::fs::create_dir_all(dir)
            .map_err(|e| ReportError::io(dir, "creating the report folder failed", e))
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        // missing, or not a folder: creating it says which
        return create();
    };
    let mut found: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            REPORT_ENTRIES
                .iter()
                .any(|known| name == known || (known.ends_with('-') && name.starts_with(known)))
        })
        .collect();
    found.sort();
    match found.first() {
        Some(first) => Err(ReportError::NotEmpty {
            path: dir.to_path_buf(),
            found: first.clone(),
        }),
        None => create(),
    }
}

/// A run's report, ready to write.
#[derive(Debug, Clone)]
pub struct Report {
    /// `summary.json`'s contents.
    pub summary: Summary,
    /// `equity.csv`'s rows.
    pub equity: Vec<EquityRow>,
    /// `trades.csv`'s rows.
    pub trades: Vec<TradeRow>,
}

/// The files [`Report::write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The folder.
    pub dir: PathBuf,
    /// `report.html` in it.
    pub html: PathBuf,
}

impl Report {
    /// The report of the run `run` summarized, on `data`, with `log` from its [`Recorder`].
    pub fn new(run: &BotSummary, data: DataSpan, mut log: RunLog, context: Context) -> Self {
        for trade in &run.closed_trades {
            let moved = trade.moved();
            for (agent, signal) in &trade.signals {
                if *signal != Signal::Hold {
                    log.agents
                        .entry(*agent)
                        .or_default()
                        .judge(*signal == moved);
                }
            }
        }
        let metrics = Metrics::of_run(run, &context.instrument);
        let summary = Summary {
            format: SUMMARY_FORMAT,
            tradegraph_version: env!("CARGO_PKG_VERSION").to_owned(),
            instrument: context.instrument.symbol.to_string(),
            period: context.period,
            window: context.window,
            data,
            data_sha256: context.data_sha256,
            results: Results::of(run, &context.instrument),
            suspicious: metrics.suspicious(),
            metrics,
            baselines: context.baselines,
            baselines_error: context.baselines_error,
            stopped: context.stopped,
            costs: context.costs,
            model_notices: context.model_notices,
            graph: context.graph,
            prompt_versions: log.prompt_versions,
            agents: log.agents,
            llm: context.llm,
            configuration: context.configuration,
        };
        Self {
            summary,
            equity: equity_rows(&run.equity),
            trades: round_trips(&run.closed_trades),
        }
    }

    /// Writes `summary.json`, the CSVs, the plots and `report.html` into `dir` (which the
    /// [`Recorder`] created, `decisions.jsonl` in it).
    ///
    /// # Errors
    /// [`ReportError`] naming the file that could not be written and why.
    pub fn write(&self, dir: &Path) -> Result<Written, ReportError> {
        let put = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map_err(|e| ReportError::io(&path, "writing the file failed", e))
        };
        let path = dir.join(SUMMARY_FILE);
        let json = self
            .summary
            .to_json()
            .map_err(|source| ReportError::Json { path, source })?;
        put(SUMMARY_FILE, &json)?;
        csv::write(&dir.join(EQUITY_CSV), EQUITY_HEADER, &self.equity)?;
        csv::write(&dir.join(TRADES_CSV), TRADES_HEADER, &self.trades)?;
        let symbol = &self.summary.instrument;
        let equity = equity_svg(
            &self.equity,
            &format!("{symbol} equity"),
            &dir.join(EQUITY_SVG),
        )?;
        let drawdown = drawdown_svg(
            &self.equity,
            &format!("{symbol} drawdown (% below the peak)"),
            &dir.join(DRAWDOWN_SVG),
        )?;
        put(EQUITY_SVG, &equity)?;
        put(DRAWDOWN_SVG, &drawdown)?;
        put(
            REPORT_FILE,
            &render(&self.summary, &self.trades, &equity, &drawdown),
        )?;
        Ok(Written {
            dir: dir.to_path_buf(),
            html: dir.join(REPORT_FILE),
        })
    }
}
