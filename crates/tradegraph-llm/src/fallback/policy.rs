//! Which errors move the chain on to the next provider.

use crate::LlmError;
use std::fmt;

/// Decides whether an error fails over to the next provider or ends the call — as tower's
/// `retry::Policy` decides whether a request is retried.
///
/// ```
/// use tradegraph_llm::fallback::{DefaultFailover, FailoverPolicy};
/// use tradegraph_llm::LlmError;
///
/// /// Also gives a refused question to the next provider.
/// #[derive(Debug)]
/// struct RefusalsToo;
///
/// impl FailoverPolicy for RefusalsToo {
///     fn fail_over(&self, error: &LlmError) -> bool {
///         matches!(error, LlmError::Refusal { .. }) || DefaultFailover.fail_over(error)
///     }
/// }
/// ```
pub trait FailoverPolicy: Send + Sync + fmt::Debug {
    /// Whether `error`, from one provider, should be followed by a try on the next.
    fn fail_over(&self, error: &LlmError) -> bool;
}

/// The default: fail over on [retryable](LlmError::is_retryable) errors (timeouts, connection
/// errors, 429, 5xx, 529, malformed or empty answers, a model the provider cannot serve, a
/// schema the provider cannot take, output still invalid after repair) and on a rejected key
/// (the provider is disabled). A bad request, a refusal, a content filter, a truncation and the
/// budget end the call: another provider would fail the same way, or should not be asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultFailover;

impl FailoverPolicy for DefaultFailover {
    fn fail_over(&self, error: &LlmError) -> bool {
        error.is_retryable() || error.is_auth()
    }
}
