//! A queue of decision cycles that any number of workers take from ([`RunQueue`]).
//!
//! The ingesting process publishes each decision cycle of an instrument as a [`Job`] on that
//! instrument's queue; workers anywhere take an instrument under a [`Lease`] and work its jobs,
//! oldest first, acknowledging each when done. The contract every backend keeps (the Redis
//! Streams one, [`RedisRunQueue`](crate::redis::RedisRunQueue), passes the suite in
//! `queue::conformance`, feature `conformance`):
//!
//! - **One owner per instrument.** [`acquire`](RunQueue::acquire) hands an instrument that has
//!   jobs and no owner to one worker, under a lease that lasts [`QueueConfig::lease`] unless
//!   [`renew`](RunQueue::renew)ed. Nobody else acquires it meanwhile, so an instrument's cycles
//!   run one at a time, in order, and its state (the guard's, the learner's) is read and written
//!   by one worker at a time. Each lease has a fencing token that grows with every owner.
//! - **Oldest first, nothing lost.** [`next`](RunQueue::next) gives the jobs a previous owner
//!   took and did not acknowledge first (it died, or gave the instrument back), then new ones in
//!   the order they were published. A job is done when [`ack`](RunQueue::ack)ed; until then it
//!   is delivered again to the instrument's next owner.
//! - **Retries are capped.** A job delivered more than [`QueueConfig::max_deliveries`] times
//!   to owners that died on it (or let their leases run out) is moved to the instrument's dead
//!   letters ([`dead_letters`](RunQueue::dead_letters)), with a
//!   [`StoreEvent::DeadLettered`](crate::StoreEvent::DeadLettered), and the next job comes. A job
//!   given back with [`release`](RunQueue::release) does not count as delivered.
//! - **A lost lease stops the worker.** Once the lease ran out, [`renew`](RunQueue::renew) and
//!   [`ack`](RunQueue::ack) answer `false` and [`next`](RunQueue::next) [`Next::Lost`]: the old
//!   owner gets no new job and stops, and the job it was working is the new owner's first. A
//!   wait in [`next`](RunQueue::next) lasts at most half the lease, so a waiting owner keeps it. (Two owners can still overlap by a lease's length when one stalls
//!   without noticing, and a client that sends a request again after losing its answer (the
//!   Redis Cluster client does, on a dropped connection) may publish a job twice: what a cycle
//!   does must be safe to do twice, as the engine's order intents and deterministic client order
//!   ids make it.)
//! - **Workers are visible.** Each reports its load with [`beat`](RunQueue::beat);
//!   [`workers`](RunQueue::workers) lists those heard from recently.
//!
//! A cycle in flight is cancelled through a [`CancelChannel`]: whoever asks publishes the
//! instrument, every worker hears it, and the one running that instrument's cycle stops it.

pub(crate) mod job;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

pub use job::{DeadLetter, Job, JobId, Lease, Next, QueueConfig, WorkerId, WorkerInfo};

use crate::StoreError;
use async_trait::async_trait;
use std::time::Duration;
use tradegraph_core::Symbol;

/// A queue of decision cycles per instrument, with leases (see the [module docs](self)).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a run queue",
    note = "implement `tradegraph_store::queue::RunQueue` (publish, acquire, next, ack, renew, release, dead_letters, pending, beat, workers), or use `RedisRunQueue`"
)]
#[async_trait]
pub trait RunQueue: Send + Sync {
    /// Appends a job to `instrument`'s queue; answers its id (ids grow in publishing order).
    async fn publish(&self, instrument: &Symbol, payload: &[u8]) -> Result<JobId, StoreError>;

    /// Takes an instrument that has jobs and no owner for `worker`, if there is one.
    async fn acquire(&self, worker: &WorkerId) -> Result<Option<Lease>, StoreError>;

    /// Extends the lease (as [`next`](Self::next) does); `false` when it is no longer held.
    async fn renew(&self, lease: &Lease) -> Result<bool, StoreError>;

    /// The lease's next job: one taken earlier and not acknowledged, else a new one, waiting up
    /// to `wait` for one to be published. Extends the lease.
    async fn next(&self, lease: &Lease, wait: Duration) -> Result<Next, StoreError>;

    /// Marks a job done; `false` (and nothing done) when the lease is no longer held or the job
    /// was not handed out under it (or is done already).
    async fn ack(&self, lease: &Lease, job: &JobId) -> Result<bool, StoreError>;

    /// Gives the instrument back: another worker may acquire it at once, and gets the job this
    /// one had not acknowledged first. Nothing when the lease is no longer held.
    async fn release(&self, lease: &Lease) -> Result<(), StoreError>;

    /// Sets `job` aside in the dead letters without delivering it again (one this worker
    /// cannot read: another version's): kept there, with its payload, for a worker that can.
    /// `false` (and nothing done) when the lease is no longer held.
    async fn set_aside(&self, lease: &Lease, job: &Job) -> Result<bool, StoreError>;

    /// The jobs of `instrument` that were delivered too often or set aside, oldest first.
    async fn dead_letters(&self, instrument: &Symbol) -> Result<Vec<DeadLetter>, StoreError>;

    /// How many jobs of `instrument` were delivered too often (what
    /// [`dead_letters`](Self::dead_letters) lists, without reading them).
    async fn dead_letter_count(&self, instrument: &Symbol) -> Result<u64, StoreError> {
        Ok(self.dead_letters(instrument).await?.len() as u64)
    }

    /// How many of `instrument`'s jobs are not acknowledged yet (waiting or being worked).
    async fn pending(&self, instrument: &Symbol) -> Result<u64, StoreError>;

    /// Reports a worker alive, with its load.
    async fn beat(&self, worker: &WorkerInfo) -> Result<(), StoreError>;

    /// The workers heard from within three of their beat intervals.
    async fn workers(&self) -> Result<Vec<WorkerInfo>, StoreError>;
}

/// Asking the worker that runs an instrument's decision cycle to cancel it (the Redis queue:
/// pub/sub). Best effort by nature: a worker that is not listening at that moment (it is
/// reconnecting) does not hear it; [`cancel`](Self::cancel) says how many heard it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot carry cancellations",
    note = "implement `tradegraph_store::queue::CancelChannel` (cancel, cancellations), or use `RedisRunQueue`"
)]
#[async_trait]
pub trait CancelChannel: Send + Sync {
    /// Asks for `instrument`'s cycle in flight to be cancelled; answers how many listeners
    /// (workers) received the request (0: nobody listens, nothing is cancelled).
    async fn cancel(&self, instrument: &Symbol) -> Result<u64, StoreError>;

    /// The instruments whose cycle someone asked to cancel, as the requests come; listens
    /// (reconnecting as needed) until the receiver is dropped.
    async fn cancellations(&self) -> Result<tokio::sync::mpsc::Receiver<Symbol>, StoreError>;
}
