//! Issue 12, item 6: a `Timestamp` outside years 0000–9999 cannot be written as RFC 3339, so a
//! checkpoint holding one cannot be read back. Such values are refused where they come in (text,
//! JSON strings and JSON integers), and every value inside the range round-trips.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use tradegraph_core::{CoreError, Timestamp};

/// 0000-01-01T00:00:00Z in milliseconds.
const FIRST: i64 = -62_167_219_200_000;
/// 9999-12-31T23:59:59.999Z in milliseconds.
const LAST: i64 = 253_402_300_799_999;

fn assert_refused_naming(err: &str, given: &str) {
    assert!(err.contains(given), "error does not name `{given}`: {err}");
    assert!(
        err.contains("0000-01-01T00:00:00Z") && err.contains("9999-12-31T23:59:59.999Z"),
        "error does not give the allowed range: {err}"
    );
}

#[test]
fn timestamp_years_outside_0_to_9999_are_accepted() {
    // The ends themselves are fine, in every input form.
    let first: Timestamp = "0000-01-01T00:00:00Z".parse().unwrap();
    let last: Timestamp = "9999-12-31T23:59:59.999Z".parse().unwrap();
    assert_eq!((first.millis(), last.millis()), (FIRST, LAST));
    assert_eq!(
        serde_json::from_str::<Timestamp>(&LAST.to_string()).unwrap(),
        last
    );
    assert_eq!(
        serde_json::from_str::<Timestamp>(&FIRST.to_string()).unwrap(),
        first
    );

    // Four-digit years whose offset moves the instant out of the range.
    for text in ["9999-12-31T23:59:59-00:01", "0000-01-01T00:00:00+00:01"] {
        let err = text.parse::<Timestamp>().unwrap_err().to_string();
        assert_refused_naming(&err, text);
        let json = format!("\"{text}\"");
        let err = serde_json::from_str::<Timestamp>(&json)
            .unwrap_err()
            .to_string();
        assert_refused_naming(&err, text);
    }

    // Integer milliseconds just outside, and far outside.
    let outside = [
        (LAST + 1).to_string(),
        (FIRST - 1).to_string(),
        i64::MAX.to_string(),
        i64::MIN.to_string(),
    ];
    for json in &outside {
        let err = serde_json::from_str::<Timestamp>(json)
            .unwrap_err()
            .to_string();
        assert_refused_naming(&err, json);
    }
    let err = serde_json::from_str::<Timestamp>(&u64::MAX.to_string())
        .unwrap_err()
        .to_string();
    assert_refused_naming(&err, &u64::MAX.to_string());
}

#[test]
fn timestamp_range_constants_and_checked_constructor_match_rfc_3339() {
    assert_eq!(
        (Timestamp::MIN.millis(), Timestamp::MAX.millis()),
        (FIRST, LAST)
    );
    assert_eq!(Timestamp::MIN.to_string(), "0000-01-01T00:00:00Z");
    assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59.999Z");
    assert_eq!(Timestamp::try_from_millis(FIRST).unwrap(), Timestamp::MIN);
    assert_eq!(Timestamp::try_from_millis(LAST).unwrap(), Timestamp::MAX);
    for millis in [FIRST - 1, LAST + 1, i64::MIN, i64::MAX] {
        let err = Timestamp::try_from_millis(millis).unwrap_err();
        assert_eq!(
            err,
            CoreError::TimestampRange {
                input: millis.to_string()
            }
        );
        assert!(!Timestamp::from_millis(millis).is_representable());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn timestamp_years_inside_0_to_9999_round_trip(millis in FIRST..=LAST) {
        let t: Timestamp = serde_json::from_str(&millis.to_string()).unwrap();
        prop_assert_eq!(t.millis(), millis);
        prop_assert_eq!(Timestamp::try_from_millis(millis).unwrap(), t);
        let text = t.to_string();
        prop_assert_eq!(text.parse::<Timestamp>().unwrap(), t, "{}", text);
        let json = serde_json::to_string(&t).unwrap();
        prop_assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t, "{}", json);
    }

    #[test]
    fn timestamp_years_outside_0_to_9999_are_refused_as_integers(
        above in any::<bool>(),
        distance in 1i64..=i64::MAX - LAST,
    ) {
        let millis = if above { LAST + distance } else { FIRST.saturating_sub(distance) };
        prop_assert!(serde_json::from_str::<Timestamp>(&millis.to_string()).is_err(), "{}", millis);
        prop_assert!(Timestamp::try_from_millis(millis).is_err(), "{}", millis);
    }
}
