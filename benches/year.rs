//! One year of one-minute BTC bars (525,600), a decision every 15 minutes (35,040 cycles of
//! `graphs/trading.yaml` in rule mode), through the whole bot: replay, aggregation, indicators,
//! the paper broker on every bar, the risk guard, execution and learning.
//!
//! Run: `cargo bench -p tradegraph --bench year`. Target: <= 10 s for the year.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::{Duration, Instant};
use tradegraph::engine::{backtest, BotConfig, Mode};
use tradegraph_agents::node::{Brain, DEFAULT_GRAPH};
use tradegraph_core::{Instrument, Timeframe};

#[path = "support/year_data.rs"]
mod year_data;
use year_data::year_file;

const TARGET_SECS: f64 = 10.0;

fn config() -> BotConfig {
    let instrument = Instrument::btc_usdt();
    let cash = tradegraph::config::default_cash(instrument.currency);
    let mut config = BotConfig::new(
        instrument,
        Brain::rules_only().unwrap(),
        cash,
        Mode::Backtest,
    );
    config.graph_yaml = DEFAULT_GRAPH.to_owned();
    config.decision_every = Timeframe::M15;
    config
}

fn year(c: &mut Criterion) {
    let data = year_file();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let summary = runtime
        .block_on(Box::pin(backtest(config(), &data, |_| {})))
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    let verdict = if secs <= TARGET_SECS { "met" } else { "MISSED" };
    println!(
        "one year of 1-minute bars, a decision every 15 min ({} cycles, {} trades): {secs:.2} s (target <= {TARGET_SECS:.0} s: {verdict})",
        summary.cycles, summary.trades
    );

    let mut group = c.benchmark_group("year");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("BTC 2024, 1-minute bars, rule mode", |b| {
        b.iter(|| {
            runtime
                .block_on(Box::pin(backtest(config(), &data, |_| {})))
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, year);
criterion_main!(benches);
