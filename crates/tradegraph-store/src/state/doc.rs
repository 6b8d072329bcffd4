//! A saved part of a bot's state, and what a versioned write did.

use super::StateKey;
use crate::StoreError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tradegraph_core::Timestamp;

/// One saved part of a bot's state: its key, its version, when it was saved, and the value as
/// JSON (exact: decimals stay decimal strings, timestamps RFC 3339 with their milliseconds).
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tradegraph_core::{Decimal, Timestamp};
/// use tradegraph_store::{StateDoc, StateKey, StatePart};
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize)]
/// struct Guard { halted: bool, day_loss: Decimal }
///
/// let key = StateKey::new("BTCUSDT", StatePart::Guard);
/// let guard = Guard { halted: true, day_loss: "-201.50".parse()? };
/// let doc = StateDoc::encode(key, 1, Timestamp::from_millis(1_704_103_200_250), &guard)?;
/// assert_eq!(doc.body["day_loss"], "-201.50");
/// assert_eq!(doc.decode::<Guard>()?, guard);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDoc {
    /// Which instrument's bot and which part.
    pub key: StateKey,
    /// Strictly increasing per key; 1 is the first save. A store keeps the highest.
    pub version: u64,
    /// When it was saved.
    pub saved_at: Timestamp,
    /// The value.
    pub body: serde_json::Value,
}

impl StateDoc {
    /// A document holding `value` as JSON.
    ///
    /// # Errors
    /// [`StoreError::Encode`] when `value` cannot be represented as JSON (a map with non-string
    /// keys, a failing `Serialize` implementation), naming the instrument and the part.
    pub fn encode<T: Serialize>(
        key: StateKey,
        version: u64,
        saved_at: Timestamp,
        value: &T,
    ) -> Result<Self, StoreError> {
        let body = serde_json::to_value(value).map_err(|e| {
            StoreError::encode(format!("bot state {} of {}", key.part, key.instrument), e)
        })?;
        Ok(Self {
            key,
            version,
            saved_at,
            body,
        })
    }

    /// The value, as `T`.
    ///
    /// # Errors
    /// [`StoreError::Decode`] naming the instrument, the part, the version and serde's message
    /// when the body does not fit `T` (the type changed since it was saved).
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        T::deserialize(&self.body).map_err(|e| {
            StoreError::decode(
                format!(
                    "bot state {} of {} (version {}, saved {})",
                    self.key.part, self.key.instrument, self.version, self.saved_at
                ),
                format!(
                    "{e}; the saved state does not fit this build's type: migrate it or save a new version"
                ),
            )
        })
    }
}

/// What a versioned write did.
///
/// `Stale { stored }` with `stored` equal to the version offered means that this version is
/// already stored: the usual answer to a retry whose first attempt reached the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// The document is stored.
    Written,
    /// Nothing changed: a document with the same or a higher version is stored.
    Stale {
        /// The stored version.
        stored: u64,
    },
}

impl Saved {
    /// Whether the document was written.
    pub fn is_written(self) -> bool {
        matches!(self, Self::Written)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::StatePart;
    use std::collections::BTreeMap;

    fn key() -> StateKey {
        StateKey::new("BANKNIFTY", StatePart::Learner)
    }

    #[test]
    fn a_body_of_the_wrong_shape_names_the_key_and_serde_s_reason() {
        let doc = StateDoc::encode(key(), 3, Timestamp::from_secs(60), &vec![1, 2]).unwrap();
        let err = doc.decode::<BTreeMap<String, u8>>().unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StoreError::Decode { .. }), "{err:?}");
        for part in [
            "learner",
            "BANKNIFTY",
            "version 3",
            "invalid type: sequence",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
    }

    #[test]
    fn values_that_are_not_json_are_encode_errors() {
        let map = BTreeMap::from([((1, 2), "x")]);
        let err = StateDoc::encode(key(), 1, Timestamp::EPOCH, &map).unwrap_err();
        assert!(matches!(err, StoreError::Encode { .. }), "{err:?}");
        assert!(err.to_string().contains("learner of BANKNIFTY"), "{err}");
    }

    #[test]
    fn documents_round_trip_through_json() {
        let doc = StateDoc::encode(
            key(),
            7,
            Timestamp::from_millis(1_704_103_200_250),
            &serde_json::json!({"w": {"technical": 0.25}, "cash": "100.10"}),
        )
        .unwrap();
        let json = serde_json::to_string(&doc).unwrap();
        assert!(
            json.contains(r#""saved_at":"2024-01-01T10:00:00.250Z""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<StateDoc>(&json).unwrap(), doc);
        assert!(Saved::Written.is_written());
        assert!(!Saved::Stale { stored: 7 }.is_written());
    }
}
