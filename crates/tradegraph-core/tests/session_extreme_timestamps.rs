//! Issue 12, item 8: every public function of the trading sessions answers, without panicking,
//! for any timestamp, including `i64::MIN` and `i64::MAX` milliseconds (a replay row
//! `-9223372036854775808,1,1,1,1,1` or a Binance trade with that time reaches them).
#![allow(clippy::unwrap_used)]

use chrono::Datelike;
use proptest::prelude::*;
use tradegraph_core::{ExchangeSession, Timestamp, TradingSession};

/// Calls every public session function at `t` and checks what each answer promises.
fn check_all_answers(t: Timestamp) {
    let always = TradingSession::AlwaysOpen;
    assert!(always.is_open(t), "24/7 is open at {}", t.millis());
    let (start, end) = always.day_at(t).unwrap();
    assert!(
        start <= t,
        "day start {} after {}",
        start.millis(),
        t.millis()
    );
    assert!(
        t < end || end.millis() == i64::MAX,
        "day end {} not after {}",
        end.millis(),
        t.millis()
    );
    assert!(always.exchange().is_none());

    let nse = ExchangeSession::nse();
    let session = TradingSession::Exchange(nse.clone());
    let date = nse.local_date(t);
    let _ = nse.is_trading_day(date);
    if let Some((open, close)) = nse.bounds(date) {
        assert!(
            open < close,
            "session at {date} opens {open} after close {close}"
        );
    }
    let at = nse.session_at(t);
    if let Some((open, close)) = at {
        assert!(open <= t && t < close, "{} outside its session", t.millis());
    }
    assert_eq!(session.is_open(t), at.is_some());
    assert_eq!(session.day_at(t), at);
    if let Some(open) = nse.next_open_after(t) {
        assert!(
            open > t,
            "next open {} not after {}",
            open.millis(),
            t.millis()
        );
    }
}

#[test]
fn session_arithmetic_overflows_for_extreme_timestamps() {
    for millis in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
        check_all_answers(Timestamp::from_millis(millis));
    }
    // The last UTC day that fits still ends inside the range, and the first is clamped.
    let last = TradingSession::AlwaysOpen
        .day_at(Timestamp::from_millis(i64::MAX))
        .unwrap();
    assert_eq!(
        last.0.millis(),
        i64::MAX.div_euclid(86_400_000) * 86_400_000
    );
    assert_eq!(last.1.millis(), i64::MAX);
    let first = TradingSession::AlwaysOpen
        .day_at(Timestamp::from_millis(i64::MIN))
        .unwrap();
    assert_eq!(first.0.millis(), i64::MIN);
    // Beyond chrono's range the local date is clamped to the nearer end, not the other one.
    let nse = ExchangeSession::nse();
    assert!(nse.local_date(Timestamp::from_millis(i64::MAX)).year() > 9999);
    assert!(nse.local_date(Timestamp::from_millis(i64::MIN)).year() < 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn session_arithmetic_overflows_for_any_timestamp(millis in any::<i64>()) {
        check_all_answers(Timestamp::from_millis(millis));
    }

    #[test]
    fn session_arithmetic_overflows_near_the_ends(
        offset in 0i64..(40 * 86_400_000),
        low in any::<bool>(),
    ) {
        let millis = if low { i64::MIN + offset } else { i64::MAX - offset };
        check_all_answers(Timestamp::from_millis(millis));
    }
}
