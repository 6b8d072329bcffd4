//! Decoding one Binance trade frame (combined-stream envelope, exact decimals).
//!
//! Run: `cargo bench -p tradegraph-market --bench binance`. The figure is printed beside its
//! target (>= 2 M messages/s on the reference 2-core machine).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Instant;
use tradegraph_core::Timestamp;
use tradegraph_market::feed::binance::{Decoded, Decoder};

const TARGET_PER_SEC: f64 = 2_000_000.0;

/// A frame as Binance sends it for BTCUSDT.
const TRADE: &str = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1735689600123,"s":"BTCUSDT","t":4375001234,"p":"93512.34000000","q":"0.00123000","T":1735689600122,"m":true,"M":true}}"#;
const AGG_TRADE: &str = r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1735689600123,"s":"BTCUSDT","a":3312345678,"p":"93512.34000000","q":"0.00123000","f":4375001230,"l":4375001234,"T":1735689600122,"m":false,"M":true}}"#;

fn decode(decoder: &Decoder, frame: &str) -> Decoded {
    decoder.decode(frame, Timestamp::EPOCH).unwrap()
}

fn trades(c: &mut Criterion) {
    let decoder = Decoder::new("BTCUSDT");
    assert!(matches!(decode(&decoder, TRADE), Decoded::Event(_)));
    let mut group = c.benchmark_group("binance");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decode trade", |b| {
        b.iter(|| decode(&decoder, black_box(TRADE)));
    });
    group.bench_function("decode aggTrade", |b| {
        b.iter(|| decode(&decoder, black_box(AGG_TRADE)));
    });
    group.finish();

    // The figure against its target, measured with a plain loop after the warm-up above.
    let runs = 2_000_000u32;
    let start = Instant::now();
    for _ in 0..runs {
        black_box(decode(&decoder, black_box(TRADE)));
    }
    let per_sec = f64::from(runs) / start.elapsed().as_secs_f64();
    let verdict = if per_sec >= TARGET_PER_SEC {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "binance trade decode: {:.2} M msg/s (target >= {:.0} M msg/s: {verdict})",
        per_sec / 1e6,
        TARGET_PER_SEC / 1e6
    );
}

criterion_group!(benches, trades);
criterion_main!(benches);
