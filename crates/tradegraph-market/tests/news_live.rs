#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "news")]
//! The live sources a running bot reads (issue 16, item 3): FRED against a local peer speaking
//! its `series/observations` wire format, as of by vintage; and the caches in front of FRED and
//! Finnhub: asked once per refresh interval, stories deduplicated, the last answer served while
//! the provider is down.

use std::sync::Arc;
use std::time::Duration;
use tradegraph_core::Timestamp;
use tradegraph_market::news::{
    CachedMacro, CachedNews, FinnhubNews, FredMacro, FredSeries, FredSeriesSet, MacroSource,
    NewsError, NewsQuery, NewsSource,
};
use tradegraph_market::SimulatedClock;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "fred-key-5e4d3c2b1a";

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn json(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json")
}

/// FRED's answer for one series as of the vintage of `day`: `(period, value, first published)`,
/// newest first. FRED clips each observation's real-time period to the one asked for, so every
/// observation says `day`, whenever it was first published (which the rows note, unused).
fn observations(day: &str, rows: &[(&str, &str, &str)]) -> serde_json::Value {
    let obs: Vec<_> = rows
        .iter()
        .map(|(date, value, _published)| {
            serde_json::json!({"realtime_start": day, "realtime_end": day, "date": date, "value": value})
        })
        .collect();
    serde_json::json!({
        "realtime_start": day, "realtime_end": day, "observation_start": "1600-01-01",
        "observation_end": day, "units": "lin", "output_type": 1, "file_type": "json",
        "order_by": "observation_date", "sort_order": "desc", "count": obs.len(),
        "offset": 0, "limit": 10, "observations": obs
    })
}

/// A series answered for the vintage of `day`.
async fn series(
    server: &MockServer,
    id: &str,
    units: &str,
    day: &str,
    rows: &[(&str, &str, &str)],
) {
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .and(query_param("series_id", id))
        .and(query_param("units", units))
        .and(query_param("realtime_start", day))
        .and(query_param("realtime_end", day))
        .and(query_param("observation_end", day))
        .and(query_param("file_type", "json"))
        .and(query_param("sort_order", "desc"))
        .and(query_param("api_key", KEY))
        .respond_with(json(observations(day, rows)))
        .mount(server)
        .await;
}

fn fred(server: &MockServer, set: FredSeriesSet, now: &str) -> FredMacro {
    FredMacro::new(KEY, set)
        .unwrap()
        .with_base_url(&format!("{}/fred", server.uri()))
        .unwrap()
        .with_clock(Arc::new(SimulatedClock::new(at(now))))
}

/// The US set: policy rate and the fed funds figure from one series, CPI as `pc1`.
fn us_minimal() -> FredSeriesSet {
    let mut set = FredSeriesSet::us();
    set.extra.clear();
    set
}

#[tokio::test]
async fn fred_reads_each_series_as_known_the_day_before() {
    let server = MockServer::start().await;
    // November's CPI was released on 2024-12-11: a cycle during that day must not see it.
    series(
        &server,
        "DFEDTARU",
        "lin",
        "2024-12-10",
        &[("2024-12-10", "4.75", "2024-11-08")],
    )
    .await;
    series(
        &server,
        "CPIAUCSL",
        "pc1",
        "2024-12-10",
        &[("2024-10-01", "2.6", "2024-11-13")],
    )
    .await;
    series(
        &server,
        "DFEDTARU",
        "lin",
        "2024-12-11",
        &[("2024-12-11", "4.75", "2024-11-08")],
    )
    .await;
    series(
        &server,
        "CPIAUCSL",
        "pc1",
        "2024-12-11",
        &[("2024-11-01", "2.7", "2024-12-11")],
    )
    .await;
    let source = fred(&server, us_minimal(), "2024-12-31T00:00:00Z");

    let during = source.snapshot(at("2024-12-11T20:00:00Z")).await.unwrap();
    assert_eq!(during.cpi_inflation_yoy_pct, 2.6, "{during:?}");
    assert_eq!(during.policy_rate_pct, 4.75);
    assert_eq!(
        during.us_fed_funds_pct,
        Some(4.75),
        "one series read once for both"
    );
    assert_eq!(during.region, "US");
    assert_eq!(
        during.as_of,
        at("2024-12-11T00:00:00Z"),
        "the vintage of 2024-12-10, complete at its end"
    );
    assert!(
        during.source.contains("FRED CPIAUCSL (pc1) 2024-10-01=2.6")
            && during.source.contains("FRED DFEDTARU 2024-12-10=4.75"),
        "{}",
        during.source
    );
    let next_day = source.snapshot(at("2024-12-12T00:00:00Z")).await.unwrap();
    assert_eq!(next_day.cpi_inflation_yoy_pct, 2.7);
    assert_eq!(next_day.as_of, at("2024-12-12T00:00:00Z"));
    // Asked about a time past its clock, the source answers as of the clock.
    let clamped = fred(&server, us_minimal(), "2024-12-11T20:00:00Z")
        .snapshot(at("2030-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(clamped.cpi_inflation_yoy_pct, 2.6);
}

#[tokio::test]
async fn fred_skips_missing_values_and_leaves_out_an_optional_figure_it_cannot_read() {
    let server = MockServer::start().await;
    let day = "2024-12-03";
    series(
        &server,
        "IRSTCB01INM156N",
        "lin",
        day,
        &[
            ("2024-12-01", ".", "2024-12-03"),
            ("2024-11-01", "6.5", "2024-11-20"),
        ],
    )
    .await;
    series(
        &server,
        "INDCPIALLMINMEI",
        "pc1",
        day,
        &[("2024-10-01", "6.21", "2024-11-15")],
    )
    .await;
    series(
        &server,
        "DFEDTARU",
        "lin",
        day,
        &[("2024-12-03", "4.75", "2024-11-08")],
    )
    .await;
    // DEXINUS answers 500: the snapshot goes without it.
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .and(query_param("series_id", "DEXINUS"))
        .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
        .mount(&server)
        .await;
    let s = fred(&server, FredSeriesSet::india(), "2024-12-31T00:00:00Z")
        .snapshot(at("2024-12-04T09:15:00Z"))
        .await
        .unwrap();
    assert_eq!((s.region.as_str(), s.policy_rate_pct), ("IN", 6.5));
    assert_eq!(s.cpi_inflation_yoy_pct, 6.21);
    assert_eq!(s.us_fed_funds_pct, Some(4.75));
    assert!(s.extra.is_empty(), "{:?}", s.extra);
    assert!(
        s.source.contains("FRED IRSTCB01INM156N 2024-11-01=6.5"),
        "{}",
        s.source
    );
}

#[tokio::test]
async fn fred_errors_name_fred_and_what_it_said_never_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            format!(r#"{{"error_code":400,"error_message":"Bad Request.  The value for variable api_key ({KEY}) is not registered."}}"#),
            "application/json",
        ))
        .mount(&server)
        .await;
    let err = fred(&server, us_minimal(), "2024-12-31T00:00:00Z")
        .snapshot(at("2024-12-04T00:00:00Z"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            NewsError::Status {
                status: 400,
                provider: "fred",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        text.contains("is not registered") && text.contains("(***)"),
        "{text}"
    );
    for shown in [text.clone(), format!("{err:?}")] {
        assert!(!shown.contains(KEY), "key leaked: {shown}");
    }
}

#[tokio::test]
async fn a_cached_macro_source_asks_once_per_interval_and_serves_its_last_snapshot_when_down() {
    let server = MockServer::start().await;
    let day = "2024-12-03";
    series(
        &server,
        "DFEDTARU",
        "lin",
        day,
        &[("2024-12-03", "4.75", "2024-11-08")],
    )
    .await;
    series(
        &server,
        "CPIAUCSL",
        "pc1",
        day,
        &[("2024-10-01", "2.6", "2024-11-13")],
    )
    .await;
    let clock = Arc::new(SimulatedClock::new(at("2024-12-04T10:00:00Z")));
    let macros = CachedMacro::new(
        fred(&server, us_minimal(), "2024-12-31T00:00:00Z"),
        Duration::from_secs(3600),
    )
    .with_clock(clock.clone());
    let asked = at("2024-12-04T10:00:00Z");
    let first = macros.snapshot(asked).await.unwrap();
    for _ in 0..5 {
        assert_eq!(macros.snapshot(asked).await.unwrap(), first);
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "two series, asked once"
    );
    // An hour later FRED is down: the last snapshot is served, and asked for again only after
    // another hour.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    clock.advance_to(at("2024-12-04T11:00:00Z"));
    assert_eq!(macros.snapshot(asked).await.unwrap(), first);
    assert_eq!(macros.snapshot(asked).await.unwrap(), first);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "one failed snapshot (its two series asked at once), not asked again within the hour"
    );
    // Never a snapshot newer than the time asked for.
    let err = macros
        .snapshot(at("2024-11-01T00:00:00Z"))
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("fred"), "{err}");
}

fn story(id: u64, secs: i64, headline: &str) -> serde_json::Value {
    serde_json::json!({"category": "crypto", "datetime": secs, "headline": headline, "id": id,
        "image": "", "related": "BTC", "source": format!("Outlet {id}"), "summary": "s",
        "url": format!("https://news.example.com/{id}")})
}

#[tokio::test]
async fn cached_news_refreshes_once_per_interval_dedups_and_keeps_stories_while_the_provider_is_down(
) {
    let server = MockServer::start().await;
    let t0 = 1_733_300_000; // 2024-12-04T08:13:20Z
    Mock::given(method("GET"))
        .and(path("/news"))
        .and(query_param("category", "crypto"))
        .respond_with(json(serde_json::json!([
            story(1, t0 - 600, "Bitcoin ETF inflows hit a record"),
            story(2, t0 - 300, "BITCOIN ETF inflows hit a record!"), // the same story elsewhere
            story(3, t0 + 600, "A story from after the cycle"),
        ])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/news"))
        .respond_with(json(serde_json::json!([
            story(3, t0 + 600, "A story from after the cycle"),
            story(4, t0 + 900, "Miners sell into strength"),
        ])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/news"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "60"))
        .mount(&server)
        .await;
    let clock = Arc::new(SimulatedClock::new(Timestamp::from_secs(t0)));
    let source = FinnhubNews::new("finnhub-key-0000")
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap()
        .with_clock(Arc::new(SimulatedClock::new(Timestamp::from_secs(
            t0 + 3600,
        ))));
    let news = CachedNews::new(source, Duration::from_secs(300)).with_clock(clock.clone());
    let as_of = |secs: i64| NewsQuery::new().as_of(Timestamp::from_secs(secs));

    let first = news.latest(&as_of(t0)).await.unwrap();
    let ids: Vec<_> = first.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        ["finnhub:1"],
        "one copy of the story, nothing after the cycle"
    );
    // Within the interval: from memory.
    news.latest(&as_of(t0 + 60)).await.unwrap();
    assert_eq!(news.refreshes(), 1);
    // After it: the new story joins those kept, story 3 is not repeated.
    clock.advance_to(Timestamp::from_secs(t0 + 1000));
    let second = news.latest(&as_of(t0 + 1000)).await.unwrap();
    let ids: Vec<_> = second.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["finnhub:4", "finnhub:3", "finnhub:1"]);
    assert_eq!(news.refreshes(), 2);
    // The provider is rate limiting: the stories kept are served, once per interval.
    clock.advance_to(Timestamp::from_secs(t0 + 1400));
    assert_eq!(news.latest(&as_of(t0 + 1400)).await.unwrap(), second);
    assert_eq!(news.latest(&as_of(t0 + 1400)).await.unwrap(), second);
    assert_eq!((news.refreshes(), news.failures()), (2, 1));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn cached_news_returns_the_error_while_nothing_was_ever_fetched() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_string(r#"{"error":"Invalid API key"}"#))
        .mount(&server)
        .await;
    let source = FinnhubNews::new("finnhub-key-0000")
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap();
    let news = CachedNews::new(source, Duration::from_secs(300));
    let err = news.latest(&NewsQuery::new()).await.unwrap_err();
    assert!(
        matches!(err, NewsError::Status { status: 401, .. }),
        "{err:?}"
    );
    assert_eq!(news.failures(), 1);
}

#[test]
fn series_sets_name_what_they_read() {
    let india = FredSeriesSet::india();
    assert_eq!(india.policy_rate, FredSeries::levels("IRSTCB01INM156N"));
    assert_eq!(india.cpi_yoy, FredSeries::year_on_year("INDCPIALLMINMEI"));
    assert_eq!(FredSeriesSet::us().region, "US");
}
