//! Checkpoints: the state and the pending work after every superstep, kept per thread, so a run
//! can resume after a crash, pause for a person, or fork from its history.

pub mod codec;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod memory;
mod types;

pub use memory::MemoryCheckpointer;
pub(crate) use types::now_ms;
pub use types::{
    Checkpoint, CheckpointId, CheckpointSource, Interrupt, InterruptKind, PendingWrite, Progress,
    TaskSpec, FORMAT_VERSION,
};

use crate::state::GraphState;
use async_trait::async_trait;

/// A checkpoint backend failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The backend could not be reached or refused the operation.
    #[error("checkpoint backend `{backend}` failed to {operation}: {message}")]
    Backend {
        /// The backend (memory, redis, mongodb).
        backend: &'static str,
        /// What it was doing.
        operation: &'static str,
        /// Why.
        message: String,
    },
    /// A stored checkpoint could not be read.
    #[error("checkpoint {id} could not be decoded: {message}")]
    Decode {
        /// The checkpoint (or `?` when unknown).
        id: String,
        /// Why.
        message: String,
    },
    /// A stored checkpoint was written by a newer format than this library reads.
    #[error("checkpoint format {found} is newer than this library supports ({supported}); upgrade tradegraph")]
    UnsupportedFormat {
        /// The format found.
        found: u32,
        /// The newest format supported.
        supported: u32,
    },
    /// Writes were recorded against a checkpoint that does not exist.
    #[error("thread `{thread}` has no checkpoint {id} to attach writes to")]
    UnknownCheckpoint {
        /// The thread.
        thread: String,
        /// The checkpoint.
        id: String,
    },
}

/// Stores checkpoints per thread. Every backend passes the same conformance suite
/// (`checkpoint::conformance`, feature `conformance`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a checkpointer for graphs over `{S}`",
    note = "use `MemoryCheckpointer`, a backend from `tradegraph-store`, or implement `Checkpointer<{S}>`"
)]
#[async_trait]
pub trait Checkpointer<S: GraphState>: Send + Sync + 'static {
    /// Saves a checkpoint as the thread's newest.
    async fn put(&self, checkpoint: Checkpoint<S>) -> Result<(), CheckpointError>;

    /// Records writes of tasks that finished while the step of checkpoint `id` ran, so that a
    /// resume does not run them again.
    async fn put_writes(
        &self,
        thread_id: &str,
        id: &CheckpointId,
        writes: Vec<PendingWrite<S::Update>>,
    ) -> Result<(), CheckpointError>;

    /// The thread's newest checkpoint, with its pending writes.
    async fn latest(&self, thread_id: &str) -> Result<Option<Checkpoint<S>>, CheckpointError>;

    /// One checkpoint of the thread, with its pending writes.
    async fn get(
        &self,
        thread_id: &str,
        id: &CheckpointId,
    ) -> Result<Option<Checkpoint<S>>, CheckpointError>;

    /// The thread's checkpoints, newest first, at most `limit`.
    async fn history(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Checkpoint<S>>, CheckpointError>;

    /// Forgets the thread.
    async fn delete_thread(&self, thread_id: &str) -> Result<(), CheckpointError>;
}
