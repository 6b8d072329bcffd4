//! [`replay`]: a stored decision's model answers, read again or asked again.

use serde::Serialize;
use serde_json::Value;
use std::str::FromStr;
use tradegraph_agents::model::ReportModel;
use tradegraph_agents::prompt::RenderedPrompt;
use tradegraph_agents::reports::{answer_schema, read_answer, ReadAnswer};
use tradegraph_agents::AgentName;
use tradegraph_store::{DecisionRecord, PromptLog};

/// How a decision is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayMode {
    /// Every recorded answer read through its agent's schema again: no model is asked, and a
    /// complete record gives back every report as the decision recorded it.
    Recorded,
    /// Every recorded prompt sent to the model again, word for word: does the model (or a
    /// newer one) still answer the same?
    Asked,
}

/// Why a decision cannot be replayed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The prompt log did not answer.
    #[error("the prompt log: {0}")]
    Store(#[from] tradegraph_store::StoreError),
}

/// One model-written report of the decision, replayed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replayed {
    /// The agent.
    pub agent: AgentName,
    /// The debate round, for a bull or bear turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round: Option<u64>,
    /// The prompt's hash.
    pub prompt_hash: String,
    /// Whether the decision's report came from the model (`llm`) or, its answer unusable or
    /// late, from the rules (`rule`); `unknown` in a decision recorded before this was kept.
    pub recorded_by: String,
    /// The call as the decision recorded it (`BUY`, the action; `None` for the debate and the
    /// risk manager).
    pub recorded_call: Option<String>,
    /// The call replayed.
    pub call: Option<String>,
    /// The report replayed, as JSON (`None` when the answer did not pass the schema).
    pub report: Option<Value>,
    /// Why there is no report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The model's answer as it came, when it was asked again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Whether the replay gives what the decision recorded: for a report the model wrote, the
    /// same call and the same value of every field the decision log keeps; for one the rules
    /// wrote after the model's answer broke the schema, an answer that breaks it still.
    pub same: bool,
}

/// A stored decision, replayed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionReplay {
    /// The decision.
    pub decision_id: String,
    /// Its run.
    pub run_id: Option<String>,
    /// How it was replayed.
    pub mode: ReplayMode,
    /// Every report a model was asked for, in the graph's order (the debate turn by turn).
    pub reports: Vec<Replayed>,
    /// The agents that asked no model (rules throughout).
    pub rules: Vec<AgentName>,
    /// Whether every report came out as recorded.
    pub same: bool,
}

/// A report a model was asked for: the agent, the debate round, the decision log's view of
/// the report (the debate turn's own record for the debate).
type Asked = (AgentName, Option<u64>, Value);

/// The reports of the decision a model was asked for, and the agents that asked none.
fn asked(record: &DecisionRecord) -> (Vec<Asked>, Vec<AgentName>) {
    let mut asked = Vec::new();
    let mut rules = Vec::new();
    let order = [
        AgentName::Technical,
        AgentName::Fundamental,
        AgentName::Sentiment,
        AgentName::Macro,
    ];
    let view = |agent: AgentName| {
        record
            .agent_decisions
            .get(agent.as_str())
            .and_then(|v| serde_json::to_value(v).ok())
    };
    let mut push = |agent: AgentName, round: Option<u64>, v: Value| {
        if v.get("prompt_hash").and_then(Value::as_str).is_some() {
            asked.push((agent, round, v));
        } else if !rules.contains(&agent) {
            rules.push(agent);
        }
    };
    for agent in order {
        if let Some(v) = view(agent) {
            push(agent, None, v);
        }
    }
    for turn in record
        .extra
        .get("debate")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let agent = match turn["stance"].as_str() {
            Some("bull") => AgentName::Bull,
            Some("bear") => AgentName::Bear,
            _ => continue,
        };
        let mut turn = turn.clone();
        // Turns recorded before they said how they were written: a side's last turn is the
        // one its view in `agent_decisions` describes.
        if turn.get("produced_by").is_none() {
            if let Some(side) = view(agent).filter(|v| v["rounds"] == turn["round"]) {
                turn["produced_by"] = side["produced_by"].clone();
            }
        }
        let round = turn["round"].as_u64();
        push(agent, round, turn);
    }
    for agent in [AgentName::RiskManager, AgentName::PortfolioManager] {
        if let Some(v) = view(agent) {
            push(agent, None, v);
        }
    }
    (asked, rules)
}

/// Replays `record`: each report a model wrote (or was asked for) is read again from the
/// recorded answer ([`ReplayMode::Recorded`], `model` `None`: no call), or the recorded prompt,
/// read from `prompts`, is sent to `model` again ([`ReplayMode::Asked`]).
///
/// # Errors
/// [`ReplayError::Store`] when the prompt log does not answer (asking again).
pub async fn replay(
    record: &DecisionRecord,
    prompts: &dyn PromptLog,
    model: Option<&dyn ReportModel>,
) -> Result<DecisionReplay, ReplayError> {
    let (asked, rules) = asked(record);
    let mode = if model.is_some() {
        ReplayMode::Asked
    } else {
        ReplayMode::Recorded
    };
    let mut reports = Vec::with_capacity(asked.len());
    for (agent, round, view) in asked {
        let prompt_hash = view["prompt_hash"].as_str().unwrap_or_default().to_owned();
        // Decisions recorded before the mode was kept say nothing: `unknown`.
        let recorded_by = view["produced_by"]["mode"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned();
        let recorded_call = view["signal"].as_str().map(str::to_owned);
        let (read, answer) = match model {
            None => match view["answer"].as_str() {
                Some(raw) => (read_raw(agent, raw), None),
                None => (
                    Err("no answer was recorded: the model gave none".to_owned()),
                    None,
                ),
            },
            Some(model) => ask(model, prompts, agent, &prompt_hash).await?,
        };
        let same = match (&read, recorded_by.as_str()) {
            (Ok(read), "llm" | "unknown") => {
                read.call == recorded_call && agrees(&read.report, &view)
            }
            (Err(_), "rule") => true,
            _ => false,
        };
        let (call, report, error) = match read {
            Ok(read) => (read.call, Some(read.report), None),
            Err(e) => (None, None, Some(e)),
        };
        reports.push(Replayed {
            agent,
            round,
            prompt_hash,
            recorded_by,
            recorded_call,
            call,
            report,
            error,
            answer,
            same,
        });
    }
    Ok(DecisionReplay {
        decision_id: record.decision_id.clone(),
        run_id: (!record.run_id.is_unset()).then(|| record.run_id.to_string()),
        mode,
        same: reports.iter().all(|r| r.same),
        reports,
        rules,
    })
}

/// A recorded answer as it came, read through the agent's schema.
fn read_raw(agent: AgentName, raw: &str) -> Result<ReadAnswer, String> {
    let value = tradegraph_llm::extract_json(raw)?;
    read_answer(agent, value)
}

/// The recorded prompt sent to `model` again: the answer read, and as it came.
async fn ask(
    model: &dyn ReportModel,
    prompts: &dyn PromptLog,
    agent: AgentName,
    hash: &str,
) -> Result<(Result<ReadAnswer, String>, Option<String>), ReplayError> {
    let Some(stored) = prompts.prompt(hash).await? else {
        return Ok((Err(format!("the prompt log has no prompt {hash}")), None));
    };
    let Some(schema) = answer_schema(agent) else {
        return Ok((Err(format!("{agent} asks no model")), None));
    };
    let prompt = RenderedPrompt {
        agent: AgentName::from_str(&stored.agent).unwrap_or(agent),
        system: stored.system,
        user: stored.user,
        version: stored.prompt_version,
    };
    Ok(match model.answer(&prompt, schema).await {
        Ok(answer) => {
            let raw = Some(answer.raw.clone()).filter(|r| !r.is_empty());
            (read_answer(agent, answer.value), raw)
        }
        Err(failure) => (Err(failure.0), None),
    })
}

/// Whether every field the decision log keeps of the report has the replayed value (a debate
/// turn's record holds all the turn's fields; an agent's view keeps some of its report's
/// fields beside its call: the fields it does not keep are not compared).
fn agrees(report: &Value, view: &Value) -> bool {
    report.as_object().is_some_and(|fields| {
        fields
            .iter()
            .all(|(key, value)| view.get(key).is_none_or(|kept| kept == value))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;
    use tradegraph_store::{AgentDecision, Stores};

    fn asked_view(signal: &str, answer: Option<&str>, by: &str) -> AgentDecision {
        let mut v = AgentDecision::new(signal, 0.7, "Higher lows.");
        v.extra.insert("prompt_hash".into(), json!("sha256:aa"));
        v.extra.insert("produced_by".into(), json!({"mode": by}));
        if let Some(answer) = answer {
            v.extra.insert("answer".into(), json!(answer));
        }
        v
    }

    fn technical(signal: &str) -> String {
        format!(
            "My call:\n```json\n{}\n```",
            json!({"signal": signal, "confidence": 0.7, "reasoning": "Higher lows.",
                   "key_levels": {"support": [], "resistance": []}})
        )
    }

    #[tokio::test]
    async fn a_record_that_does_not_give_back_its_report_is_flagged_agent_by_agent() {
        let stores = Stores::memory();
        let at = "2024-03-04T00:15:00Z".parse().unwrap();
        let mut record = DecisionRecord::new("BTCUSDT".into(), at)
            .agent(
                "technical",
                asked_view("BUY", Some(&technical("BUY")), "llm"),
            )
            .agent("fundamental", AgentDecision::new("HOLD", 0.5, "rules"));
        record.decision_id = "BTCUSDT-20240304T001500.000Z".into();
        let same = replay(&record, stores.prompts.as_ref(), None)
            .await
            .unwrap();
        assert_eq!(same.mode, ReplayMode::Recorded);
        assert!(same.same, "{same:#?}");
        assert_eq!(same.rules, [AgentName::Fundamental]);
        assert_eq!(same.reports[0].call.as_deref(), Some("BUY"));

        // The answer says SELL where the decision recorded BUY.
        let tampered = record.clone().agent(
            "technical",
            asked_view("BUY", Some(&technical("SELL")), "llm"),
        );
        let replayed = replay(&tampered, stores.prompts.as_ref(), None)
            .await
            .unwrap();
        assert!(!replayed.same && !replayed.reports[0].same);
        assert_eq!(
            (
                replayed.reports[0].recorded_call.as_deref(),
                replayed.reports[0].call.as_deref()
            ),
            (Some("BUY"), Some("SELL"))
        );
        // An answer that broke the schema, after which the rules answered: it breaks it still.
        let broken = record.clone().agent(
            "technical",
            asked_view("HOLD", Some("{\"signal\": \"UP\"}"), "rule"),
        );
        let replayed = replay(&broken, stores.prompts.as_ref(), None)
            .await
            .unwrap();
        assert!(replayed.same, "{replayed:#?}");
        assert!(replayed.reports[0].error.is_some());
        // No answer recorded for a report the model is said to have written.
        let lost = record
            .clone()
            .agent("technical", asked_view("BUY", None, "llm"));
        let replayed = replay(&lost, stores.prompts.as_ref(), None).await.unwrap();
        assert!(!replayed.same);
        assert_eq!(
            replayed.reports[0].error.as_deref(),
            Some("no answer was recorded: the model gave none")
        );
    }
}
