use super::Extra;
use serde::{Deserialize, Serialize};
use tradegraph_core::{Symbol, Timestamp};

/// What the learning agent drew from an outcome, fed back into later prompts. Stored in
/// `lessons`; writing it again with the same `lesson_id` replaces it.
///
/// ```
/// use tradegraph_store::Lesson;
/// let at = "2024-01-01T12:00:00Z".parse()?;
/// let l = Lesson::new("BTCUSDT".into(), at, "technical", "RSI divergences failed in the trend");
/// assert_eq!(l.lesson_id, "BTCUSDT@2024-01-01T12:00:00Z#technical");
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    /// Unique key.
    pub lesson_id: String,
    /// The instrument.
    pub instrument: Symbol,
    /// When it was learned.
    pub timestamp: Timestamp,
    /// The agent it is for (or `all`).
    pub agent: String,
    /// The lesson, in words.
    pub text: String,
    /// The trade it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_id: Option<String>,
    /// Further fields (weights, prompt versions, ...).
    #[serde(
        flatten,
        default,
        serialize_with = "super::extra::lesson",
        deserialize_with = "super::extra::read"
    )]
    pub extra: Extra,
}

impl Lesson {
    /// A lesson keyed `<instrument>@<timestamp>#<agent>`.
    pub fn new(
        instrument: Symbol,
        timestamp: Timestamp,
        agent: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        let agent = agent.into();
        Self {
            lesson_id: format!("{instrument}@{timestamp}#{agent}"),
            instrument,
            timestamp,
            agent,
            text: text.into(),
            trade_id: None,
            extra: Extra::new(),
        }
    }
}
