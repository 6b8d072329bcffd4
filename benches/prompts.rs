//! Rendering each agent's prompt from the BTC fixture (every analyst's report, a debate
//! round, the risk assessment, the book, a lesson): building the context from the state and
//! rendering it, as an agent does before each model call. The market moves between cycles (a
//! candle closes: the candles, the price, the time and the indicators change; the reports stay),
//! so what the renders keep from one cycle to the next (a field's wrapping, formatted candles)
//! serves as it would in a run, no more. A replayed LLM backtest renders ten prompts a cycle,
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
use tradegraph_core::{Candle, Decimal, Instrument, Timeframe};

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

/// The fixture's state `cycles` decision cycles on: each cycle a 15-minute candle closes a
/// little higher than the last, and the price, the time and the indicators move with it.
fn cycles(cycles: usize) -> Vec<TradingState> {
    let mut state = fixture::state(&Instrument::btc_usdt()).unwrap();
    (0..cycles)
        .map(|_| {
            let market = &mut state.market;
            let candles = market.candles.entry(Timeframe::M15).or_default();
            let last = candles.last().cloned().unwrap();
            let close = last.close + Decimal::new(1250, 2);
            candles.push(Candle {
                open_time: last.open_time.add_millis(900_000),
                open: last.close,
                high: close,
                low: last.close,
                close,
                ..last
            });
            candles.remove(0);
            market.price = close;
            if let Some(values) = market.indicators.get_mut(&Timeframe::M15) {
                values.rsi = values.rsi.map(|rsi| rsi + 0.25);
                values.ema = values.ema.map(|ema| ema + 3.5);
            }
            state.as_of = state.as_of.add_millis(900_000);
            state.market.as_of = state.as_of;
            state.clone()
        })
        .collect()
}

fn prompts(c: &mut Criterion) {
    let prompts = Prompts::embedded().unwrap();
    let states = cycles(64);
    let mut group = c.benchmark_group("prompt");
    for (agent, round) in CYCLE {
        group.bench_function(format!("{agent} (round {round})"), |b| {
            // a cycle on each time: this agent's prompt is the cycle's first
            let mut at = 0;
            b.iter(|| {
                at = (at + 1) % states.len();
                render(&prompts, black_box(&states[at]), agent, round)
            });
        });
    }
    group.finish();

    // One cycle's prompts, timed directly for the printed figure.
    let runs = 2_000u32;
    let cycle = |n: u32| {
        let state = &states[n as usize % states.len()];
        for (agent, round) in CYCLE {
            black_box(render(&prompts, state, agent, round));
        }
    };
    (0..200).for_each(cycle);
    let started = Instant::now();
    (0..runs).for_each(cycle);
    let per_cycle = started.elapsed().as_secs_f64() * 1e6 / f64::from(runs);
    println!(
        "one cycle's ten prompts: {per_cycle:.1} us ({:.1} us a prompt; target <= {TARGET_CYCLE_US} us a cycle: {})",
        per_cycle / 10.0,
        if per_cycle <= TARGET_CYCLE_US { "met" } else { "MISSED" }
    );
}

criterion_group!(benches, prompts);
criterion_main!(benches);
