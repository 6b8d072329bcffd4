//! [`Sample`]: the figures the periodic rules judge, measured every `[alerts] sample_secs`.

use crate::engine::{BotHandle, EquityPoint};
use std::collections::{HashSet, VecDeque};
use tradegraph_core::{Decimal, Symbol};
use tradegraph_store::{Query, RunId, TradeLog, TradeStatus};

/// Equity points (one a minute) the rolling Sharpe ratio is computed over: a day.
pub const SHARPE_POINTS: usize = 1_440;
/// Fewer equity points than this (an hour) and no Sharpe ratio is judged.
pub const MIN_SHARPE_POINTS: usize = 60;

/// The figures of one sample; `None`: not measured (not on Linux, too few trades yet, the
/// trade log did not answer at start).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// Resident memory of the process, in MiB.
    pub memory_mb: Option<f64>,
    /// Error-level log events in the last minute.
    pub errors_per_minute: Option<f64>,
    /// Winning share (0 to 1) of the last `[alerts] window_trades` closed trades (only once
    /// that many closed).
    pub win_rate: Option<f64>,
    /// Annualized Sharpe ratio of the last [`SHARPE_POINTS`] equity points.
    pub sharpe: Option<f64>,
    /// How far (percent) equity is below its peak since this process's bot started: the
    /// engine's one drawdown (`GET /api/v1/status` `drawdown_pct`), not recomputed here.
    pub drawdown_pct: Option<f64>,
}

/// Resident memory of this process in MiB, from `VmRSS` in `/proc/self/status` (already in
/// kB, so no page size is assumed); `None` elsewhere than Linux. The file is read on tokio's
/// blocking pool, off the async workers.
pub async fn resident_memory_mb() -> Option<f64> {
    let status = tokio::fs::read_to_string("/proc/self/status").await.ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The rolling win rate: whether each of the newest `window` closed trades won. Seeded once
/// from the trade log (the engine's ledger writes it: the one record of trades), then kept
/// from the closed trades the engine publishes (`BotEvent::TradeClosed`). A trade is counted
/// once by its id: one closed while the log was read is both in the seed and in the events.
///
/// ```
/// use tradegraph::alerts::WinWindow;
/// use tradegraph::core::Decimal;
/// let mut window = WinWindow::new(2);
/// window.close("t1", Decimal::from(5));
/// assert_eq!(window.rate(), None, "fewer than the window");
/// window.close("t2", Decimal::from(-1));
/// assert_eq!(window.rate(), Some(0.5));
/// window.close("t2", Decimal::from(-1));
/// assert_eq!(window.rate(), Some(0.5), "counted once");
/// window.close("t3", Decimal::from(-2));
/// assert_eq!(window.rate(), Some(0.0), "the oldest left the window");
/// ```
#[derive(Debug, Clone)]
pub struct WinWindow {
    window: usize,
    /// The newest trades: their ids, and whether each won.
    won: VecDeque<(String, bool)>,
    /// The ids of the trades the seed read (a few times the window at most).
    seeded: HashSet<String>,
}

impl WinWindow {
    /// No trade yet; the newest `window` count (0: no win rate).
    pub fn new(window: usize) -> Self {
        Self {
            window,
            won: VecDeque::with_capacity(window),
            seeded: HashSet::new(),
        }
    }

    /// Trade `trade_id` closed with net P&L `pnl` (won when above zero); a trade already
    /// counted is not counted again.
    pub fn close(&mut self, trade_id: &str, pnl: Decimal) {
        if self.window == 0
            || self.seeded.contains(trade_id)
            || self.won.iter().any(|(id, _)| id == trade_id)
        {
            return;
        }
        if self.won.len() == self.window {
            self.won.pop_front();
        }
        self.won
            .push_back((trade_id.to_owned(), pnl > Decimal::ZERO));
    }

    /// The winning share (0 to 1) of the newest `window` trades, once that many closed.
    pub fn rate(&self) -> Option<f64> {
        (self.window > 0 && self.won.len() == self.window)
            .then(|| self.won.iter().filter(|(_, w)| *w).count() as f64 / self.window as f64)
    }

    /// Seeds the window with the newest closed trades of `instrument` in run `run` of the
    /// trade log (the bot's own: not a backtest's, nor an earlier run's), oldest first, before
    /// any trade already counted (a log that does not answer leaves it as it is, saying so).
    pub async fn seed(&mut self, trades: &dyn TradeLog, instrument: &Symbol, run: &RunId) {
        if self.window == 0 {
            return;
        }
        // Trades are read by entry time: a few times the window covers the newest closed ones.
        let query = Query::new(instrument.clone())
            .run(run.clone())
            .limit(self.window.saturating_mul(4).max(100));
        let read = match trades.trades(&query).await {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(error = %e, "alerts: the trade log was not read; the win rate counts the trades closed from now on");
                return;
            }
        };
        let mut closed: Vec<_> = read
            .into_iter()
            .filter(|t| t.status == TradeStatus::Closed)
            .filter_map(|t| Some((t.exit_timestamp?, t.realized_pnl?, t.trade_id)))
            .collect();
        closed.sort_by_key(|(at, _, _)| *at);
        // The trades counted since the bot started are newer: they stay last.
        let counted = std::mem::take(&mut self.won);
        for (_, pnl, id) in closed {
            if !counted.iter().any(|(known, _)| *known == id) {
                self.close(&id, pnl);
            }
            self.seeded.insert(id);
        }
        for (id, won) in counted {
            if self.won.len() == self.window {
                self.won.pop_front();
            }
            self.won.push_back((id, won));
        }
    }
}

/// The Sharpe ratio of the newest [`SHARPE_POINTS`] points of the bot's equity curve (the
/// engine's, through its handle) and the engine's drawdown at the newest.
pub(crate) fn equity_figures(bot: &BotHandle, bars_per_year: f64) -> (Option<f64>, Option<f64>) {
    let points = bot.equity().points(SHARPE_POINTS);
    figures(&points, bars_per_year)
}

/// The Sharpe ratio (with at least [`MIN_SHARPE_POINTS`]) of `points`, and the engine's
/// drawdown (from its peak since start) at the newest.
pub(crate) fn figures(points: &[EquityPoint], bars_per_year: f64) -> (Option<f64>, Option<f64>) {
    let sharpe = (points.len() >= MIN_SHARPE_POINTS)
        .then(|| crate::engine::sharpe(points, bars_per_year))
        .flatten();
    // The engine's drawdown (from its peak since start), carried by the newest point.
    let drawdown = points.last().map(|p| p.drawdown_pct);
    (sharpe, drawdown)
}
