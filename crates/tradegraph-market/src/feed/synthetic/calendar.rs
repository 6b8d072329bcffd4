//! Trading time: moving forward through the instrument's sessions, jumping over closed hours.

use tradegraph_core::{ExchangeSession, Timestamp, TradingSession};

const DAY: i64 = 86_400_000;
/// How far ahead to look for the next session before giving up (a holiday list that closes the
/// market for two years is a mistake, not a calendar).
const HORIZON_DAYS: i64 = 730;

/// A cursor over the sessions of one instrument.
#[derive(Debug, Clone)]
pub(super) struct Calendar {
    session: TradingSession,
    /// Close (exclusive, UTC ms) of the session the cursor is in; `i64::MAX` when always open.
    close: i64,
}

/// Where a step through trading time landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Step {
    /// The time reached (inside a session).
    pub(super) at: i64,
    /// Milliseconds of closed market jumped over on the way (0 within one session).
    pub(super) closed_ms: i64,
}

impl Calendar {
    /// A cursor over `session`; call [`enter`](Self::enter) before stepping.
    pub(super) fn new(session: TradingSession) -> Self {
        Self {
            session,
            close: i64::MAX,
        }
    }

    /// Milliseconds of trading in a year, for annualised figures: 365 days for a market that
    /// never closes, 252 sessions for an exchange.
    pub(super) fn year_ms(&self) -> f64 {
        match &self.session {
            TradingSession::AlwaysOpen => 365.0 * DAY as f64,
            TradingSession::Exchange(ex) => {
                let length = (ex.close - ex.open).num_milliseconds().max(1);
                252.0 * length as f64
            }
        }
    }

    /// The first open instant at or after `t`, entering its session (`None` when no session
    /// opens within two years).
    pub(super) fn enter(&mut self, t: i64) -> Option<i64> {
        let ex = match &self.session {
            TradingSession::AlwaysOpen => {
                self.close = i64::MAX;
                return Some(t);
            }
            TradingSession::Exchange(ex) => ex,
        };
        let (at, close) = match ex.session_at(Timestamp::from_millis(t)) {
            Some((_, close)) => (t, close),
            None => {
                let open = next_open(ex, t)?;
                (open, ex.session_at(Timestamp::from_millis(open))?.1)
            }
        };
        self.close = close.millis();
        Some(at)
    }

    /// Moves `dt` milliseconds of trading time forward from `t` (inside the current session):
    /// time that would fall at or after the close carries over into the next session(s).
    #[inline]
    pub(super) fn step(&mut self, t: i64, dt: i64) -> Option<Step> {
        let mut at = t.saturating_add(dt);
        let mut closed_ms = 0i64;
        while at >= self.close {
            let overflow = at - self.close;
            let closed_at = self.close;
            let open = self.enter(closed_at)?;
            closed_ms = closed_ms.saturating_add(open - closed_at);
            at = open.saturating_add(overflow);
        }
        Some(Step { at, closed_ms })
    }
}

/// The next session open strictly after `t`, looking up to [`HORIZON_DAYS`] ahead.
fn next_open(ex: &ExchangeSession, t: i64) -> Option<i64> {
    let mut from = t;
    // `next_open_after` looks 30 days ahead; keep looking from there.
    for _ in 0..HORIZON_DAYS / 30 {
        if let Some(open) = ex.next_open_after(Timestamp::from_millis(from)) {
            return Some(open.millis());
        }
        from = from.saturating_add(30 * DAY);
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::NaiveDate;

    fn t(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().millis()
    }

    fn nse() -> Calendar {
        Calendar::new(TradingSession::Exchange(ExchangeSession::nse()))
    }

    #[test]
    fn entering_before_the_open_waits_for_it() {
        let mut cal = nse();
        // Saturday: the next open is Monday 09:15 in Kolkata.
        let at = cal.enter(t("2025-01-04T10:00:00Z")).unwrap();
        assert_eq!(at, t("2025-01-06T09:15:00+05:30"));
        // Inside a session: stays put.
        assert_eq!(
            cal.enter(t("2025-01-06T05:00:00Z")),
            Some(t("2025-01-06T05:00:00Z"))
        );
    }

    #[test]
    fn steps_carry_over_the_close_into_the_next_session() {
        let mut cal = nse();
        // Thursday 13 March 2025, 15:29 in Kolkata; Friday 14 is Holi, then the weekend.
        let start = cal.enter(t("2025-03-13T15:29:00+05:30")).unwrap();
        let step = cal.step(start, 90_000).unwrap();
        assert_eq!(step.at, t("2025-03-17T09:15:30+05:30"));
        assert_eq!(
            step.closed_ms,
            t("2025-03-17T09:15:00+05:30") - t("2025-03-13T15:30:00+05:30")
        );
        // Within the session nothing is skipped.
        let next = cal.step(step.at, 1_000).unwrap();
        assert_eq!((next.at, next.closed_ms), (step.at + 1_000, 0));
    }

    #[test]
    fn a_long_step_crosses_several_sessions() {
        let mut cal = nse();
        let start = cal.enter(t("2025-01-06T09:15:00+05:30")).unwrap();
        // Two and a half sessions of 6 h 15 min.
        let session = 375 * 60_000;
        let step = cal.step(start, 2 * session + session / 2).unwrap();
        assert_eq!(step.at, t("2025-01-08T12:22:30+05:30"));
    }

    #[test]
    fn always_open_never_skips_and_a_closed_calendar_ends() {
        let mut cal = Calendar::new(TradingSession::AlwaysOpen);
        let start = cal.enter(0).unwrap();
        assert_eq!(
            cal.step(start, 5 * DAY),
            Some(Step {
                at: 5 * DAY,
                closed_ms: 0
            })
        );
        assert!((cal.year_ms() - 365.0 * 86_400_000.0).abs() < 1.0);
        let mut days = Vec::new();
        let mut d = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        for _ in 0..1_000 {
            days.push(d);
            d = d.succ_opt().unwrap();
        }
        let closed = ExchangeSession::nse().with_holidays(days);
        let mut cal = Calendar::new(TradingSession::Exchange(closed));
        assert_eq!(cal.enter(t("2025-01-01T00:00:00Z")), None);
    }
}
