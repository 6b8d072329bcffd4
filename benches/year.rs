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
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tradegraph::engine::{backtest, BotConfig, Mode};
use tradegraph_agents::node::{Brain, DEFAULT_GRAPH};
use tradegraph_core::{Instrument, Timeframe, Timestamp};

const TARGET_SECS: f64 = 10.0;
const MINUTES: i64 = 525_600;

/// A seeded random walk of one-minute bars for 2024, written once to a temporary CSV.
fn year_file() -> PathBuf {
    let path = std::env::temp_dir().join("tradegraph-bench-year-btc-1m.csv");
    if path.exists() {
        return path;
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "timestamp,open,high,low,close,volume").unwrap();
    let start: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price: f64 = 42_000.0;
    for m in 0..MINUTES {
        let open = price;
        price *= 1.0 + (next() - 0.5) * 0.002;
        let close = price;
        let high = open.max(close) * (1.0 + next() * 0.0005);
        let low = open.min(close) * (1.0 - next() * 0.0005);
        let ts = start.add_millis(m * 60_000);
        writeln!(
            out,
            "{ts},{open:.2},{high:.2},{low:.2},{close:.2},{:.4}",
            1.0 + next() * 9.0
        )
        .unwrap();
    }
    out.flush().unwrap();
    path
}

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
