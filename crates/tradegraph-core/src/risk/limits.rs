//! The configurable limits of the risk guard, with the defaults of DESIGN.md.

use crate::{CoreError, Decimal};
use serde::{Deserialize, Serialize};

/// The limits the [`RiskGuard`](super::RiskGuard) enforces. Percents are of equity (sizes, daily
/// loss) or of the price (stop and take-profit distances) and are given as `5` for 5%.
///
/// ```
/// use tradegraph_core::risk::RiskLimits;
/// use tradegraph_core::Decimal;
/// let limits = RiskLimits {
///     max_open_positions: 1,
///     ..RiskLimits::default()
/// };
/// assert_eq!(limits.max_position_pct, Decimal::from(5));
/// limits.validate()?;
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskLimits {
    /// Largest position in one instrument, as a percent of equity (notional at the current
    /// price). Default 5.
    pub max_position_pct: Decimal,
    /// Loss since the start of the trading day, as a percent of that day's starting equity, at
    /// which new entries stop for the day and open positions are closed. Default 2.
    pub max_daily_loss_pct: Decimal,
    /// Most positions open at once, across instruments. Default 3.
    pub max_open_positions: usize,
    /// Circuit breaker: realized volatility (standard deviation of recent bar returns, in
    /// percent) above which entries stop for the cooldown. Default 3.0 (for intraday bars).
    pub max_realized_volatility_pct: f64,
    /// Circuit breaker: range of the last bar, `(high − low) / close` in percent, above which
    /// entries stop for the cooldown. Default 5.0.
    pub max_bar_range_pct: f64,
    /// How long the circuit breaker blocks entries after it trips, in minutes. Default 30.
    pub breaker_cooldown_minutes: u32,
    /// No entries this many minutes before an exchange session's close. Default 30 (NSE: none
    /// from 15:00).
    pub entry_cutoff_minutes: u32,
    /// Open positions are closed from this many minutes before an exchange session's close.
    /// Default 15 (NSE: square-off from 15:15).
    pub square_off_minutes: u32,
    /// Stop-loss distance when none (or an unusable one) is given and no ATR is known, in percent
    /// of the price. Default 2.
    pub default_stop_pct: Decimal,
    /// Stop-loss distance in ATRs when none (or an unusable one) is given. Default 2.
    pub stop_atr_multiple: Decimal,
    /// Widest stop-loss (and trailing distance) allowed, in percent of the price. Default 5.
    pub max_stop_pct: Decimal,
    /// Farthest take-profit allowed, in percent of the price. Default 20.
    pub max_take_profit_pct: Decimal,
    /// Least confidence (0–1) an entry needs. Default 0.
    pub min_confidence: f64,
    /// Whether short positions may be opened (never on a spot instrument). Default true.
    pub allow_short: bool,
    /// Whether the kill switch also closes open positions (otherwise it only blocks entries).
    /// Default true.
    pub kill_switch_closes_positions: bool,
}

impl Default for RiskLimits {
    fn default() -> Self {
        Self {
            max_position_pct: Decimal::from(5),
            max_daily_loss_pct: Decimal::from(2),
            max_open_positions: 3,
            max_realized_volatility_pct: 3.0,
            max_bar_range_pct: 5.0,
            breaker_cooldown_minutes: 30,
            entry_cutoff_minutes: 30,
            square_off_minutes: 15,
            default_stop_pct: Decimal::from(2),
            stop_atr_multiple: Decimal::from(2),
            max_stop_pct: Decimal::from(5),
            max_take_profit_pct: Decimal::from(20),
            min_confidence: 0.0,
            allow_short: true,
            kill_switch_closes_positions: true,
        }
    }
}

impl RiskLimits {
    /// Checks that the limits can work: percents in range, thresholds finite and positive, the
    /// default stop within the widest one.
    pub fn validate(&self) -> Result<(), CoreError> {
        let hundred = Decimal::ONE_HUNDRED;
        let bad =
            |field: &'static str, reason: String| Err(CoreError::RiskLimits { field, reason });
        let pct = |field: &'static str, v: Decimal| {
            if v <= Decimal::ZERO || v > hundred {
                bad(field, format!("{v} is not in (0, 100]"))
            } else {
                Ok(())
            }
        };
        pct("max_position_pct", self.max_position_pct)?;
        pct("max_daily_loss_pct", self.max_daily_loss_pct)?;
        pct("default_stop_pct", self.default_stop_pct)?;
        pct("max_take_profit_pct", self.max_take_profit_pct)?;
        if self.max_stop_pct <= Decimal::ZERO || self.max_stop_pct >= hundred {
            return bad(
                "max_stop_pct",
                format!("{} is not in (0, 100)", self.max_stop_pct),
            );
        }
        if self.default_stop_pct > self.max_stop_pct {
            return bad(
                "default_stop_pct",
                format!(
                    "{} is wider than max_stop_pct {}",
                    self.default_stop_pct, self.max_stop_pct
                ),
            );
        }
        if self.stop_atr_multiple <= Decimal::ZERO {
            return bad(
                "stop_atr_multiple",
                format!("{} is not positive", self.stop_atr_multiple),
            );
        }
        for (field, v) in [
            (
                "max_realized_volatility_pct",
                self.max_realized_volatility_pct,
            ),
            ("max_bar_range_pct", self.max_bar_range_pct),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(field, format!("{v} is not a positive number"));
            }
        }
        if !(self.min_confidence.is_finite() && (0.0..=1.0).contains(&self.min_confidence)) {
            return bad(
                "min_confidence",
                format!("{} is not in [0, 1]", self.min_confidence),
            );
        }
        if self.max_open_positions == 0 {
            return bad(
                "max_open_positions",
                "0 would block every entry; use the kill switch".into(),
            );
        }
        Ok(())
    }
}
