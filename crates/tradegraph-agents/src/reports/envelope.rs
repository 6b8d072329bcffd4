//! What our code wraps around a report: which mode made it, with which prompt.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What a model's answer cost: its tokens (repair turns included) and, when the model has a
/// price in the price table, its cost (in the table's currency, US dollars by default). An
/// answer from the response cache shows the tokens it took when it was made and a cost of
/// zero; an answer replayed from a record (`--replay`) is priced from its recorded tokens, as
/// the recorded run priced it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spend {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Answer tokens.
    pub output_tokens: u64,
    /// Of the prompt tokens, those the vendor read from its prompt cache.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cached_input_tokens: u64,
    /// The cost; `None` when the model has no price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<rust_decimal::Decimal>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How a report was produced.
///
/// Serialized inside the report as `{"mode": "llm", "provider": ..., "model": ..., "spend":
/// {...}}`, or
/// `{"mode": "rule"}` when no model is configured, or `{"mode": "rule", "reason": "..."}` when
/// a configured model's answer could not be used.
///
/// ```
/// use tradegraph_agents::reports::{AgentMode, RuleReason};
///
/// let mode = AgentMode::unconfigured();
/// assert!(mode.is_rule() && !mode.is_fallback());
/// assert_eq!(serde_json::to_value(&mode)?, serde_json::json!({"mode": "rule"}));
///
/// let failed = AgentMode::Rule { reason: RuleReason::ModelFailed("rate limited".into()) };
/// assert!(failed.is_fallback());
/// assert_eq!(
///     serde_json::to_value(&failed)?,
///     serde_json::json!({"mode": "rule", "reason": "rate limited"})
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum AgentMode {
    /// A model answered and the answer passed the schema.
    Llm {
        /// The provider that answered.
        provider: String,
        /// The model.
        model: String,
        /// What the answer cost (absent in reports written before it was recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        spend: Option<Spend>,
    },
    /// Deterministic rules.
    Rule {
        /// Why rules were used: no model configured, or the model's failure.
        #[serde(default, skip_serializing_if = "RuleReason::is_no_model")]
        reason: RuleReason,
    },
}

impl AgentMode {
    /// Rules, because no model is configured.
    pub fn unconfigured() -> Self {
        Self::Rule {
            reason: RuleReason::NoModel,
        }
    }

    /// Whether rules produced the report.
    pub fn is_rule(&self) -> bool {
        matches!(self, Self::Rule { .. })
    }

    /// Whether rules produced the report although a model is configured (its answer could
    /// not be used).
    pub fn is_fallback(&self) -> bool {
        matches!(
            self,
            Self::Rule {
                reason: RuleReason::ModelFailed(_)
            }
        )
    }
}

/// Why a report was produced by rules.
///
/// Serialized as the failure's text; [`NoModel`](Self::NoModel) is the absence of a reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RuleReason {
    /// No model is configured: rule mode by choice.
    #[default]
    NoModel,
    /// A model is configured but its answer could not be used: the provider's error, a prompt
    /// that did not render, an answer outside the schema.
    ModelFailed(String),
}

impl RuleReason {
    /// Whether no model is configured.
    pub fn is_no_model(&self) -> bool {
        matches!(self, Self::NoModel)
    }
}

impl fmt::Display for RuleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoModel => f.write_str("no model configured"),
            Self::ModelFailed(why) => f.write_str(why),
        }
    }
}

impl Serialize for RuleReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::NoModel => serializer.serialize_none(),
            Self::ModelFailed(why) => serializer.serialize_str(why),
        }
    }
}

/// The text that meant "no model configured" before [`RuleReason`] existed. Checkpoints and
/// saved states written then still hold it as the reason.
const LEGACY_NO_MODEL: &str = "no provider configured";

impl<'de> Deserialize<'de> for RuleReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<String>::deserialize(deserializer)? {
            None => Self::NoModel,
            // The one string comparison that stays: a cycle resumed from an old checkpoint
            // must count its no-model reports as no-model, not as fallbacks.
            Some(why) if why == LEGACY_NO_MODEL => Self::NoModel,
            Some(why) => Self::ModelFailed(why),
        })
    }
}

/// A report with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReport<T> {
    /// The report.
    pub report: T,
    /// How it was produced.
    #[serde(flatten)]
    pub mode: AgentMode,
    /// The version of the prompt the agent used (a hash of its templates and answer schema).
    pub prompt_version: String,
    /// What the agent's model was sent and answered, when a model was asked (`None` in rule
    /// mode): the audit trail of the report. Boxed: the state holds a report per agent, and
    /// rule mode, the common case, pays one pointer for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Box<Exchange>>,
}

/// What an agent's model was sent and what it answered: the prompt by its hash (its text is in
/// the cycle's [`prompts`](crate::TradingState::prompts), and in the prompt log once per
/// distinct text) and the answer as the model gave it.
///
/// ```
/// use tradegraph_agents::reports::Exchange;
/// let e = Exchange { prompt_hash: "sha256:ab".into(), answer: Some("{\"signal\": \"BUY\"}".into()) };
/// let json = serde_json::to_value(&e)?;
/// assert_eq!(json["prompt_hash"], "sha256:ab");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// The rendered prompt's [`hash`](crate::prompt::RenderedPrompt::hash).
    pub prompt_hash: String,
    /// The model's answer as it came (kept also when the agent's check against the report's
    /// schema refused it; an answer the model client refused itself, after its repair turns,
    /// reaches the agent as the failure's reason only); `None` when there was none (the call failed, or missed its share of the deadline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(mode: AgentMode) -> AgentReport<u8> {
        AgentReport {
            report: 7,
            mode,
            prompt_version: "v1".into(),
            exchange: None,
        }
    }

    #[test]
    fn no_model_is_a_mode_of_its_own_and_round_trips() {
        let r = report(AgentMode::unconfigured());
        let value = serde_json::to_value(&r).unwrap();
        assert_eq!(
            value,
            json!({"report": 7, "mode": "rule", "prompt_version": "v1"})
        );
        let back: AgentReport<u8> = serde_json::from_value(value).unwrap();
        assert_eq!(back.mode, AgentMode::unconfigured());
        assert!(back.mode.is_rule());
        assert!(!back.mode.is_fallback());
    }

    #[test]
    fn a_failed_model_keeps_its_reason_and_round_trips() {
        let mode = AgentMode::Rule {
            reason: RuleReason::ModelFailed("openai: rate limited".into()),
        };
        let value = serde_json::to_value(report(mode.clone())).unwrap();
        assert_eq!(value["reason"], "openai: rate limited");
        let back: AgentReport<u8> = serde_json::from_value(value).unwrap();
        assert_eq!(back.mode, mode);
        assert!(back.mode.is_fallback());
        assert_eq!(
            RuleReason::ModelFailed("x".into()).to_string(),
            "x",
            "the failure reads as the provider said it"
        );
        assert_eq!(RuleReason::NoModel.to_string(), "no model configured");
    }

    #[test]
    fn a_reason_written_before_the_type_reads_as_no_model() {
        let back: AgentReport<u8> = serde_json::from_value(json!({
            "report": 7,
            "mode": "rule",
            "reason": "no provider configured",
            "prompt_version": "v1"
        }))
        .unwrap();
        assert_eq!(back.mode, AgentMode::unconfigured());
        assert!(!back.mode.is_fallback());
        let other: AgentMode =
            serde_json::from_value(json!({"mode": "rule", "reason": "no provider configured!"}))
                .unwrap();
        assert!(
            other.is_fallback(),
            "only the exact old text is the old no-model form"
        );
    }

    #[test]
    fn a_null_reason_reads_as_no_model() {
        let back: AgentMode =
            serde_json::from_value(json!({"mode": "rule", "reason": null})).unwrap();
        assert_eq!(back, AgentMode::unconfigured());
    }
}
