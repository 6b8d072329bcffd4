use crate::node::NodeError;
use std::time::Duration;

/// Decides whether a failed node attempt is retried.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a retry policy",
    note = "use `tradegraph_graph::retry::ExponentialBackoff`, `NoRetry`, or implement `RetryPolicy`"
)]
pub trait RetryPolicy: Send + Sync + 'static {
    /// Called after attempt `attempt` (from 1) failed with `error`: the delay before the next
    /// attempt, or `None` to give up.
    fn retry(&self, attempt: u32, error: &NodeError) -> Option<Duration>;

    /// A short description for graph pictures and comparisons (`exponential(3, 100ms..5s)`).
    fn describe(&self) -> String;
}

/// Never retries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoRetry;

impl RetryPolicy for NoRetry {
    fn retry(&self, _attempt: u32, _error: &NodeError) -> Option<Duration> {
        None
    }

    fn describe(&self) -> String {
        "none".into()
    }
}
