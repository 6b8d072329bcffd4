//! [`Recorded`]: a provider whose every answer goes into a record.

use super::{RecordBook, RecordKey};
use crate::{LlmError, Provider, Request, Response, Sampling};
use std::fmt;
use std::sync::Arc;

/// A provider behind a [`RecordBook`] (made by [`RecordBook::layer`]): it asks the provider and
/// appends the answer, or the provider's failure, under the request's [`RecordKey`]. Every
/// call is recorded, the repair turns of a structured answer included, and so is every call
/// the chain skipped it for (its breaker open, disabled, at its rate limit), so a replay takes
/// the same path through repairs, failovers and skips.
pub struct Recorded {
    inner: Arc<dyn Provider>,
    book: Arc<RecordBook>,
}

impl Recorded {
    pub(crate) fn new(inner: Arc<dyn Provider>, book: Arc<RecordBook>) -> Self {
        Self { inner, book }
    }
}

impl fmt::Debug for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorded")
            .field("provider", &self.inner)
            .field("file", &self.book.path())
            .finish()
    }
}

#[async_trait::async_trait]
impl Provider for Recorded {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn model(&self) -> &str {
        self.inner.model()
    }
    fn endpoint(&self) -> Option<&str> {
        self.inner.endpoint()
    }
    fn sampling(&self) -> Sampling {
        self.inner.sampling()
    }
    async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
        let key = RecordKey::of(self.inner.as_ref(), request);
        let outcome = self.inner.complete(request).await;
        self.book.put(key, self.inner.as_ref(), request, &outcome);
        outcome
    }
    async fn check_key(&self) -> Result<(), LlmError> {
        self.inner.check_key().await
    }
    fn skipped(&self, request: &Request) {
        let key = RecordKey::of(self.inner.as_ref(), request);
        self.book.put_skipped(key, self.inner.as_ref(), request);
    }
    fn budget_refused(&self, request: &Request, refusal: &LlmError) {
        let key = RecordKey::of(self.inner.as_ref(), request);
        self.book
            .put_budget_refused(key, self.inner.as_ref(), request, refusal);
    }
}
