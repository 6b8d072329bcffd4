//! The return-based metrics, each as empyrical defines it, on per-period simple returns.
//!
//! empyrical returns NaN (or ±inf) where a figure is undefined; these return `None` there, so
//! no NaN ever reaches a report. Sums run in order, as bottleneck's (which empyrical uses when
//! it is installed) do.

use crate::engine::EquityPoint;
use rust_decimal::prelude::ToPrimitive;

/// `Some(x)` when `x` is finite.
pub(crate) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The per-period simple returns of `points`' equity, `e[i] / e[i-1] - 1` (empyrical's
/// `simple_returns`), skipping a pair whose earlier equity is not positive (no return is
/// defined from nothing).
pub fn simple_returns(points: &[EquityPoint]) -> Vec<f64> {
    points
        .windows(2)
        .filter_map(|w| {
            let (a, b) = (w[0].equity.to_f64()?, w[1].equity.to_f64()?);
            (a > 0.0).then(|| b / a - 1.0)
        })
        .collect()
}

fn mean(returns: &[f64]) -> f64 {
    returns.iter().sum::<f64>() / returns.len() as f64
}

/// Sample standard deviation (ddof 1), two passes; `None` with fewer than two returns.
fn std_ddof1(returns: &[f64]) -> Option<f64> {
    if returns.len() < 2 {
        return None;
    }
    let m = mean(returns);
    let ss: f64 = returns.iter().map(|r| (r - m) * (r - m)).sum();
    Some((ss / (returns.len() - 1) as f64).sqrt())
}

/// `cum_returns_final`: the compounded return, `Π(1 + r) − 1`; `None` without returns.
pub fn total_return(returns: &[f64]) -> Option<f64> {
    if returns.is_empty() {
        return None;
    }
    finite(returns.iter().map(|r| 1.0 + r).product::<f64>() - 1.0)
}

/// `annual_return` (CAGR): `(Π(1 + r))^(1 / years) − 1` with `years = n / periods_per_year`.
pub fn annual_return(returns: &[f64], periods_per_year: f64) -> Option<f64> {
    if returns.is_empty() {
        return None;
    }
    let years = returns.len() as f64 / periods_per_year;
    let ending = returns.iter().map(|r| 1.0 + r).product::<f64>();
    finite(ending.powf(1.0 / years) - 1.0)
}

/// `annual_volatility`: the standard deviation (ddof 1) times `√periods_per_year`; `None`
/// with fewer than two returns.
pub fn annual_volatility(returns: &[f64], periods_per_year: f64) -> Option<f64> {
    finite(std_ddof1(returns)? * periods_per_year.powf(0.5))
}

/// `sharpe_ratio` with no risk-free rate: `mean / std (ddof 1) × √periods_per_year`; `None`
/// with fewer than two returns or when they are all equal. A deliberate deviation: empyrical
/// gives ±inf or NaN for equal returns when the std is exactly 0, but the two-pass std of equal
/// non-zero floats is often a hair above 0, and then it gives a huge finite Sharpe; `None` is
/// the meaningful answer either way (metrics.md).
pub fn sharpe(returns: &[f64], periods_per_year: f64) -> Option<f64> {
    let std = std_ddof1(returns)?;
    if all_equal(returns) {
        return None;
    }
    finite(mean(returns) / std * periods_per_year.sqrt())
}

/// `downside_risk` with a required return of 0: `√mean(min(r, 0)²) × √periods_per_year`;
/// `None` without returns.
pub fn downside_risk(returns: &[f64], periods_per_year: f64) -> Option<f64> {
    if returns.is_empty() {
        return None;
    }
    let below: Vec<f64> = returns.iter().map(|r| r.min(0.0) * r.min(0.0)).collect();
    finite(mean(&below).sqrt() * periods_per_year.sqrt())
}

/// `sortino_ratio` with a required return of 0: `mean × periods_per_year / downside_risk`;
/// `None` with fewer than two returns or no downside (empyrical: inf or NaN).
pub fn sortino(returns: &[f64], periods_per_year: f64) -> Option<f64> {
    if returns.len() < 2 {
        return None;
    }
    let risk = downside_risk(returns, periods_per_year)?;
    finite(mean(returns) * periods_per_year / risk)
}

/// `calmar_ratio`: `annual_return / |max_drawdown|` when the drawdown is below 0, `None`
/// otherwise (empyrical: NaN).
pub fn calmar(annual_return: Option<f64>, max_drawdown: Option<f64>) -> Option<f64> {
    match (annual_return, max_drawdown) {
        (Some(a), Some(dd)) if dd < 0.0 => finite(a / dd.abs()),
        _ => None,
    }
}

fn all_equal(returns: &[f64]) -> bool {
    returns.windows(2).all(|w| w[0] == w[1])
}

/// The worst drawdown of a curve and how long the longest one lasted.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Drawdown {
    /// `max_drawdown`: the largest fall from a previous peak as a fraction of it, 0 or below
    /// (−0.25: a quarter below the peak); `None` with fewer than two points.
    pub max: Option<f64>,
    /// The longest drawdown in periods, from its peak to the first point back at or above it,
    /// or to the last point when it never recovered.
    pub longest_bars: u64,
    /// The same, in milliseconds of the points' timestamps.
    pub longest_millis: i64,
    /// Whether the curve ended below its peak.
    pub underwater_at_end: bool,
}

/// The drawdown of `points` (empyrical's `max_drawdown` on their returns, with the durations).
pub fn drawdown(points: &[EquityPoint]) -> Drawdown {
    let mut out = Drawdown::default();
    let mut run = Running::default();
    let (mut peak_at, mut under) = (0usize, false);
    for (i, p) in points.iter().enumerate() {
        let before = run.peak;
        run.push(p.equity.to_f64().unwrap_or(0.0));
        if before.is_none_or(|peak| run.last.is_some_and(|e| e >= peak)) {
            if under {
                out.note(
                    i - peak_at,
                    p.ts.millis().saturating_sub(points[peak_at].ts.millis()),
                );
            }
            (peak_at, under) = (i, false);
        } else {
            under = true;
        }
    }
    if let (true, Some(last)) = (under, points.last()) {
        out.note(
            points.len() - 1 - peak_at,
            last.ts.millis().saturating_sub(points[peak_at].ts.millis()),
        );
    }
    out.underwater_at_end = under;
    // 0 − worst: a curve with no drawdown gives 0, not −0
    out.max = (points.len() >= 2).then_some(0.0 - run.worst);
    out
}

impl Drawdown {
    fn note(&mut self, bars: usize, millis: i64) {
        let bars = bars as u64;
        if bars > self.longest_bars {
            (self.longest_bars, self.longest_millis) = (bars, millis);
        }
    }
}

/// Running figures of an equity curve, one point at a time: its peak and worst drawdown,
/// and its returns' count, mean and sum of squared deviations (Welford). For a curve too
/// long to keep: the same Sharpe ratio and drawdown as [`sharpe`] and [`drawdown`] give on
/// the whole curve (to rounding).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Running {
    peak: Option<f64>,
    worst: f64,
    last: Option<f64>,
    returns: u64,
    mean: f64,
    m2: f64,
    min: Option<f64>,
    max: Option<f64>,
}

impl Running {
    /// Adds the next point's equity.
    pub fn push(&mut self, equity: f64) {
        let peak = self.peak.map_or(equity, |p| p.max(equity));
        self.peak = Some(peak);
        if peak > 0.0 {
            self.worst = self.worst.max((peak - equity) / peak);
        }
        if let Some(a) = self.last.filter(|a| *a > 0.0) {
            let r = equity / a - 1.0;
            self.returns += 1;
            let delta = r - self.mean;
            self.mean += delta / self.returns as f64;
            self.m2 += delta * (r - self.mean);
            self.min = Some(self.min.map_or(r, |m| m.min(r)));
            self.max = Some(self.max.map_or(r, |m| m.max(r)));
        }
        self.last = Some(equity);
    }

    /// The largest fall from a peak so far, as a positive fraction (0.25: a quarter).
    pub fn worst_drawdown(&self) -> f64 {
        self.worst
    }

    /// As [`sharpe`] on every return pushed.
    pub fn sharpe(&self, periods_per_year: f64) -> Option<f64> {
        if self.returns < 2 || self.min == self.max {
            return None;
        }
        let var = self.m2 / (self.returns as f64 - 1.0);
        finite(self.mean / var.sqrt() * periods_per_year.sqrt())
    }
}
