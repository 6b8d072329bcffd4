//! Cancelling the decision cycle in flight ([`BotHandle::cancel_cycle`](super::BotHandle::cancel_cycle)).

use std::sync::{Arc, Mutex, PoisonError};
use tokio_util::sync::CancellationToken;

/// The cancellation of the graph run in flight, shared by the engine and its handles.
#[derive(Clone, Default)]
pub(crate) struct CycleCancel(Arc<Mutex<Option<CancellationToken>>>);

impl CycleCancel {
    /// A graph run begins: its token.
    pub(crate) fn begin(&self) -> CancellationToken {
        let token = CancellationToken::new();
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
        token
    }

    /// The run ended: nothing to cancel.
    pub(crate) fn end(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Cancels the run in flight; `false` when none is.
    pub(crate) fn cancel(&self) -> bool {
        match self.0.lock().unwrap_or_else(PoisonError::into_inner).take() {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}
