//! Macro snapshots from a JSON file.

use super::{MacroSnapshot, MacroSource, NewsError};
use crate::{Clock, SystemClock};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use tradegraph_core::Timestamp;

const INDIA: &str = include_str!("../../fixtures/news/macro_india.json");

/// Dated [`MacroSnapshot`]s from a JSON file: either an array of snapshots or an object with a
/// `snapshots` array (other keys, such as a `note`, are ignored). [`MacroSource::snapshot`]
/// answers with the latest snapshot dated at or before the time asked for, clamped to the clock.
///
/// [`Self::bundled_india`] holds illustrative Indian figures (RBI repo rate, CPI, with the US fed
/// funds rate, DXY and USD/INR) from October 2024 to April 2025, for offline runs.
///
/// ```
/// use tradegraph_market::news::{FileMacro, MacroSource};
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let file = FileMacro::from_json(r#"[
///     {"as_of": "2025-02-07T04:30:00Z", "region": "IN", "policy_rate_pct": 6.25, "cpi_inflation_yoy_pct": 5.22},
///     {"as_of": "2024-12-06T04:30:00Z", "region": "IN", "policy_rate_pct": 6.5, "cpi_inflation_yoy_pct": 6.21}
/// ]"#, "inline")?;
/// let before_the_cut = file.snapshot("2025-02-06T00:00:00Z".parse()?).await?;
/// assert_eq!(before_the_cut.policy_rate_pct, 6.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileMacro {
    /// Oldest first.
    snapshots: Vec<MacroSnapshot>,
    origin: String,
    clock: Arc<dyn Clock>,
}

impl FileMacro {
    /// Snapshots from JSON `text`; `origin` names it in errors (a file name).
    pub fn from_json(text: &str, origin: &str) -> Result<Self, NewsError> {
        // Parse to a value first: JSON errors get a line and column, bad snapshots their index.
        let value: Value = serde_json::from_str(text).map_err(|e| NewsError::File {
            origin: format!("{origin}:{}:{}", e.line(), e.column()),
            reason: format!("not JSON: {e}"),
        })?;
        let shape = || NewsError::File {
            origin: origin.to_owned(),
            reason: "expected an array of snapshots or {\"snapshots\": [...]}".to_owned(),
        };
        let (list, prefix) = match value {
            Value::Array(list) => (list, "$"),
            Value::Object(mut map) => match map.remove("snapshots") {
                Some(Value::Array(list)) => (list, "$.snapshots"),
                _ => return Err(shape()),
            },
            _ => return Err(shape()),
        };
        let snapshots = list
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                serde_json::from_value::<MacroSnapshot>(v).map_err(|e| NewsError::File {
                    origin: origin.to_owned(),
                    reason: format!("{prefix}[{i}]: {e}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_snapshots(snapshots, origin))
    }

    /// These `snapshots` (in any order); `origin` names them in errors.
    pub fn from_snapshots(mut snapshots: Vec<MacroSnapshot>, origin: &str) -> Self {
        snapshots.sort_by_key(|s| s.as_of);
        Self {
            snapshots,
            origin: origin.to_owned(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Snapshots from the JSON file at `path`.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, NewsError> {
        let path = path.as_ref();
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|source| NewsError::Io {
                path: path.to_owned(),
                source,
            })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// The bundled Indian set (`fixtures/news/macro_india.json`).
    pub fn bundled_india() -> Result<Self, NewsError> {
        Self::from_json(INDIA, "fixtures/news/macro_india.json")
    }

    /// The clock that bounds what is returned (a backtest's simulated clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Every snapshot, oldest first.
    pub fn snapshots(&self) -> &[MacroSnapshot] {
        &self.snapshots
    }
}

#[async_trait::async_trait]
impl MacroSource for FileMacro {
    async fn snapshot(&self, as_of: Timestamp) -> Result<MacroSnapshot, NewsError> {
        let as_of = as_of.min(self.clock.now());
        let known = self.snapshots.partition_point(|s| s.as_of <= as_of);
        match known.checked_sub(1).and_then(|i| self.snapshots.get(i)) {
            Some(snapshot) => Ok(snapshot.clone()),
            None => Err(NewsError::NoSnapshot {
                origin: self.origin.clone(),
                as_of,
            }),
        }
    }
}
