//! Which bucket a time falls in, for each timeframe and session.

use tradegraph_core::{Timeframe, Timestamp, TradingSession};

/// The `[start, end)` of the `timeframe` bucket containing `t`, or `None` when `t` is outside the
/// session. Buckets align to UTC for 24/7 markets and to the session open otherwise; a bucket
/// never ends after the session close.
///
/// ```
/// use tradegraph_core::{Instrument, Timeframe, Timestamp};
/// use tradegraph_market::aggregate::bucket_start;
/// let nifty = Instrument::nifty_50();
/// let t: Timestamp = "2025-01-06T15:20:00+05:30".parse()?;
/// let (start, end) = bucket_start(&nifty.session, Timeframe::H1, t).unwrap();
/// assert_eq!(start, "2025-01-06T15:15:00+05:30".parse()?);
/// assert_eq!(end, "2025-01-06T15:30:00+05:30".parse()?); // cut at the close
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
pub fn bucket_start(
    session: &TradingSession,
    timeframe: Timeframe,
    t: Timestamp,
) -> Option<(Timestamp, Timestamp)> {
    let (day_start, day_end) = session.day_at(t)?;
    if timeframe == Timeframe::D1 {
        return Some((day_start, day_end));
    }
    let len = timeframe.millis();
    let offset = (t.millis() - day_start.millis()).div_euclid(len) * len;
    let start = day_start.add_millis(offset);
    Some((start, start.add_millis(len).min(day_end)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_core::Instrument;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn crypto_buckets_align_to_utc() {
        let s = TradingSession::AlwaysOpen;
        let at = t("2024-01-01T10:07:30Z");
        assert_eq!(
            bucket_start(&s, Timeframe::M1, at).unwrap().0,
            t("2024-01-01T10:07:00Z")
        );
        assert_eq!(
            bucket_start(&s, Timeframe::M5, at).unwrap().0,
            t("2024-01-01T10:05:00Z")
        );
        assert_eq!(
            bucket_start(&s, Timeframe::M15, at).unwrap().0,
            t("2024-01-01T10:00:00Z")
        );
        assert_eq!(
            bucket_start(&s, Timeframe::H1, at).unwrap(),
            (t("2024-01-01T10:00:00Z"), t("2024-01-01T11:00:00Z"))
        );
        assert_eq!(
            bucket_start(&s, Timeframe::D1, at).unwrap().0,
            t("2024-01-01T00:00:00Z")
        );
    }

    #[test]
    fn nse_buckets_count_from_the_open_and_stop_at_the_close() {
        let s = Instrument::bank_nifty().session;
        let at = t("2025-01-06T09:20:10+05:30");
        assert_eq!(
            bucket_start(&s, Timeframe::M5, at).unwrap().0,
            t("2025-01-06T09:20:00+05:30")
        );
        assert_eq!(
            bucket_start(&s, Timeframe::M15, at).unwrap().0,
            t("2025-01-06T09:15:00+05:30")
        );
        assert_eq!(
            bucket_start(&s, Timeframe::H1, t("2025-01-06T10:14:59+05:30"))
                .unwrap()
                .0,
            t("2025-01-06T09:15:00+05:30")
        );
        assert_eq!(
            bucket_start(&s, Timeframe::D1, at).unwrap(),
            (
                t("2025-01-06T09:15:00+05:30"),
                t("2025-01-06T15:30:00+05:30")
            )
        );
        assert!(bucket_start(&s, Timeframe::M1, t("2025-01-06T09:14:59+05:30")).is_none());
        assert!(
            bucket_start(&s, Timeframe::M1, t("2025-01-04T10:00:00+05:30")).is_none(),
            "Saturday"
        );
    }
}
