use super::Sink;
use crate::alerts::AlertError;
use crate::engine::{AlertEvent, AlertKind, Severity};
use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tradegraph_core::Symbol;
use tradegraph_store::{AlertLog, AlertRecord};

/// The store's alert log (`Stores.alert_log`: MongoDB's `alerts` collection behind the
/// write-behind queue, or memory), which `GET /api/v1/alerts` reads: with MongoDB alerts
/// survive a restart; the memory store keeps them for the run. Each record is stored under
/// the alert's `alert_id`.
pub struct StoreSink {
    log: Arc<dyn AlertLog>,
    instrument: Symbol,
    n: AtomicU64,
}

impl StoreSink {
    /// Writes `instrument`'s alerts to `log`.
    pub fn new(log: Arc<dyn AlertLog>, instrument: Symbol) -> Self {
        Self {
            log,
            instrument,
            n: AtomicU64::new(0),
        }
    }

    /// The id the alert log gives the `n`th alert of `instrument`, raised at `at`.
    pub fn id_of(instrument: &Symbol, at: tradegraph_core::Timestamp, n: u64) -> String {
        AlertRecord::new(instrument.clone(), at, n, "", "").alert_id
    }

    /// The record of `alert`: under its `alert_id` when the alert service gave it one, else
    /// numbered by this sink.
    pub fn record(&self, alert: &AlertEvent) -> AlertRecord {
        let n = self.n.fetch_add(1, Ordering::Relaxed) + 1;
        let mut record = AlertRecord::new(
            self.instrument.clone(),
            alert.at,
            n,
            alert.kind.as_str(),
            alert.key.clone(),
        )
        .severity(alert.severity.as_str())
        .message(alert.message.clone())
        .recovered(alert.recovered);
        if let Some(id) = &alert.alert_id {
            record.alert_id.clone_from(id);
        }
        record
    }
}

impl std::fmt::Debug for StoreSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSink")
            .field("instrument", &self.instrument)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Sink for StoreSink {
    fn name(&self) -> String {
        "store".into()
    }

    async fn deliver(&self, alert: &AlertEvent) -> Result<(), AlertError> {
        Ok(self.log.record_alert(&self.record(alert)).await?)
    }
}

/// The typed alert a stored record holds; `None` for a kind or severity this version does not
/// know (written by a later one).
pub fn alert_of_record(record: &AlertRecord) -> Option<AlertEvent> {
    Some(AlertEvent {
        kind: AlertKind::parse(&record.kind)?,
        key: record.key.clone(),
        severity: Severity::parse(&record.severity)?,
        message: record.message.clone(),
        recovered: record.recovered,
        at: record.timestamp,
        alert_id: Some(record.alert_id.clone()),
    })
}
