use super::*;
use crate::{DecisionLog, DecisionRecord, MemoryJournal, Query, StoreEvent};
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use tradegraph_core::Timestamp;

/// A sink that can be switched off, counting every write it receives.
#[derive(Default)]
pub(super) struct FlakySink {
    pub(super) down: AtomicBool,
    pub(super) journal: MemoryJournal,
    pub(super) writes: AtomicUsize,
    pub(super) order: Mutex<Vec<String>>,
    /// The version of each decision written, in order.
    pub(super) versions: Mutex<Vec<i64>>,
}

#[async_trait]
impl RecordSink for FlakySink {
    async fn write_records(&self, records: &[Versioned]) -> Result<Rejected, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        let mut rejected = Vec::new();
        for (i, record) in records.iter().enumerate() {
            self.writes.fetch_add(1, Ordering::SeqCst);
            match &record.record {
                Record::Decision(d) if d.action.as_deref() == Some("BAD") => {
                    rejected.push((i, StoreError::Config("bad".into())));
                }
                Record::Decision(d) => {
                    self.order.lock().unwrap().push(d.decision_id.clone());
                    self.versions.lock().unwrap().push(record.version);
                    self.journal.record_decision(d).await?;
                }
                _ => {}
            }
        }
        Ok(rejected)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Closed)
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl DecisionLog for FlakySink {
    async fn record_decision(&self, d: &DecisionRecord) -> Result<(), StoreError> {
        self.journal.record_decision(d).await
    }
    async fn decisions(&self, q: &Query) -> Result<Vec<DecisionRecord>, StoreError> {
        self.journal.decisions(q).await
    }
}

pub(super) fn decision(i: i64) -> DecisionRecord {
    DecisionRecord::new("BTCUSDT".into(), Timestamp::from_secs(i)).action("HOLD")
}

/// The spill files on a full disk: appends and the record of progress fail, while the file
/// stays readable.
static FULL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Whether appends to the spill file at `path` fail ([`fill_disk`]).
pub(super) fn appends_fail(path: &std::path::Path) -> bool {
    FULL.lock().unwrap().iter().any(|p| p == path)
}

/// Makes appends to the spill file at `path` fail (`true`) or work again.
pub(super) fn fill_disk(path: &std::path::Path, full: bool) {
    let mut paths = FULL.lock().unwrap();
    paths.retain(|p| p != path);
    if full {
        paths.push(path.to_owned());
    }
}

pub(super) fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "tradegraph-store-{name}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    dir.join("spill.jsonl")
}

pub(super) fn config(path: PathBuf) -> WriteBehindConfig {
    WriteBehindConfig::new(path)
        .retry_interval(Duration::from_millis(20))
        .batch_size(7)
}

pub(super) async fn wait_drained<S: RecordSink>(wb: &WriteBehind<S>) {
    for _ in 0..500 {
        wb.flush().await.unwrap();
        if wb.spilled() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the spill file was not drained: {}", wb.spilled());
}

#[tokio::test]
async fn writes_go_through_in_order() {
    let sink = Arc::new(FlakySink::default());
    let wb = WriteBehind::start(sink.clone(), config(scratch("order")))
        .await
        .unwrap();
    for i in 0..50 {
        wb.record_decision(&decision(i)).await.unwrap();
    }
    assert_eq!(
        wb.decisions(&Query::new("BTCUSDT")).await.unwrap().len(),
        50
    );
    let order = sink.order.lock().unwrap().clone();
    let expected: Vec<String> = (0..50).map(|i| decision(i).decision_id).collect();
    assert_eq!(order, expected);
    wb.shutdown().await;
    assert!(matches!(
        wb.submit(Record::Decision(decision(0))).await,
        Err(StoreError::Closed)
    ));
}

#[tokio::test]
async fn an_outage_spills_then_drains_in_order_exactly_once() {
    let sink = Arc::new(FlakySink::default());
    let path = scratch("outage");
    let alerts = Alerts::new();
    let mut events = alerts.subscribe();
    let wb = WriteBehind::start(sink.clone(), config(path.clone()).alerts(alerts))
        .await
        .unwrap();
    for i in 0..10 {
        wb.record_decision(&decision(i)).await.unwrap();
    }
    wb.flush().await.unwrap();
    sink.down.store(true, Ordering::SeqCst);
    for i in 10..40 {
        wb.record_decision(&decision(i)).await.unwrap();
    }
    wb.flush().await.unwrap();
    assert_eq!(wb.spilled(), 30);
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 30);
    assert!(matches!(
        events.recv().await.unwrap(),
        StoreEvent::Unavailable {
            backend: "mongodb",
            ..
        }
    ));
    assert!(matches!(
        events.recv().await.unwrap(),
        StoreEvent::Spilling { .. }
    ));
    sink.down.store(false, Ordering::SeqCst);
    // Records arriving while it drains go behind the spilled ones.
    for i in 40..45 {
        wb.record_decision(&decision(i)).await.unwrap();
    }
    wait_drained(&wb).await;
    let order = sink.order.lock().unwrap().clone();
    let expected: Vec<String> = (0..45).map(|i| decision(i).decision_id).collect();
    assert_eq!(order, expected, "in order, each once");
    assert_eq!(sink.writes.load(Ordering::SeqCst), 45);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "emptied");
    match events.recv().await.unwrap() {
        StoreEvent::Drained { records, .. } => assert_eq!(records, 35),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        events.recv().await.unwrap(),
        StoreEvent::Recovered {
            backend: "mongodb",
            ..
        }
    ));
}

#[tokio::test]
async fn a_spill_file_left_by_a_crash_is_written_at_the_next_start() {
    let path = scratch("restart");
    let down = Arc::new(FlakySink::default());
    down.down.store(true, Ordering::SeqCst);
    let wb = WriteBehind::start(down.clone(), config(path.clone()))
        .await
        .unwrap();
    for i in 0..20 {
        wb.record_decision(&decision(i)).await.unwrap();
    }
    wb.flush().await.unwrap();
    wb.shutdown().await;
    // A torn last line, as a crash in the middle of an append leaves.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"kind\":\"decision\",\"rec");
    std::fs::write(&path, text).unwrap();
    // An offset file from before the records were spilled.
    std::fs::write(path.with_extension("jsonl.offset"), "0").unwrap();

    let sink = Arc::new(FlakySink::default());
    let wb = WriteBehind::start(sink.clone(), config(path.clone()))
        .await
        .unwrap();
    assert_eq!(wb.spilled(), 20);
    wait_drained(&wb).await;
    assert_eq!(
        sink.journal
            .decisions(&Query::new("BTCUSDT"))
            .await
            .unwrap()
            .len(),
        20
    );
    assert_eq!(sink.writes.load(Ordering::SeqCst), 20);
}

#[tokio::test]
async fn refused_records_are_kept_and_reported_not_retried() {
    let sink = Arc::new(FlakySink::default());
    let path = scratch("rejected");
    let alerts = Alerts::new();
    let mut events = alerts.subscribe();
    let wb = WriteBehind::start(sink.clone(), config(path.clone()).alerts(alerts))
        .await
        .unwrap();
    wb.record_decision(&decision(1).action("BAD"))
        .await
        .unwrap();
    wb.record_decision(&decision(2)).await.unwrap();
    wb.flush().await.unwrap();
    assert!(matches!(
        events.recv().await.unwrap(),
        StoreEvent::Rejected { .. }
    ));
    let rejected = std::fs::read_to_string(path.with_extension("jsonl.rejected")).unwrap();
    assert!(rejected.contains("BAD"), "{rejected}");
    assert_eq!(wb.spilled(), 0);
    assert_eq!(sink.order.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_spill_file_serves_one_process_at_a_time() {
    let path = scratch("lock");
    let sink = Arc::new(FlakySink::default());
    let first = WriteBehind::start(sink.clone(), config(path.clone()))
        .await
        .unwrap();
    let second = WriteBehind::start(sink.clone(), config(path.clone())).await;
    assert!(
        matches!(second, Err(StoreError::InUse { path: ref held, .. }) if *held == path),
        "{second:?}"
    );
    first.shutdown().await;
}

/// A sink that keeps, per key, the highest version written (as MongoDB's conditional upserts
/// do): a lower or equal version changes nothing.
#[derive(Default)]
struct VersionedSink(Mutex<std::collections::HashMap<String, (i64, Record)>>);

#[async_trait]
impl RecordSink for VersionedSink {
    async fn write_records(&self, records: &[Versioned]) -> Result<Rejected, StoreError> {
        let mut stored = self.0.lock().unwrap();
        for r in records {
            let key = r.record.describe();
            if stored.get(&key).is_none_or(|(v, _)| *v < r.version) {
                stored.insert(key, (r.version, r.record.clone()));
            }
        }
        Ok(Vec::new())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn a_restart_with_the_clock_stepped_back_still_replaces_records() {
    let spill = scratch("clock-back");
    let sink = Arc::new(VersionedSink::default());
    // The previous run's clock was a day ahead.
    let ahead = config(spill.clone()).clock(|| wall_ms() + 86_400_000);
    let first = WriteBehind::start(sink.clone(), ahead).await.unwrap();
    first.submit(Record::Decision(decision(1))).await.unwrap();
    first.shutdown().await;
    drop(first);
    // The clock was stepped back across the restart.
    let second = WriteBehind::start(sink.clone(), config(spill.clone()).clock(wall_ms))
        .await
        .unwrap();
    let newer = decision(1).action("BUY");
    second
        .submit(Record::Decision(newer.clone()))
        .await
        .unwrap();
    second.shutdown().await;
    let stored = sink.0.lock().unwrap();
    let (_, record) = stored
        .get(&Record::Decision(newer.clone()).describe())
        .unwrap();
    assert_eq!(
        record,
        &Record::Decision(newer),
        "the later write replaced the earlier"
    );
}

/// `spilled` counts what a flush put in the spill file by the time the flush returns (the
/// worker runs on another thread of the runtime; before, it replied first and counted after).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spilled_is_counted_when_a_flush_returns() {
    for round in 0..100 {
        let sink = Arc::new(FlakySink::default());
        sink.down.store(true, Ordering::SeqCst);
        let wb = WriteBehind::start(sink, config(scratch(&format!("flush-count-{round}"))))
            .await
            .unwrap();
        wb.record_decision(&decision(0)).await.unwrap();
        wb.record_decision(&decision(1)).await.unwrap();
        wb.flush().await.unwrap();
        assert_eq!(wb.spilled(), 2, "round {round}");
        wb.shutdown().await;
    }
}
