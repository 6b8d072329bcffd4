//! One line of `<spill file>.rejected`, as the write-behind queue writes it and
//! [`replay_rejected`](super::replay_rejected) reads and rewrites it:
//! `{"record": "<the record's JSON text>", "error": "<why it was refused>"}`.

use serde::{Deserialize, Serialize};

/// A rejected record and why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RejectedLine {
    /// The record as a JSON text (with its version; without one before versions existed).
    pub(crate) record: String,
    /// The sink's reason (absent from a line written by hand: empty).
    #[serde(default)]
    pub(crate) error: String,
}

impl RejectedLine {
    pub(crate) fn new(record: impl Into<String>, error: impl Into<String>) -> Self {
        Self {
            record: record.into(),
            error: error.into(),
        }
    }

    /// The line's JSON text, without its newline.
    pub(crate) fn to_line(&self) -> Vec<u8> {
        // Two strings: serializing them cannot fail; the fallback keeps the record regardless.
        serde_json::to_vec(self).unwrap_or_else(|_| {
            let record = serde_json::Value::String(self.record.clone());
            let error = serde_json::Value::String(self.error.clone());
            format!(r#"{{"record":{record},"error":{error}}}"#).into_bytes()
        })
    }
}
