//! The decision log's record of a cycle: every agent's view, in `agent_decisions`.

use serde_json::json;
use tradegraph_agents::reports::{AgentMode, AgentReport, Stance};
use tradegraph_agents::TradingState;
use tradegraph_core::order::DecisionId;
use tradegraph_store::{AgentDecision, DecisionRecord};

fn view<T>(
    report: &AgentReport<T>,
    signal: String,
    confidence: f64,
    reasoning: String,
) -> AgentDecision {
    let mut d = AgentDecision::new(signal, confidence, reasoning);
    let mode = match &report.mode {
        AgentMode::Llm { provider, model } => {
            json!({"mode": "llm", "provider": provider, "model": model})
        }
        AgentMode::Rule { reason } => json!({"mode": "rule", "reason": reason}),
    };
    d.extra.insert("produced_by".into(), mode);
    d.extra
        .insert("prompt_version".into(), json!(report.prompt_version));
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
            "technical",
            view(r, t.signal.to_string(), t.confidence, t.reasoning.clone()),
        );
    }
    if let Some(r) = &state.fundamental {
        let f = &r.report;
        record = record.agent(
            "fundamental",
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
        record = record.agent("sentiment", v);
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
        record = record.agent("macro", v);
    }
    if !state.debate.is_empty() {
        // The whole bull/bear transcript, turn by turn (`agent_decisions` keeps each side's last).
        let turns: Vec<_> = state
            .debate
            .iter()
            .map(|e| {
                json!({
                    "round": e.round,
                    "stance": e.stance,
                    "argument": e.turn.report.argument,
                    "points": e.turn.report.points,
                    "rebuttal": e.turn.report.rebuttal,
                    "conviction": e.turn.report.conviction,
                })
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
            record = record.agent(
                if stance == Stance::Bull {
                    "bull"
                } else {
                    "bear"
                },
                v,
            );
        }
    }
    if let Some(r) = &state.risk {
        let k = &r.report;
        let mut v = view(r, "RISK".into(), 1.0 - k.risk_score, k.warnings.join("; "));
        v.extra.insert("risk_score".into(), json!(k.risk_score));
        v.extra
            .insert("max_position_pct".into(), json!(k.max_position_pct));
        record = record.agent("risk_manager", v);
    }
    if let Some(r) = &state.decision {
        let d = &r.report;
        let action = serde_json::to_value(d.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut v = view(r, action.clone(), d.confidence, d.rationale.clone());
        v.extra.insert("size_pct".into(), json!(d.size_pct));
        record = record.agent("portfolio_manager", v);
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
