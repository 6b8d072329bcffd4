use super::{Checkpoint, CheckpointError, CheckpointId, Checkpointer, PendingWrite};
use crate::state::GraphState;
use async_trait::async_trait;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

/// Keeps checkpoints in memory: the default, and the fastest. Each thread keeps its newest
/// `keep_last` checkpoints (1024 unless set) and at most `max_threads` threads are kept (10,000
/// unless set; the least recently written goes first), so a long-running process does not grow
/// without bound.
pub struct MemoryCheckpointer<S: GraphState> {
    threads: Mutex<Threads<S>>,
    keep_last: usize,
    max_threads: usize,
}

struct Threads<S: GraphState> {
    logs: HashMap<String, ThreadLog<S>>,
    clock: u64,
}

struct ThreadLog<S: GraphState> {
    checkpoints: VecDeque<Checkpoint<S>>,
    last_write: u64,
}

impl<S: GraphState> MemoryCheckpointer<S> {
    /// An empty store keeping the newest 1024 checkpoints per thread.
    pub fn new() -> Self {
        Self::keep_last(1024)
    }

    /// An empty store keeping the newest `n` checkpoints per thread (at least 1).
    pub fn keep_last(n: usize) -> Self {
        Self {
            threads: Mutex::new(Threads {
                logs: HashMap::new(),
                clock: 0,
            }),
            keep_last: n.max(1),
            max_threads: 10_000,
        }
    }

    /// Keeps at most `n` threads (at least 1), forgetting the least recently written first.
    #[must_use]
    pub fn max_threads(mut self, n: usize) -> Self {
        self.max_threads = n.max(1);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Threads<S>> {
        // A panic while holding the lock cannot leave a half-written checkpoint: every
        // mutation is a single push or field assignment.
        self.threads.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<S: GraphState> Default for MemoryCheckpointer<S> {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl<S: GraphState> Checkpointer<S> for MemoryCheckpointer<S> {
    async fn put(&self, checkpoint: Checkpoint<S>) -> Result<(), CheckpointError> {
        let mut threads = self.lock();
        threads.clock += 1;
        let now = threads.clock;
        if !threads.logs.contains_key(&checkpoint.thread_id)
            && threads.logs.len() >= self.max_threads
        {
            let oldest = threads
                .logs
                .iter()
                .min_by_key(|(_, log)| log.last_write)
                .map(|(thread, _)| thread.clone());
            if let Some(oldest) = oldest {
                threads.logs.remove(&oldest);
            }
        }
        let log = threads
            .logs
            .entry(checkpoint.thread_id.clone())
            .or_insert_with(|| ThreadLog {
                checkpoints: VecDeque::new(),
                last_write: now,
            });
        log.last_write = now;
        log.checkpoints.push_back(checkpoint);
        while log.checkpoints.len() > self.keep_last {
            log.checkpoints.pop_front();
        }
        Ok(())
    }

    async fn put_writes(
        &self,
        thread_id: &str,
        id: &CheckpointId,
        writes: Vec<PendingWrite<S::Update>>,
    ) -> Result<(), CheckpointError> {
        let mut threads = self.lock();
        let checkpoint = threads
            .logs
            .get_mut(thread_id)
            .and_then(|log| log.checkpoints.iter_mut().rev().find(|c| &c.id == id))
            .ok_or_else(|| CheckpointError::UnknownCheckpoint {
                thread: thread_id.to_owned(),
                id: id.to_string(),
            })?;
        for write in writes {
            checkpoint.pending_writes.retain(|w| w.task != write.task);
            checkpoint.pending_writes.push(write);
        }
        Ok(())
    }

    async fn latest(&self, thread_id: &str) -> Result<Option<Checkpoint<S>>, CheckpointError> {
        Ok(self
            .lock()
            .logs
            .get(thread_id)
            .and_then(|log| log.checkpoints.back().cloned()))
    }

    async fn get(
        &self,
        thread_id: &str,
        id: &CheckpointId,
    ) -> Result<Option<Checkpoint<S>>, CheckpointError> {
        Ok(self
            .lock()
            .logs
            .get(thread_id)
            .and_then(|log| log.checkpoints.iter().rev().find(|c| &c.id == id).cloned()))
    }

    async fn history(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Checkpoint<S>>, CheckpointError> {
        Ok(self
            .lock()
            .logs
            .get(thread_id)
            .map(|log| log.checkpoints.iter().rev().take(limit).cloned().collect())
            .unwrap_or_default())
    }

    async fn delete_thread(&self, thread_id: &str) -> Result<(), CheckpointError> {
        self.lock().logs.remove(thread_id);
        Ok(())
    }
}
