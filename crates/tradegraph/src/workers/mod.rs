#![doc = include_str!("workers.md")]

mod error;
mod feed;
mod ingest;
mod job;
#[cfg(feature = "service")]
mod service;
mod worker;

pub use error::WorkerError;
pub use ingest::{Ingest, IngestStatus, SharedIngestStatus};
pub use job::{BadJob, CycleJob, JOB_FORMAT};
#[cfg(feature = "service")]
pub use service::{IngestService, WorkersView};
pub use worker::{
    configure_for_jobs, Instruments, OnCycle, Opened, Watcher, Worker, WorkerConfig, WorkerSummary,
};
