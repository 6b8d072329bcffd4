//! Ticks into candles of all five timeframes at once.
//!
//! Run: `cargo bench -p tradegraph-market --bench aggregate`. The figure is printed beside its
//! target (>= 20 M ticks/s on the reference 2-core machine).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rust_decimal::Decimal;
use std::hint::black_box;
use std::time::Instant;
use tradegraph_core::{Instrument, Timestamp};
use tradegraph_market::aggregate::CandleAggregator;

const TARGET_PER_SEC: f64 = 20_000_000.0;
const TICKS: usize = 1_000_000;

/// A day and a bit of BTC trades: ~11 a second, a random walk on a 0.01 grid, sizes with three
/// decimals, trade ids rising. Deterministic (a fixed LCG), so runs compare.
fn ticks() -> Vec<(Timestamp, Decimal, Decimal, u64)> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    let mut ts: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
    let mut cents: i64 = 4_200_000;
    (0..TICKS)
        .map(|i| {
            ts = ts.add_millis((next() % 180) as i64);
            cents += (next() % 21) as i64 - 10;
            let size = Decimal::new((next() % 5_000 + 1) as i64, 3);
            (ts, Decimal::new(cents, 2), size, 1_000 + i as u64)
        })
        .collect()
}

fn run(ticks: &[(Timestamp, Decimal, Decimal, u64)], out: &mut Vec<tradegraph_core::Candle>) {
    let btc = Instrument::btc_usdt();
    let mut agg = CandleAggregator::new(btc.symbol, btc.session);
    for &(ts, price, size, id) in ticks {
        agg.on_price(ts, price, size, Some(id), out);
        // A consumer drains the closed candles as they come.
        out.clear();
    }
}

fn aggregate(c: &mut Criterion) {
    let ticks = ticks();
    let mut group = c.benchmark_group("aggregate");
    group.throughput(Throughput::Elements(TICKS as u64));
    group.sample_size(20);
    group.bench_function("1M BTC trades -> 1m/5m/15m/1h/1d candles", |b| {
        b.iter_batched_ref(
            || Vec::with_capacity(16),
            |out| run(black_box(&ticks), out),
            BatchSize::SmallInput,
        );
    });
    group.finish();

    // The figure against its target, measured with a plain loop after the warm-up above.
    let rounds = 10;
    let mut out = Vec::with_capacity(16);
    let start = Instant::now();
    for _ in 0..rounds {
        run(black_box(&ticks), &mut out);
    }
    let per_sec = (rounds * TICKS) as f64 / start.elapsed().as_secs_f64();
    let verdict = if per_sec >= TARGET_PER_SEC {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "ticks -> candles (all 5 timeframes): {:.1} M ticks/s (target >= {:.0} M ticks/s: {verdict})",
        per_sec / 1e6,
        TARGET_PER_SEC / 1e6
    );
}

criterion_group!(benches, aggregate);
criterion_main!(benches);
