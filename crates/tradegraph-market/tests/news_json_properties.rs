//! News JSON from Finnhub and EODHD (issue 12, "beyond the list"): any response body, served
//! by a local peer, gives items or an error naming the source, never a panic; the items keep
//! what the sources promise (at most the limit, newest first, unique ids, non-blank headlines,
//! writable times, summaries cut, finite sentiments) and every unreadable item is skipped and
//! counted (see `fuzz_harness/news_json.rs`, which the cargo-fuzz target `news_json` runs too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "news")]

#[path = "fuzz_harness/news_json.rs"]
mod harness;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

fn news() -> &'static harness::News {
    static NEWS: OnceLock<harness::News> = OnceLock::new();
    NEWS.get_or_init(harness::News::new)
}

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => "[ -~]{1,40}".prop_map(Value::String),
        1 => "[ \t\n]{0,3}".prop_map(Value::String),
        1 => any::<String>().prop_map(Value::String),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(Value::Null),
    ]
}

fn seconds() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => (1_600_000_000i64..1_800_000_000).prop_map(Value::from),
        1 => prop::sample::select(vec![i64::MIN, -1, 0, 253_402_300_800, i64::MAX]).prop_map(Value::from),
        1 => Just(json!(1.7e9)),
        1 => Just(json!("1700000000")),
    ]
}

fn date() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => (2000i32..2030, 1u32..13, 1u32..29, 0u32..24, prop::sample::select(vec!["+00:00", "Z", "+05:30", "-23:59"]))
            .prop_map(|(y, m, d, h, tz)| Value::String(format!("{y}-{m:02}-{d:02}T{h:02}:00:00{tz}"))),
        1 => prop::sample::select(vec!["0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "yesterday", ""])
            .prop_map(|s| Value::String(s.to_owned())),
        1 => any::<i64>().prop_map(Value::from),
    ]
}

fn polarity() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (-1.0f64..=1.0).prop_map(|p| json!({"polarity": p, "neg": 0.1, "neu": 0.8, "pos": 0.1})),
        1 => Just(json!({"polarity": "high"})),
        1 => Just(Value::Null),
    ]
}

/// An item with the fields of both providers (so one body serves both), some missing or of
/// the wrong type.
fn item() -> impl Strategy<Value = Value> {
    (
        (seconds(), date(), text(), text()),
        (
            prop_oneof![any::<u32>().prop_map(Value::from), text()],
            text(),
            text(),
        ),
        (
            "[ -~]{0,3000}",
            "(https://www\\.[a-z]{1,10}\\.com/[a-z0-9/]{0,20})?",
            "[A-Z ,.]{0,20}",
        ),
        (prop::collection::vec(text(), 0..4), polarity()),
        prop::collection::vec(any::<prop::sample::Index>(), 0..3),
    )
        .prop_map(
            |(
                (datetime, date, headline, title),
                (id, source, category),
                (content, link, related),
                (symbols, sentiment),
                drop,
            )| {
                let mut item: Map<String, Value> = [
                    ("datetime", datetime),
                    ("date", date),
                    ("headline", headline),
                    ("title", title),
                    ("id", id),
                    ("source", source),
                    ("category", category),
                    ("content", Value::String(content.clone())),
                    ("summary", Value::String(content)),
                    ("link", Value::String(link.clone())),
                    ("url", Value::String(link)),
                    ("related", Value::String(related)),
                    ("symbols", Value::Array(symbols.clone())),
                    ("tags", Value::Array(symbols)),
                    ("sentiment", sentiment),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
                for index in drop {
                    let key = item.keys().nth(index.index(item.len())).cloned();
                    if let Some(key) = key {
                        item.remove(&key);
                    }
                }
                Value::Object(item)
            },
        )
}

/// One FRED observation: dates that may not be dates, values that may be missing (`.`) or not
/// numbers.
fn observation() -> impl Strategy<Value = Value> {
    let day = prop_oneof![
        6 => (2000i32..2030, 1u32..13, 1u32..29).prop_map(|(y, m, d)| json!(format!("{y:04}-{m:02}-{d:02}"))),
        1 => text(),
    ];
    let value = prop_oneof![
        6 => (-5.0f64..500.0).prop_map(|v| json!(format!("{v:.2}"))),
        2 => Just(json!(".")),
        1 => prop::sample::select(vec!["NaN", "inf", "1e999", "", "-"]).prop_map(|v| json!(v)),
        1 => text(),
    ];
    (day.clone(), day, value).prop_map(|(date, known, value)| {
        json!({"realtime_start": known, "realtime_end": "2024-12-05", "date": date, "value": value})
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec(observation(), 0..12).prop_map(|obs| {
            json!({"realtime_start": "2024-12-05", "realtime_end": "2024-12-05", "units": "lin",
                   "count": obs.len(), "observations": obs}).to_string().into_bytes()
        }),
        1 => Just(br#"{"error_code": 400, "error_message": "Bad Request.  The series does not exist."}"#.to_vec()),
        6 => prop::collection::vec(prop_oneof![9 => item(), 1 => Just(json!(42)), 1 => Just(Value::Null)], 0..70)
            .prop_map(|items| Value::Array(items).to_string().into_bytes()),
        1 => Just(br#"{"error": "You don't have access to this resource."}"#.to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => (prop::collection::vec(item(), 1..5), any::<prop::sample::Index>()).prop_map(|(items, cut)| {
            let text = Value::Array(items).to_string().into_bytes();
            text[..cut.index(text.len())].to_vec()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn any_body_gives_items_or_a_snapshot_or_an_error_naming_the_source(body in body()) {
        news().check(&body);
    }
}

/// The generators reach the code under test: items come out of both sources.
#[test]
fn a_plain_body_gives_items_from_both_sources() {
    let body = json!([{
        "datetime": 1_736_150_000, "date": "2025-01-06T08:00:00+00:00",
        "headline": " BTC holds ", "title": "Nifty opens higher", "id": 7,
        "source": "Wire", "category": "crypto", "content": "x".repeat(1_500),
        "link": "https://www.example.com/a", "related": "BTC, ETH",
        "symbols": ["NSEI.INDX"], "tags": [], "sentiment": {"polarity": 0.5},
    }]);
    let answers = news().check(body.to_string().as_bytes());
    let finnhub = answers.finnhub.unwrap();
    assert_eq!(finnhub[0].headline, "BTC holds");
    assert_eq!(finnhub[0].symbols, ["BTC", "ETH"]);
    let eodhd = answers.eodhd.unwrap();
    assert_eq!(eodhd[0].source, "example.com");
    assert_eq!(eodhd[0].summary.chars().count(), 1_001);
}

/// The FRED generator reaches the code under test: a plain observations body gives a snapshot.
#[test]
fn a_plain_observations_body_gives_a_fred_snapshot() {
    let body = json!({"observations": [
        {"realtime_start": "2024-12-05", "realtime_end": "2024-12-05", "date": "2024-12-05", "value": "."},
        {"realtime_start": "2024-11-08", "realtime_end": "2024-12-05", "date": "2024-11-08", "value": "4.75"},
    ]});
    let snapshot = news().check(body.to_string().as_bytes()).fred.unwrap();
    assert_eq!(snapshot.policy_rate_pct, 4.75);
    // asked at 2024-12-06T15:46:40Z: the vintage of 2024-12-05, complete at its end
    assert_eq!(snapshot.as_of, "2024-12-06T00:00:00Z".parse().unwrap());
}

/// [`NewsItem::sentiment`](tradegraph_market::news::NewsItem::sentiment) is documented as a
/// polarity from -1 to 1, but EODHD's parser only drops non-finite ones: a polarity of 7 is
/// handed out as it came (a defect found by this property; the fix belongs in `news/eodhd.rs`).
#[test]
fn eodhd_sentiment_stays_within_minus_one_and_one() {
    let body = json!([{"date": "2025-01-06T08:00:00+00:00", "title": "t", "sentiment": {"polarity": 7.0}}]);
    let items = news().check(body.to_string().as_bytes()).eodhd.unwrap();
    let sentiment = items[0].sentiment;
    assert!(
        sentiment.is_none_or(|s| (-1.0..=1.0).contains(&s)),
        "sentiment {sentiment:?}"
    );
}

/// `NewsSource` promises no repeated ids, but the as-of selection removes a repeat only when
/// it sorts next to the first: a story listed twice with different times (an EODHD article
/// updated under the same link, a Finnhub story re-dated) comes back twice (a defect found by
/// this property; the fix belongs in `news/filter.rs`).
#[test]
fn a_story_listed_twice_with_different_times_is_returned_once() {
    let story = |id: u32, secs: i64, date: &str| {
        json!({"id": id, "datetime": secs, "headline": format!("story {id}"), "date": date,
               "title": format!("story {id}"), "link": format!("https://www.example.com/{id}")})
    };
    // Story 7 at 08:00 and again, updated, at 11:00; story 8 in between.
    let body = json!([
        story(7, 1_736_150_400, "2025-01-06T08:00:00+00:00"),
        story(8, 1_736_155_800, "2025-01-06T09:30:00+00:00"),
        story(7, 1_736_161_200, "2025-01-06T11:00:00+00:00"),
    ]);
    let answers = news().check(body.to_string().as_bytes());
    let finnhub = answers.finnhub.unwrap();
    assert_eq!(finnhub.len(), 2, "finnhub: {finnhub:#?}");
    let eodhd = answers.eodhd.unwrap();
    assert_eq!(eodhd.len(), 2, "eodhd: {eodhd:#?}");
}
