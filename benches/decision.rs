//! One decision cycle of the default graph (`graphs/trading.yaml`) in rule mode: four analysts
//! in parallel, a two-round debate, the risk manager, the portfolio manager, the risk guard,
//! execution against the paper broker when the guard lets an order through, and learning, on the
//! BTC fixture market (50 candles per timeframe, indicators, news).
//!
//! Run: `cargo bench -p tradegraph-agents --bench decision`. Target: <= 50 us per cycle.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Instant;
use tradegraph_agents::node::{registry, Brain, DEFAULT_GRAPH};
use tradegraph_agents::{fixture, TradingState};
use tradegraph_core::Instrument;
use tradegraph_graph::{yaml, RunConfig};

const TARGET_MICROS: f64 = 50.0;

fn decision(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let brain = Brain::rules_only().unwrap();
    let instrument = Instrument::btc_usdt();
    // This bench belongs to tradegraph-agents, which cannot see the runtime's `default_cash`;
    // `sample_cash` mirrors it (the runtime's `sample_cash_mirrors_the_default_cash` test).
    let (desk, _) = fixture::paper_desk(&instrument, fixture::sample_cash(&instrument)).unwrap();
    let graph = yaml::load_str(DEFAULT_GRAPH, "trading.yaml", &registry(&brain, &desk)).unwrap();
    let (market, inputs) = fixture::market(&instrument).unwrap();
    let mut state = TradingState::new(instrument, market, inputs);
    state.account = Some(runtime.block_on(desk.broker().account()).unwrap());
    // The book, as the engine sets it at every cycle's start.
    let orders = runtime.block_on(desk.broker().open_orders()).unwrap();
    state.book = desk.book(&state, orders, brain.rules().timeframe);

    let mut group = c.benchmark_group("decision");
    group.bench_function("one rule-mode cycle, default graph, BTC fixture", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(graph.invoke(state.clone(), RunConfig::new()).await.unwrap())
        });
    });
    group.finish();

    let cycles = 20_000u32;
    let start = Instant::now();
    runtime.block_on(async {
        for _ in 0..cycles {
            black_box(graph.invoke(state.clone(), RunConfig::new()).await.unwrap());
        }
    });
    let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(cycles);
    let verdict = if micros <= TARGET_MICROS {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "one decision cycle, rule mode: {micros:.1} us (target <= {TARGET_MICROS:.0} us: {verdict})"
    );
}

criterion_group!(benches, decision);
criterion_main!(benches);
