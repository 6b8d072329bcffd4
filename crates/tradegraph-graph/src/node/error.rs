use crate::schema::SchemaViolation;
use serde::{Deserialize, Serialize};
use std::fmt::Display;
use std::time::Duration;

/// Why a node failed. The engine adds the node's name, step and attempt when it reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum NodeError {
    /// A failure worth retrying (a dropped connection, a rate limit).
    #[error("transient failure: {0}")]
    Transient(String),
    /// The node exceeded its timeout.
    #[error("timed out after {0:?}")]
    Timeout(#[serde(with = "duration_ms")] Duration),
    /// The node's output broke its declared JSON Schema.
    #[error("output rejected by its schema: {0}")]
    InvalidOutput(SchemaViolation),
    /// A failure that retrying will not fix.
    #[error("{0}")]
    Failed(String),
    /// The node was cancelled because a sibling failed or the run was cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl NodeError {
    /// A failure worth retrying; `error` is shown with its source chain.
    pub fn transient(error: impl Display) -> Self {
        Self::Transient(format!("{error:#}"))
    }

    /// A failure that retrying will not fix; `error` is shown with its source chain.
    pub fn failed(error: impl Display) -> Self {
        Self::Failed(format!("{error:#}"))
    }

    /// True for the kinds the default retry policy retries: transient failures and timeouts.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_) | Self::Timeout(_))
    }
}

impl From<SchemaViolation> for NodeError {
    fn from(value: SchemaViolation) -> Self {
        Self::InvalidOutput(value)
    }
}

mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
