//! Properties of the page parsers: whatever a venue sends, they never panic; an error names the
//! row it is about (or says what the page is instead), and a row that parses passes the bar
//! checks.

#![allow(clippy::unwrap_used)]

use super::{parse_kite_candles, parse_klines};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A JSON value of the kinds a field may hold, good or bad.
fn field() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[0-9]{1,6}(\\.[0-9]{1,8})?".prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::Null),
        Just(json!([])),
        Just(json!({"msg": "x"})),
        Just(Value::from("2015-12-28T09:15:00+0530")),
    ]
}

/// A page: an array of rows of 0 to 13 fields, or something else.
fn page(wrap: fn(Value) -> Value) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(prop::collection::vec(field(), 0..13), 0..6).prop_map(move |rows| {
            let rows: Vec<Value> = rows.into_iter().map(Value::Array).collect();
            wrap(Value::Array(rows)).to_string().into_bytes()
        }),
        prop::collection::vec(any::<u8>(), 0..64),
        field().prop_map(|v| v.to_string().into_bytes()),
    ]
}

fn check(result: Result<Vec<super::HistoryBar>, super::PageError>, rows: usize) {
    match result {
        Ok(bars) => {
            assert!(bars.len() <= rows.max(bars.len()));
            for bar in bars {
                assert_eq!(bar.problem(), None, "{bar:?}");
            }
        }
        Err(err) => {
            let text = err.to_string();
            match err.row {
                Some(row) => {
                    assert!(row >= 1, "{text}");
                    assert!(text.starts_with(&format!("row {row}: ")), "{text}");
                }
                None => assert!(
                    text.starts_with("not JSON")
                        || text.starts_with("expected")
                        || text.starts_with("Kite answered an error"),
                    "{text}"
                ),
            }
        }
    }
}

proptest! {
    #[test]
    fn klines_never_panic_and_name_the_row(body in page(|rows| rows)) {
        check(parse_klines(&body), usize::MAX);
    }

    #[test]
    fn kite_candles_never_panic_and_name_the_row(
        body in page(|rows| json!({"status": "success", "data": {"candles": rows}}))
    ) {
        check(parse_kite_candles(&body), usize::MAX);
    }

    #[test]
    fn good_klines_parse_to_the_same_decimals(
        rows in prop::collection::vec((0i64..4_000_000_000_000, 1u32..1_000_000, 0u32..1_000, 0u32..100_000), 1..20)
    ) {
        let body: Vec<Value> = rows.iter().map(|(t, low, spread, volume)| {
            let high = low + spread;
            json!([t, format!("{low}.5"), format!("{high}.5"), format!("{low}.5"), format!("{high}.5"), format!("{volume}"), t + 59_999, "0", 1, "0", "0", "0"])
        }).collect();
        let bars = parse_klines(Value::Array(body).to_string().as_bytes()).unwrap();
        prop_assert_eq!(bars.len(), rows.len());
        for (bar, (t, low, _, volume)) in bars.iter().zip(&rows) {
            prop_assert_eq!(bar.open_time.millis(), *t);
            prop_assert_eq!(bar.low.to_string(), format!("{low}.5"));
            prop_assert_eq!(bar.volume.to_string(), volume.to_string());
        }
    }
}
