//! What a run comes to: trades, P&L, win rate, Sharpe, drawdown, the price's change. The figures
//! of the equity curve are [`crate::backtest::metrics`]'s (one definition of each).

use super::ledger::TradeLedger;
use crate::backtest::metrics::returns::{self, Running};
use crate::backtest::metrics::Metrics;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use tradegraph_agents::learning::{Learner, TradeOutcome};
use tradegraph_agents::TradingState;
use tradegraph_core::order::Fill;
use tradegraph_core::position::Account;
use tradegraph_core::risk::VerdictStatus;
use tradegraph_core::Timestamp;

/// Equity at one time, and the drawdown then.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EquityPoint {
    /// When.
    pub ts: Timestamp,
    /// Equity then (cash plus open positions at the mark).
    pub equity: Decimal,
    /// How far (percent, 0 at a peak) equity then was below the highest equity the engine saw
    /// since this process's bot started (the engine's one drawdown; see
    /// [`BotStatus::drawdown_pct`](crate::engine::BotStatus::drawdown_pct)).
    #[serde(default)]
    pub drawdown_pct: f64,
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
    /// The trades closed in this run, in order: every one in a backtest; in service mode the
    /// newest [`SERVICE_KEEP_TRADES`] or so ([`Self::closed_trades_dropped`] older ones were let
    /// go; [`Self::trades`], wins and realized P&L count them all).
    pub closed_trades: Vec<TradeOutcome>,
    /// Equity over time (every one-minute bar): every point in a backtest; in service mode the
    /// newest [`SERVICE_KEEP_EQUITY`] or so ([`Self::equity_dropped`] older ones were let go;
    /// the drawdown and Sharpe count them all).
    pub equity: Vec<EquityPoint>,
    /// First and last price seen, for [`Self::price_change_pct`].
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
    /// The fills of this run, in order, as the trade ledger read them: every one in a
    /// backtest; in service mode the newest [`SERVICE_KEEP_FILLS`] or so ([`Self::fills_dropped`]
    /// older ones were let go).
    pub fills: Vec<Fill>,
    /// Store writes that failed (the bot went on; see the warnings).
    pub store_errors: u64,
    /// Fills of this run let go from [`Self::fills`] (service mode: its window is bounded).
    pub fills_dropped: u64,
    /// Closed trades of this run let go from [`Self::closed_trades`] (service mode).
    pub closed_trades_dropped: u64,
    /// Equity points let go from [`Self::equity`] (service mode); the drawdown and Sharpe
    /// still count them (running figures).
    pub equity_dropped: u64,
    /// `None`: keep everything (a backtest); `Some`: the service's bounded windows.
    window: Option<Window>,
    /// The running figures of the equity points let go.
    dropped_curve: Running,
}

/// Equity points a service keeps in [`BotSummary::equity`] (a week of one-minute bars); older
/// ones are let go, their drawdown and returns kept as running figures.
pub const SERVICE_KEEP_EQUITY: usize = 10_080;
/// Fills a service keeps in [`BotSummary::fills`].
pub const SERVICE_KEEP_FILLS: usize = 1_000;
/// Closed trades a service keeps in [`BotSummary::closed_trades`].
pub const SERVICE_KEEP_TRADES: usize = 1_000;

/// How many of each a summary keeps (the newest; a quarter more before trimming, so a push
/// is cheap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    equity: usize,
    fills: usize,
    trades: usize,
}

/// Drops the oldest of `items` once it holds a quarter more than `keep`, down to `keep`,
/// showing each to `gone` first; returns how many were dropped.
fn trim<T>(items: &mut Vec<T>, keep: usize, mut gone: impl FnMut(&T)) -> u64 {
    if items.len() <= keep.saturating_add(keep / 4).max(1) {
        return 0;
    }
    let dropped = items.len() - keep;
    for item in items.drain(..dropped) {
        gone(&item);
    }
    dropped as u64
}

impl BotSummary {
    pub(super) fn new(initial_cash: Decimal) -> Self {
        Self {
            initial_cash,
            ..Self::default()
        }
    }

    /// In service mode (`bounded`): keeps the newest equity points, fills and closed trades
    /// only ([`SERVICE_KEEP_EQUITY`], [`SERVICE_KEEP_FILLS`], [`SERVICE_KEEP_TRADES`]), so a
    /// long run's memory stays bounded; the summary's figures stay exact.
    pub(super) fn bounded(mut self, bounded: bool) -> Self {
        self.window = bounded.then_some(Window {
            equity: SERVICE_KEEP_EQUITY,
            fills: SERVICE_KEEP_FILLS,
            trades: SERVICE_KEEP_TRADES,
        });
        self
    }

    /// The fills the trade ledger read (kept within the window in service mode).
    pub(super) fn observe_fills(&mut self, fills: &[Fill]) {
        self.fills.extend(fills.iter().cloned());
        if let Some(w) = self.window {
            self.fills_dropped += trim(&mut self.fills, w.fills, |_| ());
        }
    }

    /// A trade the ledger closed (kept within the window in service mode).
    pub(super) fn observe_closed(&mut self, outcome: TradeOutcome) {
        self.closed_trades.push(outcome);
        if let Some(w) = self.window {
            self.closed_trades_dropped += trim(&mut self.closed_trades, w.trades, |_| ());
        }
    }

    pub(super) fn observe_price(&mut self, price: Decimal) {
        self.first_price.get_or_insert(price);
        self.last_price = Some(price);
    }

    pub(super) fn observe_equity(&mut self, point: EquityPoint) {
        self.equity.push(point);
        if let Some(w) = self.window {
            let curve = &mut self.dropped_curve;
            self.equity_dropped += trim(&mut self.equity, w.equity, |p| {
                curve.push(p.equity.to_f64().unwrap_or(0.0));
            });
        }
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
        for (_, mode) in state.report_modes() {
            if mode.is_rule() {
                self.reports_by_rules += 1;
            } else {
                self.reports_by_model += 1;
            }
            if mode.is_fallback() {
                self.fallbacks += 1;
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

    /// The price's change from the first to the last price seen, in percent: no costs, not a
    /// baseline. The buy-and-hold baseline (bought through the run's own broker, with its fees,
    /// slippage and fill timing) is [`crate::backtest::metrics::buy_and_hold`].
    pub fn price_change_pct(&self) -> Option<f64> {
        match (self.first_price, self.last_price) {
            (Some(first), Some(last)) => Some(ratio_pct(last - first, first)),
            _ => None,
        }
    }

    /// Largest fall of equity from a previous peak, in percent (every point of the run,
    /// those let go from [`Self::equity`] included): empyrical's `max_drawdown` × −100.
    pub fn max_drawdown_pct(&self) -> f64 {
        if self.equity_dropped == 0 {
            let worst = returns::drawdown(&self.equity).max.unwrap_or(0.0);
            return 100.0 * (0.0 - worst);
        }
        100.0 * self.whole_curve().worst_drawdown()
    }

    /// Annualized Sharpe ratio of per-bar equity returns (no risk-free rate; empyrical's
    /// `sharpe_ratio`), with `bars_per_year` bars a year ([`bars_per_year`](super::bars_per_year):
    /// 525,600 one-minute bars for 24/7 markets, 375 × 252 for NSE); every point of the run,
    /// those let go from [`Self::equity`] included.
    pub fn sharpe(&self, bars_per_year: f64) -> Option<f64> {
        if self.equity_dropped == 0 {
            return sharpe(&self.equity, bars_per_year);
        }
        self.whole_curve().sharpe(bars_per_year)
    }

    /// Every metric of the run's kept points (all of a backtest's), its closed trades and
    /// fills, annualized by the curve's interval and `instrument`'s session:
    /// [`Metrics::of_run`].
    pub fn metrics(&self, instrument: &tradegraph_core::Instrument) -> Metrics {
        Metrics::of_run(self, instrument)
    }

    /// The running figures of the points let go, continued over the points kept.
    fn whole_curve(&self) -> Running {
        let mut curve = self.dropped_curve;
        for p in &self.equity {
            curve.push(p.equity.to_f64().unwrap_or(0.0));
        }
        curve
    }
}

/// Annualized Sharpe ratio of the per-bar returns of `equity` (no risk-free rate), with
/// `bars_per_year` bars a year: `None` with fewer than two returns or none that vary. The one
/// computation of it ([`returns::sharpe`], empyrical's `sharpe_ratio`), for a run's summary,
/// its report and the alerts' rolling floor alike.
///
/// ```
/// use rust_decimal::Decimal;
/// use tradegraph::engine::{sharpe, EquityPoint};
/// use tradegraph::core::Timestamp;
/// let curve: Vec<EquityPoint> = [100, 101, 100, 102]
///     .iter()
///     .enumerate()
///     .map(|(i, e)| EquityPoint { ts: Timestamp::from_secs(60 * i as i64), equity: Decimal::from(*e), drawdown_pct: 0.0 })
///     .collect();
/// assert!(sharpe(&curve, 525_600.0).unwrap() > 0.0);
/// assert_eq!(sharpe(&curve[..2], 525_600.0), None);
/// ```
pub fn sharpe(equity: &[EquityPoint], bars_per_year: f64) -> Option<f64> {
    returns::sharpe(&returns::simple_returns(equity), bars_per_year)
}

fn ratio_pct(num: Decimal, den: Decimal) -> f64 {
    if den.is_zero() {
        return 0.0;
    }
    num.checked_div(den)
        .and_then(|r| r.to_f64())
        .map_or(0.0, |r| 100.0 * r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(i: i64) -> EquityPoint {
        // A curve that rises and falls (its worst drawdown early), not a straight line.
        let wave = (i * 7919 % 113) - 56 - if (100..300).contains(&i) { 400 } else { 0 };
        EquityPoint {
            ts: Timestamp::from_secs(60 * i),
            equity: Decimal::from(10_000 + wave + i / 10),
            drawdown_pct: 0.0,
        }
    }

    fn small(bounded: bool) -> BotSummary {
        let mut s = BotSummary::new(Decimal::from(10_000)).bounded(bounded);
        if bounded {
            s.window = Some(Window {
                equity: 100,
                fills: 10,
                trades: 10,
            });
        }
        s
    }

    #[test]
    fn a_long_service_run_keeps_bounded_windows_and_exact_figures() {
        let mut service = small(true);
        let mut backtest = small(false);
        for i in 0..5_000 {
            service.observe_equity(point(i));
            backtest.observe_equity(point(i));
            assert!(service.equity.len() <= 125, "bounded at every step");
        }
        assert_eq!(backtest.equity.len(), 5_000, "a backtest keeps everything");
        assert_eq!(service.equity_dropped + service.equity.len() as u64, 5_000);
        assert_eq!(
            service.equity.last(),
            backtest.equity.last(),
            "the newest are kept"
        );
        assert!(
            backtest.max_drawdown_pct() > 3.0,
            "the worst fall is among the dropped"
        );
        assert_eq!(service.max_drawdown_pct(), backtest.max_drawdown_pct());
        let (a, b) = (
            service.sharpe(525_600.0).unwrap(),
            backtest.sharpe(525_600.0).unwrap(),
        );
        assert!((a - b).abs() <= 1e-9 * b.abs(), "{a} vs {b}");
    }

    #[test]
    fn the_summary_figures_are_the_metrics_modules() {
        let mut s = small(false);
        for i in 0..2_000 {
            s.observe_equity(point(i));
        }
        let btc = tradegraph_core::Instrument::btc_usdt();
        let m = s.metrics(&btc);
        assert_eq!(s.sharpe(super::super::bars_per_year(&btc)), m.sharpe);
        assert!(m.sharpe.is_some());
        assert_eq!(s.max_drawdown_pct(), -100.0 * m.max_drawdown.unwrap());
        let text = super::super::summary_text(&s, &btc);
        assert!(
            text.contains("annualized: 525600 periods a year (1-minute bars, 24/7: 365 days)"),
            "{text}"
        );
        assert!(
            text.contains(&format!("Sharpe {:.2},", m.sharpe.unwrap())),
            "{text}"
        );
        let warning = m
            .suspicious()
            .expect("a Sharpe above 3 over a day and a half");
        assert!(text.contains(&warning), "{text}");
        // A day of steady losses: no warning.
        let mut falling = small(false);
        for i in 0..1_440 {
            falling.observe_equity(EquityPoint {
                ts: Timestamp::from_secs(60 * i),
                equity: Decimal::from(10_000 - 2 * i - i % 3),
                drawdown_pct: 0.0,
            });
        }
        let text = super::super::summary_text(&falling, &btc);
        assert!(falling.sharpe(525_600.0).unwrap() < 0.0);
        assert!(!text.contains("suspicious"), "{text}");
        let flat = BotSummary::new(Decimal::ONE);
        assert_eq!(
            flat.max_drawdown_pct().to_bits(),
            0.0_f64.to_bits(),
            "not -0"
        );
    }

    #[test]
    fn the_prices_change_is_not_called_buy_and_hold_and_each_figure_says_its_window() {
        let btc = tradegraph_core::Instrument::btc_usdt();
        let mut backtest = small(false);
        backtest.observe_price(Decimal::from(100));
        backtest.observe_price(Decimal::from(110));
        for i in 0..500 {
            backtest.observe_equity(point(i));
        }
        assert_eq!(backtest.price_change_pct(), Some(10.0));
        let text = super::super::summary_text(&backtest, &btc);
        // One buy-and-hold: the baseline's (with the run's costs), never the price's change.
        assert!(!text.contains("buy-and-hold"), "{text}");
        assert!(
            text.contains("price change +10.00% (no costs, not a baseline)"),
            "{text}"
        );
        assert!(
            !text.contains("over the last"),
            "a backtest keeps every bar: {text}"
        );
        // A service that let points go: the kept window's figures say so.
        let mut service = small(true);
        for i in 0..500 {
            service.observe_equity(point(i));
        }
        assert!(service.equity_dropped > 0);
        let text = super::super::summary_text(&service, &btc);
        let kept = service.equity.len();
        assert!(
            text.contains(&format!(
                "over the last {kept} bars (of 500): annual return"
            )),
            "{text}"
        );
        assert!(
            text.contains("whole run: max drawdown"),
            "the running figures say they cover the whole run: {text}"
        );
    }

    #[test]
    fn the_default_service_windows_are_applied_only_in_service_mode() {
        let service = BotSummary::new(Decimal::ONE).bounded(true);
        assert_eq!(
            service.window,
            Some(Window {
                equity: SERVICE_KEEP_EQUITY,
                fills: SERVICE_KEEP_FILLS,
                trades: SERVICE_KEEP_TRADES,
            })
        );
        assert_eq!(BotSummary::new(Decimal::ONE).bounded(false).window, None);
    }

    #[test]
    fn trimming_keeps_the_newest_and_counts_the_rest() {
        let mut items: Vec<u32> = Vec::new();
        let mut gone = Vec::new();
        let mut dropped = 0;
        for i in 0..1_000 {
            items.push(i);
            dropped += trim(&mut items, 10, |x| gone.push(*x));
            assert!(items.len() <= 12);
        }
        assert_eq!(dropped + items.len() as u64, 1_000);
        assert_eq!(gone, (0..dropped as u32).collect::<Vec<_>>());
        assert_eq!(items.last(), Some(&999));
    }

    #[test]
    fn rules_without_a_model_are_counted_apart_from_fallbacks() {
        use tradegraph_agents::reports::{AgentMode, RuleReason};
        let mut state =
            tradegraph_agents::fixture::state(&tradegraph_core::Instrument::btc_usdt()).unwrap();
        let reports = 6 + state.debate.len() as u64;
        assert_eq!(
            state.risk.as_ref().map(|r| &r.mode),
            Some(&AgentMode::unconfigured()),
            "the sample state is made by rules, no model"
        );
        if let Some(r) = state.technical.as_mut() {
            r.mode = AgentMode::Llm {
                provider: "openai".into(),
                model: "gpt".into(),
                spend: None,
            };
        }
        if let Some(r) = state.sentiment.as_mut() {
            r.mode = AgentMode::Rule {
                reason: RuleReason::ModelFailed("openai: timeout".into()),
            };
        }
        let mut summary = BotSummary::new(Decimal::from(10_000));
        summary.record_cycle(&state);
        assert_eq!(summary.reports_by_model, 1);
        assert_eq!(summary.reports_by_rules, reports - 1);
        assert_eq!(summary.fallbacks, 1, "only the failed model is a fallback");
        let line = super::super::report::describe_cycle(&state);
        assert!(line.contains(" S "), "{line}");
        assert_eq!(
            line.matches('*').count(),
            1,
            "only the fallback is marked: {line}"
        );
    }
}
