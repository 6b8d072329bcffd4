//! What a bot must not forget, saved to its store as it changes and read back at start.
//!
//! One document per part ([`StatePart`]): the guard's state, the kill switch, the learner, the
//! trade ledger, the broker's own state (the paper account) and the decision sequence. Each
//! save carries the next version of its part; a store that holds a newer one means another
//! process writes this bot's state, and the engine stops ([`EngineError::StateConflict`]).

use super::EngineError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use tradegraph_core::order::DecisionId;
use tradegraph_core::{Symbol, Timestamp};
use tradegraph_market::Clock;
use tradegraph_store::{BotStateStore, Saved, StateDoc, StateKey, StatePart};

/// The decision sequence: how many cycles ran, the last one's id and time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    /// Cycles run since the bot first started.
    pub cycles: u64,
    /// The last cycle's decision.
    pub last_decision: Option<DecisionId>,
    /// The last cycle's time: a restarted bot runs no cycle at or before it.
    pub last_cycle_at: Option<Timestamp>,
    /// The run this bot's decisions, trades and lessons are written under: made at its first
    /// start and kept across restarts (a backtest, which keeps no state, has a new one each
    /// time). Unset in state saved before runs existed: a new one is made then.
    #[serde(default)]
    pub run_id: tradegraph_store::RunId,
}

/// The kill switch as saved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillSwitchState {
    /// Whether it is engaged.
    pub engaged: bool,
    /// When it last changed.
    pub changed_at: Option<Timestamp>,
}

/// The operator's pause of new entries, as saved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseState {
    /// Whether new entries are paused (the bot only reduces).
    pub paused: bool,
    /// When it last changed.
    pub changed_at: Option<Timestamp>,
}

/// Reads and writes one bot's state parts, with their versions.
pub(crate) struct BotState {
    store: Arc<dyn BotStateStore>,
    instrument: Symbol,
    clock: Arc<dyn Clock>,
    /// The version last read or written, per part; saves are serialized through this lock.
    versions: tokio::sync::Mutex<HashMap<StatePart, u64>>,
    /// Saves are skipped (a backtest that keeps nothing).
    ephemeral: bool,
    /// This instance's claim on the instrument: once another instance took it over, nothing
    /// more of the bot's state is saved.
    instance: Option<Arc<super::instance::InstanceLease>>,
}

impl BotState {
    pub(crate) fn new(
        store: Arc<dyn BotStateStore>,
        instrument: Symbol,
        clock: Arc<dyn Clock>,
        ephemeral: bool,
    ) -> Self {
        Self {
            store,
            instrument,
            clock,
            versions: tokio::sync::Mutex::new(HashMap::new()),
            ephemeral,
            instance: None,
        }
    }

    /// Saves nothing once `instance`'s claim is taken over by another instance.
    pub(crate) fn with_instance(
        mut self,
        instance: Option<Arc<super::instance::InstanceLease>>,
    ) -> Self {
        self.instance = instance;
        self
    }

    fn key(&self, part: StatePart) -> StateKey {
        StateKey {
            instrument: self.instrument.clone(),
            part,
        }
    }

    /// Whether nothing is saved (a backtest).
    pub(crate) fn is_ephemeral(&self) -> bool {
        self.ephemeral
    }

    /// The saved value of `part`, if any (nothing is read when ephemeral).
    pub(crate) async fn load<T: DeserializeOwned>(
        &self,
        part: StatePart,
    ) -> Result<Option<T>, EngineError> {
        if self.ephemeral {
            return Ok(None);
        }
        let Some(doc) = self.store.load(&self.key(part)).await? else {
            return Ok(None);
        };
        self.versions.lock().await.insert(part, doc.version);
        Ok(Some(doc.decode()?))
    }

    /// Saves `value` as the next version of `part`; durable when it returns.
    pub(crate) async fn save<T: Serialize>(
        &self,
        part: StatePart,
        value: &T,
    ) -> Result<(), EngineError> {
        if self.ephemeral {
            return Ok(());
        }
        if let Some(instance) = self.instance.as_ref().filter(|i| i.is_lost()) {
            return Err(EngineError::AnotherInstance {
                instrument: self.instrument.as_str().to_owned(),
                holder: instance.holder().await,
            });
        }
        let mut versions = self.versions.lock().await;
        let version = versions.get(&part).copied().unwrap_or(0) + 1;
        let doc = StateDoc::encode(self.key(part), version, self.clock.now(), value)?;
        let saved = self.store.save(&doc).await;
        if saved.is_err() {
            // The write may have landed though its answer was lost: the next save must carry
            // a higher version, or it would be refused as stale.
            versions.insert(part, version);
        }
        match saved? {
            Saved::Written => {
                versions.insert(part, version);
                Ok(())
            }
            // This very write, applied by a request the client sent again after losing its
            // answer (the Redis Cluster client does): no other bot.
            Saved::Stale { stored }
                if stored == version
                    && self.store.load(&doc.key).await.ok().flatten().as_ref() == Some(&doc) =>
            {
                versions.insert(part, version);
                Ok(())
            }
            Saved::Stale { stored } => Err(EngineError::StateConflict {
                instrument: self.instrument.as_str().to_owned(),
                part,
                stored,
                ours: version,
            }),
        }
    }
}

impl std::fmt::Debug for BotState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotState")
            .field("instrument", &self.instrument)
            .field("ephemeral", &self.ephemeral)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tradegraph_market::SimulatedClock;
    use tradegraph_store::{MemoryState, StoreError};

    /// Writes, then loses the answer of the first save (a timeout after the server wrote).
    struct LostAck {
        inner: MemoryState,
        lose: AtomicBool,
    }

    #[async_trait]
    impl BotStateStore for LostAck {
        async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
            self.inner.load(key).await
        }
        async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
            let saved = self.inner.save(doc).await?;
            if self.lose.swap(false, Ordering::SeqCst) {
                return Err(StoreError::Config("the answer was lost".into()));
            }
            Ok(saved)
        }
    }

    #[tokio::test]
    async fn a_lost_answer_is_not_taken_for_another_bot() {
        let store = Arc::new(LostAck {
            inner: MemoryState::new(),
            lose: AtomicBool::new(true),
        });
        let state = BotState::new(
            store.clone(),
            "BTCUSDT".into(),
            Arc::new(SimulatedClock::default()),
            false,
        );
        assert!(
            state.save(StatePart::Sequence, &1u64).await.is_err(),
            "the first answer is lost"
        );
        state.save(StatePart::Sequence, &2u64).await.unwrap();
        assert_eq!(
            state.load::<u64>(StatePart::Sequence).await.unwrap(),
            Some(2)
        );
    }

    /// Sends each save twice, answering the second: a client that resent a request whose
    /// answer it lost (the Redis Cluster client does), the first having been applied.
    struct Resent(MemoryState);

    #[async_trait]
    impl BotStateStore for Resent {
        async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
            self.0.load(key).await
        }
        async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
            self.0.save(doc).await?;
            self.0.save(doc).await
        }
    }

    #[tokio::test]
    async fn its_own_write_answered_stale_by_a_resend_is_no_conflict() {
        let state = BotState::new(
            Arc::new(Resent(MemoryState::new())),
            "BTCUSDT".into(),
            Arc::new(SimulatedClock::default()),
            false,
        );
        state.save(StatePart::Guard, &1u64).await.unwrap();
        state.save(StatePart::Guard, &2u64).await.unwrap();
        assert_eq!(state.load::<u64>(StatePart::Guard).await.unwrap(), Some(2));
    }

    #[tokio::test]
    async fn a_newer_version_from_another_bot_is_a_conflict() {
        let store = Arc::new(MemoryState::new());
        let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::default());
        let ours = BotState::new(store.clone(), "BTCUSDT".into(), clock.clone(), false);
        let theirs = BotState::new(store, "BTCUSDT".into(), clock, false);
        theirs.save(StatePart::Guard, &1u64).await.unwrap();
        let err = ours.save(StatePart::Guard, &2u64).await.unwrap_err();
        assert!(
            matches!(
                err,
                EngineError::StateConflict {
                    stored: 1,
                    ours: 1,
                    ..
                }
            ),
            "{err}"
        );
    }
}
