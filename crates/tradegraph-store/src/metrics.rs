//! The stores' metrics, recorded through the [`metrics`] facade: nothing is kept when no
//! recorder is installed, and the application chooses the exporter (the `tradegraph` runtime
//! installs a Prometheus one).
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `tradegraph_store_write_behind_queue_depth` | gauge | – | records queued in the write-behind queue, not yet written or spilled |
//! | `tradegraph_store_write_behind_spilled_records` | gauge | – | records waiting in the spill file (or in memory when they could not be spilled) for the database to return |
//! | `tradegraph_store_write_behind_written_records_total` | counter | – | records the write-behind queue wrote to the database (from the queue or the spill file) |
//! | `tradegraph_store_write_behind_write_errors_total` | counter | – | batch writes that failed or timed out (their records went to the spill file) |
//! | `tradegraph_store_redis_op_duration_seconds` | histogram | `operation` | one Redis round trip (hot-cache writes and reads, checkpoints, bot state), answered or not |
//! | `tradegraph_store_redis_errors_total` | counter | `operation`, `kind` | Redis round trips that failed: `kind` = `error` or `timeout` |
//! | `tradegraph_store_events_total` | counter | `backend`, `event` | [`StoreEvent`]s raised: `unavailable`, `recovered`, `dropped`, `spilling`, `drained`, `rejected` |
//! | `tradegraph_store_dropped_entries_total` | counter | `backend` | hot-cache entries dropped because the buffer held back during an outage was full |
//!
//! Every label value is a fixed name from the code (`latest_price`, `write`, `redis`, ...).
//!
//! ```
//! use tradegraph_store::metrics;
//! // Registers the descriptions and units with the installed recorder (none here: a no-op).
//! metrics::describe();
//! assert!(metrics::ALL.iter().any(|(name, kind, _)| {
//!     *name == metrics::WRITE_BEHIND_QUEUE_DEPTH && *kind == "gauge"
//! }));
//! ```

use crate::StoreEvent;
use metrics::{Label, Unit};
#[cfg(feature = "redis")]
use std::time::Duration;

/// Gauge: records queued in the write-behind queue.
pub const WRITE_BEHIND_QUEUE_DEPTH: &str = "tradegraph_store_write_behind_queue_depth";
/// Gauge: records waiting in the spill file (or in memory) for the database.
pub const WRITE_BEHIND_SPILLED_RECORDS: &str = "tradegraph_store_write_behind_spilled_records";
/// Counter: records the write-behind queue wrote to the database.
pub const WRITE_BEHIND_WRITTEN_RECORDS_TOTAL: &str =
    "tradegraph_store_write_behind_written_records_total";
/// Counter: write-behind batch writes that failed or timed out.
pub const WRITE_BEHIND_WRITE_ERRORS_TOTAL: &str =
    "tradegraph_store_write_behind_write_errors_total";
/// Histogram: one Redis round trip (`operation`).
pub const REDIS_OP_DURATION_SECONDS: &str = "tradegraph_store_redis_op_duration_seconds";
/// Counter: Redis round trips that failed (`operation`, `kind`).
pub const REDIS_ERRORS_TOTAL: &str = "tradegraph_store_redis_errors_total";
/// Counter: store events raised (`backend`, `event`).
pub const EVENTS_TOTAL: &str = "tradegraph_store_events_total";
/// Counter: hot-cache entries dropped during an outage (`backend`).
pub const DROPPED_ENTRIES_TOTAL: &str = "tradegraph_store_dropped_entries_total";

/// Every metric of this crate: name, Prometheus type and label names.
pub const ALL: &[(&str, &str, &[&str])] = &[
    (WRITE_BEHIND_QUEUE_DEPTH, "gauge", &[]),
    (WRITE_BEHIND_SPILLED_RECORDS, "gauge", &[]),
    (WRITE_BEHIND_WRITTEN_RECORDS_TOTAL, "counter", &[]),
    (WRITE_BEHIND_WRITE_ERRORS_TOTAL, "counter", &[]),
    (REDIS_OP_DURATION_SECONDS, "histogram", &["operation"]),
    (REDIS_ERRORS_TOTAL, "counter", &["operation", "kind"]),
    (EVENTS_TOTAL, "counter", &["backend", "event"]),
    (DROPPED_ENTRIES_TOTAL, "counter", &["backend"]),
];

/// Registers every metric's description and unit with the installed recorder. Call it once
/// after installing the recorder; recording works without it.
pub fn describe() {
    metrics::describe_gauge!(
        WRITE_BEHIND_QUEUE_DEPTH,
        Unit::Count,
        "Records queued in the write-behind queue, not yet written or spilled."
    );
    metrics::describe_gauge!(
        WRITE_BEHIND_SPILLED_RECORDS,
        Unit::Count,
        "Records waiting in the spill file (or in memory) for the database to return."
    );
    metrics::describe_counter!(
        WRITE_BEHIND_WRITTEN_RECORDS_TOTAL,
        Unit::Count,
        "Records the write-behind queue wrote to the database."
    );
    metrics::describe_counter!(
        WRITE_BEHIND_WRITE_ERRORS_TOTAL,
        Unit::Count,
        "Write-behind batch writes that failed or timed out (their records were spilled)."
    );
    metrics::describe_histogram!(
        REDIS_OP_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of one Redis round trip, answered or not."
    );
    metrics::describe_counter!(
        REDIS_ERRORS_TOTAL,
        Unit::Count,
        "Redis round trips that failed (kind: error or timeout)."
    );
    metrics::describe_counter!(EVENTS_TOTAL, Unit::Count, "Store events raised.");
    metrics::describe_counter!(
        DROPPED_ENTRIES_TOTAL,
        Unit::Count,
        "Hot-cache entries dropped because the outage buffer was full."
    );
}

/// The write-behind queue holds `queued` records and `spilled` wait for the database.
pub(crate) fn write_behind_depth(queued: usize, spilled: u64) {
    metrics::gauge!(WRITE_BEHIND_QUEUE_DEPTH).set(queued as f64);
    metrics::gauge!(WRITE_BEHIND_SPILLED_RECORDS).set(spilled as f64);
}

/// The write-behind queue wrote `records` records.
pub(crate) fn write_behind_written(records: usize) {
    metrics::counter!(WRITE_BEHIND_WRITTEN_RECORDS_TOTAL).increment(records as u64);
}

/// A write-behind batch write failed.
pub(crate) fn write_behind_failed() {
    metrics::counter!(WRITE_BEHIND_WRITE_ERRORS_TOTAL).increment(1);
}

/// A Redis round trip for `operation` took `elapsed`; `failed` names how it failed.
#[cfg(feature = "redis")]
pub(crate) fn redis_op(operation: &'static str, elapsed: Duration, failed: Option<&'static str>) {
    let labels = vec![Label::from_static_parts("operation", operation)];
    metrics::histogram!(REDIS_OP_DURATION_SECONDS, labels).record(elapsed.as_secs_f64());
    if let Some(kind) = failed {
        let labels = vec![
            Label::from_static_parts("operation", operation),
            Label::from_static_parts("kind", kind),
        ];
        metrics::counter!(REDIS_ERRORS_TOTAL, labels).increment(1);
    }
}

/// A store event was raised.
pub(crate) fn event(event: &StoreEvent) {
    let (backend, name) = match event {
        StoreEvent::Unavailable { backend, .. } => (*backend, "unavailable"),
        StoreEvent::Recovered { backend, .. } => (*backend, "recovered"),
        StoreEvent::Dropped { backend, count } => {
            let labels = vec![Label::from_static_parts("backend", backend)];
            metrics::counter!(DROPPED_ENTRIES_TOTAL, labels).increment(*count);
            (*backend, "dropped")
        }
        StoreEvent::Spilling { .. } => ("mongodb", "spilling"),
        StoreEvent::Drained { .. } => ("mongodb", "drained"),
        StoreEvent::Rejected { backend, .. } => (*backend, "rejected"),
        StoreEvent::DeadLettered { backend, .. } => (*backend, "dead_lettered"),
    };
    let labels = vec![
        Label::from_static_parts("backend", backend),
        Label::from_static_parts("event", name),
    ];
    metrics::counter!(EVENTS_TOTAL, labels).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prometheus_conventions() {
        tradegraph_testkit::assert_metric_names("tradegraph_store_", ALL);
    }
}
