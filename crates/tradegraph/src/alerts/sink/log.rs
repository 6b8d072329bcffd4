use super::Sink;
use crate::alerts::AlertError;
use crate::engine::{AlertEvent, Severity};
use async_trait::async_trait;

/// The log: info for a recovery, warn for a warning, error for a critical alert (not counted
/// by the error rate).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSink;

#[async_trait]
impl Sink for LogSink {
    fn name(&self) -> String {
        "log".into()
    }

    async fn deliver(&self, a: &AlertEvent) -> Result<(), AlertError> {
        let (kind, key, message) = (a.kind.as_str(), a.key.as_str(), a.message.as_str());
        match a.severity {
            Severity::Info => {
                tracing::info!(kind, key, recovered = a.recovered, "alert: {message}")
            }
            Severity::Warning => tracing::warn!(kind, key, "alert: {message}"),
            Severity::Critical => tracing::error!(kind, key, "alert: {message}"),
        }
        Ok(())
    }
}
