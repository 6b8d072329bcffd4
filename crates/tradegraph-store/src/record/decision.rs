use super::{Extra, RunId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tradegraph_core::{Symbol, Timestamp};

/// One agent's view in a decision: `{signal, confidence, reasoning}` for an agent that makes
/// a call, `{reasoning}` and its figures (in [`extra`](Self::extra)) for one that assesses
/// without a direction (the risk manager).
///
/// ```
/// use tradegraph_store::AgentDecision;
///
/// let call = AgentDecision::new("BUY", 0.7, "EMA cross");
/// assert_eq!(call.signal.as_deref(), Some("BUY"));
/// let risk = AgentDecision::assessment("volatility is high");
/// let doc = serde_json::to_value(&risk)?;
/// assert_eq!(doc, serde_json::json!({"reasoning": "volatility is high"}));
/// assert_eq!(serde_json::from_value::<AgentDecision>(doc)?, risk);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentDecision {
    /// What the agent says: `BUY`, `SELL`, `HOLD` (or `BULLISH`, `BEARISH`, `NEUTRAL` for an
    /// analyst); `None` for an agent that makes no call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// How sure of its call, in `[0, 1]`; `None` without a call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Why, in the agent's words.
    pub reasoning: String,
    /// Anything else the agent reported (key factors, targets, ...).
    #[serde(
        flatten,
        default,
        serialize_with = "super::extra::agent_decision",
        deserialize_with = "super::extra::read"
    )]
    pub extra: Extra,
}

impl AgentDecision {
    /// A call with no extra fields.
    pub fn new(signal: impl Into<String>, confidence: f64, reasoning: impl Into<String>) -> Self {
        Self {
            signal: Some(signal.into()),
            confidence: Some(confidence),
            reasoning: reasoning.into(),
            extra: Extra::new(),
        }
    }

    /// An assessment that makes no call (no signal, no confidence), with no extra fields.
    pub fn assessment(reasoning: impl Into<String>) -> Self {
        Self {
            signal: None,
            confidence: None,
            reasoning: reasoning.into(),
            extra: Extra::new(),
        }
    }
}

/// A decision cycle's outcome, as stored in `agent_decisions`:
/// `{timestamp, instrument, agent_decisions: {technical: {signal, confidence, reasoning}, ...}}`,
/// plus `decision_id`, the key that makes writing it twice harmless.
///
/// ```
/// use tradegraph_store::{AgentDecision, DecisionRecord};
/// let at = "2024-01-01T10:00:00Z".parse()?;
/// let d = DecisionRecord::new("BTCUSDT".into(), at)
///     .agent("technical", AgentDecision::new("BUY", 0.7, "EMA cross"));
/// assert_eq!(d.decision_id, "BTCUSDT@2024-01-01T10:00:00Z");
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// When the decision was taken.
    pub timestamp: Timestamp,
    /// The instrument.
    pub instrument: Symbol,
    /// Each agent's view, by agent name (`technical`, `fundamental`, `sentiment`, `macro`, `bull`,
    /// `bear`, `risk`, `portfolio`, ...).
    pub agent_decisions: BTreeMap<String, AgentDecision>,
    /// Unique key; [`DecisionRecord::new`] derives it from the instrument and the time, so a
    /// replay of the same data writes the same decision.
    pub decision_id: String,
    /// The run that wrote it: with [`decision_id`](Self::decision_id), the record's key, so a
    /// re-run of the same period never replaces an earlier run's decision.
    #[serde(default, skip_serializing_if = "RunId::is_unset")]
    pub run_id: RunId,
    /// The final action, when one was taken (`BUY`, `SELL`, `HOLD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Further fields.
    #[serde(
        flatten,
        default,
        serialize_with = "super::extra::decision",
        deserialize_with = "super::extra::read"
    )]
    pub extra: Extra,
}

impl DecisionRecord {
    /// An empty decision of `instrument` at `timestamp`, keyed `<instrument>@<timestamp>`.
    pub fn new(instrument: Symbol, timestamp: Timestamp) -> Self {
        Self {
            decision_id: format!("{instrument}@{timestamp}"),
            timestamp,
            instrument,
            agent_decisions: BTreeMap::new(),
            run_id: RunId::default(),
            action: None,
            extra: Extra::new(),
        }
    }

    /// Adds (or replaces) an agent's view.
    #[must_use]
    pub fn agent(mut self, name: impl Into<String>, decision: AgentDecision) -> Self {
        self.agent_decisions.insert(name.into(), decision);
        self
    }

    /// Sets the final action.
    #[must_use]
    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }
}
