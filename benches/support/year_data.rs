//! The year the year benches share (`year.rs`, `year_report.rs`, `replay_year.rs`, each
//! including this file with `#[path]`): a seeded random walk of one-minute BTC bars for 2024,
//! written once to a temporary CSV, so every bench runs on the same bars.

use std::io::Write;
use std::path::PathBuf;
use tradegraph_core::Timestamp;

/// One-minute bars in the year.
pub(crate) const MINUTES: i64 = 525_600;

/// The year's CSV (`timestamp,open,high,low,close,volume`), written on first use.
pub(crate) fn year_file() -> PathBuf {
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
