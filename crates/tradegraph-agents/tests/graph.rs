//! The default graph from `graphs/trading.yaml`, run on the fixture market: rule mode with no
//! model, and the model path with its fallbacks.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use tradegraph_agents::model::{ModelAnswer, ModelFailure, ReportModel};
use tradegraph_agents::node::{registry, Brain, Desk, DEFAULT_GRAPH};
use tradegraph_agents::prompt::RenderedPrompt;
use tradegraph_agents::reports::{AgentMode, RuleReason, Signal, Spend, Stance};
use tradegraph_agents::{fixture, AgentName, TradingState};
use tradegraph_core::Instrument;
use tradegraph_graph::{yaml, RunConfig, RunStatus};

async fn fresh_state(instrument: &Instrument, desk: &Desk) -> TradingState {
    let (market, inputs) = fixture::market(instrument).unwrap();
    let mut state = TradingState::new(instrument.clone(), market, inputs);
    state.account = Some(desk.broker().account().await.unwrap());
    state
}

async fn run(brain: &Brain, instrument: &Instrument) -> TradingState {
    let (desk, _) = fixture::paper_desk(instrument, fixture::sample_cash(instrument)).unwrap();
    let graph = yaml::load_str(DEFAULT_GRAPH, "trading.yaml", &registry(brain, &desk)).unwrap();
    let out = graph
        .invoke(fresh_state(instrument, &desk).await, RunConfig::new())
        .await
        .unwrap();
    assert_eq!(out.status, RunStatus::Finished);
    out.state
}

#[tokio::test]
async fn rule_mode_fills_every_report_and_debates_two_rounds() {
    let brain = Brain::rules_only().unwrap();
    for instrument in [
        Instrument::btc_usdt(),
        Instrument::bank_nifty(),
        Instrument::nifty_50(),
    ] {
        let s = run(&brain, &instrument).await;
        assert!(s.technical.is_some() && s.fundamental.is_some());
        assert!(s.sentiment.is_some() && s.macro_view.is_some());
        let turns: Vec<(u32, Stance)> = s.debate.iter().map(|e| (e.round, e.stance)).collect();
        assert_eq!(
            turns,
            [
                (1, Stance::Bull),
                (1, Stance::Bear),
                (2, Stance::Bull),
                (2, Stance::Bear)
            ]
        );
        // Both sides speak at once: in the first round neither has anyone to answer, in the
        // second each answers the other's first turn.
        assert!(
            s.debate[0].turn.report.rebuttal.is_empty()
                && s.debate[1].turn.report.rebuttal.is_empty(),
            "nobody spoke before the first round"
        );
        for (at, other) in [(2, "bear"), (3, "bull")] {
            let rebuttal = &s.debate[at].turn.report.rebuttal;
            assert!(rebuttal.starts_with(&format!("The {other} ")), "{rebuttal}");
        }
        let decision = s.decision.as_ref().unwrap();
        assert!(decision.mode.is_rule());
        assert_eq!(s.prompt_versions.len(), 9, "{:?}", s.prompt_versions.keys());
        let verdict = s.verdict.as_ref().expect("the guard always rules");
        assert_eq!(
            verdict.intent.is_some(),
            !s.orders.is_empty(),
            "execution ran iff the guard let an order through"
        );
        assert_eq!(
            s.prompt_versions[&AgentName::Technical],
            brain.prompts().version(AgentName::Technical)
        );
    }
}

/// Answers like a model would, per agent: valid JSON, JSON that breaks the schema, or nothing.
#[derive(Debug, Default)]
struct Scripted {
    asked: Mutex<Vec<AgentName>>,
}

#[async_trait]
impl ReportModel for Scripted {
    async fn answer(
        &self,
        prompt: &RenderedPrompt,
        schema: &serde_json::Value,
    ) -> Result<ModelAnswer, ModelFailure> {
        self.asked.lock().unwrap().push(prompt.agent);
        assert!(
            schema.get("properties").is_some(),
            "the schema goes with the prompt"
        );
        let value = match prompt.agent {
            AgentName::Technical => serde_json::json!({
                "signal": "BUY", "confidence": 0.8, "reasoning": "Higher lows above the EMA.",
                "key_levels": { "support": [1.0], "resistance": [] }
            }),
            // Confidence out of range: the schema check must reject it.
            AgentName::Sentiment => {
                serde_json::json!({ "score": 0.5, "confidence": 7, "drivers": [] })
            }
            AgentName::Macro => {
                return Err(ModelFailure("every provider failed: rate limited".into()))
            }
            _ => return Err(ModelFailure("scripted: no answer".into())),
        };
        Ok(ModelAnswer::new(value, "scripted", "m1"))
    }
}

#[tokio::test]
async fn model_answers_are_schema_checked_and_failures_fall_back_to_rules() {
    let model = Arc::new(Scripted::default());
    let brain = Brain::rules_only().unwrap().with_model(model.clone());
    let s = run(&brain, &Instrument::btc_usdt()).await;

    let technical = s.technical.unwrap();
    assert_eq!(technical.report.signal, Signal::Buy);
    assert_eq!(
        technical.mode,
        AgentMode::Llm {
            provider: "scripted".into(),
            model: "m1".into(),
            spend: Some(Spend::default()),
        }
    );
    match s.sentiment.unwrap().mode {
        AgentMode::Rule {
            reason: RuleReason::ModelFailed(reason),
        } => {
            assert!(
                reason.contains("outside the schema") && reason.contains("/confidence"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    match s.macro_view.unwrap().mode {
        AgentMode::Rule {
            reason: RuleReason::ModelFailed(reason),
        } => assert!(reason.contains("rate limited"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let asked = model.asked.lock().unwrap().clone();
    for agent in [
        AgentName::Technical,
        AgentName::Fundamental,
        AgentName::Sentiment,
        AgentName::Macro,
        AgentName::RiskManager,
        AgentName::PortfolioManager,
    ] {
        assert_eq!(asked.iter().filter(|a| **a == agent).count(), 1, "{agent}");
    }
    assert_eq!(
        asked.iter().filter(|a| **a == AgentName::Bull).count(),
        2,
        "two rounds"
    );
}

#[tokio::test]
async fn graph_variants_change_the_flow_without_rust() {
    let brain = Brain::rules_only().unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../graphs");
    for (file, turns) in [
        ("trading-three-rounds.yaml", 6),
        ("trading-no-debate.yaml", 0),
    ] {
        let nifty = Instrument::nifty_50();
        let (desk, _) = fixture::paper_desk(&nifty, fixture::sample_cash(&nifty)).unwrap();
        let graph = yaml::load_file(format!("{dir}/{file}"), &registry(&brain, &desk)).unwrap();
        let out = graph
            .invoke(fresh_state(&nifty, &desk).await, RunConfig::new())
            .await
            .unwrap();
        assert_eq!(out.state.debate.len(), turns, "{file}");
        assert!(out.state.decision.is_some(), "{file}");
    }
}

/// Buys on every portfolio-manager call; everything else falls back to rules.
#[derive(Debug)]
struct AlwaysBuy;

#[async_trait]
impl ReportModel for AlwaysBuy {
    async fn answer(
        &self,
        prompt: &RenderedPrompt,
        _: &serde_json::Value,
    ) -> Result<ModelAnswer, ModelFailure> {
        if prompt.agent != AgentName::PortfolioManager {
            return Err(ModelFailure("rules".into()));
        }
        Ok(ModelAnswer::new(
            serde_json::json!({"action": "BUY", "size_pct": 2.0, "stop_loss": null,
                "take_profit": null, "trailing_pct": null, "confidence": 0.7, "rationale": "test"}),
            "script",
            "pm",
        ))
    }
}

#[tokio::test]
async fn execution_refuses_a_verdict_from_another_cycle() {
    use tradegraph_agents::node::ExecutionNode;
    use tradegraph_graph::{Node, NodeContext};
    let btc = Instrument::btc_usdt();
    let (desk, _) = fixture::paper_desk(&btc, fixture::sample_cash(&btc)).unwrap();
    let brain = Brain::rules_only().unwrap().with_model(Arc::new(AlwaysBuy));
    let graph = yaml::load_str(DEFAULT_GRAPH, "trading.yaml", &registry(&brain, &desk)).unwrap();
    let out = graph
        .invoke(fresh_state(&btc, &desk).await, RunConfig::new())
        .await
        .unwrap();
    let mut state = out.state;
    assert!(
        state.verdict.as_ref().unwrap().intent.is_some(),
        "the guard let the buy through"
    );
    assert_eq!(state.orders.len(), 1);

    // The same verdict, carried into the next cycle (a resume with a stale state), is refused.
    state.as_of = state.as_of.add_millis(15 * 60_000);
    let result = ExecutionNode::new(desk.clone())
        .run(Arc::new(state), NodeContext::detached("execution"))
        .await;
    let Err(err) = result else {
        panic!("a stale verdict must not reach the broker")
    };
    assert!(err.to_string().contains("not this cycle's"), "{err}");
    assert_eq!(
        desk.broker().fills_since(0).await.unwrap().len(),
        1,
        "no second order"
    );
}
