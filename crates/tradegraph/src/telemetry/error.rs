//! Errors of the telemetry.

/// What went wrong installing the metrics exporter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The process already has a `metrics` recorder that is not tradegraph's.
    #[error("cannot install the Prometheus metrics recorder: {reason}; another `metrics` recorder was installed first in this process: call `tradegraph::telemetry::install` before installing any other, or export through that recorder")]
    OtherRecorder {
        /// The exporter's reason.
        reason: String,
    },
}
