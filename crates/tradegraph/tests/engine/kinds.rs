//! A node kind of the user's own runs in the engine's loop (the guide's "write your own
//! agent"), with the engine's brain and desk; a kind named like a built-in one stops the start.

use super::support::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tradegraph::engine::{paper_broker, Engine, EngineError, Mode};
use tradegraph_agents::node::{AgentNode, DEFAULT_GRAPH};
use tradegraph_agents::reports::{AgentMode, AgentReport, RuleReason};
use tradegraph_agents::rules;
use tradegraph_agents::state::TradingStateUpdate;
use tradegraph_agents::{AgentError, AgentName, TradingState};
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::Timeframe;
use tradegraph_graph::yaml::NoConfig;
use tradegraph_graph::{node_fn, Command};
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::SimulatedClock;
use tradegraph_store::{Query, Stores};

/// The prompt version the user's sentiment node writes.
const OWN: &str = "own_sentiment@1";

#[tokio::test]
async fn a_node_kind_of_the_users_own_runs_in_every_backtest_cycle() {
    let symbol = unique("KIND");
    let stores = Stores::memory();
    let runs = Arc::new(AtomicUsize::new(0));
    // What the engine handed the kinds' function: the decision timeframe its brain carries,
    // and the broker on its desk.
    let handed = Arc::new(Mutex::new(None::<(Timeframe, String)>));
    let (counter, seen) = (runs.clone(), handed.clone());
    let mut config = config(
        btc_as(&symbol),
        ScriptedPm::cycles(Vec::new()),
        RiskLimits::default(),
        stores.clone(),
        Mode::Backtest,
    )
    .with_kinds(move |kinds, brain, desk| {
        *seen.lock().unwrap() = Some((brain.rules().timeframe, desk.broker().name().to_owned()));
        let counter = counter.clone();
        kinds.node("own_sentiment", move |_: NoConfig| {
            let counter = counter.clone();
            Ok(node_fn(move |state: Arc<TradingState>, _ctx| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let report = AgentReport {
                        report: rules::sentiment(&state),
                        mode: AgentMode::Rule {
                            reason: RuleReason::NoModel,
                        },
                        prompt_version: OWN.into(),
                        exchange: None,
                    };
                    Ok(Command::update(
                        TradingStateUpdate::default().sentiment(Some(report)),
                    ))
                }
            }))
        });
    });
    let graph = DEFAULT_GRAPH.replace("kind: sentiment", "kind: own_sentiment");
    assert_ne!(
        graph, DEFAULT_GRAPH,
        "the default graph names the sentiment kind"
    );
    config.graph_yaml = graph;
    config.decision_every = Timeframe::M5;
    let data = bars_file(&symbol, "2024-03-04T00:00:00Z", &flat(100.0, 30));

    let run = finish(start(config, &data).await, stores.clone()).await;

    assert!(run.summary.cycles >= 5, "{} cycles", run.summary.cycles);
    assert_eq!(runs.load(Ordering::SeqCst) as u64, run.summary.cycles);
    for state in &run.cycles {
        let sentiment = state.sentiment.as_ref().expect("a sentiment report");
        assert_eq!(sentiment.prompt_version, OWN);
    }
    let decisions = stores
        .decisions
        .decisions(&Query::new(symbol.as_str()))
        .await
        .unwrap();
    assert_eq!(decisions.len() as u64, run.summary.cycles);
    for decision in &decisions {
        let sentiment = &decisions_agent(decision, AgentName::Sentiment);
        assert_eq!(sentiment.extra["prompt_version"], OWN, "{decision:?}");
    }
    assert_eq!(
        *handed.lock().unwrap(),
        Some((Timeframe::M5, "paper".to_owned()))
    );
}

fn decisions_agent(
    decision: &tradegraph_store::DecisionRecord,
    agent: AgentName,
) -> tradegraph_store::AgentDecision {
    decision
        .agent_decisions
        .get(agent.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("no {agent} in {decision:?}"))
}

#[tokio::test]
async fn a_node_kind_named_like_a_built_in_one_stops_the_start_naming_it() {
    let symbol = unique("CLASH");
    let mut config = config(
        btc_as(&symbol),
        ScriptedPm::cycles(Vec::new()),
        RiskLimits::default(),
        Stores::memory(),
        Mode::Backtest,
    )
    .with_kinds(|kinds, brain, _desk| {
        let brain = brain.clone();
        kinds.node("own_technical", {
            let brain = brain.clone();
            move |_: NoConfig| AgentNode::new(AgentName::Technical, brain.clone())
        });
        kinds.node("risk_guard", move |_: NoConfig| {
            AgentNode::new(AgentName::RiskManager, brain.clone())
        });
    });
    config.graph_yaml = DEFAULT_GRAPH.to_owned();
    let data = bars_file(&symbol, "2024-03-04T00:00:00Z", &flat(100.0, 5));
    let clock = SimulatedClock::default();
    let replay = Replay::new(ReplayConfig {
        clock: clock.clone(),
        ..ReplayConfig::new(data, config.instrument.symbol.clone())
    })
    .unwrap();
    let broker = paper_broker(&config).unwrap();

    let err = Box::pin(Engine::start(config, clock, replay.stream(), broker))
        .await
        .unwrap_err();

    match &err {
        EngineError::Agents(AgentError::KindTaken { kind, built_in }) => {
            assert_eq!(kind, "risk_guard");
            assert!(built_in.iter().any(|k| k == "portfolio_manager"));
            assert!(!built_in.iter().any(|k| k == "own_technical"));
        }
        other => panic!("expected KindTaken, got {other}"),
    }
    let message = err.to_string();
    assert!(message.contains("`risk_guard` is built in"), "{message}");
    assert!(message.contains("another kind"), "{message}");
}

/// The book the agents decide on sees the market as the guard does, on the decision
/// timeframe: a 15-minute bar of 6% made of 5-minute bars of 2% blocks entries (the circuit
/// breaker) when the bot decides every 15 minutes, not when it decides every 5 (the guard then
/// judges 5-minute bars, and so must the book).
#[tokio::test]
async fn the_agents_book_judges_the_breaker_on_the_decision_timeframe() {
    // Flat to 00:30, then 0.4% a minute to 00:45, then flat.
    let mut bars = flat(100.0, 30);
    let mut price = 100.0_f64;
    for _ in 0..15 {
        let next = price * 1.004;
        bars.push((price, next, price, next));
        price = next;
    }
    bars.extend(flat(price, 20));
    let blocked_at = |every: Timeframe, at: &'static str| {
        let bars = bars.clone();
        async move {
            let symbol = unique("BOOKTF");
            let data = bars_file(&symbol, "2024-03-04T00:00:00Z", &bars);
            let mut config = config(
                btc_as(&symbol),
                ScriptedPm::cycles(vec![]),
                RiskLimits::default(),
                Stores::memory(),
                Mode::Backtest,
            );
            config.decision_every = every;
            let run = finish(start(config, &data).await, Stores::memory()).await;
            std::fs::remove_file(data).unwrap();
            let at: tradegraph_core::Timestamp = at.parse().unwrap();
            let state = run
                .cycles
                .iter()
                .find(|s| s.as_of == at)
                .expect("a cycle then");
            let book = state.book.as_ref().expect("the book");
            book.entry_blocks()
                .iter()
                .any(|b| b.contains("circuit breaker"))
        }
    };
    assert!(
        blocked_at(Timeframe::M15, "2024-03-04T00:45:00Z").await,
        "the 15-minute bars trip the breaker"
    );
    // once the 15-minute bar closed too
    assert!(
        !blocked_at(Timeframe::M5, "2024-03-04T00:50:00Z").await,
        "the 5-minute bars are 2%: no breaker on the guard's timeframe"
    );
}
