#![doc = include_str!("metrics.md")]

mod error;
mod errors;
#[cfg(feature = "service")]
mod install;
pub mod log;
pub mod names;
mod record;

pub use error::TelemetryError;
pub use errors::{error_count, ErrorCounter, ErrorRate};
#[cfg(feature = "service")]
pub use install::{install, render, Telemetry, DOLLARS_BUCKETS, SECONDS_BUCKETS};
pub use record::{
    drawdown, record_account, record_cycle, record_cycle_failure, record_health_check,
    record_trading_status,
};
pub(crate) use record::{record_cycle_outcome, record_cycle_time};

/// The `Content-Type` of [`render`]'s text (Prometheus exposition format 0.0.4).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One metric: its name, Prometheus type (`counter`, `gauge`, `histogram`) and label names.
pub type MetricSpec = (&'static str, &'static str, &'static [&'static str]);

/// Every metric tradegraph records, from every crate and the engine.
///
/// ```
/// let names: Vec<&str> = tradegraph::telemetry::catalogue().map(|(name, _, _)| *name).collect();
/// assert!(names.contains(&"tradegraph_engine_cycle_duration_seconds"));
/// assert!(names.contains(&"tradegraph_graph_node_duration_seconds"));
/// ```
pub fn catalogue() -> impl Iterator<Item = &'static MetricSpec> {
    [
        tradegraph_graph::metrics::ALL,
        tradegraph_llm::metrics::ALL,
        tradegraph_store::metrics::ALL,
        tradegraph_broker::metrics::ALL,
        tradegraph_market::metrics::ALL,
        names::ALL,
        names::workers::ALL,
    ]
    .into_iter()
    .flatten()
}

/// Registers the description and unit of every metric of every crate with the installed
/// recorder ([`install`] does it).
pub fn describe() {
    tradegraph_graph::metrics::describe();
    tradegraph_llm::metrics::describe();
    tradegraph_store::metrics::describe();
    tradegraph_broker::metrics::describe();
    tradegraph_market::metrics::describe();
    names::describe();
    names::workers::describe();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_follow_the_conventions() {
        let mut seen = BTreeSet::new();
        for (name, kind, labels) in catalogue() {
            assert!(seen.insert(*name), "{name} is defined twice");
            assert!(name.starts_with("tradegraph_"), "{name}");
            match *kind {
                "counter" => assert!(name.ends_with("_total"), "{name}"),
                "histogram" => assert!(
                    name.ends_with("_seconds") || name.ends_with("_dollars"),
                    "{name}: histograms are in a base unit"
                ),
                "gauge" => assert!(!name.ends_with("_total"), "{name}"),
                other => panic!("{name}: unexpected type {other}"),
            }
            let mut distinct = BTreeSet::new();
            for label in *labels {
                assert!(distinct.insert(label), "{name}: label {label} twice");
                assert!(
                    ![
                        "id",
                        "decision_id",
                        "order_id",
                        "client_id",
                        "run_id",
                        "message",
                        "text"
                    ]
                    .contains(label),
                    "{name}: {label} would be unbounded"
                );
            }
        }
        let engine: Vec<_> = names::ALL.iter().map(|(n, _, _)| *n).collect();
        assert!(engine
            .iter()
            .all(|n| n.starts_with("tradegraph_engine_") || n.starts_with("tradegraph_health_")));
        let workers: Vec<_> = names::workers::ALL.iter().map(|(n, _, _)| *n).collect();
        assert!(workers
            .iter()
            .all(|n| n.starts_with("tradegraph_queue_") || n.starts_with("tradegraph_worker")));
    }

    #[test]
    fn the_documented_table_is_the_catalogue() {
        let doc = include_str!("metrics.md");
        let documented: BTreeSet<(String, String)> = doc
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                let kind = cells.get(2)?;
                name.starts_with("tradegraph_")
                    .then(|| (name.to_owned(), (*kind).to_owned()))
            })
            .collect();
        let defined: BTreeSet<(String, String)> = catalogue()
            .map(|(n, k, _)| ((*n).to_owned(), (*k).to_owned()))
            .collect();
        assert_eq!(documented, defined);
    }
}
