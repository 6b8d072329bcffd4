#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "news")]
//! News and macro sources against local HTTP peers speaking the Finnhub and EODHD wire formats,
//! and the bundled offline sources.

use std::sync::Arc;
use std::time::Duration;
use tradegraph_core::Timestamp;
use tradegraph_market::news::{
    EodhdNews, FileMacro, FinnhubNews, FixtureNews, MacroSource, NewsError, NewsQuery, NewsSource,
};
use tradegraph_market::SimulatedClock;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-9f8e7d6c5b4a";
const FINNHUB: &str = include_str!("fixtures/news/finnhub_crypto.json");
const EODHD: &str = include_str!("fixtures/news/eodhd_nsei.json");

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn clock(s: &str) -> Arc<SimulatedClock> {
    Arc::new(SimulatedClock::new(at(s)))
}

fn json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_owned(), "application/json")
}

fn finnhub(server: &MockServer, now: &str) -> FinnhubNews {
    FinnhubNews::new(KEY)
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap()
        .with_clock(clock(now))
}

fn eodhd(server: &MockServer, now: &str) -> EodhdNews {
    EodhdNews::new(KEY)
        .unwrap()
        .with_base_url(&server.uri())
        .unwrap()
        .with_clock(clock(now))
}

/// The key must be on the wire and nowhere in what a caller could print.
fn assert_no_key(err: &NewsError) {
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(KEY), "key leaked: {text}");
        assert!(!text.contains("http://"), "a URL leaked: {text}");
    }
}

#[tokio::test]
async fn finnhub_reads_the_documented_payload_and_sends_category_and_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/news"))
        .and(query_param("category", "crypto"))
        .and(query_param("token", KEY))
        .respond_with(json(FINNHUB))
        .expect(1)
        .mount(&server)
        .await;
    let news = finnhub(&server, "2024-12-31T00:00:00Z");
    let items = news.latest(&NewsQuery::new()).await.unwrap();

    let ids: Vec<_> = items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "finnhub:7400105",
            "finnhub:7400104",
            "finnhub:7400102",
            "finnhub:7400101"
        ]
    );
    let options = &items[2];
    assert_eq!(options.published, at("2024-12-03T09:00:00Z"));
    assert_eq!(options.source, "Blockframe Research");
    assert_eq!(
        options.headline,
        "Options open interest builds at the $100,000 strike"
    );
    assert_eq!(options.summary, "Call skew stays elevated.");
    assert_eq!(options.url, "https://news.example.com/f/7400102");
    assert_eq!(options.symbols, ["BTC", "ETH"]);
    assert_eq!(options.tags, ["crypto"]);
    assert_eq!(options.sentiment, None);
    // The item with `"datetime": "yesterday"` is skipped and counted, not fatal.
    assert_eq!(news.skipped_items(), 1);
}

#[tokio::test]
async fn finnhub_topic_replaces_the_category_and_the_clock_bounds_the_answer() {
    let server = MockServer::start().await;
    Mock::given(query_param("category", "general"))
        .respond_with(json(FINNHUB))
        .mount(&server)
        .await;
    // A backtest at 3 Dec 12:00 must not see the stories of 4 and 5 December.
    let news = finnhub(&server, "2024-12-03T12:00:00Z");
    let items = news
        .latest(&NewsQuery::new().topic("general"))
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    assert!(items
        .iter()
        .all(|i| i.published <= at("2024-12-03T12:00:00Z")));
    // as_of narrows further, since and limit apply.
    let q = NewsQuery::new()
        .topic("general")
        .as_of(at("2024-12-02T09:00:00Z"));
    assert_eq!(news.latest(&q).await.unwrap().len(), 1);
    let q = NewsQuery::new()
        .topic("general")
        .since(at("2024-12-02T09:00:00Z"))
        .limit(5);
    let items = news.latest(&q).await.unwrap();
    assert_eq!(
        items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["finnhub:7400102"]
    );
}

#[tokio::test]
async fn eodhd_reads_sentiment_and_sends_the_documented_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/news"))
        .and(query_param("s", "NSEI.INDX"))
        .and(query_param("offset", "0"))
        .and(query_param("limit", "10"))
        .and(query_param("fmt", "json"))
        .and(query_param("api_token", KEY))
        .and(query_param("from", "2025-02-01"))
        .and(query_param("to", "2025-02-10"))
        .respond_with(json(EODHD))
        .expect(1)
        .mount(&server)
        .await;
    let news = eodhd(&server, "2025-02-10T00:00:00Z").with_symbol("NSEI.INDX");
    let q = NewsQuery::new().since(at("2025-02-01T00:00:00Z")).limit(10);
    let items = news.latest(&q).await.unwrap();

    assert_eq!(items.len(), 3);
    let cut = &items[0];
    assert_eq!(cut.id, "https://www.arthik.example.com/rbi-cut");
    assert_eq!(cut.published, at("2025-02-07T04:45:00Z"));
    assert_eq!(cut.source, "arthik.example.com");
    assert_eq!(cut.headline, "RBI cuts repo rate by 25 bps to 6.25%");
    assert_eq!(
        cut.summary,
        "The Monetary Policy Committee voted unanimously for the cut."
    );
    assert_eq!(cut.symbols, ["NSEI.INDX", "NSEBANK.INDX"]);
    assert_eq!(cut.tags, ["RBI", "MONETARY POLICY"]);
    assert_eq!(cut.sentiment, Some(0.55));
    // An IST offset in `date` is read as the same instant in UTC; a null sentiment is None.
    let poll = &items[2];
    assert_eq!(poll.published, at("2025-02-05T08:45:00Z"));
    assert_eq!(poll.sentiment, None);
    // `"date": "last Tuesday"` is skipped and counted.
    assert_eq!(news.skipped_items(), 1);
}

#[tokio::test]
async fn eodhd_drops_a_sentiment_outside_minus_one_and_one_and_keeps_the_item() {
    let server = MockServer::start().await;
    let body = r#"[
        {"date": "2025-02-07T04:45:00+00:00", "title": "high", "link": "https://a.example.com/1", "sentiment": {"polarity": 7.0}},
        {"date": "2025-02-07T04:40:00+00:00", "title": "low", "link": "https://a.example.com/2", "sentiment": {"polarity": -1.5}},
        {"date": "2025-02-07T04:35:00+00:00", "title": "edge", "link": "https://a.example.com/3", "sentiment": {"polarity": -1.0}}
    ]"#;
    Mock::given(method("GET"))
        .and(path("/news"))
        .respond_with(json(body))
        .mount(&server)
        .await;
    let news = eodhd(&server, "2025-02-10T00:00:00Z").with_symbol("NSEI.INDX");
    let items = news.latest(&NewsQuery::new()).await.unwrap();
    let got: Vec<_> = items
        .iter()
        .map(|i| (i.headline.as_str(), i.sentiment))
        .collect();
    assert_eq!(got, [("high", None), ("low", None), ("edge", Some(-1.0))]);
    assert_eq!(news.dropped_sentiments(), 2);
    assert_eq!(news.skipped_items(), 0);
}

#[tokio::test]
async fn eodhd_as_of_drops_what_was_published_later_the_same_day() {
    let server = MockServer::start().await;
    Mock::given(query_param("to", "2025-02-07"))
        .and(query_param("t", "RBI"))
        .respond_with(json(EODHD))
        .expect(1)
        .mount(&server)
        .await;
    // At 04:00 UTC on 7 February the 04:45 rate-cut story does not exist yet.
    let news = eodhd(&server, "2025-02-07T04:00:00Z");
    let items = news.latest(&NewsQuery::new().topic("RBI")).await.unwrap();
    assert_eq!(items.len(), 2);
    assert!(items
        .iter()
        .all(|i| i.published <= at("2025-02-07T04:00:00Z")));
}

#[tokio::test]
async fn eodhd_needs_a_symbol_or_a_topic() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json("[]"))
        .expect(0)
        .mount(&server)
        .await;
    let err = eodhd(&server, "2025-02-07T00:00:00Z")
        .latest(&NewsQuery::new())
        .await
        .unwrap_err();
    assert!(matches!(err, NewsError::Config(_)), "{err}");
    assert!(err.to_string().contains("NSEI.INDX"), "{err}");
}

#[tokio::test]
async fn rate_limits_carry_the_retry_after_delay() {
    let server = MockServer::start().await;
    Mock::given(path("/news"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "30")
                .set_body_string(format!(r#"{{"error":"API limit reached for {KEY}"}}"#)),
        )
        .mount(&server)
        .await;
    let err = finnhub(&server, "2024-12-31T00:00:00Z")
        .latest(&NewsQuery::new())
        .await
        .unwrap_err();
    match &err {
        NewsError::RateLimited {
            provider,
            retry_after,
        } => {
            assert_eq!(*provider, "finnhub");
            assert_eq!(*retry_after, Some(Duration::from_secs(30)));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(err.to_string().contains("retry after 30 s"), "{err}");
    assert_no_key(&err);
}

#[tokio::test]
async fn server_errors_are_typed_with_status_and_redacted_body() {
    let server = MockServer::start().await;
    Mock::given(path("/news"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_string(format!("upstream failed for api_token={KEY}")),
        )
        .mount(&server)
        .await;
    let err = eodhd(&server, "2025-02-07T00:00:00Z")
        .latest(&NewsQuery::new().symbol("NSEBANK.INDX"))
        .await
        .unwrap_err();
    match &err {
        NewsError::Status {
            provider,
            endpoint,
            status,
            body,
        } => {
            assert_eq!(
                (*provider, endpoint.as_str(), *status),
                ("eodhd", "/news", 500)
            );
            assert!(body.contains("upstream failed"), "{body}");
        }
        other => panic!("expected Status, got {other:?}"),
    }
    assert_no_key(&err);
}

#[tokio::test]
async fn a_body_that_is_not_a_list_names_the_provider_and_the_path() {
    let server = MockServer::start().await;
    Mock::given(path("/news"))
        .respond_with(json(
            r#"{"error": "You don't have access to this resource."}"#,
        ))
        .mount(&server)
        .await;
    let err = finnhub(&server, "2024-12-31T00:00:00Z")
        .latest(&NewsQuery::new())
        .await
        .unwrap_err();
    match &err {
        NewsError::Malformed {
            provider,
            path,
            reason,
        } => {
            assert_eq!((*provider, path.as_str()), ("finnhub", "$"));
            assert!(
                reason.contains("found an object") && reason.contains("access"),
                "{reason}"
            );
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
    let server = MockServer::start().await;
    Mock::given(path("/news"))
        .respond_with(json("[{\"date\": "))
        .mount(&server)
        .await;
    let err = eodhd(&server, "2025-02-07T00:00:00Z")
        .latest(&NewsQuery::new().symbol("NSEI.INDX"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            NewsError::Malformed {
                provider: "eodhd",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn slow_answers_time_out_with_a_typed_error() {
    let server = MockServer::start().await;
    Mock::given(path("/news"))
        .respond_with(json("[]").set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let news = finnhub(&server, "2024-12-31T00:00:00Z").with_timeout(Duration::from_millis(200));
    let started = std::time::Instant::now();
    let err = news.latest(&NewsQuery::new()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    match &err {
        NewsError::Timeout { provider, after } => {
            assert_eq!((*provider, *after), ("finnhub", Duration::from_millis(200)));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_no_key(&err);
}

#[tokio::test]
async fn connection_failures_keep_the_url_and_key_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let news = EodhdNews::new(KEY)
        .unwrap()
        .with_base_url(&format!("http://127.0.0.1:{port}/api"))
        .unwrap();
    let err = news
        .latest(&NewsQuery::new().symbol("NSEI.INDX"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            NewsError::Request {
                provider: "eodhd",
                ..
            }
        ),
        "{err:?}"
    );
    assert_no_key(&err);
    assert!(!format!("{news:?}").contains(KEY));
}

#[tokio::test]
async fn bad_base_urls_are_configuration_errors() {
    for bad in ["", "ftp://example.com", "finnhub.io/api/v1"] {
        let err = FinnhubNews::new(KEY)
            .unwrap()
            .with_base_url(bad)
            .unwrap_err();
        assert!(matches!(err, NewsError::Config(_)), "{bad}: {err}");
    }
}

#[tokio::test]
async fn bundled_crypto_news_is_as_of_the_clock() {
    let news = FixtureNews::bundled_crypto().with_clock(clock("2024-12-03T12:00:00Z"));
    let items = news.latest(&NewsQuery::new().symbol("btc")).await.unwrap();
    assert!(!items.is_empty());
    assert!(items
        .iter()
        .all(|i| i.published <= at("2024-12-03T12:00:00Z")));
    assert!(items.windows(2).all(|w| w[0].published >= w[1].published));
    let eth = news.latest(&NewsQuery::new().symbol("ETH")).await.unwrap();
    assert_eq!(
        eth.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["cf-003"]
    );
    // Advancing the simulated clock reveals later stories.
    let later = FixtureNews::bundled_crypto().with_clock(clock("2024-12-06T00:00:00Z"));
    assert_eq!(
        later
            .latest(&NewsQuery::new().limit(100))
            .await
            .unwrap()
            .len(),
        later.items().len()
    );
}

#[tokio::test]
async fn fixture_files_skip_and_count_bad_lines() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/news");
    let news = FixtureNews::open(format!("{dir}/mixed.jsonl"))
        .await
        .unwrap()
        .with_clock(clock("2025-01-31T00:00:00Z"));
    assert_eq!((news.items().len(), news.skipped_items()), (3, 1));
    let banks = news
        .latest(&NewsQuery::new().symbol("banknifty"))
        .await
        .unwrap();
    assert_eq!(
        banks.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["t-4", "t-2"]
    );
    assert_eq!(banks[1].sentiment, Some(0.3));
    let rbi = news.latest(&NewsQuery::new().topic("rbi")).await.unwrap();
    assert_eq!(rbi.len(), 1);
    let err = FixtureNews::open(format!("{dir}/missing.jsonl"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, NewsError::Io { .. }) && err.to_string().contains("missing.jsonl"),
        "{err}"
    );
}

#[tokio::test]
async fn bundled_india_news_has_sentiment() {
    let news = FixtureNews::bundled_india().with_clock(clock("2025-02-09T00:00:00Z"));
    let items = news
        .latest(&NewsQuery::new().symbol("NSEBANK.INDX").limit(50))
        .await
        .unwrap();
    assert!(items.len() >= 5);
    assert!(items.iter().all(|i| i.sentiment.is_some()));
}

#[tokio::test]
async fn macro_snapshots_are_the_latest_at_or_before_the_time() {
    let rbi = FileMacro::bundled_india()
        .unwrap()
        .with_clock(clock("2025-12-31T00:00:00Z"));
    let before = rbi.snapshot(at("2025-02-07T04:29:59Z")).await.unwrap();
    assert_eq!(
        (before.region.as_str(), before.policy_rate_pct),
        ("IN", 6.5)
    );
    let after = rbi.snapshot(at("2025-02-07T04:30:00Z")).await.unwrap();
    assert_eq!(after.policy_rate_pct, 6.25);
    assert_eq!(after.as_of, at("2025-02-07T04:30:00Z"));
    assert!(after.us_fed_funds_pct.is_some() && after.dxy.is_some());
    assert!(after.extra.contains_key("usd_inr"));
    let err = rbi.snapshot(at("2024-01-01T00:00:00Z")).await.unwrap_err();
    assert!(matches!(err, NewsError::NoSnapshot { .. }), "{err}");
    // A simulated clock caps the answer: asking about the future gives what was known "now".
    let early = FileMacro::bundled_india()
        .unwrap()
        .with_clock(clock("2025-01-01T00:00:00Z"));
    let capped = early.snapshot(at("2025-06-01T00:00:00Z")).await.unwrap();
    assert!(capped.as_of <= at("2025-01-01T00:00:00Z"));
    assert_eq!(capped.policy_rate_pct, 6.5);
}

#[tokio::test]
async fn macro_files_report_where_they_are_wrong() {
    let err = FileMacro::from_json(
        r#"{"snapshots": [{"as_of": "2025-01-01T00:00:00Z", "region": "IN"}]}"#,
        "m.json",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("m.json")
            && text.contains("$.snapshots[0]")
            && text.contains("policy_rate_pct"),
        "{text}"
    );
    let err = FileMacro::from_json("{\n  \"snapshots\": [,]\n}", "m.json").unwrap_err();
    assert!(err.to_string().starts_with("m.json:2:"), "{err}");
    assert!(FileMacro::open("no/such/file.json").await.is_err());
}
