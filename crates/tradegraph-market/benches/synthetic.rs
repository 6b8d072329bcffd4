//! The synthetic market generator: events per second.
//!
//! Run: `cargo bench -p tradegraph-market --bench synthetic`. No target is set by the issue; the
//! figure is printed beside a working target (>= 5 M events/s with books), enough to feed the
//! other benchmarks and a year-long backtest in seconds.
#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Instant;
use tradegraph_market::feed::synthetic::{SyntheticConfig, SyntheticGenerator};

const TARGET_PER_SEC: f64 = 5_000_000.0;
const EVENTS: u64 = 1_000_000;

fn synthetic(c: &mut Criterion) {
    let cases = [
        (
            "BTCUSDT trades",
            SyntheticConfig {
                book: None,
                ..SyntheticConfig::btc_usdt(1)
            },
        ),
        ("BTCUSDT trades + books", SyntheticConfig::btc_usdt(1)),
        (
            "BANKNIFTY trades",
            SyntheticConfig {
                book: None,
                ..SyntheticConfig::bank_nifty(1)
            },
        ),
    ];
    let mut group = c.benchmark_group("synthetic");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(10);
    for (name, config) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let generator =
                    SyntheticGenerator::new(config.clone().with_max_events(EVENTS)).unwrap();
                black_box(generator.count())
            });
        });
    }
    group.finish();

    let config = SyntheticConfig::btc_usdt(1).with_max_events(5 * EVENTS);
    let start = Instant::now();
    let n = SyntheticGenerator::new(config)
        .unwrap()
        .map(black_box)
        .count();
    let per_sec = n as f64 / start.elapsed().as_secs_f64();
    let verdict = if per_sec >= TARGET_PER_SEC {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "synthetic BTCUSDT trades + books: {:.1} M events/s (target >= {:.0} M events/s: {verdict})",
        per_sec / 1e6,
        TARGET_PER_SEC / 1e6
    );
}

criterion_group!(benches, synthetic);
criterion_main!(benches);
