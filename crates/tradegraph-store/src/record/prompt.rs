//! [`PromptRecord`]: a rendered prompt, stored once per distinct text.

use serde::{Deserialize, Serialize};
use tradegraph_core::{Symbol, Timestamp};

/// A prompt as an agent sent it, stored once per distinct text in `prompts` and referenced by
/// its hash from every decision that used it (`agent_decisions.<agent>.prompt_hash`), so any
/// decision can be re-read with the exact words its model was given.
///
/// ```
/// use tradegraph_store::PromptRecord;
/// let p = PromptRecord::new(
///     "sha256:ab12".into(), "BTCUSDT".into(), "technical", "technical@0011", "You are...", "RSI 71",
///     "2024-12-04T10:00:00Z".parse()?,
/// );
/// let doc = serde_json::to_value(&p)?;
/// assert_eq!(doc["prompt_hash"], "sha256:ab12");
/// assert_eq!(serde_json::from_value::<PromptRecord>(doc)?, p);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptRecord {
    /// Unique key: `sha256:<64 hex digits>` of the system message, a NUL and the user message.
    pub prompt_hash: String,
    /// The instrument of the decision that stored it (the latest to, when several did).
    pub instrument: Symbol,
    /// The agent it was rendered for.
    pub agent: String,
    /// The template's version (`technical@<16 hex digits>`).
    pub prompt_version: String,
    /// The system message.
    pub system: String,
    /// The user message.
    pub user: String,
    /// The time of the decision that stored it (the latest to, when several did).
    pub timestamp: Timestamp,
}

impl PromptRecord {
    /// A prompt keyed by `prompt_hash` (computed by whoever rendered it).
    pub fn new(
        prompt_hash: String,
        instrument: Symbol,
        agent: impl Into<String>,
        prompt_version: impl Into<String>,
        system: impl Into<String>,
        user: impl Into<String>,
        timestamp: Timestamp,
    ) -> Self {
        Self {
            prompt_hash,
            instrument,
            agent: agent.into(),
            prompt_version: prompt_version.into(),
            system: system.into(),
            user: user.into(),
            timestamp,
        }
    }
}
