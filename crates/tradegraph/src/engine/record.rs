//! The decision log's record of a cycle: every agent's view, in `agent_decisions`.

use serde_json::json;
use tradegraph_agents::reports::{AgentReport, Stance};
use tradegraph_agents::{AgentName, TradingState};
use tradegraph_core::order::DecisionId;
use tradegraph_store::{AgentDecision, DecisionRecord};

/// An agent's call (a signal and how sure) with how it was produced.
fn view<T>(
    report: &AgentReport<T>,
    signal: String,
    confidence: f64,
    reasoning: String,
) -> AgentDecision {
    provenance(report, AgentDecision::new(signal, confidence, reasoning))
}

/// `d` with how `report` was produced: `produced_by` (`{"mode": "llm", provider, model}`,
/// `{"mode": "rule"}` without a model, `{"mode": "rule", reason}` after a model's failure),
/// `prompt_version`, and when a model was asked `prompt_hash` (the text is in the prompt log)
/// and `answer` (what the model answered, as it came).
fn provenance<T>(report: &AgentReport<T>, mut d: AgentDecision) -> AgentDecision {
    d.extra.insert("produced_by".into(), json!(report.mode));
    d.extra
        .insert("prompt_version".into(), json!(report.prompt_version));
    if let Some(exchange) = &report.exchange {
        d.extra
            .insert("prompt_hash".into(), json!(exchange.prompt_hash));
        if let Some(answer) = &exchange.answer {
            d.extra.insert("answer".into(), json!(answer));
        }
    }
    d
}

/// Every agent's view of the cycle, as `agent_decisions` holds it, under the cycle's decision
/// id (the graph thread's and the orders' too), with its sequence number, the guard's verdict,
/// the execution agent's refusal and the orders.
pub(super) fn decision(state: &TradingState, id: &DecisionId, seq: u64) -> DecisionRecord {
    let mut record = DecisionRecord::new(state.instrument.symbol.clone(), state.as_of);
    record.decision_id = id.as_str().to_owned();
    record.extra.insert("seq".into(), json!(seq));
    if let Some(r) = &state.technical {
        let t = &r.report;
        record = record.agent(
            AgentName::Technical.as_str(),
            view(r, t.signal.to_string(), t.confidence, t.reasoning.clone()),
        );
    }
    if let Some(r) = &state.fundamental {
        let f = &r.report;
        record = record.agent(
            AgentName::Fundamental.as_str(),
            view(r, f.signal.to_string(), f.confidence, f.thesis.clone()),
        );
    }
    if let Some(r) = &state.sentiment {
        let s = &r.report;
        let mut v = view(
            r,
            s.signal().to_string(),
            s.confidence,
            s.drivers.join("; "),
        );
        v.extra.insert("score".into(), json!(s.score));
        record = record.agent(AgentName::Sentiment.as_str(), v);
    }
    if let Some(r) = &state.macro_view {
        let m = &r.report;
        let mut v = view(
            r,
            m.signal().to_string(),
            m.confidence,
            m.factors.join("; "),
        );
        v.extra.insert("regime".into(), json!(m.regime));
        record = record.agent(AgentName::Macro.as_str(), v);
    }
    if !state.debate.is_empty() {
        // The whole bull/bear transcript, turn by turn (`agent_decisions` keeps each side's last).
        let turns: Vec<_> = state
            .debate
            .iter()
            .map(|e| {
                let mut turn = json!({
                    "round": e.round,
                    "stance": e.stance,
                    "argument": e.turn.report.argument,
                    "points": e.turn.report.points,
                    "rebuttal": e.turn.report.rebuttal,
                    "conviction": e.turn.report.conviction,
                });
                // How the turn was written (a model, or the rules after the model failed) and
                // from which prompt, as each agent's view says, so that a replay reads it
                // rightly.
                turn["produced_by"] = json!(e.turn.mode);
                turn["prompt_version"] = json!(e.turn.prompt_version);
                if let Some(exchange) = &e.turn.exchange {
                    turn["prompt_hash"] = json!(exchange.prompt_hash);
                    if let Some(answer) = &exchange.answer {
                        turn["answer"] = json!(answer);
                    }
                }
                turn
            })
            .collect();
        record.extra.insert("debate".into(), json!(turns));
    }
    for stance in [Stance::Bull, Stance::Bear] {
        if let Some(e) = state.last_turn(stance) {
            let t = &e.turn.report;
            let signal = if stance == Stance::Bull {
                "BUY"
            } else {
                "SELL"
            };
            let mut v = view(&e.turn, signal.into(), t.conviction, t.argument.clone());
            v.extra.insert("rounds".into(), json!(e.round));
            let agent = if stance == Stance::Bull {
                AgentName::Bull
            } else {
                AgentName::Bear
            };
            record = record.agent(agent.as_str(), v);
        }
    }
    if let Some(r) = &state.risk {
        let k = &r.report;
        // An assessment, not a call: no signal, no confidence; what it reported instead.
        // Every field of the assessment, written from its own serde form so a new field is
        // recorded too.
        let mut v = provenance(r, AgentDecision::assessment(k.warnings.join("; ")));
        if let serde_json::Value::Object(fields) = json!(k) {
            v.extra.extend(fields);
        }
        record = record.agent(AgentName::RiskManager.as_str(), v);
    }
    if let Some(r) = &state.decision {
        let d = &r.report;
        let action = d.action.as_str().to_owned();
        let mut v = view(r, action.clone(), d.confidence, d.rationale.clone());
        v.extra.insert("size_pct".into(), json!(d.size_pct));
        record = record.agent(AgentName::PortfolioManager.as_str(), v);
        record.action = Some(action);
    }
    if let Some(verdict) = &state.verdict {
        record.extra.insert("risk_guard".into(), json!({
            "status": verdict.status,
            "findings": verdict.findings.iter().map(|f| json!({"effect": f.effect, "reason": f.reason.to_string()})).collect::<Vec<_>>(),
        }));
    }
    if let Some(client_id) = &state.placed_earlier {
        record
            .extra
            .insert("placed_earlier".into(), json!(client_id.as_str()));
    }
    if let Some(refusal) = &state.refusal {
        record.extra.insert(
            "execution_refused".into(),
            json!({"effect": refusal.effect, "reason": refusal.reason.to_string()}),
        );
    }
    if !state.orders.is_empty() {
        let orders: Vec<_> = state
            .orders
            .iter()
            .map(|o| json!({"client_id": o.request.client_id.as_str(), "side": o.request.side, "quantity": o.request.quantity, "status": o.status}))
            .collect();
        record.extra.insert("orders".into(), json!(orders));
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_core::Instrument;

    #[test]
    fn the_risk_manager_is_recorded_as_an_assessment_not_a_call() {
        let state = tradegraph_agents::fixture::state(&Instrument::btc_usdt()).unwrap();
        let risk = state.risk.as_ref().unwrap().report.clone();
        let record = decision(&state, &DecisionId::new("d1"), 1);
        let view = &record.agent_decisions[AgentName::RiskManager.as_str()];
        assert_eq!(view.signal, None, "the risk manager makes no call");
        assert_eq!(view.confidence, None);
        assert_eq!(view.extra["risk_score"], json!(risk.risk_score));
        assert_eq!(view.extra["warnings"], json!(risk.warnings));
        let written = json!(risk);
        let fields = written.as_object().unwrap();
        assert_eq!(fields.len(), 5, "{written}");
        for (key, value) in fields {
            assert_eq!(
                &view.extra[key], value,
                "the assessment's `{key}` is recorded"
            );
        }
        assert_eq!(view.extra["produced_by"], json!({"mode": "rule"}));
        let technical = &record.agent_decisions[AgentName::Technical.as_str()];
        assert!(technical.signal.is_some() && technical.confidence.is_some());
        assert!(technical.extra.get("risk_score").is_none());
        let doc = serde_json::to_value(view).unwrap();
        assert!(
            doc.get("signal").is_none() && doc.get("confidence").is_none(),
            "{doc}"
        );
    }

    #[test]
    fn produced_by_says_how_each_report_was_made() {
        use tradegraph_agents::reports::{AgentMode, RuleReason};
        let mut state = tradegraph_agents::fixture::state(&Instrument::btc_usdt()).unwrap();
        if let Some(r) = state.technical.as_mut() {
            r.mode = AgentMode::Llm {
                provider: "openai".into(),
                model: "gpt".into(),
                spend: None,
            };
        }
        if let Some(r) = state.fundamental.as_mut() {
            r.mode = AgentMode::Rule {
                reason: RuleReason::ModelFailed("openai: timeout".into()),
            };
        }
        let record = decision(&state, &DecisionId::new("d1"), 1);
        let produced_by =
            |agent: AgentName| record.agent_decisions[agent.as_str()].extra["produced_by"].clone();
        assert_eq!(
            produced_by(AgentName::Technical),
            json!({"mode": "llm", "provider": "openai", "model": "gpt"})
        );
        assert_eq!(
            produced_by(AgentName::Fundamental),
            json!({"mode": "rule", "reason": "openai: timeout"})
        );
        assert_eq!(produced_by(AgentName::Sentiment), json!({"mode": "rule"}));
    }

    /// A debate turn the rules wrote after the model's answer broke the schema, or after no
    /// answer came in time, is recorded as such, and the replay of the record agrees with it
    /// (it read `unknown` and flagged a faithful record as a mismatch).
    #[tokio::test]
    async fn a_debate_turn_the_rules_wrote_replays_as_recorded() {
        use tradegraph_agents::reports::{AgentMode, Exchange, RuleReason};
        let mut state = tradegraph_agents::fixture::state(&Instrument::btc_usdt()).unwrap();
        assert!(state.debate.len() >= 2, "{:?}", state.debate);
        for (i, entry) in state.debate.iter_mut().enumerate() {
            entry.turn.mode = AgentMode::Rule {
                reason: RuleReason::ModelFailed("the answer broke the schema".into()),
            };
            entry.turn.exchange = Some(Box::new(Exchange {
                prompt_hash: format!("sha256:{i:02}"),
                // The first: an answer outside the schema; the others: none in time.
                answer: (i == 0).then(|| "{\"argument\": 5}".to_owned()),
            }));
        }
        let record = decision(&state, &DecisionId::new("d1"), 1);
        let turns = record.extra["debate"].as_array().unwrap();
        assert_eq!(turns[0]["produced_by"]["mode"], "rule", "{turns:?}");
        assert_eq!(
            turns[0]["prompt_version"],
            json!(state.debate[0].turn.prompt_version)
        );
        let stores = tradegraph_store::Stores::memory();
        let replayed = crate::audit::replay(&record, stores.prompts.as_ref(), None)
            .await
            .unwrap();
        let debate: Vec<_> = replayed
            .reports
            .iter()
            .filter(|r| r.round.is_some())
            .collect();
        assert_eq!(debate.len(), state.debate.len(), "{replayed:#?}");
        assert!(
            debate.iter().all(|r| r.same && r.recorded_by == "rule"),
            "{replayed:#?}"
        );
        // A record written before the turns said so: each side's last turn is read from the
        // side's view.
        let mut older = record.clone();
        for turn in older
            .extra
            .get_mut("debate")
            .unwrap()
            .as_array_mut()
            .unwrap()
        {
            turn.as_object_mut().unwrap().remove("produced_by");
        }
        let replayed = crate::audit::replay(&older, stores.prompts.as_ref(), None)
            .await
            .unwrap();
        assert!(replayed.same, "{replayed:#?}");
    }
}
