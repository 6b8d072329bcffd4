//! The HTTP `Retry-After` header (RFC 9110 §10.2.3) as a delay: the one parser the venues'
//! REST clients, the news clients and the LLM clients share.
//!
//! The value is either delta-seconds (`120`; a fraction such as `1.5` is accepted too, as some
//! LLM vendors send one) or an HTTP date, which becomes the time left until then (zero once it
//! has passed). An HTTP date is read in the three forms RFC 9110 §5.6.7 asks recipients to
//! accept, always in GMT: the IMF-fixdate senders use (`Sun, 06 Nov 1994 08:49:37 GMT`), the
//! obsolete rfc850 date (`Sunday, 06-Nov-94 08:49:37 GMT`; a two-digit year more than 50 years
//! ahead of now is read as the latest past year with those digits) and asctime's
//! (`Sun Nov  6 08:49:37 1994`). Anything else is `None`: the caller falls back to its own
//! delay. No input panics, whatever the value and whatever `now`.

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The delay a `Retry-After` value asks for, counting an HTTP date from now.
///
/// ```
/// use std::time::Duration;
/// use tradegraph_core::retry_after;
///
/// assert_eq!(retry_after::parse(" 7 "), Some(Duration::from_secs(7)));
/// assert_eq!(retry_after::parse("0.25"), Some(Duration::from_millis(250)));
/// assert_eq!(retry_after::parse("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
/// assert_eq!(retry_after::parse("soon"), None);
/// ```
pub fn parse(value: &str) -> Option<Duration> {
    parse_at(value, SystemTime::now())
}

/// [`parse`] with an HTTP date counted from `now`. A `now` outside the dates chrono can hold
/// (beyond ±262,000 years) does not panic: an rfc850 date (whose century depends on `now`) is
/// then `None`, and the other forms still count from `now`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tradegraph_core::retry_after;
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_445_412_450); // 07:27:30 that day
/// assert_eq!(
///     retry_after::parse_at("Wed, 21 Oct 2015 07:28:00 GMT", now),
///     Some(Duration::from_secs(30))
/// );
/// ```
pub fn parse_at(value: &str, now: SystemTime) -> Option<Duration> {
    let text = value.trim();
    if let Some(delay) = seconds(text) {
        return Some(delay);
    }
    let at = http_date(text, now)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Delta-seconds: digits, with at most one decimal point; too large to represent is `None`.
fn seconds(text: &str) -> Option<Duration> {
    let well_formed = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().filter(|b| *b == b'.').count() <= 1
        && text.bytes().any(|b| b.is_ascii_digit());
    if !well_formed {
        return None;
    }
    match text.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => Duration::try_from_secs_f64(text.parse::<f64>().ok()?).ok(),
    }
}

/// An HTTP date in any of its three forms, as a point in time.
fn http_date(text: &str, now: SystemTime) -> Option<SystemTime> {
    let at = imf_fixdate(text)
        .or_else(|| rfc850_date(text, now))
        .or_else(|| asctime_date(text))?;
    system_time(at.and_utc())
}

/// The IMF-fixdate, the form RFC 9110 requires senders to use: `Sun, 06 Nov 1994 08:49:37 GMT`.
fn imf_fixdate(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%a, %d %b %Y %H:%M:%S GMT").ok()
}

/// The obsolete rfc850 date: `Sunday, 06-Nov-94 08:49:37 GMT`. The two-digit year is placed in
/// `now`'s century, or the one before when that would be more than 50 years ahead of `now`
/// (RFC 9110 §5.6.7). The day name is not checked against the date: the century it belongs to
/// is only known after that choice.
fn rfc850_date(text: &str, now: SystemTime) -> Option<NaiveDateTime> {
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let (day, rest) = text.split_once(", ")?;
    if !DAYS.iter().any(|name| name.eq_ignore_ascii_case(day)) {
        return None;
    }
    let two_digits = rest.get(7..9)?;
    if rest.get(2..3) != Some("-") || !two_digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parsed = NaiveDateTime::parse_from_str(rest, "%d-%b-%y %H:%M:%S GMT").ok()?;
    let this_year = year_of(now)?;
    let mut year = this_year - this_year.rem_euclid(100) + parsed.year().rem_euclid(100);
    if year > this_year + 50 {
        year -= 100;
    }
    parsed.with_year(year)
}

/// C's asctime date: `Sun Nov  6 08:49:37 1994` (the day padded with a space; always GMT).
fn asctime_date(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%a %b %e %H:%M:%S %Y").ok()
}

/// The calendar year (UTC) of `now`, if chrono can hold it.
fn year_of(now: SystemTime) -> Option<i32> {
    let secs = match now.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).ok()?,
        Err(before) => i64::try_from(before.duration().as_secs())
            .ok()?
            .checked_neg()?,
    };
    DateTime::from_timestamp(secs, 0).map(|at| at.year())
}

/// A chrono time as a `SystemTime`, if the platform can hold it.
fn system_time(at: DateTime<Utc>) -> Option<SystemTime> {
    let secs = at.timestamp();
    match u64::try_from(secs) {
        Ok(after) => UNIX_EPOCH.checked_add(Duration::from_secs(after)),
        Err(_) => UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::UNIX_EPOCH;

    const OCT_21_2015_0728: u64 = 1_445_412_480;

    #[test]
    fn seconds_are_read_with_surrounding_space() {
        assert_eq!(parse("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse("0"), Some(Duration::ZERO));
        assert_eq!(parse("1.5"), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn what_is_not_a_delay_is_none() {
        for bad in [
            "", " ", "soon", "-1", "+5", "1e3", "inf", "NaN", "1.2.3", ".", "7 s",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        assert_eq!(parse(&"9".repeat(400)), None, "too large for a Duration");
    }

    #[test]
    fn http_dates_count_from_now() {
        let at = UNIX_EPOCH + Duration::from_secs(OCT_21_2015_0728);
        let before = at - Duration::from_secs(90);
        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(parse_at(date, before), Some(Duration::from_secs(90)));
        assert_eq!(parse_at(date, at), Some(Duration::ZERO));
        assert_eq!(parse(date), Some(Duration::ZERO), "a past date: now");
    }

    #[test]
    fn only_gmt_dates_are_dates() {
        let now = UNIX_EPOCH;
        assert_eq!(parse_at("Wed, 21 Oct 2015 07:28:00 CET", now), None);
        assert_eq!(parse_at("Wed, 21 Oct 2015 25:28:00 GMT", now), None);
        assert_eq!(parse_at("Wed, 32 Oct 2015 07:28:00 GMT", now), None);
        assert_eq!(
            parse_at("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(OCT_21_2015_0728))
        );
    }

    #[test]
    fn rfc850_dates_are_read() {
        // 1994-11-06 08:49:37 UTC, the RFC's own example.
        let nov_6_1994 = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let date = "Sunday, 06-Nov-94 08:49:37 GMT";
        let before = nov_6_1994 - Duration::from_secs(60);
        assert_eq!(parse_at(date, before), Some(Duration::from_secs(60)));
        assert_eq!(parse_at(date, nov_6_1994), Some(Duration::ZERO));
        assert_eq!(
            parse_at(
                " Wednesday, 21-Oct-15 07:28:00 GMT ",
                UNIX_EPOCH + Duration::from_secs(OCT_21_2015_0728 - 30)
            ),
            Some(Duration::from_secs(30))
        );
        for bad in [
            "Sunday, 06-Nov-94 08:49:37 CET",
            "Someday, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 31-Nov-94 08:49:37 GMT",
            "Sunday 06-Nov-94 08:49:37 GMT",
        ] {
            assert_eq!(parse_at(bad, before), None, "{bad:?}");
        }
    }

    #[test]
    fn an_rfc850_year_more_than_50_years_ahead_is_in_the_past() {
        // now = 2026-01-01: "76" is 2076 (50 years ahead), "77" would be 2077, so 1977.
        let jan_1_2026 = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let in_2076 = "Wednesday, 01-Jan-76 00:00:00 GMT";
        let in_1977 = "Saturday, 01-Jan-77 00:00:00 GMT";
        let jan_1_2076 = UNIX_EPOCH + Duration::from_secs(3_345_062_400);
        assert_eq!(
            parse_at(in_2076, jan_1_2026),
            Some(jan_1_2076.duration_since(jan_1_2026).unwrap())
        );
        assert_eq!(parse_at(in_1977, jan_1_2026), Some(Duration::ZERO));
        let jan_1_1977 = UNIX_EPOCH + Duration::from_secs(220_924_800);
        assert_eq!(
            parse_at(in_1977, jan_1_1977 - Duration::from_secs(5)),
            Some(Duration::from_secs(5)),
            "counted from 1977, '77' is this year"
        );
    }

    #[test]
    fn asctime_dates_are_read() {
        let nov_6_1994 = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let before = nov_6_1994 - Duration::from_secs(45);
        assert_eq!(
            parse_at("Sun Nov  6 08:49:37 1994", before),
            Some(Duration::from_secs(45))
        );
        assert_eq!(
            parse_at("Wed Oct 21 07:28:00 2015", UNIX_EPOCH),
            Some(Duration::from_secs(OCT_21_2015_0728))
        );
        for bad in [
            "Sun Nov  6 08:49:37",
            "Sun Nov 31 08:49:37 1994",
            "Sun Nov  6 08:61:37 1994",
            "Sun Foo  6 08:49:37 1994",
        ] {
            assert_eq!(parse_at(bad, before), None, "{bad:?}");
        }
    }

    #[test]
    fn a_now_chrono_cannot_hold_does_not_panic() {
        let far = UNIX_EPOCH + Duration::from_secs(1 << 62);
        assert_eq!(
            parse_at("Wed, 21 Oct 2015 07:28:00 GMT", far),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_at("Wed Oct 21 07:28:00 2015", far),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_at("Wednesday, 21-Oct-15 07:28:00 GMT", far), None);
        let long_ago = UNIX_EPOCH - Duration::from_secs(1 << 62);
        assert_eq!(
            parse_at("Wed, 21 Oct 2015 07:28:00 GMT", long_ago),
            (UNIX_EPOCH + Duration::from_secs(OCT_21_2015_0728))
                .duration_since(long_ago)
                .ok()
        );
        assert_eq!(
            parse_at("Wednesday, 21-Oct-15 07:28:00 GMT", long_ago),
            None
        );
        assert_eq!(parse_at("12", far), Some(Duration::from_secs(12)));
    }

    proptest! {
        #[test]
        fn never_panics(text in ".*") {
            let _ = parse(&text);
        }

        #[test]
        fn whole_seconds_round_trip(secs in any::<u64>()) {
            prop_assert_eq!(parse(&secs.to_string()), Some(Duration::from_secs(secs)));
        }

        #[test]
        fn never_panics_for_any_now(
            text in prop_oneof![
                Just("Wed, 21 Oct 2015 07:28:00 GMT".to_owned()),
                Just("Wednesday, 21-Oct-15 07:28:00 GMT".to_owned()),
                Just("Wed Oct 21 07:28:00 2015".to_owned()),
                "[A-Za-z]{3,9}, [0-9]{2}-[A-Z][a-z]{2}-[0-9]{2} [0-9:]{8} GMT",
                "[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} [0-9]{1,6}",
                ".*",
            ],
            secs in any::<u64>(),
            before_epoch in any::<bool>(),
        ) {
            let step = Duration::from_secs(secs);
            let now = if before_epoch { UNIX_EPOCH.checked_sub(step) } else { UNIX_EPOCH.checked_add(step) };
            if let Some(now) = now {
                let _ = parse_at(&text, now);
            }
        }

        #[test]
        fn digit_strings_never_panic(text in "[0-9.]{0,40}") {
            let _ = parse_at(&text, UNIX_EPOCH);
        }
    }
}
