//! `history::download` from Binance against the local venue speaking `GET /api/v3/klines`:
//! pagination, rate limits, an interrupted download continued, gaps, a garbled answer.
#![cfg(feature = "history")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::time::Duration;
use tradegraph_core::backoff::{Backoff, Jitter};
use tradegraph_core::{Timeframe, Timestamp};
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::history::{download, DownloadConfig, HistoryError, HistorySource, HEADER};
use tradegraph_testkit::venue::binance::{BinanceVenue, Failure};
use tradegraph_testkit::venue::{walk, VenueBar};

/// 2024-12-02T00:00:00Z.
const T0: i64 = 1_733_097_600_000;
const MINUTE: i64 = 60_000;

fn temp(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("tg-hist-b-{}-{name}.csv", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(meta(&path));
    path
}

/// The sidecar that records a file's source.
fn meta(path: &std::path::Path) -> PathBuf {
    PathBuf::from(format!("{}.meta", path.display()))
}

async fn venue(bars: Vec<VenueBar>) -> BinanceVenue {
    let venue = BinanceVenue::start("k", "s").await.unwrap();
    venue.set_klines("1m", bars);
    venue
}

fn config(venue: &BinanceVenue, minutes: i64, out: &PathBuf) -> DownloadConfig {
    let mut config = DownloadConfig::new(
        HistorySource::Binance {
            api_url: venue.url(),
            symbol: "BTCUSDT".into(),
        },
        Timeframe::M1,
        Timestamp::from_millis(T0),
        Timestamp::from_millis(T0 + minutes * MINUTE),
        out,
    );
    config.backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(50))
        .with_jitter(Jitter::None);
    config
}

/// The file an exact download of `bars` is.
fn expected(bars: &[VenueBar]) -> String {
    let mut text = format!("{HEADER}\n");
    for b in bars {
        text.push_str(&format!(
            "{},{:.8},{:.8},{:.8},{:.8},{:.8},1m\n",
            Timestamp::from_millis(b.open_time_ms),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume
        ));
    }
    text
}

fn klines_queries(venue: &BinanceVenue) -> Vec<String> {
    venue
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v3/klines")
        .map(|r| r.query)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_through_the_range_into_the_replay_csv() {
    let bars = walk(T0, MINUTE, 2_500, 95_000.into(), 1);
    let venue = venue(bars.clone()).await;
    let out = temp("pages");
    let mut seen = Vec::new();
    let summary = download(&config(&venue, 2_500, &out), |p| seen.push(p.bars))
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected(&bars));
    assert_eq!((summary.bars, summary.pages), (2_500, 3));
    assert_eq!(seen, [1_000, 2_000, 2_500]);
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
    let queries = klines_queries(&venue);
    assert_eq!(queries.len(), 3);
    let end = T0 + 2_500 * MINUTE - 1;
    for (query, start) in queries
        .iter()
        .zip([T0, T0 + 1_000 * MINUTE, T0 + 2_000 * MINUTE])
    {
        assert_eq!(
            *query,
            format!("symbol=BTCUSDT&interval=1m&startTime={start}&endTime={end}&limit=1000")
        );
    }
    // Replay reads every row, with no malformed line.
    let replay = Replay::new(ReplayConfig::new(&out, "BTCUSDT")).unwrap();
    let stats = replay.stats();
    let events: Vec<_> = futures::StreamExt::collect(replay.stream()).await;
    assert_eq!((events.len(), stats.malformed()), (2_500, 0));
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_waits_for_its_retry_after_and_is_never_banned() {
    let bars = walk(T0, MINUTE, 1_500, 95_000.into(), 2);
    let venue = venue(bars.clone()).await;
    venue.fail_next("GET", "/api/v3/klines", Failure::Pass);
    venue.fail_next(
        "GET",
        "/api/v3/klines",
        Failure::RateLimited {
            retry_after_secs: 1,
        },
    );
    let out = temp("429");
    let summary = download(&config(&venue, 1_500, &out), |_| {})
        .await
        .unwrap();
    assert_eq!(summary.bars, 1_500);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected(&bars));
    let log: Vec<_> = venue
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v3/klines")
        .collect();
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 429, 200]);
    let waited = log[2].at.duration_since(log[1].at);
    assert!(
        waited >= Duration::from_secs(1),
        "asked again after {waited:?}"
    );
    // The weight header counts 2 per page.
    assert_eq!(log[0].used_weight % 2, 0);
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_download_continued_ends_as_an_uninterrupted_one() {
    let bars = walk(T0, MINUTE, 3_200, 60_000.into(), 3);
    let venue = venue(bars.clone()).await;
    let whole = temp("whole");
    download(&config(&venue, 3_200, &whole), |_| {})
        .await
        .unwrap();

    let served = venue.klines_served();
    venue.hold_klines_after(Some(served + 2));
    let out = temp("interrupted");
    let task = tokio::spawn({
        let config = config(&venue, 3_200, &out);
        async move { download(&config, |_| {}).await }
    });
    tradegraph_testkit::venue::wait_until("two pages are written", || {
        let out = out.clone();
        async move { std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() == 2_001) }
    })
    .await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    // The interruption tore the last row: half of the next row made it to the disk.
    let mut torn = std::fs::read_to_string(&out).unwrap();
    torn.push_str("2024-12-03T09:20:00Z,60012.5,600");
    std::fs::write(&out, torn).unwrap();
    venue.hold_klines_after(None);

    let summary = download(&config(&venue, 3_200, &out), |_| {})
        .await
        .unwrap();
    assert!(summary.dropped_torn_line);
    assert_eq!(
        summary.resumed_after,
        Some(Timestamp::from_millis(T0 + 1_999 * MINUTE))
    );
    assert_eq!(summary.bars, 1_200);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&whole).unwrap(),
        "the continued file differs from the uninterrupted one"
    );
    // The continuation asked from the bar after the last whole row.
    let last = klines_queries(&venue).pop().unwrap();
    assert!(
        last.contains(&format!("startTime={}", T0 + 3_000 * MINUTE)),
        "{last}"
    );
    // Run again: nothing left to fetch.
    let again = download(&config(&venue, 3_200, &out), |_| {})
        .await
        .unwrap();
    assert_eq!((again.bars, again.pages), (0, 0));
    for path in [whole, out] {
        let _ = std::fs::remove_file(meta(&path));
        let _ = std::fs::remove_file(path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gaps_are_reported_not_filled() {
    let mut bars = walk(T0, MINUTE, 1_200, 95_000.into(), 4);
    // Minutes 10-12 and 1,100 missing (an outage), and nothing after minute 1,150.
    bars.retain(|b| {
        let m = (b.open_time_ms - T0) / MINUTE;
        !(10..13).contains(&m) && m != 1_100 && m < 1_150
    });
    let venue = venue(bars.clone()).await;
    let out = temp("gaps");
    let summary = download(&config(&venue, 1_200, &out), |_| {})
        .await
        .unwrap();
    assert_eq!(summary.bars, 1_146);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected(&bars));
    let at = |m: i64| Timestamp::from_millis(T0 + m * MINUTE);
    let gaps: Vec<_> = summary.gaps.iter().map(|g| (g.from, g.to)).collect();
    assert_eq!(
        gaps,
        [
            (at(10), at(13)),
            (at(1_100), at(1_101)),
            (at(1_150), at(1_200))
        ]
    );
    assert!(summary.to_string().contains("3 gaps"), "{summary}");
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbled_page_is_named_and_nothing_of_it_is_written() {
    let bars = walk(T0, MINUTE, 1_500, 95_000.into(), 5);
    let venue = venue(bars.clone()).await;
    venue.fail_next("GET", "/api/v3/klines", Failure::Pass);
    venue.fail_next(
        "GET",
        "/api/v3/klines",
        Failure::Body(r#"[[1733157600000,"1","2","#.into()),
    );
    let out = temp("garbled");
    let err = download(&config(&venue, 1_500, &out), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, HistoryError::Malformed { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(
            "binance /api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=1733157600000"
        ) && text.contains("not JSON"),
        "{text}"
    );
    // Only the first page, whole.
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        expected(&bars[..1_000])
    );
    // A page with a bar out of order is refused, naming the row.
    let mut shuffled = bars.clone();
    shuffled.swap(1_200, 1_201);
    venue.set_klines("1m", shuffled);
    let err = download(&config(&venue, 1_500, &out), |_| {})
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("row 202: the bar opening at 2024-12-02T20:00:00Z is not after"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        expected(&bars[..1_000])
    );
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bars_not_closed_yet_are_left_for_later() {
    let bars = walk(T0, MINUTE, 100, 95_000.into(), 6);
    let venue = venue(bars.clone()).await;
    let out = temp("open");
    let mut config = config(&venue, 100, &out);
    // Minute 50 is still open at 00:50:30.
    config.now = Timestamp::from_millis(T0 + 50 * MINUTE + 30_000);
    let summary = download(&config, |_| {}).await.unwrap();
    assert_eq!(summary.bars, 50);
    assert_eq!(
        summary.end,
        Timestamp::from_millis(T0 + 49 * MINUTE + 30_001)
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        expected(&bars[..50])
    );
    config.now = Timestamp::from_millis(T0 + 200 * MINUTE);
    let summary = download(&config, |_| {}).await.unwrap();
    assert_eq!(summary.bars, 50);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected(&bars));
    // A range whose first bar has not closed: refused before any file or request.
    let later = temp("later");
    let mut config = config.clone();
    config.out = later.clone();
    config.now = Timestamp::from_millis(T0 + 30_000);
    let requests = venue.requests().len();
    let err = download(&config, |_| {}).await.unwrap_err();
    assert!(matches!(err, HistoryError::Config(_)), "{err}");
    assert!(
        err.to_string()
            .contains("no 1m bar from 2024-12-02T00:00:00Z has closed yet"),
        "{err}"
    );
    assert!(!later.exists());
    assert_eq!(venue.requests().len(), requests);
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_continued_only_from_its_source_and_its_start() {
    let bars = walk(T0, MINUTE, 3_000, 95_000.into(), 7);
    let venue = venue(bars.clone()).await;
    // Minutes 1,000 to 2,000 downloaded first...
    let out = temp("later-first");
    let mut later = config(&venue, 2_000, &out);
    later.from = Timestamp::from_millis(T0 + 1_000 * MINUTE);
    download(&later, |_| {}).await.unwrap();
    let before = std::fs::read(&out).unwrap();
    assert_eq!(
        std::fs::read_to_string(meta(&out))
            .unwrap()
            .lines()
            .skip(1)
            .collect::<Vec<_>>(),
        [
            "source=binance BTCUSDT",
            "interval=1m",
            "from=2024-12-02T16:40:00Z"
        ]
    );
    let requests = venue.requests().len();
    // ...then the whole range asked into the same file: its first 1,000 minutes would be
    // missing, so it is refused, saying what to do.
    let err = download(&config(&venue, 3_000, &out), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, HistoryError::File { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(
            "the bars from --from 2024-12-02T00:00:00Z to 2024-12-02T16:40:00Z would be missing"
        ) && text.contains("give another --out"),
        "{text}"
    );
    // Another symbol into the same file: refused too.
    let mut eth = later.clone();
    eth.source = HistorySource::Binance {
        api_url: venue.url(),
        symbol: "ETHUSDT".into(),
    };
    let err = download(&eth, |_| {}).await.unwrap_err().to_string();
    assert!(
        err.contains(
            "it holds binance BTCUSDT 1m bars (its .meta says so), not binance ETHUSDT 1m"
        ),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), before);
    assert_eq!(
        venue.requests().len(),
        requests,
        "refused before any request"
    );
    // Continuing from its start is fine.
    let mut rest = config(&venue, 3_000, &out);
    rest.from = later.from;
    assert_eq!(download(&rest, |_| {}).await.unwrap().bars, 1_000);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        expected(&bars[1_000..])
    );
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

/// Continuing a file with a `--from` later than the bar after its last row fetches from
/// that bar: the file stays whole (its `.meta` says it holds every bar from its start), with
/// no hole reported as the venue's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_continued_from_a_later_from_is_fetched_from_its_last_bar() {
    let bars = walk(T0, MINUTE, 3_000, 95_000.into(), 9);
    let venue = venue(bars.clone()).await;
    let out = temp("later-from");
    download(&config(&venue, 1_000, &out), |_| {})
        .await
        .unwrap();
    let mut later = config(&venue, 3_000, &out);
    later.from = Timestamp::from_millis(T0 + 2_000 * MINUTE);
    let summary = download(&later, |_| {}).await.unwrap();
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
    assert_eq!(summary.bars, 2_000);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected(&bars));
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_from_between_two_bars_starts_at_the_next_without_a_false_gap() {
    let bars = walk(T0, MINUTE, 100, 95_000.into(), 8);
    let venue = venue(bars.clone()).await;
    let out = temp("unaligned");
    let mut config = config(&venue, 100, &out);
    config.from = Timestamp::from_millis(T0 + 30_000);
    let summary = download(&config, |_| {}).await.unwrap();
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
    assert_eq!(summary.first, Some(Timestamp::from_millis(T0 + MINUTE)));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected(&bars[1..]));
    assert!(klines_queries(&venue)[0].contains(&format!("startTime={}", T0 + MINUTE)));
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_cut_while_it_is_read_is_asked_again() {
    let bars = walk(T0, MINUTE, 1_500, 95_000.into(), 9);
    let venue = venue(bars.clone()).await;
    venue.fail_next("GET", "/api/v3/klines", Failure::Pass);
    venue.fail_next("GET", "/api/v3/klines", Failure::CutBody);
    let out = temp("cut");
    let summary = download(&config(&venue, 1_500, &out), |_| {})
        .await
        .unwrap();
    assert_eq!((summary.bars, summary.pages), (1_500, 2));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected(&bars));
    let queries = klines_queries(&venue);
    assert_eq!(
        queries.len(),
        3,
        "the cut page was asked twice: {queries:?}"
    );
    assert_eq!(queries[1], queries[2]);
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_longer_than_a_few_minutes_stops_saying_when_to_run_again() {
    let bars = walk(T0, MINUTE, 1_500, 95_000.into(), 10);
    let venue = venue(bars.clone()).await;
    venue.fail_next("GET", "/api/v3/klines", Failure::Pass);
    venue.fail_next(
        "GET",
        "/api/v3/klines",
        Failure::Banned {
            retry_after_secs: 3_600,
        },
    );
    let out = temp("banned");
    let err = download(&config(&venue, 1_500, &out), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(err, HistoryError::RetryLater { status: 418, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("HTTP 418: the venue asks to wait 3600 s, until ")
            && text.contains("run the same command again after"),
        "{text}"
    );
    // Asked once, not again: the page before it is kept.
    assert_eq!(klines_queries(&venue).len(), 2);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        expected(&bars[..1_000])
    );
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_refused_at_once_leaves_no_file() {
    let venue = venue(walk(T0, MINUTE, 10, 95_000.into(), 11)).await;
    let out = temp("invalid-symbol");
    let mut config = config(&venue, 10, &out);
    config.source = HistorySource::Binance {
        api_url: venue.url(),
        symbol: "NOSUCHCOIN".into(),
    };
    let err = download(&config, |_| {}).await.unwrap_err();
    assert!(
        matches!(err, HistoryError::Status { status: 400, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("Invalid symbol"), "{err}");
    assert!(!out.exists() && !meta(&out).exists());
}
