//! Reading an agent's answer through its report's schema, whatever the agent: the one
//! dispatch from an agent to its report type, for re-reading and re-asking recorded prompts.

use super::{
    DebateTurn, FundamentalReport, LessonDraft, MacroReport, PortfolioDecision, Report,
    RiskAssessment, SentimentReport, Signal, TechnicalReport,
};
use crate::AgentName;
use serde_json::Value;

/// An answer read through the agent's report schema: the report, and its call as the decision
/// log records it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadAnswer {
    /// The report, as JSON.
    pub report: Value,
    /// The call: an analyst's signal (`BUY`, `SELL`, `HOLD`; sentiment and macro from their
    /// score and regime), the portfolio manager's action; `None` for the debate, the risk
    /// manager and the learning agent, which make none.
    pub call: Option<String>,
    /// An analyst's signal.
    pub signal: Option<Signal>,
}

/// The JSON Schema of `agent`'s answer (`None` for execution, which asks no model).
pub fn answer_schema(agent: AgentName) -> Option<&'static Value> {
    fn of<T: Report>() -> Option<&'static Value> {
        T::output_schema().map(|s| s.schema())
    }
    match agent {
        AgentName::Technical => of::<TechnicalReport>(),
        AgentName::Fundamental => of::<FundamentalReport>(),
        AgentName::Sentiment => of::<SentimentReport>(),
        AgentName::Macro => of::<MacroReport>(),
        AgentName::Bull | AgentName::Bear => of::<DebateTurn>(),
        AgentName::RiskManager => of::<RiskAssessment>(),
        AgentName::PortfolioManager => of::<PortfolioDecision>(),
        AgentName::Learning => of::<LessonDraft>(),
        AgentName::Execution => None,
    }
}

/// Reads `value` as `agent`'s report.
///
/// # Errors
/// What breaks the schema, in words; or that execution reports nothing a model writes.
///
/// ```
/// use tradegraph_agents::reports::read_answer;
/// use tradegraph_agents::AgentName;
/// let answer = serde_json::json!({"signal": "SELL", "confidence": 0.6, "reasoning": "Lower highs.",
///     "key_levels": {"support": [], "resistance": []}});
/// let read = read_answer(AgentName::Technical, answer)?;
/// assert_eq!(read.call.as_deref(), Some("SELL"));
/// assert!(read_answer(AgentName::Technical, serde_json::json!({"signal": "UP"})).is_err());
/// # Ok::<(), String>(())
/// ```
pub fn read_answer(agent: AgentName, value: Value) -> Result<ReadAnswer, String> {
    fn parse<T: Report>(value: Value) -> Result<T, String> {
        let schema = T::output_schema().ok_or("the report schema does not compile")?;
        schema.parse(value).map_err(|v| v.to_string())
    }
    fn with<T: Report>(report: &T, signal: Option<Signal>, call: Option<String>) -> ReadAnswer {
        ReadAnswer {
            report: serde_json::to_value(report).unwrap_or_default(),
            call: call.or_else(|| signal.map(|s| s.to_string())),
            signal,
        }
    }
    Ok(match agent {
        AgentName::Technical => {
            let r = parse::<TechnicalReport>(value)?;
            with(&r, Some(r.signal), None)
        }
        AgentName::Fundamental => {
            let r = parse::<FundamentalReport>(value)?;
            with(&r, Some(r.signal), None)
        }
        AgentName::Sentiment => {
            let r = parse::<SentimentReport>(value)?;
            with(&r, Some(r.signal()), None)
        }
        AgentName::Macro => {
            let r = parse::<MacroReport>(value)?;
            with(&r, Some(r.signal()), None)
        }
        AgentName::Bull | AgentName::Bear => with(&parse::<DebateTurn>(value)?, None, None),
        AgentName::RiskManager => with(&parse::<RiskAssessment>(value)?, None, None),
        AgentName::PortfolioManager => {
            let r = parse::<PortfolioDecision>(value)?;
            with(&r, None, Some(r.action.as_str().to_owned()))
        }
        AgentName::Learning => with(&parse::<LessonDraft>(value)?, None, None),
        AgentName::Execution => return Err("execution is code: no model answers for it".into()),
    })
}
