//! Rendering each agent's prompt from the BTC fixture (every analyst's report, a debate
//! round, the risk assessment, the book, a lesson): building the context from the state and
//! rendering it, as an agent does before each model call. A replayed LLM backtest renders ten prompts a cycle,
//! and a cycle with models renders one per stage on its critical path, so this cost counts
//! against both the replay target (issue 15) and the overhead over the critical path
//! (issue 16).
//!
//! Run: `cargo bench -p tradegraph-agents --bench prompts`. The per-agent figures and their
//! sum for one cycle's prompts are printed; the target is a cycle's ten prompts in
//! <= 150 us on the reference 2-core machine (a replayed year's 35,040 cycles: about 5 s).
#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Instant;
use tradegraph_agents::prompt::{PromptContext, Prompts};
use tradegraph_agents::{fixture, AgentName, TradingState};
use tradegraph_core::{Instrument, Timeframe};

const TARGET_CYCLE_US: f64 = 150.0;

/// The prompts one cycle of the default graph renders: four analysts, two debate rounds of
/// two sides, the risk manager and the portfolio manager (the learning agent asks only when a
/// trade closed).
const CYCLE: [(AgentName, u32); 10] = [
    (AgentName::Technical, 0),
    (AgentName::Fundamental, 0),
    (AgentName::Sentiment, 0),
    (AgentName::Macro, 0),
    (AgentName::Bull, 1),
    (AgentName::Bear, 1),
    (AgentName::Bull, 2),
    (AgentName::Bear, 2),
    (AgentName::RiskManager, 0),
    (AgentName::PortfolioManager, 0),
];

fn render(prompts: &Prompts, state: &TradingState, agent: AgentName, round: u32) -> usize {
    let context = PromptContext::for_agent(agent, state, Timeframe::M15, round).unwrap();
    let prompt = prompts.render_owned(agent, context).unwrap();
    prompt.system.len() + prompt.user.len()
}

fn prompts(c: &mut Criterion) {
    let prompts = Prompts::embedded().unwrap();
    let state = fixture::state(&Instrument::btc_usdt()).unwrap();
    let mut group = c.benchmark_group("prompt");
    for (agent, round) in CYCLE {
        group.bench_function(format!("{agent} (round {round})"), |b| {
            b.iter(|| render(&prompts, black_box(&state), agent, round));
        });
    }
    group.finish();

    // One cycle's prompts, timed directly for the printed figure.
    let runs = 2_000u32;
    for _ in 0..200 {
        for (agent, round) in CYCLE {
            black_box(render(&prompts, &state, agent, round));
        }
    }
    let started = Instant::now();
    for _ in 0..runs {
        for (agent, round) in CYCLE {
            black_box(render(&prompts, &state, agent, round));
        }
    }
    let per_cycle = started.elapsed().as_secs_f64() * 1e6 / f64::from(runs);
    println!(
        "one cycle's ten prompts: {per_cycle:.1} us ({:.1} us a prompt; target <= {TARGET_CYCLE_US} us a cycle: {})",
        per_cycle / 10.0,
        if per_cycle <= TARGET_CYCLE_US { "met" } else { "MISSED" }
    );
}

criterion_group!(benches, prompts);
criterion_main!(benches);
