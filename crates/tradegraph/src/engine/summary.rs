//! What a run comes to: trades, P&L, win rate, Sharpe, drawdown, buy-and-hold.

use super::ledger::TradeLedger;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use tradegraph_agents::learning::{Learner, TradeOutcome};
use tradegraph_agents::TradingState;
use tradegraph_core::order::Fill;
use tradegraph_core::position::Account;
use tradegraph_core::risk::VerdictStatus;
use tradegraph_core::Timestamp;

/// Equity at one time.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EquityPoint {
    /// When.
    pub ts: Timestamp,
    /// Equity then (cash plus open positions at the mark).
    pub equity: Decimal,
}

/// How the guard ruled on the cycles' decisions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerdictCounts {
    /// Approved as proposed.
    pub approved: u64,
    /// Approved with changes (size clamped, stop set).
    pub clamped: u64,
    /// Rejected.
    pub rejected: u64,
}

/// The summary of a bot's run. Trades, wins and realized P&L come from the trade ledger (the
/// broker's fills), the equity curve from the broker's account.
#[derive(Debug, Clone, Default)]
pub struct BotSummary {
    /// Starting capital.
    pub initial_cash: Decimal,
    /// Decision cycles run.
    pub cycles: u64,
    /// Cycles whose decision was BUY, SELL or CLOSE.
    pub decisions_to_act: u64,
    /// The guard's verdicts.
    pub verdicts: VerdictCounts,
    /// Orders the execution agent refused to send because the verdict no longer held.
    pub refusals: u64,
    /// Orders submitted.
    pub orders: u64,
    /// Reports made by a model, and by rules.
    pub reports_by_model: u64,
    /// Reports made by rules.
    pub reports_by_rules: u64,
    /// Reports where a model was asked and rules took over (provider failed, bad answer).
    pub fallbacks: u64,
    /// Closed trades (since the bot first started, for a restarted bot).
    pub trades: u64,
    /// Closed trades that made money.
    pub wins: u64,
    /// Net P&L of the closed trades, from the fills.
    pub realized_pnl: Decimal,
    /// The trades closed in this run, in order.
    pub closed_trades: Vec<TradeOutcome>,
    /// Equity over time (every one-minute bar).
    pub equity: Vec<EquityPoint>,
    /// First and last price seen, for buy-and-hold.
    pub first_price: Option<Decimal>,
    /// Last price seen.
    pub last_price: Option<Decimal>,
    /// The account at the end.
    pub final_account: Option<Account>,
    /// Malformed input the feed skipped (lines, frames).
    pub malformed_events: u64,
    /// Feed reconnects.
    pub reconnects: u64,
    /// Gaps the feed reported.
    pub gaps: u64,
    /// Times the feed went quiet past the stale limit.
    pub stale_feed: u64,
    /// Lessons written to the lesson log in this run.
    pub lessons: u64,
    /// Lessons the learner keeps for retrieval.
    pub lessons_kept: usize,
    /// Decision cycles that failed (the bot went on).
    pub cycle_errors: u64,
    /// Market events the broker refused.
    pub broker_errors: u64,
    /// The trade ledger was rebuilt from the broker's fills at start (it was ahead of them).
    pub ledger_rebuilt: bool,
    /// Every fill of this run, in order, as the trade ledger read them.
    pub fills: Vec<Fill>,
    /// Store writes that failed (the bot went on; see the warnings).
    pub store_errors: u64,
}

impl BotSummary {
    pub(super) fn new(initial_cash: Decimal) -> Self {
        Self {
            initial_cash,
            ..Self::default()
        }
    }

    pub(super) fn observe_price(&mut self, price: Decimal) {
        self.first_price.get_or_insert(price);
        self.last_price = Some(price);
    }

    pub(super) fn observe_equity(&mut self, ts: Timestamp, equity: Decimal) {
        self.equity.push(EquityPoint { ts, equity });
    }

    pub(super) fn record_cycle(&mut self, state: &TradingState) {
        self.cycles += 1;
        if state.refusal.is_some() {
            self.refusals += 1;
        }
        if let Some(d) = &state.decision {
            if d.report.action != tradegraph_agents::reports::Action::Hold {
                self.decisions_to_act += 1;
            }
        }
        if let Some(v) = &state.verdict {
            let count = match v.status {
                VerdictStatus::Approved => &mut self.verdicts.approved,
                VerdictStatus::Clamped => &mut self.verdicts.clamped,
                VerdictStatus::Rejected => &mut self.verdicts.rejected,
            };
            *count += 1;
        }
        self.orders += state.orders.len() as u64;
        let modes = [
            state.technical.as_ref().map(|r| &r.mode),
            state.fundamental.as_ref().map(|r| &r.mode),
            state.sentiment.as_ref().map(|r| &r.mode),
            state.macro_view.as_ref().map(|r| &r.mode),
            state.risk.as_ref().map(|r| &r.mode),
            state.decision.as_ref().map(|r| &r.mode),
        ];
        for mode in modes
            .into_iter()
            .flatten()
            .chain(state.debate.iter().map(|e| &e.turn.mode))
        {
            match mode {
                tradegraph_agents::reports::AgentMode::Llm { .. } => self.reports_by_model += 1,
                tradegraph_agents::reports::AgentMode::Rule { reason } => {
                    self.reports_by_rules += 1;
                    if reason != "no provider configured" {
                        self.fallbacks += 1;
                    }
                }
            }
        }
    }

    pub(super) fn finish(&mut self, ledger: &TradeLedger, learner: &Learner) {
        self.trades = ledger.closed_trades();
        self.wins = ledger.winning_trades();
        self.realized_pnl = ledger.realized();
        self.lessons_kept = learner.lessons().len();
    }

    /// Final equity.
    pub fn final_equity(&self) -> Decimal {
        self.final_account
            .as_ref()
            .map_or(self.initial_cash, |a| a.equity)
    }

    /// Net P&L (after fees).
    pub fn pnl(&self) -> Decimal {
        self.final_equity() - self.initial_cash
    }

    /// Return on the initial capital, in percent.
    pub fn return_pct(&self) -> f64 {
        ratio_pct(self.pnl(), self.initial_cash)
    }

    /// Share of closed trades that made money, in percent (`None` without trades).
    pub fn win_rate_pct(&self) -> Option<f64> {
        (self.trades > 0).then(|| 100.0 * self.wins as f64 / self.trades as f64)
    }

    /// Buy-and-hold over the same bars, in percent.
    pub fn buy_and_hold_pct(&self) -> Option<f64> {
        match (self.first_price, self.last_price) {
            (Some(first), Some(last)) => Some(ratio_pct(last - first, first)),
            _ => None,
        }
    }

    /// Largest fall of equity from a previous peak, in percent.
    pub fn max_drawdown_pct(&self) -> f64 {
        let mut peak = f64::MIN;
        let mut worst: f64 = 0.0;
        for p in &self.equity {
            let e = p.equity.to_f64().unwrap_or(0.0);
            peak = peak.max(e);
            if peak > 0.0 {
                worst = worst.max(100.0 * (peak - e) / peak);
            }
        }
        worst
    }

    /// Annualized Sharpe ratio of per-bar equity returns (no risk-free rate), with
    /// `bars_per_year` one-minute bars a year (525,600 for 24/7 markets, 375 × 250 for NSE).
    pub fn sharpe(&self, bars_per_year: f64) -> Option<f64> {
        let returns: Vec<f64> = self
            .equity
            .windows(2)
            .filter_map(|w| {
                let (a, b) = (w[0].equity.to_f64()?, w[1].equity.to_f64()?);
                (a > 0.0).then(|| b / a - 1.0)
            })
            .collect();
        if returns.len() < 2 {
            return None;
        }
        let n = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (var > 0.0).then(|| mean / var.sqrt() * bars_per_year.sqrt())
    }
}

fn ratio_pct(num: Decimal, den: Decimal) -> f64 {
    if den.is_zero() {
        return 0.0;
    }
    num.checked_div(den)
        .and_then(|r| r.to_f64())
        .map_or(0.0, |r| 100.0 * r)
}
