//! Bot state and order intents in process.

use super::{
    foreign_intent, oldest_first, versioned, BotStateStore, IntentLog, IntentRecord, Saved,
    StateDoc, StateKey,
};
use crate::StoreError;
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use tradegraph_core::order::ClientOrderId;
use tradegraph_core::Symbol;

/// The documents and intents, with the versioning rules; shared by [`MemoryState`] and
/// [`FileState`](super::FileState).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Tables {
    pub(crate) states: BTreeMap<StateKey, StateDoc>,
    pub(crate) intents: HashMap<ClientOrderId, IntentRecord>,
}

impl Tables {
    /// What saving `doc` would do.
    pub(crate) fn check_state(&self, doc: &StateDoc) -> Saved {
        versioned(self.states.get(&doc.key).map(|d| d.version), doc.version)
    }

    /// What recording `intent` would do, or the refusal of a client id of another instrument.
    pub(crate) fn check_intent(
        &self,
        backend: &'static str,
        intent: &IntentRecord,
    ) -> Result<Saved, StoreError> {
        match self.intents.get(&intent.client_id) {
            Some(stored) if stored.instrument != intent.instrument => {
                Err(foreign_intent(backend, intent, &stored.instrument))
            }
            stored => Ok(versioned(stored.map(|i| i.version), intent.version)),
        }
    }

    pub(crate) fn unsettled(&self, instrument: &Symbol) -> Vec<IntentRecord> {
        let mut open: Vec<IntentRecord> = self
            .intents
            .values()
            .filter(|i| &i.instrument == instrument && !i.status.is_settled())
            .cloned()
            .collect();
        oldest_first(&mut open);
        open
    }
}

/// Bot state and order intents in process: the default with no server and no state file (tests,
/// backtests). Nothing survives the process. Cloning is not offered: share it in an `Arc`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tradegraph_core::order::{ClientOrderId, DecisionId, OrderRequest, OrderSide};
/// use tradegraph_core::{Symbol, Timestamp};
/// use tradegraph_store::{IntentLog, IntentRecord, IntentStatus, MemoryState};
///
/// let log = MemoryState::new();
/// let btc = Symbol::new("BTCUSDT");
/// let order = OrderRequest::market(ClientOrderId::new("tg-1")?, btc.clone(), OrderSide::Buy, "0.01".parse()?);
/// let intent = IntentRecord::pending(order, DecisionId::new("d-1"), Timestamp::from_secs(60));
/// log.record_intent(&intent).await?;
/// assert_eq!(log.unsettled_intents(&btc).await?.len(), 1);
/// log.record_intent(&intent.advance(IntentStatus::Done, Timestamp::from_secs(61))).await?;
/// assert!(log.unsettled_intents(&btc).await?.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct MemoryState {
    tables: Mutex<Tables>,
}

impl MemoryState {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl BotStateStore for MemoryState {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        Ok(self.lock().states.get(key).cloned())
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        let mut tables = self.lock();
        let saved = tables.check_state(doc);
        if saved.is_written() {
            tables.states.insert(doc.key.clone(), doc.clone());
        }
        Ok(saved)
    }
}

#[async_trait]
impl IntentLog for MemoryState {
    async fn record_intent(&self, intent: &IntentRecord) -> Result<Saved, StoreError> {
        let mut tables = self.lock();
        let saved = tables.check_intent("memory", intent)?;
        if saved.is_written() {
            tables
                .intents
                .insert(intent.client_id.clone(), intent.clone());
        }
        Ok(saved)
    }

    async fn intent(&self, client_id: &ClientOrderId) -> Result<Option<IntentRecord>, StoreError> {
        Ok(self.lock().intents.get(client_id).cloned())
    }

    async fn unsettled_intents(
        &self,
        instrument: &Symbol,
    ) -> Result<Vec<IntentRecord>, StoreError> {
        Ok(self.lock().unsettled(instrument))
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryState;
    use crate::state::conformance;

    #[tokio::test]
    async fn memory_passes_the_conformance_suite() {
        conformance::run_all(&MemoryState::new()).await;
    }
}
