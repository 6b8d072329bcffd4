//! The recorder: limits, flushing, and recordings that replay back to the same events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod replay_support;

use futures::stream;
use replay_support::{mixed_events, replay_all, TempFile};
use std::time::Duration;
use tokio::sync::mpsc;
use tradegraph_market::feed::record::{EventCounts, RecordConfig, Recorder, StopReason};
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::MarketError;

#[tokio::test]
async fn a_mixed_feed_replays_to_the_same_events() {
    let file = TempFile::new("mixed.jsonl");
    let events = mixed_events();
    let summary = Recorder::create(RecordConfig::new(file.path()))
        .unwrap()
        .record(stream::iter(events.clone()))
        .await
        .unwrap();
    assert_eq!(summary.stop, StopReason::FeedEnded);
    assert_eq!(
        summary.counts,
        EventCounts {
            trades: 1,
            ticks: 2,
            books: 2,
            candles: 2,
            notices: 7
        }
    );
    let text = std::fs::read_to_string(file.path()).unwrap();
    assert_eq!(
        text.lines().count(),
        events.len(),
        "one event per line:\n{text}"
    );
    assert_eq!(summary.bytes, text.len() as u64);
    assert!(
        text.contains(r#""total_sell_quantity":"79228162514264337593543950335""#),
        "{text}"
    );

    let (replayed, stats) = replay_all(file.path(), "UNUSED").await;
    assert_eq!(stats.malformed(), 0);
    assert_eq!(replayed, events);
}

#[tokio::test]
async fn limits_stop_the_recording() {
    let file = TempFile::new("limited.jsonl");
    let config = RecordConfig {
        max_events: Some(5),
        ..RecordConfig::new(file.path())
    };
    let endless = stream::iter(mixed_events().into_iter().cycle());
    let summary = Recorder::create(config)
        .unwrap()
        .record(endless)
        .await
        .unwrap();
    assert_eq!(
        (summary.counts.total(), summary.stop),
        (5, StopReason::MaxEvents)
    );
    assert_eq!(replay_all(file.path(), "X").await.0, mixed_events()[..5]);

    let config = RecordConfig {
        max_events: Some(0),
        ..RecordConfig::new(file.path())
    };
    let summary = Recorder::create(config)
        .unwrap()
        .record(stream::iter(mixed_events()))
        .await
        .unwrap();
    assert_eq!(
        (summary.counts.total(), summary.stop),
        (0, StopReason::MaxEvents)
    );
    assert_eq!(std::fs::read(file.path()).unwrap(), b"");

    let config = RecordConfig {
        duration: Some(Duration::from_millis(100)),
        ..RecordConfig::new(file.path())
    };
    let silent = stream::pending();
    let summary = Recorder::create(config)
        .unwrap()
        .record(silent)
        .await
        .unwrap();
    assert_eq!(summary.stop, StopReason::Duration);
    assert!(summary.elapsed >= Duration::from_millis(100), "{summary}");

    let summary = Recorder::create(RecordConfig::new(file.path()))
        .unwrap()
        .record_until(stream::pending(), async {})
        .await
        .unwrap();
    assert_eq!(summary.stop, StopReason::Stopped);
}

#[tokio::test]
async fn events_reach_the_file_while_the_feed_is_quiet() {
    let file = TempFile::new("flushed.jsonl");
    let config = RecordConfig {
        flush_interval: Duration::from_millis(20),
        ..RecordConfig::new(file.path())
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let feed = stream::unfold(rx, |mut rx| async move { Some((rx.recv().await?, rx)) });
    let recording = tokio::spawn(Recorder::create(config).unwrap().record(feed));
    for event in mixed_events().into_iter().take(3) {
        tx.send(event).unwrap();
    }
    let mut lines = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        lines = std::fs::read_to_string(file.path())
            .unwrap()
            .lines()
            .count();
        if lines == 3 {
            break;
        }
    }
    assert_eq!(lines, 3, "flushed while the feed is silent");
    drop(tx);
    let summary = recording.await.unwrap().unwrap();
    assert_eq!(
        (summary.counts.total(), summary.stop),
        (3, StopReason::FeedEnded)
    );
}

#[test]
fn an_unwritable_path_fails_before_recording() {
    let err = Recorder::create(RecordConfig::new("/nonexistent/dir/out.jsonl")).unwrap_err();
    assert!(matches!(&err, MarketError::Io { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("/nonexistent/dir/out.jsonl: "),
        "{err}"
    );
    let zero = RecordConfig {
        flush_interval: Duration::ZERO,
        ..RecordConfig::new("/nonexistent/dir/out.jsonl")
    };
    assert!(matches!(
        Recorder::create(zero),
        Err(MarketError::Config(_))
    ));
}

#[tokio::test]
async fn a_feed_recorded_from_a_replay_replays_the_same() {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/data/banknifty-1m.csv"
    );
    let (events, _) = replay_all(sample.as_ref(), "BANKNIFTY").await;
    let file = TempFile::new("banknifty.jsonl");
    let replay = Replay::new(ReplayConfig::new(sample, "BANKNIFTY")).unwrap();
    let summary = Recorder::create(RecordConfig::new(file.path()))
        .unwrap()
        .record(replay.stream())
        .await
        .unwrap();
    assert_eq!(summary.counts.candles, 1875);
    let (again, _) = replay_all(file.path(), "X").await;
    assert_eq!(again, events);
}
