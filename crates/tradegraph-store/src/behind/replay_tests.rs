//! Item 3 of issue 12: `.rejected` has a replay. Records are written again with their original
//! versions; those refused again stay with the new reason; unreadable lines stay as they were.

use super::rejected::RejectedLine;
use super::tests::{decision, scratch, FlakySink};
use super::*;
use crate::lock::with_suffix;
use async_trait::async_trait;
use std::path::Path;

/// A `.rejected` line as the queue writes it.
fn line(record: &impl serde::Serialize, error: &str) -> String {
    let json = serde_json::to_string(record).unwrap();
    serde_json::json!({"record": json, "error": error}).to_string()
}

fn rejected_file(spill: &Path, lines: &[String]) -> PathBuf {
    std::fs::create_dir_all(spill.parent().unwrap()).unwrap();
    let path = with_suffix(spill, ".rejected");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// A sink that keeps what it is given.
#[derive(Default)]
struct Capture(Mutex<Vec<Versioned>>);

#[async_trait]
impl RecordSink for Capture {
    async fn write_records(&self, records: &[Versioned]) -> Result<Rejected, StoreError> {
        self.0.lock().unwrap().extend_from_slice(records);
        Ok(Vec::new())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[tokio::test]
async fn rejected_records_are_replayed_and_only_those_refused_again_are_kept() {
    let spill = scratch("replay");
    let torn = r#"{"record":"{\"kind\":\"decision\",\"rec"#.to_owned();
    let not_a_record = line(&serde_json::json!({"kind": "order"}), "x");
    let path = rejected_file(
        &spill,
        &[
            // A line from before versions existed.
            line(&Record::Decision(decision(1)), "code 189: not primary"),
            torn.clone(),
            line(
                &Versioned::with_version(Record::Decision(decision(2).action("BAD")), 7),
                "earlier reason",
            ),
            String::new(),
            line(
                &Versioned::with_version(Record::Decision(decision(3)), 9),
                "code 91: shutting down",
            ),
            not_a_record.clone(),
        ],
    );
    let sink = FlakySink::default();
    let report = replay_rejected(&spill, &sink).await.unwrap();
    assert_eq!(report.path, path);
    assert_eq!(report.lines, 5);
    assert_eq!(report.written, 2);
    assert_eq!(
        report.refused,
        vec![(3, "invalid store configuration: bad".to_owned())]
    );
    let unreadable: Vec<usize> = report.unreadable.iter().map(|(n, _)| *n).collect();
    assert_eq!(unreadable, [2, 6], "{:?}", report.unreadable);
    assert_eq!(report.kept(), 3);
    assert_eq!(
        *sink.order.lock().unwrap(),
        [decision(1).decision_id, decision(3).decision_id]
    );

    let kept = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = kept.lines().collect();
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert_eq!(kept[0], torn, "kept as it was");
    let again: serde_json::Value = serde_json::from_str(kept[1]).unwrap();
    assert_eq!(again["error"], "invalid store configuration: bad");
    let record: Versioned = serde_json::from_str(again["record"].as_str().unwrap()).unwrap();
    assert_eq!(record.version, 7, "the original version is kept");
    assert_eq!(kept[2], not_a_record);
    assert!(!with_suffix(&spill, ".rejected.tmp").exists());

    // Again: the same lines stay, nothing is written twice.
    let report = replay_rejected(&spill, &sink).await.unwrap();
    assert_eq!((report.written, report.kept()), (0, 3));
    assert_eq!(sink.order.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn replayed_records_keep_their_versions_and_an_emptied_file_goes() {
    let spill = scratch("replay-versions");
    let path = rejected_file(
        &spill,
        &[
            line(
                &Versioned::with_version(Record::Decision(decision(1)), 42),
                "e",
            ),
            line(&Record::Decision(decision(2)), "e"),
        ],
    );
    let sink = Capture::default();
    let report = replay_rejected(&spill, &sink).await.unwrap();
    assert_eq!((report.written, report.kept()), (2, 0));
    let versions: Vec<i64> = sink.0.lock().unwrap().iter().map(|v| v.version).collect();
    assert_eq!(versions, [42, 0], "a line without a version reads as 0");
    assert!(!path.exists(), "nothing left to replay");
}

#[tokio::test]
async fn a_sink_that_is_away_keeps_every_line_as_it_was() {
    let spill = scratch("replay-down");
    let lines = [
        line(&Record::Decision(decision(1)), "code 189"),
        "not json".to_owned(),
        line(&Record::Decision(decision(2)), "code 91"),
    ];
    let path = rejected_file(&spill, &lines);
    let sink = FlakySink::default();
    sink.down.store(true, Ordering::SeqCst);
    let result = replay_rejected(&spill, &sink).await;
    assert!(matches!(result, Err(StoreError::Closed)), "{result:?}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        lines.join("\n") + "\n"
    );
}

#[tokio::test]
async fn a_missing_file_is_nothing_to_replay() {
    let spill = scratch("replay-none");
    let report = replay_rejected(&spill, &FlakySink::default())
        .await
        .unwrap();
    assert_eq!((report.lines, report.written, report.kept()), (0, 0, 0));
}

#[tokio::test]
async fn a_running_bot_holds_the_file() {
    let spill = scratch("replay-busy");
    let path = rejected_file(&spill, &[line(&Record::Decision(decision(1)), "e")]);
    let sink = Arc::new(FlakySink::default());
    let wb = WriteBehind::start(sink.clone(), WriteBehindConfig::new(&spill))
        .await
        .unwrap();
    let result = replay_rejected(&spill, sink.as_ref()).await;
    assert!(
        matches!(result, Err(ref e @ StoreError::InUse { .. }) if e.to_string().contains("is in use") && e.to_string().contains("stop the bot")),
        "{result:?}"
    );
    assert!(path.exists());
    wb.shutdown().await;
}

#[tokio::test]
async fn a_large_file_is_replayed_in_batches_in_order() {
    let spill = scratch("replay-large");
    let lines: Vec<String> = (0..1_200)
        .map(|i| {
            let d = if i == 700 {
                decision(i).action("BAD")
            } else {
                decision(i)
            };
            line(&Versioned::with_version(Record::Decision(d), i + 1), "e")
        })
        .collect();
    let path = rejected_file(&spill, &lines);
    let sink = FlakySink::default();
    let report = replay_rejected(&spill, &sink).await.unwrap();
    assert_eq!((report.lines, report.written), (1_200, 1_199));
    assert_eq!(report.refused.len(), 1);
    assert_eq!(report.refused[0].0, 701, "line numbers start at 1");
    let expected: Vec<String> = (0..1_200)
        .filter(|&i| i != 700)
        .map(|i| decision(i).decision_id)
        .collect();
    assert_eq!(*sink.order.lock().unwrap(), expected);
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
}

#[tokio::test]
async fn an_over_long_line_is_kept_unread_and_the_rest_is_replayed() {
    let spill = scratch("replay-long");
    let long = format!(r#"{{"record":"{}","error":"x"}}"#, "a".repeat(3 * LONG_CAP));
    let path = rejected_file(
        &spill,
        &[
            line(
                &Versioned::with_version(Record::Decision(decision(1)), 5),
                "e",
            ),
            long.clone(),
            line(
                &Versioned::with_version(Record::Decision(decision(2)), 6),
                "e",
            ),
        ],
    );
    let sink = Capture::default();
    let report = replay::replay_capped(&spill, &sink, LONG_CAP)
        .await
        .unwrap();
    assert_eq!(report.written, 2);
    assert_eq!(report.unreadable.len(), 1, "{:?}", report.unreadable);
    assert_eq!(report.unreadable[0].0, 2);
    assert!(
        report.unreadable[0].1.contains("longer than"),
        "{:?}",
        report.unreadable
    );
    assert_eq!(sink.0.lock().unwrap().len(), 2);
    // Kept as it was, whole.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), long + "\n");
}

/// A small cap, so that a test's over-long line stays small.
const LONG_CAP: usize = 1024;

#[test]
fn the_queue_and_the_replay_write_the_same_rejected_line() {
    let written = RejectedLine::new("{\"kind\":\"x\"}", "code 2: bad").to_line();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&written).unwrap(),
        serde_json::json!({"record": "{\"kind\":\"x\"}", "error": "code 2: bad"})
    );
    let read: RejectedLine = serde_json::from_slice(&written).unwrap();
    assert_eq!(read, RejectedLine::new("{\"kind\":\"x\"}", "code 2: bad"));
    assert!(!written.ends_with(b"\n"));
}
