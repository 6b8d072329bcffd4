//! One year of one-minute BTC bars (525,600), a decision every 15 minutes (35,040 cycles of
//! `graphs/trading.yaml` in rule mode), as a user runs it: `tradegraph backtest --out DIR`, the
//! whole bot (replay, aggregation, indicators, the paper broker on every bar, the risk guard,
//! execution, learning), its baselines (buy-and-hold on the same bars) and every report file
//! (`summary.json`, the CSVs, `decisions.jsonl`, the SVG plots, `report.html`).
//!
//! Run: `cargo bench -p tradegraph --bench year_report`. Target: <= 5 s for the year.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "support/year_data.rs"]
mod year_data;
use year_data::year_file;

const TARGET_SECS: f64 = 5.0;

/// `tradegraph backtest --instrument btc --data DATA [--out DIR]` (DIR emptied first), with no
/// keys (rule mode), decisions every 15 minutes; its wall time in seconds.
fn run(data: &Path, dir: Option<&Path>) -> f64 {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
    command
        .args(["backtest", "--instrument", "btc", "--data"])
        .arg(data)
        .current_dir(std::env::temp_dir())
        .env_clear();
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
        command.arg("--out").arg(dir);
    }
    let start = Instant::now();
    let out = command.output().unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    secs
}

fn year_report(c: &mut Criterion) {
    let data = year_file();
    let dir = std::env::temp_dir().join(format!(
        "tradegraph-bench-year-report-{}",
        std::process::id()
    ));
    // the run alone, then the run with its baselines and report files: the difference is
    // what --out costs
    let plain = run(&data, None);
    let secs = run(&data, Some(&dir));
    let verdict = if secs <= TARGET_SECS { "met" } else { "MISSED" };
    let size = |name: &str| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len()) / 1024;
    println!(
        "one year of 1-minute bars: without --out {plain:.2} s; with --out {secs:.2} s (target <= {TARGET_SECS:.0} s: {verdict}), so the baselines and report files add {:.2} s (decisions.jsonl {} KiB, equity.csv {} KiB, report.html {} KiB)",
        secs - plain,
        size("decisions.jsonl"),
        size("equity.csv"),
        size("report.html"),
    );

    let mut group = c.benchmark_group("year_report");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("BTC 2024, 1-minute bars, rule mode, --out", |b| {
        b.iter(|| run(&data, Some(&dir)));
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    // the workspace's target folder, whatever criterion finds (or fails to find) from here
    config = Criterion::default().output_directory(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion"),
    );
    targets = year_report
}
criterion_main!(benches);
