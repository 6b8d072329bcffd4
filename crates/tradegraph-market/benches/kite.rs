//! Decoding Kite binary packets (exact decimals, no allocation), and reading the instruments
//! dump a Kite bot reads at every start and daily roll.
//!
//! Run: `cargo bench -p tradegraph-market --bench kite`. The figures are printed beside their
//! targets (>= 20 M full 184-byte packets/s; an NFO-sized dump of 90,000 rows read in
//! <= 250 ms, on the reference 2-core machine).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Instant;
use tradegraph_market::feed::kite::{
    read_instruments, split, KitePacket, Message, PacketKind, INSTRUMENT_COLUMNS,
};

const TARGET_PER_SEC: f64 = 20_000_000.0;

/// Rows in the dump read: about `GET /instruments/NFO`'s.
const DUMP_ROWS: u32 = 90_000;

/// The most reading that dump may take, in milliseconds.
const DUMP_TARGET_MS: f64 = 250.0;

/// An NFO-like dump: futures and options of a few underlyings over a few expiries.
fn nfo_dump(rows: u32) -> String {
    let mut text = INSTRUMENT_COLUMNS.join(",");
    text.push('\n');
    for i in 0..rows {
        let strike = 20_000 + 50 * (i % 400);
        let kind = if i % 2 == 0 { "CE" } else { "PE" };
        text.push_str(&format!(
            "{token},{exchange},NIFTY25JAN{strike}{kind},\"NIFTY\",0,2025-01-30,{strike},0.05,75,{kind},NFO-OPT,NFO\n",
            token = 10_000_000 + i,
            exchange = 40_000 + i,
        ));
    }
    text
}

/// A full-mode packet of an NFO future with 5+5 depth.
fn full_packet() -> [u8; 184] {
    let mut b = [0u8; 184];
    let token: u32 = (52_226 << 8) | 2;
    let head = [
        token,
        5_123_455,
        15,
        5_118_763,
        1_234_567,
        345_600,
        298_125,
        5_098_005,
        5_140_000,
        5_090_015,
        5_150_095,
        1_718_359_198,
        13_245_300,
        13_500_000,
        12_890_000,
        1_718_359_199,
    ];
    for (i, v) in head.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&v.to_be_bytes());
    }
    for level in 0..10u32 {
        let at = 64 + 12 * level as usize;
        let price = if level < 5 {
            5_123_450 - 5 * level
        } else {
            5_123_500 + 5 * level
        };
        b[at..at + 4].copy_from_slice(&(15 * (level + 1)).to_be_bytes());
        b[at + 4..at + 8].copy_from_slice(&price.to_be_bytes());
        b[at + 8..at + 10].copy_from_slice(&((level + 1) as u16).to_be_bytes());
    }
    b
}

fn packets(c: &mut Criterion) {
    let packet = full_packet();
    assert_eq!(
        KitePacket::decode(&packet).map(|p| p.kind),
        Some(PacketKind::Full)
    );
    let mut frame = vec![0, 20];
    for _ in 0..20 {
        frame.extend_from_slice(&184u16.to_be_bytes());
        frame.extend_from_slice(&packet);
    }
    let mut group = c.benchmark_group("kite");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decode full packet (184 bytes)", |b| {
        b.iter(|| KitePacket::decode(black_box(&packet)));
    });
    group.throughput(Throughput::Elements(20));
    group.bench_function("split + decode a 20-packet full frame", |b| {
        b.iter(|| match split(black_box(&frame)) {
            Ok(Message::Packets(p)) => p.filter(Result::is_ok).count(),
            _ => 0,
        });
    });
    group.finish();

    // The figure against its target, measured with a plain loop after the warm-up above.
    let runs = 20_000_000u32;
    let start = Instant::now();
    for _ in 0..runs {
        black_box(KitePacket::decode(black_box(&packet)));
    }
    let per_sec = f64::from(runs) / start.elapsed().as_secs_f64();
    let verdict = if per_sec >= TARGET_PER_SEC {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "kite full packet decode: {:.1} M packets/s (target >= {:.0} M packets/s: {verdict})",
        per_sec / 1e6,
        TARGET_PER_SEC / 1e6
    );
}

fn instruments(c: &mut Criterion) {
    let text = nfo_dump(DUMP_ROWS);
    let dump = read_instruments(&text).unwrap();
    assert_eq!(dump.instruments.len(), DUMP_ROWS as usize);
    assert!(dump.bad_rows.is_empty());
    let mut group = c.benchmark_group("kite instruments");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(DUMP_ROWS)));
    group.bench_function("read a 90,000-row NFO dump", |b| {
        b.iter(|| read_instruments(black_box(&text)).map(|d| d.instruments.len()));
    });
    group.finish();

    let runs = 3u32;
    let start = Instant::now();
    for _ in 0..runs {
        black_box(read_instruments(black_box(&text)).unwrap());
    }
    let ms = start.elapsed().as_secs_f64() * 1e3 / f64::from(runs);
    let verdict = if ms <= DUMP_TARGET_MS {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "kite instruments dump, {DUMP_ROWS} rows ({:.1} MB): {ms:.0} ms (target <= {DUMP_TARGET_MS:.0} ms: {verdict})",
        text.len() as f64 / 1e6
    );
}

criterion_group!(benches, packets, instruments);
criterion_main!(benches);
