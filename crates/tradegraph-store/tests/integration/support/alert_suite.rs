//! What every alert log does, checked on memory, MongoDB and the write-behind queue alike.

use super::hot_suite::at;
use tradegraph_core::Symbol;
use tradegraph_store::{AlertLog, AlertRecord, Query};

/// An alert of `instrument`, its `n`th, `n` minutes after 10:00.
pub fn alert(instrument: &Symbol, n: u64) -> AlertRecord {
    let mut a = AlertRecord::new(
        instrument.clone(),
        at(n as i64 * 60_000),
        n,
        "store_down",
        "store_down:redis",
    )
    .severity("critical")
    .message("redis does not answer: start redis-server");
    a.extra.insert("check".into(), serde_json::json!("redis"));
    a
}

/// Writes three alerts twice (a retry), one recovery and another instrument's alert, and reads
/// them back by instrument and time range, newest kept.
pub async fn run_all(log: &dyn AlertLog, instrument: &Symbol) {
    for _ in 0..2 {
        for n in 1..=3 {
            log.record_alert(&alert(instrument, n)).await.unwrap();
        }
    }
    let recovery = AlertRecord::new(
        instrument.clone(),
        at(240_000),
        4,
        "store_down",
        "store_down:redis",
    )
    .severity("info")
    .message("redis answers again")
    .recovered(true);
    log.record_alert(&recovery).await.unwrap();
    let other = Symbol::new(super::unique("OTHER"));
    log.record_alert(&alert(&other, 1)).await.unwrap();

    let all = log.alerts(&Query::new(instrument.clone())).await.unwrap();
    assert_eq!(
        all,
        vec![
            alert(instrument, 1),
            alert(instrument, 2),
            alert(instrument, 3),
            recovery.clone()
        ],
        "one per alert_id, this instrument only, oldest first"
    );
    let page = log
        .alerts(&Query::new(instrument.clone()).before(at(180_000)).limit(1))
        .await
        .unwrap();
    assert_eq!(
        page,
        vec![alert(instrument, 2)],
        "the newest before the time"
    );
    let newest = log
        .alerts(&Query::new(instrument.clone()).limit(1))
        .await
        .unwrap();
    assert!(
        newest[0].recovered && newest[0].severity == "info",
        "{newest:?}"
    );
    let theirs = log.alerts(&Query::new(other)).await.unwrap();
    assert_eq!(theirs.len(), 1);
}
