//! Replay of CSV and JSONL files: the simulated clock, bad lines, speeds and file formats.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod replay_support;

use futures::StreamExt;
use replay_support::{d, replay_all, replay_checking_clock, ts, TempFile};
use std::time::Duration;
use tradegraph_core::{Timeframe, Timestamp};
use tradegraph_market::feed::replay::{CsvKind, Replay, ReplayConfig, ReplayFormat, ReplaySpeed};
use tradegraph_market::{Clock, FeedNotice, MarketError, MarketEvent, SimulatedClock};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/data/nifty50-1m.csv"
);

fn config(path: &std::path::Path, symbol: &str, clock: &SimulatedClock) -> ReplayConfig {
    ReplayConfig {
        clock: clock.clone(),
        ..ReplayConfig::new(path, symbol)
    }
}

#[tokio::test]
async fn candles_are_seen_only_once_the_clock_reaches_their_end() {
    let clock = SimulatedClock::default();
    let events = replay_checking_clock(config(SAMPLE.as_ref(), "NIFTY50", &clock)).await;
    assert_eq!(events.len(), 1875);
    let MarketEvent::Candle {
        symbol,
        candle,
        closed,
    } = &events[0]
    else {
        panic!("{:?}", events[0])
    };
    assert_eq!(
        (symbol.as_str(), *closed, candle.timeframe),
        ("NIFTY50", true, Timeframe::M1)
    );
    assert_eq!(candle.open_time, ts("2025-02-03T03:45:00Z"));
    assert_eq!(
        (
            candle.open,
            candle.high,
            candle.low,
            candle.close,
            candle.volume
        ),
        (
            d("24045.25"),
            d("24073.95"),
            d("24027.75"),
            d("24059.35"),
            d("38550")
        )
    );
    assert_eq!(events[0].known_at(), ts("2025-02-03T03:46:00Z"));
    // The last candle of the file opens at 09:59 UTC on Friday and closes at 10:00.
    assert_eq!(clock.now(), ts("2025-02-07T10:00:00Z"));
}

#[tokio::test]
async fn the_configured_timeframe_or_a_timeframe_column_decides_when_a_candle_is_known() {
    let file = TempFile::with(
        "bars.csv",
        "timestamp,open,high,low,close,volume,timeframe\n\
         2024-01-01T10:00:00Z,1,2,0.5,1.5,10,\n\
         2024-01-01T10:05:00Z,1.5,2,1,1,3,1h\n",
    );
    let clock = SimulatedClock::default();
    let replay_config = ReplayConfig {
        timeframe: Timeframe::M5,
        ..config(file.path(), "X", &clock)
    };
    let events = replay_checking_clock(replay_config).await;
    let known: Vec<String> = events.iter().map(|e| e.known_at().to_string()).collect();
    assert_eq!(known, ["2024-01-01T10:05:00Z", "2024-01-01T11:05:00Z"]);
}

#[tokio::test]
async fn ticks_with_extra_columns_and_epoch_milliseconds() {
    let file = TempFile::with(
        "ticks.csv",
        "timestamp,price,volume,bid,ask,exchange\r\n\
         1704103200000,93512.10,0.5,93512.00,93512.20,BINANCE\r\n\
         2024-01-01T10:00:00.250Z,93512.30,0.25,,,BINANCE\r\n\
         2024-01-01T15:30:01+05:30,93511.90,1,,93512.00\r\n",
    );
    let clock = SimulatedClock::default();
    let events = replay_checking_clock(config(file.path(), "BTCUSDT", &clock)).await;
    let ticks: Vec<_> = events
        .iter()
        .map(|e| match e {
            MarketEvent::Tick { symbol, tick } => {
                assert_eq!(symbol.as_str(), "BTCUSDT");
                (
                    tick.ts.millis(),
                    tick.price,
                    tick.volume,
                    tick.bid,
                    tick.ask,
                )
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        ticks,
        [
            (
                1_704_103_200_000,
                d("93512.10"),
                d("0.5"),
                Some(d("93512.00")),
                Some(d("93512.20"))
            ),
            (1_704_103_200_250, d("93512.30"), d("0.25"), None, None),
            (
                1_704_103_201_000,
                d("93511.90"),
                d("1"),
                None,
                Some(d("93512.00"))
            ),
        ]
    );
    assert_eq!(clock.now().millis(), 1_704_103_201_000);
}

#[tokio::test]
async fn malformed_lines_are_reported_counted_and_skipped() {
    let long = "9".repeat(ReplayConfig::MAX_LINE_BYTES + 10);
    let mut contents = b"\n\xef\xbb\xbftimestamp,open,high,low,close,volume\n".to_vec();
    contents.extend_from_slice(b"2024-01-01T10:00:00Z,1,2,0.5,1.5,10\n"); // 3
    contents.extend_from_slice(b"yesterday,1,2,0.5,1.5,10\n"); // 4
    contents.extend_from_slice(b"\n"); // 5: blank, skipped silently
    contents.extend_from_slice(b"2024-01-01T10:01:00Z,1,2,3,1.5,10\n"); // 6: low above high
    contents.extend_from_slice(b"2024-01-01T10:02:00Z,\xff,2,0.5,1.5,10\n"); // 7
    contents.extend_from_slice(long.as_bytes()); // 8
    contents.extend_from_slice(b"\n2024-01-01T10:03:00Z,1,2,0.5,1.5\n"); // 9
    contents.extend_from_slice(b"2024-01-01T10:04:00Z,1,2,0.5,1.5,1"); // 10, no line break
    let file = TempFile::with("bad.csv", contents);
    let path = file.path().display().to_string();

    let clock = SimulatedClock::default();
    let replay = Replay::new(config(file.path(), "X", &clock)).unwrap();
    assert_eq!(replay.feed_name(), "replay:bad.csv");
    assert_eq!(
        replay.parser().layout().map(|l| l.kind()),
        Some(CsvKind::Candles)
    );
    let stats = replay.stats();
    let events: Vec<MarketEvent> = replay.stream().collect().await;

    let mut candles = Vec::new();
    let mut problems = Vec::new();
    for event in &events {
        match event {
            MarketEvent::Candle { candle, .. } => candles.push(candle.open_time.to_string()),
            MarketEvent::Notice {
                feed,
                ts,
                notice: FeedNotice::Malformed { origin, reason },
            } => {
                assert_eq!(feed, "replay:bad.csv");
                assert_eq!(*ts, ts_of_last_candle(&candles), "{origin}");
                let line = origin.strip_prefix(&format!("{path}:")).unwrap();
                problems.push(format!("{line}: {reason}"));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(candles, ["2024-01-01T10:00:00Z", "2024-01-01T10:04:00Z"]);
    let expected = [
        "4: column `timestamp`: `yesterday` is neither RFC 3339 nor integer milliseconds",
        "6: open 1 and close 1.5 must lie within low 3 and high 2",
        "7: the line is not UTF-8 text",
        "8: the line has 1048586 bytes, more than the limit of 1048576",
        "9: column `volume` is missing",
    ];
    assert_eq!(problems, expected);
    assert_eq!(
        (stats.lines(), stats.events(), stats.malformed()),
        (10, 2, 5)
    );
}

/// The clock a notice is stamped with: the end of the last candle handed out.
fn ts_of_last_candle(candles: &[String]) -> Timestamp {
    candles
        .last()
        .map_or(Timestamp::EPOCH, |t| ts(t).add_millis(60_000))
}

#[tokio::test]
async fn a_missing_file_or_a_bad_header_fails_at_once() {
    let missing = Replay::new(ReplayConfig::new("/nonexistent/dir/ticks.csv", "X")).unwrap_err();
    assert!(
        matches!(&missing, MarketError::Io { path, .. } if path.ends_with("ticks.csv")),
        "{missing:?}"
    );
    assert!(
        missing
            .to_string()
            .starts_with("/nonexistent/dir/ticks.csv: "),
        "{missing}"
    );

    let file = TempFile::with("prices.csv", "\n\ndate,close\n2024-01-01,1\n");
    let err = Replay::new(ReplayConfig::new(file.path(), "X")).unwrap_err();
    let MarketError::Malformed { origin, reason } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(origin, &format!("{}:3", file.path().display()));
    assert!(reason.contains("no timestamp column"), "{reason}");

    let empty = TempFile::with("empty.csv", "");
    let err = Replay::new(ReplayConfig::new(empty.path(), "X")).unwrap_err();
    assert!(err.to_string().contains("the CSV file is empty"), "{err}");
}

#[tokio::test]
async fn the_format_comes_from_the_configuration_the_extension_or_the_first_line() {
    let event = replay_support::mixed_events().remove(1);
    let line = serde_json::to_string(&event).unwrap();
    for name in ["rec.jsonl", "rec.txt", "rec"] {
        let file = TempFile::with(name, format!("\n{line}\r\n\n{line}\n"));
        let (events, stats) = replay_all(file.path(), "IGNORED").await;
        assert_eq!(events, [event.clone(), event.clone()], "{name}");
        assert_eq!(stats.malformed(), 0);
    }
    let csv = TempFile::with("ticks.data", "timestamp,price\n1000,5\n");
    let (events, _) = replay_all(csv.path(), "X").await;
    assert!(
        matches!(&events[..], [MarketEvent::Tick { .. }]),
        "{events:?}"
    );

    // Told JSONL, a CSV header is a malformed line like any other.
    let config = ReplayConfig {
        format: Some(ReplayFormat::Jsonl),
        ..ReplayConfig::new(csv.path(), "X")
    };
    let events: Vec<_> = Replay::new(config).unwrap().stream().collect().await;
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| matches!(e, MarketEvent::Notice { .. })));

    let blank = TempFile::with("blank", "\n \n");
    assert_eq!(replay_all(blank.path(), "X").await.0, []);
}

#[tokio::test(start_paused = true)]
async fn a_speed_multiple_paces_by_event_time_and_caps_long_pauses() {
    let file = TempFile::with(
        "bars.csv",
        "timestamp,open,high,low,close,volume\n\
         2024-01-01T10:00:00Z,1,1,1,1,1\n\
         2024-01-01T10:01:00Z,1,1,1,1,1\n\
         2024-01-01T10:03:00Z,1,1,1,1,1\n\
         2024-01-02T10:03:00Z,1,1,1,1,1\n",
    );
    let clock = SimulatedClock::default();
    let config = ReplayConfig {
        speed: ReplaySpeed::Multiple(60.0),
        max_pause: Duration::from_secs(10),
        ..config(file.path(), "X", &clock)
    };
    let start = tokio::time::Instant::now();
    let mut events = Replay::new(config).unwrap().stream();
    let mut at = Vec::new();
    while let Some(event) = events.next().await {
        at.push((start.elapsed().as_millis(), event.known_at()));
        assert_eq!(clock.now(), event.known_at());
    }
    let elapsed: Vec<u128> = at.iter().map(|(ms, _)| *ms).collect();
    // 0, then a minute at 60x (1 s), two minutes (2 s), a day capped at 10 s.
    assert_eq!(elapsed, [0, 1_000, 3_000, 13_000]);
}

#[tokio::test]
async fn a_configured_bad_speed_is_a_config_error() {
    let config = ReplayConfig {
        speed: ReplaySpeed::Multiple(0.0),
        ..ReplayConfig::new(SAMPLE, "X")
    };
    assert!(matches!(Replay::new(config), Err(MarketError::Config(_))));
}
