//! All ten indicators (SMA, EMA, RSI, MACD, Bollinger, ATR, Stochastic, ADX, OBV, VWAP) updated
//! for one bar through `IndicatorSet`.
//!
//! Run: `cargo bench -p tradegraph-market --bench indicators`. The figure is printed beside its
//! target (<= 200 ns per bar for all ten on the reference 2-core machine).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Instant;
use tradegraph_core::{Candle, Decimal, Timeframe, Timestamp};
use tradegraph_market::indicators::{Bar, IndicatorConfig, IndicatorSet};

const TARGET_NS: f64 = 200.0;

/// A deterministic random walk of one-minute bars (xorshift, no dependency).
fn bars(n: usize) -> Vec<Bar> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut close = 100.0;
    (0..n)
        .map(|i| {
            let open = close;
            close = (close + (next() - 0.5) * 2.0).max(1.0);
            let high = open.max(close) + next();
            let low = open.min(close) - next();
            let ts = Timestamp::from_secs(1_704_067_200 + 60 * i as i64);
            Bar::new(ts, open, high, low, close, 1.0 + next() * 1000.0)
        })
        .collect()
}

fn candle(bar: &Bar) -> Candle {
    let d = |x: f64| Decimal::from_f64_retain(x).unwrap().round_dp(2);
    let mut candle = Candle::opening(bar.ts, Timeframe::M1, d(bar.open), d(bar.volume));
    (candle.high, candle.low, candle.close) = (d(bar.high), d(bar.low), d(bar.close));
    candle
}

fn indicators(c: &mut Criterion) {
    let series = bars(4096);
    let candles: Vec<Candle> = series.iter().map(candle).collect();
    let mut set = IndicatorSet::new(IndicatorConfig::default()).unwrap();
    // Past every lead-in, so each update computes all ten.
    for bar in &series {
        set.update(bar);
    }

    let mut group = c.benchmark_group("indicators");
    group.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    group.bench_function("all ten, one bar", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            set.update(black_box(&series[i]))
        });
    });
    group.bench_function("all ten, one decimal candle", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            set.update_candle(black_box(&candles[i]))
        });
    });
    group.finish();

    // The figure against its target, measured with a plain loop after the warm-up above.
    let runs = 4_000_000usize;
    let start = Instant::now();
    for k in 0..runs {
        black_box(set.update(black_box(&series[k & 4095])));
    }
    let per_bar_ns = start.elapsed().as_secs_f64() * 1e9 / runs as f64;
    let verdict = if per_bar_ns <= TARGET_NS {
        "met"
    } else {
        "MISSED"
    };
    eprintln!("target: all ten indicators per bar <= {TARGET_NS:.0} ns");
    println!(
        "indicators, all ten per bar: {per_bar_ns:.1} ns (target <= {TARGET_NS:.0} ns: {verdict})"
    );
}

criterion_group!(benches, indicators);
criterion_main!(benches);
