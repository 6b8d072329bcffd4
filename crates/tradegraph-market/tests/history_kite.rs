//! `history::download` from Kite against the local venue speaking
//! `GET /instruments/historical/{token}/{interval}`: windows within Kite's limits, the
//! credentials, rate limits, gaps inside a trading day, a garbled answer.
#![cfg(feature = "history")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::time::Duration;
use tradegraph_core::backoff::{Backoff, Jitter};
use tradegraph_core::redact::Secret;
use tradegraph_core::{Timeframe, Timestamp};
use tradegraph_market::history::{download, DownloadConfig, HistoryError, HistorySource, HEADER};
use tradegraph_testkit::venue::kite::{Failure, KiteVenue};
use tradegraph_testkit::venue::{walk, VenueBar};

/// 2024-01-01T00:00:00+05:30, midnight in India.
const DAY0: i64 = 1_704_047_400_000;
const DAY: i64 = 86_400_000;
const MINUTE: i64 = 60_000;
/// 09:15 IST.
const OPEN: i64 = 9 * 3_600_000 + 15 * MINUTE;
const TOKEN: u32 = 256_265;

fn temp(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("tg-hist-k-{}-{name}.csv", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(meta(&path));
    path
}

/// The sidecar that records a file's source.
fn meta(path: &std::path::Path) -> PathBuf {
    PathBuf::from(format!("{}.meta", path.display()))
}

/// Five minute bars from 09:15 IST on each of `days` days.
fn sessions(days: i64) -> Vec<VenueBar> {
    (0..days)
        .flat_map(|d| walk(DAY0 + d * DAY + OPEN, MINUTE, 5, 48_000.into(), d as u64))
        .collect()
}

fn config(venue: &KiteVenue, days: i64, out: &PathBuf, token: &str) -> DownloadConfig {
    let mut config = DownloadConfig::new(
        HistorySource::Kite {
            api_url: venue.url(),
            token: TOKEN,
            api_key: Secret::new("api-key"),
            access_token: Secret::new(token),
        },
        Timeframe::M1,
        Timestamp::from_millis(DAY0),
        Timestamp::from_millis(DAY0 + days * DAY),
        out,
    );
    config.backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(50))
        .with_jitter(Jitter::None);
    config.min_spacing = Duration::ZERO;
    config
}

/// The file Kite's floats become: shortest decimal text of each price.
fn expected(bars: &[VenueBar]) -> String {
    use rust_decimal::prelude::ToPrimitive;
    let mut text = format!("{HEADER}\n");
    for b in bars {
        let f = |d: rust_decimal::Decimal| d.to_f64().unwrap().to_string();
        text.push_str(&format!(
            "{},{},{},{},{},{},1m\n",
            Timestamp::from_millis(b.open_time_ms),
            f(b.open),
            f(b.high),
            f(b.low),
            f(b.close),
            b.volume.trunc()
        ));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_stay_within_kites_limit_and_carry_the_credentials() {
    let venue = KiteVenue::start("api-key", "secret", "access-1")
        .await
        .unwrap();
    let mut bars = sessions(65);
    // 09:17 on day 3 is missing: a gap inside a trading day. Nights are not gaps.
    let missing = DAY0 + 3 * DAY + OPEN + 2 * MINUTE;
    bars.retain(|b| b.open_time_ms != missing);
    venue.set_candles(TOKEN, "minute", bars.clone());
    let out = temp("windows");
    let summary = download(&config(&venue, 65, &out, "access-1"), |_| {})
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected(&bars));
    assert_eq!((summary.bars, summary.pages), (324, 2));
    let gaps: Vec<_> = summary
        .gaps
        .iter()
        .map(|g| (g.from.millis(), g.to.millis()))
        .collect();
    assert_eq!(gaps, [(missing, missing + MINUTE)]);
    let requests: Vec<_> = venue
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/instruments/historical/"))
        .collect();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.path, "/instruments/historical/256265/minute");
        assert_eq!(r.status, 200);
        assert_eq!(r.authorization.as_deref(), Some("token api-key:access-1"));
        assert_eq!(r.version.as_deref(), Some("3"));
    }
    assert_eq!(
        requests[0].query,
        "from=2024-01-01+00:00:00&to=2024-02-29+23:59:59"
    );
    assert_eq!(
        requests[1].query,
        "from=2024-03-01+00:00:00&to=2024-03-05+23:59:59"
    );
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn day_candles_take_one_window_of_2000_days() {
    let venue = KiteVenue::start("api-key", "secret", "access-1")
        .await
        .unwrap();
    let bars = walk(DAY0, DAY, 1_900, 20_000.into(), 9);
    venue.set_candles(TOKEN, "day", bars.clone());
    let out = temp("days");
    let mut config = config(&venue, 2_100, &out, "access-1");
    config.timeframe = Timeframe::D1;
    config.now = Timestamp::from_millis(DAY0 + 3_000 * DAY);
    let summary = download(&config, |_| {}).await.unwrap();
    assert_eq!((summary.bars, summary.pages), (1_900, 2));
    assert!(summary.gaps.is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 1_901);
    assert!(text
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("2023-12-31T18:30:00Z,"));
    assert!(text.lines().nth(1).unwrap().ends_with(",1d"));
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_after_its_retry_after() {
    let venue = KiteVenue::start("api-key", "secret", "access-1")
        .await
        .unwrap();
    let bars = sessions(3);
    venue.set_candles(TOKEN, "minute", bars.clone());
    let path = "/instruments/historical/256265/minute";
    venue.fail_next(
        "GET",
        path,
        Failure::RateLimited {
            retry_after_secs: 1,
        },
    );
    let out = temp("429");
    download(&config(&venue, 3, &out, "access-1"), |_| {})
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected(&bars));
    let log: Vec<_> = venue
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect();
    assert_eq!(log.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 200]);
    assert!(log[1].at.duration_since(log[0].at) >= Duration::from_secs(1));
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_garbled_answers_are_named_without_the_token() {
    let venue = KiteVenue::start("api-key", "secret", "access-1")
        .await
        .unwrap();
    venue.set_candles(TOKEN, "minute", sessions(3));
    let out = temp("refused");
    let err = download(&config(&venue, 3, &out, "stale-token-0001"), |_| {})
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, HistoryError::Status { status: 403, .. }),
        "{text}"
    );
    assert!(
        text.contains("TokenException") && !text.contains("stale-token-0001"),
        "{text}"
    );

    let path = "/instruments/historical/256265/minute";
    venue.fail_next("GET", path, Failure::Body(r#"{"status":"success","data":{"candles":[["2024-01-01T09:15:00+0530",1,2,0.5,"x",3]]}}"#.into()));
    let err = download(&config(&venue, 3, &out, "access-1"), |_| {})
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("kite /instruments/historical/256265/minute?from=2024-01-01+00:00:00")
            && text.ends_with("row 1: column `close`: expected a number, found the string \"x\""),
        "{text}"
    );
    // Nothing of it is written: not even the file.
    assert!(!out.exists() && !meta(&out).exists());

    // An error answer that echoes the access token: the token never reaches the message.
    venue.fail_next(
        "GET",
        path,
        Failure::Reject {
            status: 403,
            error_type: "TokenException",
            message: "Token access-1 is invalid or has expired.".into(),
        },
    );
    let err = download(&config(&venue, 3, &out, "access-1"), |_| {})
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, HistoryError::Status { status: 403, .. })
            && text.contains("Token *** is invalid")
            && !text.contains("access-1"),
        "{text}"
    );
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn day_candles_from_inside_a_day_start_at_the_next_midnight_in_india() {
    let venue = KiteVenue::start("api-key", "secret", "access-1")
        .await
        .unwrap();
    // The venue picks day candles by date, whatever the time asked: a `from` of 05:30 IST
    // would answer that day's candle of 00:00 IST, before the range.
    venue.day_candles_by_date(true);
    let bars = walk(DAY0, DAY, 10, 20_000.into(), 12);
    venue.set_candles(TOKEN, "day", bars);
    let out = temp("day-by-date");
    let mut config = config(&venue, 10, &out, "access-1");
    config.timeframe = Timeframe::D1;
    config.from = "2024-01-01T00:00:00Z".parse().unwrap();
    config.now = Timestamp::from_millis(DAY0 + 100 * DAY);
    let summary = download(&config, |_| {}).await.unwrap();
    assert_eq!(summary.bars, 9);
    assert_eq!(summary.first, Some(Timestamp::from_millis(DAY0 + DAY)));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("2024-01-01T18:30:00Z,"),
        "{text}"
    );
    let request = venue
        .requests()
        .into_iter()
        .find(|r| r.path == "/instruments/historical/256265/day")
        .unwrap();
    assert_eq!(
        request.query,
        "from=2024-01-02+00:00:00&to=2024-01-10+23:59:59"
    );
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_download_continued_ends_as_an_uninterrupted_one() {
    let venue = KiteVenue::start("api-key", "secret", "access-1")
        .await
        .unwrap();
    let bars = sessions(130);
    venue.set_candles(TOKEN, "minute", bars.clone());
    let whole = temp("whole");
    let summary = download(&config(&venue, 130, &whole, "access-1"), |_| {})
        .await
        .unwrap();
    assert_eq!((summary.bars, summary.pages), (650, 3));
    assert_eq!(std::fs::read_to_string(&whole).unwrap(), expected(&bars));

    // Interrupted after the first window of 60 days...
    venue.hold_history_after(Some(venue.history_served() + 1));
    let out = temp("interrupted");
    let task = tokio::spawn({
        let config = config(&venue, 130, &out, "access-1");
        async move { download(&config, |_| {}).await }
    });
    tradegraph_testkit::venue::wait_until("the first window is written", || {
        let out = out.clone();
        async move { std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() == 301) }
    })
    .await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    // ...with half of a row on the disk.
    let mut torn = std::fs::read_to_string(&out).unwrap();
    torn.push_str("2024-03-01T03:45:00Z,48000.5,480");
    std::fs::write(&out, torn).unwrap();
    venue.hold_history_after(None);

    let summary = download(&config(&venue, 130, &out, "access-1"), |_| {})
        .await
        .unwrap();
    assert!(summary.dropped_torn_line);
    // The last whole row: 09:19 IST on day 59.
    let last = DAY0 + 59 * DAY + OPEN + 4 * MINUTE;
    assert_eq!(summary.resumed_after, Some(Timestamp::from_millis(last)));
    assert_eq!(summary.bars, 350);
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&whole).unwrap(),
        "the continued file differs from the uninterrupted one"
    );
    // The continuation asked from the minute after the last whole row.
    let asked: Vec<_> = venue
        .requests()
        .into_iter()
        .filter(|r| r.path == "/instruments/historical/256265/minute" && r.status == 200)
        .map(|r| r.query)
        .collect();
    assert!(
        asked[asked.len() - 2].starts_with("from=2024-02-29+09:20:00&"),
        "{asked:?}"
    );
    for path in [whole, out] {
        let _ = std::fs::remove_file(meta(&path));
        let _ = std::fs::remove_file(path);
    }
}
