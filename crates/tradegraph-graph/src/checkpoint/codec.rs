//! The serialized checkpoint format (JSON), shared by every persistent backend so that the
//! version check lives in one place.

use super::{Checkpoint, CheckpointError, PendingWrite, FORMAT_VERSION};
use crate::state::GraphState;
use serde::Deserialize;

#[derive(Deserialize)]
struct Header {
    format: u32,
    #[serde(default)]
    id: Option<String>,
}

/// Encodes a checkpoint as JSON.
///
/// # Errors
/// [`CheckpointError::Decode`] when the state cannot be serialized (a map with non-string keys).
pub fn encode<S: GraphState>(checkpoint: &Checkpoint<S>) -> Result<Vec<u8>, CheckpointError> {
    serde_json::to_vec(checkpoint).map_err(|e| CheckpointError::Decode {
        id: checkpoint.id.to_string(),
        message: format!("cannot encode: {e}"),
    })
}

/// Decodes a checkpoint, refusing formats newer than [`FORMAT_VERSION`].
///
/// # Errors
/// [`CheckpointError::UnsupportedFormat`] or [`CheckpointError::Decode`].
pub fn decode<S: GraphState>(bytes: &[u8]) -> Result<Checkpoint<S>, CheckpointError> {
    let header: Header = serde_json::from_slice(bytes).map_err(|e| CheckpointError::Decode {
        id: "?".into(),
        message: e.to_string(),
    })?;
    if header.format > FORMAT_VERSION {
        return Err(CheckpointError::UnsupportedFormat {
            found: header.format,
            supported: FORMAT_VERSION,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| CheckpointError::Decode {
        id: header.id.unwrap_or_else(|| "?".into()),
        message: e.to_string(),
    })
}

/// Encodes pending writes as JSON (stored beside their checkpoint).
///
/// # Errors
/// [`CheckpointError::Decode`] when an update cannot be serialized.
pub fn encode_writes<U: serde::Serialize>(
    writes: &[PendingWrite<U>],
) -> Result<Vec<u8>, CheckpointError> {
    serde_json::to_vec(writes).map_err(|e| CheckpointError::Decode {
        id: "?".into(),
        message: format!("cannot encode pending writes: {e}"),
    })
}

/// Decodes pending writes.
///
/// # Errors
/// [`CheckpointError::Decode`].
pub fn decode_writes<U: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<Vec<PendingWrite<U>>, CheckpointError> {
    serde_json::from_slice(bytes).map_err(|e| CheckpointError::Decode {
        id: "?".into(),
        message: format!("pending writes: {e}"),
    })
}
