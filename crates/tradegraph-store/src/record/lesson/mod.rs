//! Lessons: what the learning agent drew from a closed trade, kept with the situation it came
//! from. One type for the learner's memory, the prompts and the `lessons` collection.

mod read;
mod situation;

pub use situation::Situation;

use super::{Extra, RunId};
use serde::{Deserialize, Serialize};
use tradegraph_core::{Symbol, Timestamp};

/// What the learning agent drew from an outcome, fed back into later prompts. Stored in
/// `lessons`; writing it again with the same `lesson_id` replaces it.
///
/// Documents written before the situation and the return were typed (they were extra fields of
/// the same names) read the same; so does the learner's own older form (`ts`, no `lesson_id` nor
/// `agent`), whose lessons were all the learning agent's.
///
/// ```
/// use tradegraph_store::{Lesson, Situation};
/// let at = "2024-01-01T12:00:00Z".parse()?;
/// let l = Lesson::new("BTCUSDT".into(), at, "technical", "RSI divergences failed in the trend")
///     .with_trade_id("t-1")
///     .with_situation(Situation { rsi: 71.0, ..Situation::default() })
///     .with_return_pct(-0.8);
/// assert_eq!(l.lesson_id, "BTCUSDT@2024-01-01T12:00:00Z#technical");
/// let doc = serde_json::to_value(&l)?;
/// assert_eq!(doc["situation"]["rsi"], 71.0);
/// assert_eq!(doc["return_pct"], -0.8);
/// assert_eq!(serde_json::from_value::<Lesson>(doc)?, l);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "read::Stored")]
pub struct Lesson {
    /// Unique key.
    pub lesson_id: String,
    /// The instrument.
    pub instrument: Symbol,
    /// When it was learned (for a lesson from a trade, when the trade closed).
    pub timestamp: Timestamp,
    /// The agent it is for (or `all`); the learner's lessons are `learning`'s.
    pub agent: String,
    /// The lesson, in words.
    pub text: String,
    /// The trade it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_id: Option<String>,
    /// The run that wrote it to the lesson log: with [`lesson_id`](Self::lesson_id), the
    /// record's key (unset in the learner's own state).
    #[serde(default, skip_serializing_if = "RunId::is_unset")]
    pub run_id: RunId,
    /// The market situation when the trade was opened: what lessons are retrieved by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situation: Option<Situation>,
    /// What the trade returned, in percent of the equity when it was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_pct: Option<f64>,
    /// When a model worded the lesson: the hash of the prompt it was sent (its text in the
    /// prompt log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_hash: Option<String>,
    /// When a model worded the lesson: its answer as it came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Further fields (prompt versions, an embedder's notes, ...).
    #[serde(flatten, serialize_with = "super::extra::lesson")]
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
            lesson_id: Self::key(&instrument, timestamp, &agent),
            instrument,
            timestamp,
            agent,
            text: text.into(),
            trade_id: None,
            prompt_hash: None,
            answer: None,
            run_id: RunId::default(),
            situation: None,
            return_pct: None,
            extra: Extra::new(),
        }
    }

    /// Sets the trade it came from.
    pub fn with_trade_id(mut self, trade_id: impl Into<String>) -> Self {
        self.trade_id = Some(trade_id.into());
        self
    }

    /// Sets the market situation it came from.
    pub fn with_situation(mut self, situation: Situation) -> Self {
        self.situation = Some(situation);
        self
    }

    /// Sets what the trade returned, in percent.
    pub fn with_return_pct(mut self, return_pct: f64) -> Self {
        self.return_pct = Some(return_pct);
        self
    }

    /// How far its situation is from `situation` ([`Situation::distance`]; infinite for a
    /// lesson without one, so those come last).
    pub fn distance(&self, situation: &Situation) -> f64 {
        self.situation
            .map_or(f64::INFINITY, |own| own.distance(situation))
    }

    /// The same on the market's figures alone ([`Situation::market_distance`]).
    pub fn market_distance(&self, situation: &Situation) -> f64 {
        self.situation
            .map_or(f64::INFINITY, |own| own.market_distance(situation))
    }

    /// The key of a lesson: `<instrument>@<timestamp>#<agent>`.
    fn key(instrument: &Symbol, timestamp: Timestamp, agent: &str) -> String {
        format!("{instrument}@{timestamp}#{agent}")
    }
}
