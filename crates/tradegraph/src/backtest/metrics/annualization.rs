//! How many of a curve's periods make a year: from its sampling interval and the market's
//! session.

use crate::engine::EquityPoint;
use serde::{Deserialize, Serialize};
use tradegraph_core::TradingSession;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// What a year is made of, for [`Annualization`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Basis {
    /// A market open around the clock (crypto): `days` days of 24 hours a year.
    AroundTheClock {
        /// Days a year ([`Annualization::CALENDAR_DAYS`], 365).
        days: u32,
    },
    /// An exchange session: `days` trading days a year of `minutes` minutes each.
    Session {
        /// Trading days a year ([`Annualization::TRADING_DAYS`], 252).
        days: u32,
        /// Minutes in the session (375 for NSE: 09:15 to 15:30).
        minutes: u32,
    },
}

/// The annualization of a curve's per-period figures: `periods_per_year` periods of
/// `interval_millis` make a year on `basis`.
///
/// The rule: around the clock, a year is 365 days of 24 hours, so
/// `periods_per_year = 365 days / interval`. On an exchange it is 252 trading days of the
/// session's minutes: for intervals shorter than the session,
/// `periods_per_year = 252 × session / interval`; for a day or longer (daily bars),
/// `252 × 1 day / interval`. A session that crosses midnight (close before open) lasts to the
/// next day's close (the difference modulo 24 hours). The interval of a curve is the median gap between its
/// points (so nights, weekends and holidays do not count), one minute when it has fewer than
/// two points.
///
/// ```
/// use tradegraph::backtest::metrics::{Annualization, Basis};
/// use tradegraph::core::Instrument;
/// let crypto = Annualization::new(&Instrument::btc_usdt().session, 60_000);
/// assert_eq!(crypto.periods_per_year, 525_600.0);
/// let nse = Annualization::new(&Instrument::nifty_50().session, 60_000);
/// assert_eq!(nse.periods_per_year, 252.0 * 375.0);
/// assert_eq!(nse.basis, Basis::Session { days: 252, minutes: 375 });
/// let daily = Annualization::new(&Instrument::nifty_50().session, 86_400_000);
/// assert_eq!(daily.periods_per_year, 252.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Annualization {
    /// Periods a year: the `annualization` argument of empyrical's functions.
    pub periods_per_year: f64,
    /// The length of one period (the curve's sampling interval), in milliseconds.
    pub interval_millis: i64,
    /// What the year is made of.
    pub basis: Basis,
}

impl Annualization {
    /// Days a year of a market open around the clock.
    pub const CALENDAR_DAYS: u32 = 365;
    /// Trading days a year of an exchange.
    pub const TRADING_DAYS: u32 = 252;

    /// Periods of `interval_millis` (one minute when not positive) in a year of `session`.
    pub fn new(session: &TradingSession, interval_millis: i64) -> Self {
        let interval = if interval_millis > 0 {
            interval_millis
        } else {
            MINUTE_MS
        };
        let (basis, periods_per_year) = match session.exchange() {
            None => {
                let days = Self::CALENDAR_DAYS;
                let year = f64::from(days) * DAY_MS as f64;
                (Basis::AroundTheClock { days }, year / interval as f64)
            }
            Some(x) => {
                // A session that crosses midnight (close before open) lasts to the next day's
                // close: the difference modulo 24 h; open = close is a whole day.
                let minutes = match (x.close - x.open).num_minutes().rem_euclid(24 * 60) {
                    0 => 24 * 60,
                    m => m,
                };
                let minutes = u32::try_from(minutes).unwrap_or(1);
                let days = Self::TRADING_DAYS;
                let session_ms = i64::from(minutes) * MINUTE_MS;
                let per_day = if interval < session_ms {
                    session_ms as f64 / interval as f64
                } else {
                    DAY_MS as f64 / interval as f64
                };
                (Basis::Session { days, minutes }, f64::from(days) * per_day)
            }
        };
        Self {
            periods_per_year,
            interval_millis: interval,
            basis,
        }
    }

    /// The annualization of `points` on `session`: their median gap (one minute with fewer
    /// than two points).
    pub fn of_curve(session: &TradingSession, points: &[EquityPoint]) -> Self {
        let mut gaps: Vec<i64> = points
            .windows(2)
            .map(|w| w[1].ts.millis().saturating_sub(w[0].ts.millis()))
            .filter(|gap| *gap > 0)
            .collect();
        gaps.sort_unstable();
        let interval = gaps.get(gaps.len() / 2).copied().unwrap_or(MINUTE_MS);
        Self::new(session, interval)
    }

    /// One line for people: "525600 periods a year (1-minute bars, 24/7: 365 days)".
    pub fn describe(&self) -> String {
        let every = describe_interval(self.interval_millis);
        match self.basis {
            Basis::AroundTheClock { days } => format!(
                "{} periods a year ({every} bars, 24/7: {days} days)",
                self.periods_per_year
            ),
            Basis::Session { days, minutes } => format!(
                "{} periods a year ({every} bars, {days} trading days of {minutes} minutes)",
                self.periods_per_year
            ),
        }
    }
}

fn describe_interval(ms: i64) -> String {
    match ms {
        ms if ms % DAY_MS == 0 => format!("{}-day", ms / DAY_MS),
        ms if ms % 3_600_000 == 0 => format!("{}-hour", ms / 3_600_000),
        ms if ms % MINUTE_MS == 0 => format!("{}-minute", ms / MINUTE_MS),
        ms => format!("{ms}-ms"),
    }
}
