//! The venue's clock as Kite shows times: `YYYY-MM-DD HH:MM:SS` in India (UTC+05:30).

use std::time::{SystemTime, UNIX_EPOCH};

/// India's offset from UTC, in seconds.
const IST_OFFSET_SECS: i64 = 19_800;

/// Now, in India, as Kite writes times (`2026-12-05 10:00:00`).
pub(crate) fn ist_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    ist_text(secs)
}

/// Unix seconds as India's `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn ist_text(unix_secs: i64) -> String {
    let local = unix_secs.saturating_add(IST_OFFSET_SECS);
    let (days, rest) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The day in India (days since 1970-01-01 there) of Unix seconds.
pub(crate) fn ist_day(unix_secs: i64) -> i64 {
    unix_secs.saturating_add(IST_OFFSET_SECS).div_euclid(86_400)
}

/// India's `YYYY-MM-DD HH:MM:SS` as Unix seconds; `None` when it is not that.
pub(crate) fn ist_parse(text: &str) -> Option<i64> {
    let (date, time) = text.trim().split_once(' ')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, min, s) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 59 {
        return None;
    }
    // Days from civil (the inverse of `civil`).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + min * 60 + s - IST_OFFSET_SECS)
}

/// The calendar date of days since 1970-01-01 (proleptic Gregorian).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_india() {
        assert_eq!(ist_text(0), "1970-01-01 05:30:00");
        // 2026-12-05T04:30:00Z
        assert_eq!(ist_text(1_796_445_000), "2026-12-05 10:00:00");
        assert_eq!(ist_text(951_782_400), "2000-02-29 05:30:00");
        for secs in [0, 1_796_445_000, 951_782_400, 1_704_080_700] {
            assert_eq!(ist_parse(&ist_text(secs)), Some(secs));
        }
        assert_eq!(ist_parse("2024-13-01 00:00:00"), None);
        assert_eq!(ist_parse("2024-01-01"), None);
    }
}
