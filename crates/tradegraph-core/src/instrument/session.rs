//! Trading sessions: 24/7 markets and exchange sessions with a local day, hours and holidays.

use crate::{CoreError, Timestamp};
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

/// When an instrument trades.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradingSession {
    /// Always open; days are UTC calendar days (crypto).
    AlwaysOpen,
    /// An exchange's session on its trading days.
    Exchange(ExchangeSession),
}

impl TradingSession {
    /// Whether the market is open at `t`.
    pub fn is_open(&self, t: Timestamp) -> bool {
        match self {
            Self::AlwaysOpen => true,
            Self::Exchange(s) => s.session_at(t).is_some(),
        }
    }

    /// The `[open, close)` interval of the trading day containing `t`: a UTC day for 24/7 markets,
    /// the session for an exchange (`None` outside it).
    ///
    /// At the ends of the `i64` range the UTC day is clamped: the first day starts at `i64::MIN`
    /// milliseconds and the last ends at `i64::MAX`.
    pub fn day_at(&self, t: Timestamp) -> Option<(Timestamp, Timestamp)> {
        match self {
            Self::AlwaysOpen => {
                let start = t.millis().div_euclid(DAY).saturating_mul(DAY);
                Some((
                    Timestamp::from_millis(start),
                    Timestamp::from_millis(start.saturating_add(DAY)),
                ))
            }
            Self::Exchange(s) => s.session_at(t),
        }
    }

    /// The exchange session, if any.
    pub fn exchange(&self) -> Option<&ExchangeSession> {
        match self {
            Self::AlwaysOpen => None,
            Self::Exchange(s) => Some(s),
        }
    }
}

/// An exchange session: local hours on weekdays that are not holidays.
///
/// The time zone is a fixed UTC offset with its IANA name for display; that is exact for
/// Asia/Kolkata, which has no daylight saving time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeSession {
    /// IANA name of the time zone (`Asia/Kolkata`).
    pub time_zone: String,
    /// Offset of local time from UTC, in minutes (`330` for +05:30).
    pub utc_offset_minutes: i32,
    /// Local opening time (inclusive).
    pub open: NaiveTime,
    /// Local closing time (exclusive).
    pub close: NaiveTime,
    /// Local dates on which the exchange is closed (weekends are always closed).
    pub holidays: Arc<BTreeSet<NaiveDate>>,
}

impl ExchangeSession {
    /// NSE's normal market: 09:15–15:30 Asia/Kolkata, Monday to Friday, with the bundled
    /// holiday list (`nse_holidays.txt`; extend it with [`with_holidays`](Self::with_holidays)).
    pub fn nse() -> Self {
        let holidays = parse_holidays(include_str!("nse_holidays.txt")).unwrap_or_default();
        Self {
            time_zone: "Asia/Kolkata".to_owned(),
            utc_offset_minutes: crate::time::IST_OFFSET_MINUTES,
            open: NaiveTime::from_hms_opt(9, 15, 0).unwrap_or(NaiveTime::MIN),
            close: NaiveTime::from_hms_opt(15, 30, 0).unwrap_or(NaiveTime::MIN),
            holidays: Arc::new(holidays),
        }
    }

    /// Adds holidays, for example from [`parse_holidays`] of NSE's yearly circular.
    pub fn with_holidays(mut self, dates: impl IntoIterator<Item = NaiveDate>) -> Self {
        Arc::make_mut(&mut self.holidays).extend(dates);
        self
    }

    /// The last year the holiday list covers (the year of its latest date), or `None` for a
    /// session without a list.
    ///
    /// Exchanges publish the next year's holidays late in the year; a date after this year may
    /// be a holiday the list does not know, and is then taken for a trading day.
    pub fn holidays_known_through(&self) -> Option<i32> {
        self.holidays.last().map(Datelike::year)
    }

    /// `Some(last_year)` when `date` lies past the holiday list's last year (its holidays are
    /// unknown); `None` when the list covers it or there is no list.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use tradegraph_core::instrument::ExchangeSession;
    ///
    /// let nse = ExchangeSession::nse();
    /// let later = NaiveDate::from_ymd_opt(2099, 1, 5).unwrap();
    /// assert_eq!(nse.past_holiday_list(later), nse.holidays_known_through());
    /// ```
    pub fn past_holiday_list(&self, date: NaiveDate) -> Option<i32> {
        self.holidays_known_through()
            .filter(|last| date.year() > *last)
    }

    fn offset_millis(&self) -> i64 {
        i64::from(self.utc_offset_minutes).saturating_mul(MINUTE)
    }

    /// The local calendar date at `t` (clamped to chrono's date range for instants beyond it).
    pub fn local_date(&self, t: Timestamp) -> NaiveDate {
        let local = Timestamp::from_millis(t.millis().saturating_add(self.offset_millis()));
        local.to_datetime().date_naive()
    }

    /// Whether `date` (local) is a trading day.
    pub fn is_trading_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&date)
    }

    /// The session's `[open, close)` in UTC on a local date, if it is a trading day.
    pub fn bounds(&self, date: NaiveDate) -> Option<(Timestamp, Timestamp)> {
        if !self.is_trading_day(date) {
            return None;
        }
        let midnight = date.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
        let at = |t: NaiveTime| {
            Timestamp::from_millis(
                midnight
                    .saturating_add(i64::from(t.num_seconds_from_midnight()).saturating_mul(1000))
                    .saturating_sub(self.offset_millis()),
            )
        };
        Some((at(self.open), at(self.close)))
    }

    /// The session containing `t`, or `None` when the market is closed at `t`.
    pub fn session_at(&self, t: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let (open, close) = self.bounds(self.local_date(t))?;
        (open <= t && t < close).then_some((open, close))
    }

    /// The first session that opens after `t` (within the next 30 days).
    pub fn next_open_after(&self, t: Timestamp) -> Option<Timestamp> {
        let mut date = self.local_date(t);
        for _ in 0..31 {
            if let Some((open, _)) = self.bounds(date) {
                if open > t {
                    return Some(open);
                }
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// Checks that the session can work: open before close, offset within a day.
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.open >= self.close {
            return Err(CoreError::Session(format!(
                "{}: open {} is not before close {}",
                self.time_zone, self.open, self.close
            )));
        }
        if self.utc_offset_minutes.abs() >= 24 * 60 {
            return Err(CoreError::Session(format!(
                "{}: UTC offset of {} minutes is more than a day",
                self.time_zone, self.utc_offset_minutes
            )));
        }
        Ok(())
    }

    /// Minutes from midnight local time to the open.
    pub fn open_minute(&self) -> u32 {
        self.open.num_seconds_from_midnight() / 60
    }
}

/// Parses a holiday list: one `YYYY-MM-DD` per line, anything after the date is a comment, `#`
/// starts a comment line, blank lines are ignored.
pub fn parse_holidays(text: &str) -> Result<BTreeSet<NaiveDate>, CoreError> {
    let mut dates = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let date = line.split_whitespace().next().unwrap_or_default();
        let parsed =
            NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| CoreError::Holiday {
                line: i + 1,
                text: line.chars().take(64).collect(),
            })?;
        dates.insert(parsed);
    }
    Ok(dates)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn nse_session_is_0915_to_1530_kolkata() {
        let nse = ExchangeSession::nse();
        nse.validate().unwrap();
        let monday = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
        let (open, close) = nse.bounds(monday).unwrap();
        assert_eq!(open, t("2025-01-06T09:15:00+05:30"));
        assert_eq!(close, t("2025-01-06T15:30:00+05:30"));
        assert!(nse.session_at(t("2025-01-06T03:44:59Z")).is_none());
        assert_eq!(
            nse.session_at(t("2025-01-06T03:45:00Z")),
            Some((open, close))
        );
        assert!(
            nse.session_at(t("2025-01-06T10:00:00Z")).is_none(),
            "15:30 is closed"
        );
    }

    #[test]
    fn weekends_and_holidays_are_closed() {
        let nse = ExchangeSession::nse();
        let saturday = NaiveDate::from_ymd_opt(2025, 1, 4).unwrap();
        let holi = NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
        assert!(nse.bounds(saturday).is_none());
        assert!(nse.bounds(holi).is_none());
        // After Friday's close the next open is Monday's.
        assert_eq!(
            nse.next_open_after(t("2025-01-03T12:00:00Z")),
            Some(t("2025-01-06T09:15:00+05:30"))
        );
        let extra = nse.with_holidays([NaiveDate::from_ymd_opt(2025, 1, 6).unwrap()]);
        assert!(extra
            .bounds(NaiveDate::from_ymd_opt(2025, 1, 6).unwrap())
            .is_none());
    }

    /// NSE's trading holidays for 2026: the annual circular's fifteen, plus 15 January (the
    /// Maharashtra municipal elections), added by NSE's circular of 12 January 2026.
    #[test]
    fn nse_holidays_2026_are_closed() {
        let nse = ExchangeSession::nse();
        let holidays = [
            (1, 15),
            (1, 26),
            (3, 3),
            (3, 26),
            (3, 31),
            (4, 3),
            (4, 14),
            (5, 1),
            (5, 28),
            (6, 26),
            (9, 14),
            (10, 2),
            (10, 20),
            (11, 10),
            (11, 24),
            (12, 25),
        ];
        for (m, d) in holidays {
            let date = NaiveDate::from_ymd_opt(2026, m, d).unwrap();
            assert!(!nse.is_trading_day(date), "{date} is an NSE holiday");
        }
        let listed = nse.holidays.iter().filter(|d| d.year() == 2026).count();
        assert_eq!(listed, holidays.len(), "exactly NSE's 2026 list");
        // An ordinary Wednesday of 2026 trades.
        assert!(nse.is_trading_day(NaiveDate::from_ymd_opt(2026, 7, 22).unwrap()));
    }

    #[test]
    fn a_date_past_the_holiday_list_is_named() {
        let nse = ExchangeSession::nse();
        assert_eq!(nse.holidays_known_through(), Some(2026));
        let in_list = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        let past = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
        assert_eq!(nse.past_holiday_list(in_list), None);
        assert_eq!(nse.past_holiday_list(past), Some(2026));
        let extended = nse.with_holidays([NaiveDate::from_ymd_opt(2027, 1, 26).unwrap()]);
        assert_eq!(extended.past_holiday_list(past), None);
        // A session without any holiday list is never "past" it.
        let mut bare = ExchangeSession::nse();
        bare.holidays = Arc::new(BTreeSet::new());
        assert_eq!(bare.holidays_known_through(), None);
        assert_eq!(bare.past_holiday_list(past), None);
    }

    #[test]
    fn holiday_lists_report_the_bad_line() {
        let err = parse_holidays("# c\n2025-01-26 Republic Day\n26/01/2025\n").unwrap_err();
        assert_eq!(
            err,
            CoreError::Holiday {
                line: 3,
                text: "26/01/2025".into()
            }
        );
    }

    #[test]
    fn crypto_days_are_utc_days() {
        let day = TradingSession::AlwaysOpen
            .day_at(t("2024-01-01T23:59:59Z"))
            .unwrap();
        assert_eq!(day, (t("2024-01-01T00:00:00Z"), t("2024-01-02T00:00:00Z")));
    }
}
