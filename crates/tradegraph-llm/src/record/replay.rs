//! [`Replayed`]: a recorded provider's stand-in, answering from the record.

use super::{ChainEntry, RecordBook, RecordKey};
use crate::{LlmError, Provider, Request, Response, Sampling};
use std::fmt;
use std::sync::Arc;

/// One provider of a recorded chain, played back (made by [`RecordBook::replayers`]): the same
/// name, model and sampling, so the same requests have the same [`RecordKey`]s; each answer,
/// or failure, is the recorded one, with its recorded usage (so accounting and budgets come
/// out as they did). A request the recording's chain passed it over for (its breaker open,
/// disabled, at its rate limit: a `skipped` line), or did not ask it while another provider
/// of the chain answered, is passed over again before the chain admits it
/// ([`Provider::skips`]: nothing reserved or counted, as in the recording). A request the
/// record does not hold at all is [`LlmError::NotRecorded`], which names the agent, the model
/// and the key, and ends the call (no failover, no fallback).
/// Nothing is ever sent anywhere; no key is needed.
pub struct Replayed {
    entry: ChainEntry,
    book: Arc<RecordBook>,
}

impl Replayed {
    pub(crate) fn new(entry: ChainEntry, book: Arc<RecordBook>) -> Self {
        Self { entry, book }
    }
}

impl fmt::Debug for Replayed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replayed")
            .field("provider", &self.entry.provider)
            .field("model", &self.entry.model)
            .field("file", &self.book.path())
            .finish()
    }
}

#[async_trait::async_trait]
impl Provider for Replayed {
    fn name(&self) -> &str {
        &self.entry.provider
    }
    fn model(&self) -> &str {
        &self.entry.model
    }
    fn sampling(&self) -> Sampling {
        self.entry.sampling
    }
    fn skips(&self, request: &Request) -> bool {
        // No key to hash on a replay's hot path when nothing can be passed over.
        if !self.book.may_skip() {
            return false;
        }
        let key = RecordKey::of(self, request);
        if self.book.take_skip(&key) {
            return true;
        }
        // Not asked while recording, and another provider of the chain still has an answer
        // for it: the recording's chain did not reach this one for it (another order, or it
        // was skipped before skips were recorded). When no provider has an answer left, the
        // replay asks more often than the recording did: a miss, at `complete`.
        !self.book.has_unserved(&key)
            && self
                .book
                .chain()
                .iter()
                .filter(|other| other.provider != self.entry.provider)
                .any(|other| {
                    let stand_in = Replayed::new(other.clone(), Arc::clone(&self.book));
                    self.book.has_unserved(&RecordKey::of(&stand_in, request))
                })
    }
    /// What the recording's budget refused is refused again, whatever the replay's own
    /// budget would say (its calls settle in another order).
    fn budget_refusal(&self, request: &Request) -> Option<LlmError> {
        if !self.book.any_budget_refusal() {
            return None;
        }
        self.book.take_budget_refusal(&RecordKey::of(self, request))
    }
    async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
        let key = RecordKey::of(self, request);
        if let Some(outcome) = self.book.take(&key, &self.entry.provider) {
            return outcome;
        }
        let model = request.model_or(&self.entry.model);
        Err(self.book.miss(&key, &self.entry.provider, model, request))
    }
    /// Nothing to check: a replay calls no one.
    async fn check_key(&self) -> Result<(), LlmError> {
        Ok(())
    }
}
