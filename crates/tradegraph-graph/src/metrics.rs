//! The graph's metrics, recorded through the [`metrics`] facade: nothing is kept when no
//! recorder is installed, and the application chooses the exporter (the `tradegraph` runtime
//! installs a Prometheus one).
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `tradegraph_graph_node_duration_seconds` | histogram | `graph`, `node` | one node task, from its first attempt to its answer (retries included) |
//! | `tradegraph_graph_node_failures_total` | counter | `graph`, `node` | node tasks that failed for good (after their retries) |
//! | `tradegraph_graph_node_retries_total` | counter | `graph`, `node` | failed attempts that were retried |
//! | `tradegraph_graph_run_duration_seconds` | histogram | `graph`, `status` | one run (`invoke`, `resume`, a stream) to its end: `finished`, `interrupted`, `failed` or `cancelled` |
//!
//! Labels are the graph's and the node's names: a graph has a fixed set, so the series are
//! few. Run and thread ids never become labels.
//!
//! ```
//! use tradegraph_graph::metrics;
//! // Registers the descriptions and units with the installed recorder (none here: a no-op).
//! metrics::describe();
//! assert!(metrics::ALL.iter().any(|(name, kind, _)| {
//!     *name == metrics::NODE_DURATION_SECONDS && *kind == "histogram"
//! }));
//! ```

use crate::state::NodeName;
use metrics::{Counter, Histogram, Label, SharedString, Unit};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Histogram: one node task's duration, retries included (`graph`, `node`).
pub const NODE_DURATION_SECONDS: &str = "tradegraph_graph_node_duration_seconds";
/// Counter: node tasks that failed for good (`graph`, `node`).
pub const NODE_FAILURES_TOTAL: &str = "tradegraph_graph_node_failures_total";
/// Counter: failed node attempts that were retried (`graph`, `node`).
pub const NODE_RETRIES_TOTAL: &str = "tradegraph_graph_node_retries_total";
/// Histogram: one run's duration, by how it ended (`graph`, `status`).
pub const RUN_DURATION_SECONDS: &str = "tradegraph_graph_run_duration_seconds";

/// Every metric of this crate: name, Prometheus type and label names.
pub const ALL: &[(&str, &str, &[&str])] = &[
    (NODE_DURATION_SECONDS, "histogram", &["graph", "node"]),
    (NODE_FAILURES_TOTAL, "counter", &["graph", "node"]),
    (NODE_RETRIES_TOTAL, "counter", &["graph", "node"]),
    (RUN_DURATION_SECONDS, "histogram", &["graph", "status"]),
];

/// Registers every metric's description and unit with the installed recorder. Call it once
/// after installing the recorder; recording works without it.
pub fn describe() {
    metrics::describe_histogram!(
        NODE_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of one node task, from its first attempt to its answer (retries included)."
    );
    metrics::describe_counter!(
        NODE_FAILURES_TOTAL,
        Unit::Count,
        "Node tasks that failed for good, after their retries."
    );
    metrics::describe_counter!(
        NODE_RETRIES_TOTAL,
        Unit::Count,
        "Failed node attempts that were retried."
    );
    metrics::describe_histogram!(
        RUN_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of one graph run, by how it ended."
    );
}

/// How a run ended, as its `status` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunEnd {
    Finished,
    Interrupted,
    Failed,
    Cancelled,
}

impl RunEnd {
    const ALL: [Self; 4] = [
        Self::Finished,
        Self::Interrupted,
        Self::Failed,
        Self::Cancelled,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Finished => "finished",
            Self::Interrupted => "interrupted",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One node's handles.
pub(crate) struct NodeMeter {
    pub(crate) duration: Histogram,
    pub(crate) failures: Counter,
    pub(crate) retries: Counter,
}

/// A graph's handles, registered with one recorder: recording through them is an atomic
/// operation or two, with no key to build or look up.
pub(crate) struct Meters {
    /// Aligned with the graph's nodes.
    pub(crate) nodes: Vec<NodeMeter>,
    runs: [Histogram; 4],
}

impl Meters {
    fn register(graph: &Arc<str>, nodes: &[NodeName]) -> Self {
        let name = || SharedString::from_shared(graph.clone());
        let nodes = nodes
            .iter()
            .map(|node| {
                let labels = || {
                    vec![
                        Label::new("graph", name()),
                        Label::new("node", SharedString::from_shared(node.shared())),
                    ]
                };
                NodeMeter {
                    duration: metrics::histogram!(NODE_DURATION_SECONDS, labels()),
                    failures: metrics::counter!(NODE_FAILURES_TOTAL, labels()),
                    retries: metrics::counter!(NODE_RETRIES_TOTAL, labels()),
                }
            })
            .collect();
        let runs = RunEnd::ALL.map(|end| {
            let labels = vec![
                Label::new("graph", name()),
                Label::from_static_parts("status", end.label()),
            ];
            metrics::histogram!(RUN_DURATION_SECONDS, labels)
        });
        Self { nodes, runs }
    }

    /// Records a run that ended after `duration`.
    pub(crate) fn run_ended(&self, end: RunEnd, duration: Duration) {
        let index = RunEnd::ALL.iter().position(|e| *e == end).unwrap_or(0);
        if let Some(histogram) = self.runs.get(index) {
            histogram.record(duration.as_secs_f64());
        }
    }
}

/// The handles of one compiled graph, registered again whenever the recorder in use changes
/// (none yet, then the one the application installs), so a graph compiled before the recorder
/// was installed still records.
pub(crate) struct GraphMeters {
    graph: Arc<str>,
    nodes: Vec<NodeName>,
    cached: RwLock<Option<(usize, Arc<Meters>)>>,
}

impl GraphMeters {
    pub(crate) fn new(graph: &str, nodes: Vec<NodeName>) -> Self {
        Self {
            graph: Arc::from(graph),
            nodes,
            cached: RwLock::new(None),
        }
    }

    /// The handles for the recorder in use now.
    pub(crate) fn current(&self) -> Arc<Meters> {
        let recorder = recorder_address();
        if let Ok(cached) = self.cached.read() {
            if let Some((at, meters)) = cached.as_ref() {
                if *at == recorder {
                    return meters.clone();
                }
            }
        }
        let meters = Arc::new(Meters::register(&self.graph, &self.nodes));
        if let Ok(mut cached) = self.cached.write() {
            *cached = Some((recorder, meters.clone()));
        }
        meters
    }
}

/// Tells recorders apart: the installed one lives in its own allocation, the no-op one is a
/// static.
fn recorder_address() -> usize {
    metrics::with_recorder(|recorder| (recorder as *const dyn metrics::Recorder).addr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prometheus_conventions() {
        tradegraph_testkit::assert_metric_names("tradegraph_graph_", ALL);
    }

    #[test]
    fn a_run_end_is_one_of_four_labels() {
        let labels: Vec<_> = RunEnd::ALL.iter().map(|e| e.label()).collect();
        assert_eq!(labels, ["finished", "interrupted", "failed", "cancelled"]);
    }

    #[test]
    fn handles_are_registered_once_per_recorder() {
        let meters = GraphMeters::new("g", vec![NodeName::new("a"), NodeName::new("b")]);
        let first = meters.current();
        assert_eq!(first.nodes.len(), 2);
        assert!(
            Arc::ptr_eq(&first, &meters.current()),
            "same recorder, same handles"
        );
    }
}
