#![doc = include_str!("metrics.md")]

mod annualization;
mod baseline;
mod hold;
pub mod returns;
mod trades;

#[cfg(test)]
mod tests;

pub use annualization::{Annualization, Basis};
pub use baseline::{
    baselines, rule_mode_brain, run_period, Baselines, Period, RULE_MODE_IS_THE_RUN,
};
#[cfg(feature = "report")]
pub(crate) use baseline::{baselines_until, Halt};
#[cfg(test)]
pub(crate) use hold::buy_and_hold_until;
pub use hold::{buy_and_hold, BuyAndHold, HoldEntry};

use crate::engine::{BotSummary, EquityPoint};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tradegraph_agents::learning::TradeOutcome;
use tradegraph_core::order::{ChargeKind, Fill};
use tradegraph_core::{Instrument, Timestamp};

/// Below this span of data (six months of 30.4 days), a Sharpe ratio above
/// [`SUSPICIOUS_SHARPE`] is [`suspicious`](Metrics::suspicious).
pub const SUSPICIOUS_SPAN_MILLIS: i64 = 182 * 86_400_000;
/// A Sharpe ratio above this over less than six months of data is
/// [`suspicious`](Metrics::suspicious).
pub const SUSPICIOUS_SHARPE: f64 = 3.0;

/// Every metric of a run, on its equity curve's per-period simple returns (each as empyrical
/// defines it) and its trades. A figure that is undefined (too few points, no volatility, no
/// losing trade) is `None`, never NaN: `null` in JSON. Fractions are fractions (0.05 is 5%);
/// money is in the account's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// How the per-period figures are annualized.
    pub annualization: Annualization,
    /// Points of the equity curve (one per bar).
    pub points: u64,
    /// Per-period returns the figures are computed on (`points − 1`, less any from a
    /// non-positive equity).
    pub returns: u64,
    /// The first point's time.
    pub start: Option<Timestamp>,
    /// The last point's time.
    pub end: Option<Timestamp>,
    /// Equity at the first point.
    pub start_equity: Option<Decimal>,
    /// Equity at the last point.
    pub end_equity: Option<Decimal>,
    /// Compounded return over the curve: empyrical's `cum_returns_final`.
    pub total_return: Option<f64>,
    /// Compound annual growth rate over `returns / periods_per_year` years: `annual_return`.
    pub annual_return: Option<f64>,
    /// Standard deviation (ddof 1) of the returns × √periods a year: `annual_volatility`.
    pub annual_volatility: Option<f64>,
    /// Mean / standard deviation × √periods a year, risk-free rate 0: `sharpe_ratio`.
    pub sharpe: Option<f64>,
    /// Annualized mean / downside risk, required return 0: `sortino_ratio`.
    pub sortino: Option<f64>,
    /// √mean(min(r, 0)²) × √periods a year: `downside_risk`.
    pub downside_risk: Option<f64>,
    /// Annual return / |max drawdown|: `calmar_ratio` (`None` without a drawdown).
    pub calmar: Option<f64>,
    /// Largest fall from a previous peak as a fraction of it, 0 or negative (−0.2: 20% below
    /// the peak): `max_drawdown`.
    pub max_drawdown: Option<f64>,
    /// The longest drawdown, in points: from its peak to the first point back at or above it,
    /// or to the last point when it never recovered.
    pub max_drawdown_bars: u64,
    /// The same, in milliseconds of wall time between those points.
    pub max_drawdown_millis: i64,
    /// Whether the curve ended below its peak (the longest drawdown may still be going on).
    pub underwater_at_end: bool,
    /// Closed trades.
    pub trades: u64,
    /// Closed trades with a positive net P&L.
    pub wins: u64,
    /// Closed trades with a negative net P&L.
    pub losses: u64,
    /// `wins / trades` (`None` without trades).
    pub win_rate: Option<f64>,
    /// Gross profit of the winners / gross loss of the losers (`None` without a losing trade).
    pub profit_factor: Option<f64>,
    /// Mean net P&L per closed trade (`None` without trades).
    pub expectancy: Option<Decimal>,
    /// Mean net P&L of the winners.
    pub average_win: Option<Decimal>,
    /// Mean net P&L of the losers (negative).
    pub average_loss: Option<Decimal>,
    /// Share of the curve's points at which a position was open, from the fills.
    pub exposure: Option<f64>,
    /// Σ |quantity × price| of the fills, buys and sells.
    pub traded_notional: Decimal,
    /// Traded notional / mean equity: how many times the capital was traded.
    pub turnover: Option<f64>,
    /// Σ of the fills' fees.
    pub fees_paid: Decimal,
    /// The fills' fees by kind (brokerage, STT, exchange charges, SEBI fees, stamp duty, GST,
    /// commission), summed from each fill's itemised charges with the broker's
    /// [`by_kind`](tradegraph_broker::paper::costs::by_kind), in charge-sheet order, kinds
    /// absent left out. Their sum is [`fees_paid`](Self::fees_paid) unless some fills carry no
    /// itemised charges (recorded before fees were itemised). Empty on overflow.
    #[serde(default)]
    pub fees_by_kind: Vec<(ChargeKind, Decimal)>,
}

/// The metrics of an equity curve, its closed trades and its fills, annualized with
/// `annualization`.
///
/// ```
/// use rust_decimal::Decimal;
/// use tradegraph::backtest::metrics::{compute, Annualization};
/// use tradegraph::core::{Instrument, Timestamp};
/// use tradegraph::engine::EquityPoint;
/// let curve: Vec<EquityPoint> = [100, 110, 99, 121]
///     .iter()
///     .enumerate()
///     .map(|(i, e)| EquityPoint { ts: Timestamp::from_secs(86_400 * i as i64), equity: Decimal::from(*e), drawdown_pct: 0.0 })
///     .collect();
/// let year = Annualization::of_curve(&Instrument::btc_usdt().session, &curve);
/// assert_eq!(year.periods_per_year, 365.0);
/// let m = compute(&curve, &[], &[], year);
/// assert!((m.total_return.unwrap() - 0.21).abs() < 1e-12);
/// assert!((m.max_drawdown.unwrap() + 0.1).abs() < 1e-12);
/// assert_eq!(m.max_drawdown_bars, 2);
/// assert_eq!(m.win_rate, None, "no trades");
/// ```
pub fn compute(
    equity: &[EquityPoint],
    trades: &[TradeOutcome],
    fills: &[Fill],
    annualization: Annualization,
) -> Metrics {
    let n = annualization.periods_per_year;
    let r = returns::simple_returns(equity);
    let dd = returns::drawdown(equity);
    let annual_return = returns::annual_return(&r, n);
    let t = trades::figures(equity, trades, fills);
    Metrics {
        annualization,
        points: equity.len() as u64,
        returns: r.len() as u64,
        start: equity.first().map(|p| p.ts),
        end: equity.last().map(|p| p.ts),
        start_equity: equity.first().map(|p| p.equity),
        end_equity: equity.last().map(|p| p.equity),
        total_return: returns::total_return(&r),
        annual_return,
        annual_volatility: returns::annual_volatility(&r, n),
        sharpe: returns::sharpe(&r, n),
        sortino: returns::sortino(&r, n),
        downside_risk: returns::downside_risk(&r, n),
        calmar: returns::calmar(annual_return, dd.max),
        max_drawdown: dd.max,
        max_drawdown_bars: dd.longest_bars,
        max_drawdown_millis: dd.longest_millis,
        underwater_at_end: dd.underwater_at_end,
        trades: t.trades,
        wins: t.wins,
        losses: t.losses,
        win_rate: t.win_rate,
        profit_factor: t.profit_factor,
        expectancy: t.expectancy,
        average_win: t.average_win,
        average_loss: t.average_loss,
        exposure: t.exposure,
        traded_notional: t.traded_notional,
        turnover: t.turnover,
        fees_paid: t.fees_paid,
        fees_by_kind: tradegraph_broker::paper::costs::by_kind(
            fills.iter().flat_map(|f| f.charges.iter()),
        )
        .unwrap_or_default(),
    }
}

impl Metrics {
    /// The metrics of a run: its equity curve (annualized by its sampling interval and
    /// `instrument`'s session), closed trades and fills. A backtest's summary keeps every
    /// point; a service's only its newest ([`crate::engine::SERVICE_KEEP_EQUITY`]).
    pub fn of_run(summary: &BotSummary, instrument: &Instrument) -> Self {
        let year = Annualization::of_curve(&instrument.session, &summary.equity);
        compute(
            &summary.equity,
            &summary.closed_trades,
            &summary.fills,
            year,
        )
    }

    /// The span of the curve, first to last point, in milliseconds (0 for fewer than two).
    pub fn span_millis(&self) -> i64 {
        match (self.start, self.end) {
            (Some(a), Some(b)) => b.millis().saturating_sub(a.millis()),
            _ => 0,
        }
    }

    /// A warning when the Sharpe ratio is above 3 over less than six months of data: so short
    /// a sample rarely supports it (look-ahead, overfitting or luck are likelier).
    ///
    /// ```
    /// # use tradegraph::backtest::metrics::{compute, Annualization};
    /// # use tradegraph::core::{Instrument, Timestamp};
    /// # use tradegraph::engine::EquityPoint;
    /// # use rust_decimal::Decimal;
    /// let rising: Vec<EquityPoint> = (0..100)
    ///     .map(|i| EquityPoint { ts: Timestamp::from_secs(86_400 * i), equity: Decimal::from(1_000 + i * i % 7 + 2 * i), drawdown_pct: 0.0 })
    ///     .collect();
    /// let year = Annualization::of_curve(&Instrument::btc_usdt().session, &rising);
    /// let m = compute(&rising, &[], &[], year);
    /// assert!(m.sharpe.unwrap() > 3.0);
    /// assert!(m.suspicious().unwrap().contains("Sharpe"));
    /// ```
    pub fn suspicious(&self) -> Option<String> {
        let sharpe = self.sharpe.filter(|s| *s > SUSPICIOUS_SHARPE)?;
        let span = self.span_millis();
        (span < SUSPICIOUS_SPAN_MILLIS).then(|| {
            format!(
                "suspicious: a Sharpe ratio of {sharpe:.2} over {:.1} days of data (under six \
                 months): so short a sample rarely supports a Sharpe above {SUSPICIOUS_SHARPE}; \
                 check for look-ahead and overfitting, and test on a longer period",
                span as f64 / 86_400_000.0
            )
        })
    }
}
