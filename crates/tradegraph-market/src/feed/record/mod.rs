//! Recording: any feed into a JSONL file that [`replay`](crate::feed::replay) reads back to
//! the same events.
//!
//! Each line is one [`MarketEvent`](crate::MarketEvent) as `serde_json` writes it (tag
//! `type`, decimals as exact strings, RFC 3339 timestamps); notices (connections, gaps,
//! malformed input) are recorded too, so a replay shows what the live feed went through.
//! [`Recorder`] drives a feed into a file with limits and returns a [`RecordSummary`];
//! [`JsonlWriter`] is the line writer on its own.

mod config;
mod recorder;
mod summary;
mod writer;

pub use config::RecordConfig;
pub use recorder::Recorder;
pub use summary::{EventCounts, RecordSummary, StopReason};
pub use writer::JsonlWriter;
