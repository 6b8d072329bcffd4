//! `summary.json`: every figure of the run with what it was run on, deterministic (no wall-clock
//! time, no durations, keys in a fixed order), so two identical runs write identical bytes.

use super::decisions::{AgentStats, DataSpan};
use crate::backtest::metrics::{Baselines, Metrics, Period};
use crate::backtest::walk::Window;
use crate::engine::{bars_per_year, BotSummary};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tradegraph_agents::AgentName;
use tradegraph_llm::budget::Accounting;

/// The file name.
pub const SUMMARY_FILE: &str = "summary.json";

/// The version of `summary.json`'s layout.
pub const SUMMARY_FORMAT: u32 = 1;

/// The run's counts, and the headline figures as the terminal's summary shows them (the
/// figures under `metrics` are the reference: empyrical's definitions, annualization stated).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Results {
    /// Starting capital.
    pub initial_cash: Decimal,
    /// Equity at the end.
    pub final_equity: Decimal,
    /// Net P&L (after fees).
    pub pnl: Decimal,
    /// P&L in percent of the starting capital.
    pub return_pct: f64,
    /// Net P&L of the closed trades.
    pub realized_pnl: Decimal,
    /// Fees of every fill.
    pub fees_paid: Decimal,
    /// Closed trades.
    pub trades: u64,
    /// Closed trades that made money.
    pub wins: u64,
    /// Share of winning trades in percent, `null` without trades.
    pub win_rate_pct: Option<f64>,
    /// Largest fall from a peak, in percent.
    pub max_drawdown_pct: f64,
    /// Annualized Sharpe ratio of the per-bar returns (no risk-free rate).
    pub sharpe: Option<f64>,
    /// The bars per year the Sharpe ratio is annualized with.
    pub bars_per_year: f64,
    /// How much the price moved from the first bar to the last, in percent: no costs, not a
    /// baseline (buy-and-hold, costs included, is `baselines.buy_and_hold`).
    pub price_change_pct: Option<f64>,
    /// Decision cycles.
    pub cycles: u64,
    /// Cycles that decided to buy, sell or close.
    pub decisions_to_act: u64,
    /// Guard verdicts: approved as proposed.
    pub approved: u64,
    /// Guard verdicts: approved with changes.
    pub clamped: u64,
    /// Guard verdicts: rejected.
    pub rejected: u64,
    /// Orders submitted.
    pub orders: u64,
    /// Orders the execution agent refused to send.
    pub refusals: u64,
    /// Reports made by a model.
    pub reports_by_model: u64,
    /// Reports made by rules.
    pub reports_by_rules: u64,
    /// Reports where rules took over from a failed model.
    pub fallbacks: u64,
    /// Cycles that failed (the run went on).
    pub cycle_errors: u64,
    /// Malformed input the feed skipped.
    pub malformed_events: u64,
}

impl Results {
    /// The figures of `s`, a run on `instrument`.
    pub fn of(s: &BotSummary, instrument: &tradegraph_core::Instrument) -> Self {
        let per_year = bars_per_year(instrument);
        Self {
            initial_cash: s.initial_cash,
            final_equity: s.final_equity(),
            pnl: s.pnl(),
            return_pct: s.return_pct(),
            realized_pnl: s.realized_pnl,
            fees_paid: s.fills.iter().map(|f| f.fee).sum(),
            trades: s.trades,
            wins: s.wins,
            win_rate_pct: s.win_rate_pct(),
            max_drawdown_pct: s.max_drawdown_pct(),
            sharpe: s.sharpe(per_year).filter(|v| v.is_finite()),
            bars_per_year: per_year,
            price_change_pct: s.price_change_pct(),
            cycles: s.cycles,
            decisions_to_act: s.decisions_to_act,
            approved: s.verdicts.approved,
            clamped: s.verdicts.clamped,
            rejected: s.verdicts.rejected,
            orders: s.orders,
            refusals: s.refusals,
            reports_by_model: s.reports_by_model,
            reports_by_rules: s.reports_by_rules,
            fallbacks: s.fallbacks,
            cycle_errors: s.cycle_errors,
            malformed_events: s.malformed_events,
        }
    }
}

/// The graph the run used: where it came from and a hash of its definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphVersion {
    /// Where the definition came from (a file, or the bundled default).
    pub origin: String,
    /// SHA-256 of the definition's text, hex.
    pub sha256: String,
}

impl GraphVersion {
    /// The version of the graph defined by `yaml`, from `origin`.
    ///
    /// ```
    /// use tradegraph::backtest::report::GraphVersion;
    /// let v = GraphVersion::of("graphs/trading.yaml", "nodes: []");
    /// assert_eq!(v.sha256.len(), 64);
    /// assert_ne!(v.sha256, GraphVersion::of("graphs/trading.yaml", "nodes: [a]").sha256);
    /// ```
    pub fn of(origin: &str, yaml: &str) -> Self {
        let digest = Sha256::digest(yaml.as_bytes());
        Self {
            origin: origin.to_owned(),
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// The fill and cost model the paper broker used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Costs {
    /// The model in words: fees, slippage and when market orders fill.
    pub fills: String,
    /// The same, as the broker describes itself (fee table, slippage model, fill timing).
    pub fees: serde_json::Value,
}

/// The contents of `summary.json`, in the order written.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// [`SUMMARY_FORMAT`].
    pub format: u32,
    /// The version of tradegraph that made the run.
    pub tradegraph_version: String,
    /// The instrument's symbol.
    pub instrument: String,
    /// The part of the data file the run read (`--from`/`--to`; a window's `[from, to)`).
    pub period: Period,
    /// The walk-forward window the run is, `null` for a plain run.
    pub window: Option<Window>,
    /// The bars the run was given: how many, the first and the last.
    pub data: DataSpan,
    /// SHA-256 of the data file, hex: a reader can check the run used the same data.
    pub data_sha256: String,
    /// The run's counts and headline figures, as the terminal's summary shows them.
    pub results: Results,
    /// Every metric, as empyrical defines it, with its annualization.
    pub metrics: Metrics,
    /// The same metrics of the baselines on the same data: buy-and-hold, and the graph in
    /// rule mode (`null` when they were not run).
    pub baselines: Option<Baselines>,
    /// Why the baselines are missing when they were run and failed (`null` otherwise).
    pub baselines_error: Option<String>,
    /// Why the run stopped before the end of its data (a replay at its first missing answer:
    /// its figures cover the bars up to there), `null` for a whole run.
    pub stopped: Option<String>,
    /// A warning when the figures look too good to be true (a Sharpe ratio above 3 over less
    /// than six months, see [`Metrics::suspicious`]), else `null`.
    pub suspicious: Option<String>,
    /// The fill and cost model.
    pub costs: Costs,
    /// Notices about the model: the run's period before its training cut-off, say.
    pub model_notices: Vec<String>,
    /// The graph's version.
    pub graph: GraphVersion,
    /// Each agent's prompt version.
    pub prompt_versions: BTreeMap<AgentName, String>,
    /// Each agent's reports, signals and hit rate.
    pub agents: BTreeMap<AgentName, AgentStats>,
    /// The run's model calls, tokens and cost (`null` in rule mode: no model configured).
    pub llm: Option<Accounting>,
    /// The resolved settings, secrets masked (as `tradegraph config show --format json`).
    pub configuration: serde_json::Value,
}

impl Summary {
    /// `summary.json`'s text: pretty-printed, ending in a newline.
    ///
    /// # Errors
    /// When a figure cannot be written as JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }
}
