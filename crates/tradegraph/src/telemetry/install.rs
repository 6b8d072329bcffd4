//! The Prometheus recorder: installed once per process, shared by every caller.

use super::TelemetryError;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Bucket bounds of every `_seconds` histogram: 100 µs (a Redis round trip, a rule-mode node)
/// to 2 minutes (a slow model).
pub const SECONDS_BUCKETS: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 120.0,
];

/// Bucket bounds of the `_dollars` histograms (the cost of one model call).
pub const DOLLARS_BUCKETS: &[f64] = &[0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

/// How often histograms are drained when nobody scrapes (a scrape drains them too).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's metrics exporter: render it for `GET /metrics`.
#[derive(Debug, Clone)]
pub struct Telemetry {
    handle: PrometheusHandle,
}

impl Telemetry {
    /// Every metric recorded so far, as Prometheus text (exposition format 0.0.4).
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

static INSTALLED: OnceLock<Result<Telemetry, String>> = OnceLock::new();

/// Installs the Prometheus recorder as the process's `metrics` recorder, registers every
/// crate's metric descriptions, and starts a thread that drains histograms every 5 seconds.
/// Idempotent: later calls (from any thread, any test) return the same exporter. Install it
/// before building graphs, feeds and LLM clients so that nothing recorded before is missed.
///
/// # Errors
/// [`TelemetryError::OtherRecorder`] when another `metrics` recorder was installed first.
pub fn install() -> Result<&'static Telemetry, TelemetryError> {
    INSTALLED
        .get_or_init(build)
        .as_ref()
        .map_err(|reason| TelemetryError::OtherRecorder {
            reason: reason.clone(),
        })
}

fn build() -> Result<Telemetry, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets(SECONDS_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_dollars".into()), DOLLARS_BUCKETS))
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())?;
    super::describe();
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("tradegraph-metrics".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            upkeep.run_upkeep();
        });
    if let Err(e) = spawned {
        // Scrapes still drain the histograms; only an unscraped process grows.
        tracing::warn!(error = %e, "cannot start the metrics upkeep thread; histograms are drained at each scrape only");
    }
    Ok(Telemetry { handle })
}

/// Every metric recorded so far, as Prometheus text, installing the recorder on first use.
/// When another recorder holds the process, the text is one comment line saying so (still
/// valid Prometheus text).
///
/// ```
/// use std::time::Duration;
/// // what is recorded before the recorder is installed is not kept: install it first
/// tradegraph::telemetry::install().unwrap();
/// tradegraph::telemetry::record_cycle_failure("DOCUSD", Duration::from_millis(2));
/// let text = tradegraph::telemetry::render();
/// // the failed cycle, counted in the cycle-duration histogram of its instrument
/// assert!(
///     text.lines().any(|l| l.starts_with("tradegraph_engine_cycle_duration_seconds_count{")
///         && l.contains(r#"instrument="DOCUSD""#)
///         && l.contains(r#"outcome="failed""#)
///         && l.ends_with(" 1")),
///     "{text}"
/// );
/// ```
pub fn render() -> String {
    match install() {
        Ok(telemetry) => telemetry.render(),
        Err(e) => format!("# {e}\n"),
    }
}
