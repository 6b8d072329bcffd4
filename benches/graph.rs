//! Engine overhead on a graph shaped like the trading flow: 4 parallel analysts, join, bull/bear
//! debate of 2 rounds, risk, portfolio manager, conditional execution, learning (12 nodes run).
//!
//! Run: `cargo bench -p tradegraph-graph --bench graph`. Each figure is printed beside its target.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tradegraph_graph::{
    node_fn, Command, CompiledGraph, GraphState, Loop, MemoryCheckpointer, Node, RunConfig,
    StateGraph, END, START,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Signal {
    Buy,
    Sell,
    Hold,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Report {
    signal: Signal,
    confidence: f64,
    reasoning: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, GraphState)]
struct Trading {
    #[reducer(merge)]
    reports: BTreeMap<String, Report>,
    #[reducer(append)]
    debate: Vec<Report>,
    risk: Option<Report>,
    decision: Option<Report>,
    #[reducer(append)]
    orders: Vec<String>,
    lessons: u32,
}

const NODES_PER_RUN: u64 = 12;
/// Steps: analysts, bull, bear, bull, bear, risk, pm, execution, learning.
const STEPS_PER_RUN: u64 = 9;

fn report(signal: Signal) -> Report {
    Report {
        signal,
        confidence: 0.72,
        reasoning: "x".repeat(200),
    }
}

fn agent(kind: &'static str, latency: Duration) -> impl Node<Trading> {
    node_fn(move |_s: Arc<Trading>, _ctx| async move {
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let update = match kind {
            "bull" | "bear" => TradingUpdate::default().debate(vec![report(Signal::Buy)]),
            "risk" => TradingUpdate::default().risk(Some(report(Signal::Hold))),
            "pm" => TradingUpdate::default().decision(Some(report(Signal::Buy))),
            "execution" => TradingUpdate::default().orders(vec!["BTCUSDT-1".to_owned()]),
            "learning" => TradingUpdate::default().lessons(1u32),
            analyst => {
                TradingUpdate::default().reports([(analyst.to_owned(), report(Signal::Sell))])
            }
        };
        Ok(Command::update(update))
    })
}

fn trading_graph(latency: Duration) -> CompiledGraph<Trading> {
    let analysts = ["technical", "fundamental", "sentiment", "macro"];
    let mut g = StateGraph::<Trading>::new("trading");
    for a in analysts {
        g.add_node(a, agent(a, latency));
    }
    for n in ["bull", "bear", "risk", "pm"] {
        g.add_node(n, agent(n, latency));
    }
    g.add_node("execution", agent("execution", Duration::ZERO))
        .add_node("learning", agent("learning", Duration::ZERO))
        .add_fan_out(START, analysts)
        .add_join(analysts, "bull")
        .add_edge("bull", "bear")
        .add_loop(
            Loop::new("debate", "bull", "bear")
                .max_rounds(2)
                .exit("risk"),
        )
        .add_edge("risk", "pm")
        .add_conditional_edges(
            "pm",
            "act",
            |s: &Trading| match s.decision.as_ref().map(|d| d.signal) {
                Some(Signal::Hold) | None => "learning",
                _ => "execution",
            },
            ["execution", "learning"],
        )
        .add_edge("execution", "learning")
        .add_edge("learning", END);
    g.compile().expect("the trading graph compiles")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// Mean time of one run, measured over `runs` runs after a warm-up.
fn mean_run(rt: &tokio::runtime::Runtime, graph: &CompiledGraph<Trading>, runs: u32) -> Duration {
    // One thread, as a bot runs: the memory store keeps its newest checkpoints only.
    let run = || {
        rt.block_on(graph.invoke(Trading::default(), RunConfig::new().thread("bench")))
            .unwrap()
    };
    for _ in 0..runs / 10 + 1 {
        run();
    }
    let started = Instant::now();
    for _ in 0..runs {
        let out = run();
        assert_eq!(out.steps, STEPS_PER_RUN);
    }
    started.elapsed() / runs
}

fn overhead(c: &mut Criterion) {
    let rt = runtime();
    let plain = trading_graph(Duration::ZERO);
    let saved = trading_graph(Duration::ZERO).with_checkpointer(MemoryCheckpointer::keep_last(64));

    let without = mean_run(&rt, &plain, 20_000);
    let with = mean_run(&rt, &saved, 20_000);
    let per_node = without.as_secs_f64() * 1e6 / NODES_PER_RUN as f64;
    // One checkpoint per step plus the input one; the cost includes the per-node write records.
    let per_checkpoint =
        (with.saturating_sub(without)).as_secs_f64() * 1e6 / (STEPS_PER_RUN + 1) as f64;
    println!("graph overhead per node executed: {per_node:.2} us (target <= 2 us; LangGraph 1.2 ~190 us)");
    println!("in-memory checkpoint per superstep: {per_checkpoint:.2} us (target <= 5 us; LangGraph InMemorySaver ~165 us)");

    // The same, recording every node's duration into the Prometheus recorder the bot installs.
    install_prometheus();
    let recorded = mean_run(&rt, &plain, 20_000);
    let per_node = recorded.as_secs_f64() * 1e6 / NODES_PER_RUN as f64;
    println!("graph overhead per node executed, Prometheus recorder installed: {per_node:.2} us (target <= 2 us)");

    let mut group = c.benchmark_group("trading_graph");
    group.throughput(Throughput::Elements(NODES_PER_RUN));
    group.bench_function("run_no_checkpointer", |b| {
        b.iter(|| {
            rt.block_on(plain.invoke(Trading::default(), RunConfig::new()))
                .unwrap()
        })
    });
    group.bench_function("run_memory_checkpointer", |b| {
        b.iter(|| {
            rt.block_on(saved.invoke(Trading::default(), RunConfig::new().thread("bench")))
                .unwrap()
        })
    });
    group.finish();
}

/// Installs the Prometheus recorder as `tradegraph`'s telemetry does (buckets for durations),
/// with a thread that drains its histograms as a scrape would.
fn install_prometheus() {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&[0.0001, 0.001, 0.01, 0.1, 1.0, 10.0])
        .unwrap()
        .install_recorder()
        .unwrap();
    tradegraph_graph::metrics::describe();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        handle.run_upkeep();
    });
}

fn latency(c: &mut Criterion) {
    let rt = runtime();
    let latency = Duration::from_millis(20);
    let graph = trading_graph(latency);
    // The critical path, measured with the same timer: the analysts overlap (one sleep), then
    // bull, bear, bull, bear, risk and pm one after another: 7 sleeps.
    let critical = || {
        rt.block_on(async {
            let started = Instant::now();
            let analysts = (0..4).map(|_| tokio::time::sleep(latency));
            futures::future::join_all(analysts).await;
            for _ in 0..6 {
                tokio::time::sleep(latency).await;
            }
            started.elapsed()
        })
    };
    let runs = 15;
    let mut path = Duration::ZERO;
    let mut wall = Duration::ZERO;
    for _ in 0..runs {
        path += critical();
        let started = Instant::now();
        rt.block_on(graph.invoke(Trading::default(), RunConfig::new()))
            .unwrap();
        wall += started.elapsed();
    }
    let (path, wall) = (path / runs, wall / runs);
    let over = wall.as_secs_f64() * 1e3 - path.as_secs_f64() * 1e3;
    println!(
        "20 ms per agent: wall {:.2} ms vs critical path {:.2} ms: {over:+.3} ms (target < 1 ms; one after another would be {} ms)",
        wall.as_secs_f64() * 1e3,
        path.as_secs_f64() * 1e3,
        20 * 10
    );
    let mut group = c.benchmark_group("trading_graph_latency");
    group.sample_size(10);
    group.bench_function("run_20ms_agents", |b| {
        b.iter(|| {
            rt.block_on(graph.invoke(Trading::default(), RunConfig::new()))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, overhead, latency);
criterion_main!(benches);
