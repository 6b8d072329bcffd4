//! Which document of a bot's state: an instrument and a part.

use serde::{Deserialize, Serialize};
use std::fmt;
use tradegraph_core::Symbol;

/// Which part of a bot's state a document holds. Each part is saved and versioned on its own, so
/// a change of the kill switch never rewrites the learner.
///
/// ```
/// use tradegraph_store::StatePart;
/// assert_eq!(StatePart::KillSwitch.as_str(), "kill_switch");
/// assert_eq!(StatePart::ALL.len(), 11);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatePart {
    /// The risk guard: daily-loss halt, cooldown, trading state.
    Guard,
    /// The operator's kill switch.
    KillSwitch,
    /// The learner: agent weights and lessons.
    Learner,
    /// Open trades.
    Trades,
    /// The paper broker's account.
    Broker,
    /// The decision sequence.
    Sequence,
    /// The operator's pause of new entries (the bot only reduces).
    Pause,
    /// Orders waiting for an operator's approval.
    Approvals,
    /// The model calls, tokens and cost by day, agent and provider.
    LlmUsage,
    /// The last reconciliation with the venue and the `reducing` hold it put the bot in (only
    /// exits, stops and closes go on until a person confirms).
    Reconciliation,
    /// Which process holds the bot's claim on its instrument (one bot per instrument on a
    /// shared state server).
    Instance,
}

impl StatePart {
    /// Every part, in declaration order.
    pub const ALL: [StatePart; 11] = [
        Self::Guard,
        Self::KillSwitch,
        Self::Learner,
        Self::Trades,
        Self::Broker,
        Self::Sequence,
        Self::Pause,
        Self::Approvals,
        Self::LlmUsage,
        Self::Reconciliation,
        Self::Instance,
    ];

    /// The name used in keys, documents and files (`guard`, `kill_switch`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guard => "guard",
            Self::KillSwitch => "kill_switch",
            Self::Learner => "learner",
            Self::Trades => "trades",
            Self::Broker => "broker",
            Self::Sequence => "sequence",
            Self::Pause => "pause",
            Self::Approvals => "approvals",
            Self::LlmUsage => "llm_usage",
            Self::Reconciliation => "reconciliation",
            Self::Instance => "instance",
        }
    }
}

impl fmt::Display for StatePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The key of one state document: an instrument's bot and a part of its state.
///
/// ```
/// use tradegraph_store::{StateKey, StatePart};
/// let key = StateKey::new("BTCUSDT", StatePart::Guard);
/// assert_eq!(key.to_string(), "BTCUSDT/guard");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StateKey {
    /// The instrument whose bot it belongs to.
    pub instrument: Symbol,
    /// Which part.
    pub part: StatePart,
}

impl StateKey {
    /// The key of `part` of `instrument`'s bot.
    pub fn new(instrument: impl Into<Symbol>, part: StatePart) -> Self {
        Self {
            instrument: instrument.into(),
            part,
        }
    }
}

impl fmt::Display for StateKey {
    /// `INSTRUMENT/part`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.instrument, self.part)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_match_serde() {
        for part in StatePart::ALL {
            let json = serde_json::to_string(&part).unwrap();
            assert_eq!(json, format!("\"{}\"", part.as_str()));
            assert_eq!(serde_json::from_str::<StatePart>(&json).unwrap(), part);
        }
        assert!(serde_json::from_str::<StatePart>("\"guardian\"").is_err());
    }

    #[test]
    fn keys_serialize_with_their_fields() {
        let key = StateKey::new("NIFTY50", StatePart::Sequence);
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, r#"{"instrument":"NIFTY50","part":"sequence"}"#);
        assert_eq!(serde_json::from_str::<StateKey>(&json).unwrap(), key);
    }
}
