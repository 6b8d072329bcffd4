//! What stops a worker or the ingesting process.

use tradegraph_core::Timestamp;

/// The workers' errors, each naming what failed and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// The run queue failed.
    #[error(transparent)]
    Queue(#[from] tradegraph_store::StoreError),
    /// An instrument's engine failed.
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    /// A job's instrument cannot be run here.
    #[error("instrument `{instrument}` cannot be run by this worker: {reason}")]
    Open {
        /// The instrument's name in the job.
        instrument: String,
        /// Why.
        reason: String,
    },
    /// A job's instrument cannot be opened now: its stores did not answer.
    #[error(
        "instrument `{instrument}` cannot be opened now: {source}; it is given back and taken \
         again once its stores answer"
    )]
    Unavailable {
        /// The instrument's name in the job.
        instrument: String,
        /// The store's error.
        #[source]
        source: tradegraph_store::StoreError,
    },
    /// Jobs were left unpublished when the ingesting process stopped.
    #[error(
        "{jobs} decision cycles of {instrument} from {from} on were not published (the queue \
         did not answer); their candles are in the hot cache and the history"
    )]
    Unpublished {
        /// The instrument.
        instrument: String,
        /// How many.
        jobs: usize,
        /// The first one's decision time.
        from: Timestamp,
    },
}

impl WorkerError {
    /// True when the same work may succeed later unchanged: a store or the queue did not
    /// answer (a worker gives the instrument back then, its job not counted as delivered).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Queue(e) => e.is_transient(),
            Self::Unavailable { .. } => true,
            Self::Engine(e) => e.is_transient(),
            Self::Open { .. } | Self::Unpublished { .. } => false,
        }
    }
}
