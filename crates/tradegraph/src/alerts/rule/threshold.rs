use super::{Rule, Signal};
use crate::alerts::{AlertsConfig, Input, Sample};
use crate::engine::{AlertEvent, AlertKind, Severity};
use tradegraph_core::Timestamp;

/// Which side of the limit is trouble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Above the limit (memory, error rate, drawdown).
    Above,
    /// Below the limit (win rate, Sharpe).
    Below,
}

/// One figure of the periodic [`Sample`] against a limit: raised while beyond it (the
/// cool-down spaces the alerts), resolved when back within.
///
/// ```
/// use tradegraph::alerts::rule::{Bound, Rule, Signal, Threshold};
/// use tradegraph::alerts::{Input, Sample};
/// use tradegraph::engine::AlertKind;
/// let mut memory = Threshold::new(AlertKind::Memory, Bound::Above, 1024.0, |s| s.memory_mb);
/// let mut out = Vec::new();
/// let at = tradegraph::core::Timestamp::EPOCH;
/// memory.observe(&Input::Sample(&Sample { memory_mb: Some(2000.0), ..Sample::default() }), at, &mut out);
/// assert!(matches!(&out[..], [Signal::Raise(a)] if a.kind == AlertKind::Memory));
/// ```
#[derive(Debug, Clone)]
pub struct Threshold {
    kind: AlertKind,
    bound: Bound,
    limit: f64,
    measure: fn(&Sample) -> Option<f64>,
}

impl Threshold {
    /// `kind` raised when `measure` of a sample is `bound` `limit`.
    pub fn new(
        kind: AlertKind,
        bound: Bound,
        limit: f64,
        measure: fn(&Sample) -> Option<f64>,
    ) -> Self {
        Self {
            kind,
            bound,
            limit,
            measure,
        }
    }

    /// Memory, error rate, win rate, Sharpe and drawdown, with `config`'s limits.
    pub fn standard(config: &AlertsConfig) -> Vec<Self> {
        vec![
            Self::new(
                AlertKind::Memory,
                Bound::Above,
                config.max_memory_mb as f64,
                |s| s.memory_mb,
            ),
            Self::new(
                AlertKind::ErrorRate,
                Bound::Above,
                config.max_errors_per_minute as f64,
                |s| s.errors_per_minute,
            ),
            Self::new(
                AlertKind::WinRateFloor,
                Bound::Below,
                config.min_win_rate,
                |s| s.win_rate,
            ),
            Self::new(
                AlertKind::SharpeFloor,
                Bound::Below,
                config.min_sharpe,
                |s| s.sharpe,
            ),
            Self::new(
                AlertKind::Drawdown,
                Bound::Above,
                config.max_drawdown_pct,
                |s| s.drawdown_pct,
            ),
        ]
    }

    fn describe(&self, value: f64) -> String {
        let limit = self.limit;
        match self.kind {
            AlertKind::Memory => format!(
                "resident memory is {value:.0} MiB, above [alerts] max_memory_mb = {limit:.0}: \
                 look for a leak or give the bot more memory"
            ),
            AlertKind::ErrorRate => format!(
                "{value:.0} errors were logged in the last minute, above [alerts] \
                 max_errors_per_minute = {limit:.0}: read the log"
            ),
            AlertKind::WinRateFloor => format!(
                "the win rate of the last closed trades is {:.1}%, below [alerts] min_win_rate \
                 = {:.1}%: review the strategy or pause entries",
                100.0 * value,
                100.0 * limit
            ),
            AlertKind::SharpeFloor => format!(
                "the rolling Sharpe ratio of the equity curve is {value:.2}, below [alerts] \
                 min_sharpe = {limit:.2}: review the strategy or pause entries"
            ),
            AlertKind::Drawdown => format!(
                "equity is {value:.2}% below its peak, beyond [alerts] max_drawdown_pct = \
                 {limit:.2}: consider pausing entries or engaging the kill switch"
            ),
            other => format!("{other} is {value} (limit {limit})"),
        }
    }
}

impl Rule for Threshold {
    fn observe(&mut self, input: &Input<'_>, at: Timestamp, out: &mut Vec<Signal>) {
        let Input::Sample(sample) = input else {
            return;
        };
        let Some(value) = (self.measure)(sample).filter(|v| v.is_finite()) else {
            return;
        };
        let beyond = match self.bound {
            Bound::Above => value > self.limit,
            Bound::Below => value < self.limit,
        };
        if beyond {
            out.push(Signal::Raise(AlertEvent::new(
                self.kind,
                "",
                Severity::Warning,
                self.describe(value),
                at,
            )));
        } else {
            out.push(Signal::Resolve(AlertEvent::new(
                self.kind,
                "",
                Severity::Info,
                format!("{} is back within its limit ({value:.2})", self.kind),
                at,
            )));
        }
    }
}
