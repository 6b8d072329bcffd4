//! `tradegraph backtest` states how it executed (fees, slippage, when market orders fill) in
//! its printed summary and in `summary.json`, fills at the next bar's open unless
//! `--fill-timing immediate` says otherwise, and refuses a fill timing it does not know.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary in the repository's root (the bundled data is its default), no keys.
fn tradegraph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(args)
        .current_dir(root())
        .env_clear()
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tradegraph-cli-fill-timing-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_backtest_fills_at_the_next_open_and_says_so_in_its_summary_and_report() {
    let dir = scratch("next-open");
    let out = tradegraph(&[
        "backtest",
        "--instrument",
        "btc",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("execution: fees binance_spot (maker 10 bp, taker 10 bp), slippage 2 bp, market orders fill at the next bar's open"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let costs = &summary["costs"];
    assert_eq!(costs["fees"]["fill_timing"], "next_open", "{costs}");
    assert_eq!(costs["fees"]["fees"]["model"], "binance_spot", "{costs}");
    assert_eq!(costs["fees"]["slippage"]["model"], "bps", "{costs}");
    assert!(
        costs["fills"].as_str().unwrap().contains("next bar's open"),
        "{costs}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fill_timing_immediate_is_the_opt_in_old_behaviour() {
    let out = tradegraph(&[
        "backtest",
        "--instrument",
        "btc",
        "--fill-timing",
        "immediate",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains(
            "market orders fill at once at the last price (the decision bar's close in a backtest)"
        ),
        "{stdout}"
    );
}

#[test]
fn an_unknown_fill_timing_is_a_usage_error_naming_the_choices() {
    let out = tradegraph(&["backtest", "--instrument", "btc", "--fill-timing", "later"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--fill-timing"), "{stderr}");
    assert!(
        stderr.contains("`later` is not one of next_open, immediate"),
        "{stderr}"
    );
}
