//! The spill file under hostile conditions: torn appends, a reset cut short by a crash, a large
//! file left by a previous run, a file written before records had versions.

use super::tests::{config, decision, fill_disk, scratch, wait_drained, FlakySink};
use super::*;
use std::io::Write;

fn ids(range: std::ops::Range<i64>) -> Vec<String> {
    range.map(|i| decision(i).decision_id).collect()
}

/// Item 1 of issue 12: a partial append (disk full, I/O error) cut inside a multi-byte character
/// must cost at most the torn record, never every record after it.
#[tokio::test]
async fn a_torn_append_costs_at_most_the_torn_record() {
    let path = scratch("torn");
    let sink = Arc::new(FlakySink::default());
    sink.down.store(true, Ordering::SeqCst);
    let wb = WriteBehind::start(sink.clone(), config(path.clone()))
        .await
        .unwrap();
    for i in 0..5 {
        wb.submit(Record::Decision(decision(i))).await.unwrap();
    }
    wb.flush().await.unwrap();
    // What a write cut short leaves: a record's first bytes, ending inside "é".
    let torn = serde_json::to_vec(&Record::Decision(decision(99).action("café"))).unwrap();
    let cut = torn.iter().position(|&b| b == 0xC3).unwrap() + 1;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(&torn[..cut]).unwrap();
    drop(file);
    for i in 5..10 {
        wb.submit(Record::Decision(decision(i))).await.unwrap();
    }
    wb.flush().await.unwrap();
    sink.down.store(false, Ordering::SeqCst);
    wait_drained(&wb).await;
    assert_eq!(
        *sink.order.lock().unwrap(),
        ids(0..10),
        "every whole record"
    );
    let rejected = std::fs::read_to_string(path.with_extension("jsonl.rejected")).unwrap();
    assert_eq!(
        rejected.lines().count(),
        1,
        "only the torn record: {rejected}"
    );
    wb.shutdown().await;
}

/// Item 2 of issue 12: `reset()` truncated the file, then a crash left the old `.offset`; records
/// spilled after the restart must not be skipped at the next one.
#[tokio::test]
async fn a_reset_cut_short_by_a_crash_skips_no_records() {
    let path = scratch("reset-crash");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "").unwrap();
    std::fs::write(path.with_extension("jsonl.offset"), "4096").unwrap();

    let down = Arc::new(FlakySink::default());
    down.down.store(true, Ordering::SeqCst);
    let wb = WriteBehind::start(down.clone(), config(path.clone()))
        .await
        .unwrap();
    for i in 0..60 {
        wb.submit(Record::Decision(decision(i))).await.unwrap();
    }
    wb.flush().await.unwrap();
    wb.shutdown().await;
    assert!(std::fs::metadata(&path).unwrap().len() > 4096);

    let sink = Arc::new(FlakySink::default());
    let wb = WriteBehind::start(sink.clone(), config(path.clone()))
        .await
        .unwrap();
    assert_eq!(wb.spilled(), 60);
    wait_drained(&wb).await;
    assert_eq!(*sink.order.lock().unwrap(), ids(0..60), "none skipped");
    wb.shutdown().await;
}

/// An offset that does not fall on a line boundary describes no file this one was: everything is
/// written again (harmless, writes are idempotent) rather than a record cut in two.
#[tokio::test]
async fn an_offset_inside_a_line_is_not_trusted() {
    let path = scratch("mid-line");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = String::new();
    for i in 0..3 {
        text += &serde_json::to_string(&Record::Decision(decision(i))).unwrap();
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    std::fs::write(path.with_extension("jsonl.offset"), "10").unwrap();
    let sink = Arc::new(FlakySink::default());
    let wb = WriteBehind::start(sink.clone(), config(path.clone()))
        .await
        .unwrap();
    assert_eq!(wb.spilled(), 3);
    wait_drained(&wb).await;
    assert_eq!(*sink.order.lock().unwrap(), ids(0..3));
    assert!(!path.with_extension("jsonl.rejected").exists());
    wb.shutdown().await;
}

/// Item 9 of issue 12 (`Spill::open`): a large file left by a previous run, with a committed
/// offset and a torn tail, opens by streaming and drains from the offset, in order.
#[tokio::test]
async fn a_large_spill_file_opens_and_drains_in_order() {
    let path = scratch("large");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut committed = 0u64;
    for i in 0..20_000 {
        let mut line = serde_json::to_vec(&Record::Decision(decision(i))).unwrap();
        line.push(b'\n');
        file.write_all(&line).unwrap();
        if i < 1_000 {
            committed += line.len() as u64;
        }
    }
    file.write_all(b"{\"kind\":\"decision\",\"rec").unwrap();
    file.into_inner().unwrap().sync_all().unwrap();
    std::fs::write(path.with_extension("jsonl.offset"), committed.to_string()).unwrap();

    let sink = Arc::new(FlakySink::default());
    let wb = WriteBehind::start(sink.clone(), config(path.clone()).batch_size(500))
        .await
        .unwrap();
    assert_eq!(wb.spilled(), 19_000);
    wait_drained(&wb).await;
    assert_eq!(*sink.order.lock().unwrap(), ids(1_000..20_000));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    wb.shutdown().await;
}

/// Item 4 of issue 12: the version stamped when a record is queued is kept in the spill file, so
/// a spill written back after a restart keeps it, and records queued after the restart are newer.
#[tokio::test]
async fn spilled_records_keep_their_versions_across_a_restart() {
    let path = scratch("versions");
    let down = Arc::new(FlakySink::default());
    down.down.store(true, Ordering::SeqCst);
    let wb = WriteBehind::start(down.clone(), config(path.clone()))
        .await
        .unwrap();
    for i in 0..5 {
        wb.submit(Record::Decision(decision(i))).await.unwrap();
    }
    wb.flush().await.unwrap();
    wb.shutdown().await;
    let spilled: Vec<i64> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Versioned>(l).unwrap().version)
        .collect();
    assert_eq!(spilled.len(), 5);
    assert!(spilled.windows(2).all(|w| w[0] < w[1]), "{spilled:?}");

    let sink = Arc::new(FlakySink::default());
    let wb = WriteBehind::start(sink.clone(), config(path.clone()))
        .await
        .unwrap();
    wb.submit(Record::Decision(decision(5))).await.unwrap();
    wait_drained(&wb).await;
    let written = sink.versions.lock().unwrap().clone();
    assert_eq!(written[..5], spilled[..], "the original versions");
    assert!(written[5] > spilled[4], "newer after the restart");
    wb.shutdown().await;
}

/// Item 4 of issue 12: a spill file written before records had versions is still read; its
/// records have version 0.
#[tokio::test]
async fn a_spill_file_without_versions_is_still_read() {
    let path = scratch("unversioned");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = String::new();
    for i in 0..3 {
        // What the queue wrote before versions: `{"kind":"decision","record":{...}}`.
        text += &serde_json::to_string(&Record::Decision(decision(i))).unwrap();
        text.push('\n');
    }
    assert!(!text.contains("version"));
    std::fs::write(&path, text).unwrap();
    let sink = Arc::new(FlakySink::default());
    let wb = WriteBehind::start(sink.clone(), config(path.clone()))
        .await
        .unwrap();
    wait_drained(&wb).await;
    assert_eq!(*sink.order.lock().unwrap(), ids(0..3));
    assert_eq!(*sink.versions.lock().unwrap(), [0, 0, 0]);
    assert!(!path.with_extension("jsonl.rejected").exists());
    wb.shutdown().await;
}

/// Waits (5 s at most) until the sink holds `want`, in order.
async fn until_written(sink: &FlakySink, want: &[String]) {
    for _ in 0..500 {
        if *sink.order.lock().unwrap() == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("written {:?}, wanted {want:?}", sink.order.lock().unwrap());
}

/// Records the spill file cannot take (a full disk) wait in memory, and reach the sink once it
/// answers, after the file's older ones: the drain gave up whenever the file refused them, so
/// nothing reached a healthy database, the file was never emptied (keeping the disk full) and a
/// shutdown dropped what waited in memory.
#[tokio::test]
async fn records_the_spill_file_cannot_take_reach_the_sink_once_it_answers() {
    let path = scratch("full-disk");
    let sink = Arc::new(FlakySink::default());
    sink.down.store(true, Ordering::SeqCst);
    let wb = WriteBehind::start(sink.clone(), config(path.clone()))
        .await
        .unwrap();
    for i in 0..3 {
        wb.submit(Record::Decision(decision(i))).await.unwrap();
    }
    wb.flush().await.unwrap();
    fill_disk(&path, true);
    for i in 3..5 {
        wb.submit(Record::Decision(decision(i))).await.unwrap();
    }
    assert!(wb.flush().await.is_err(), "the spill file took them");
    sink.down.store(false, Ordering::SeqCst);
    until_written(&sink, &ids(0..5)).await;
    // Nothing waits any more: later records go straight through, the disk still full.
    for i in 5..7 {
        wb.submit(Record::Decision(decision(i))).await.unwrap();
    }
    wb.flush().await.unwrap();
    until_written(&sink, &ids(0..7)).await;
    // Down again with the disk full; back as the bot stops: the shutdown writes them.
    sink.down.store(true, Ordering::SeqCst);
    for i in 7..9 {
        wb.submit(Record::Decision(decision(i))).await.unwrap();
    }
    let _ = wb.flush().await;
    sink.down.store(false, Ordering::SeqCst);
    wb.shutdown().await;
    assert_eq!(*sink.order.lock().unwrap(), ids(0..9));
    fill_disk(&path, false);
}
