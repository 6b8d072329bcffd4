use crate::retry::RetryPolicy;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Per-node settings: timeout, retry policy, and the targets a node may `goto`.
#[derive(Clone, Default)]
pub struct NodeOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<Arc<dyn RetryPolicy>>,
    pub(crate) routes: Vec<String>,
    pub(crate) kind: Option<String>,
}

impl NodeOptions {
    /// Default options: no timeout, no retry, no `goto` targets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Each attempt fails with [`crate::NodeError::Timeout`] after `timeout`.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Failed attempts are retried as `policy` decides.
    #[must_use]
    pub fn retry(mut self, policy: impl RetryPolicy) -> Self {
        self.retry = Some(Arc::new(policy));
        self
    }

    /// The nodes this node may send the run to with [`crate::Command::goto`]; declaring them lets
    /// the graph be checked and drawn.
    #[must_use]
    pub fn routes<I, N>(mut self, routes: I) -> Self
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        self.routes = routes.into_iter().map(Into::into).collect();
        self
    }

    /// The registry kind the node was made from (set by the YAML loader; shown in pictures).
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
}

impl fmt::Debug for NodeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeOptions")
            .field("timeout", &self.timeout)
            .field("retry", &self.retry.as_ref().map(|r| r.describe()))
            .field("routes", &self.routes)
            .field("kind", &self.kind)
            .finish()
    }
}
