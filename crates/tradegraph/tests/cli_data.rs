//! `tradegraph data indicators`, run as a user runs it, against TA-Lib's golden values.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tradegraph_core::Timestamp;

/// The golden columns and the JSON fields that carry them.
const FIELDS: [(&str, &str); 15] = [
    ("sma20", "sma"),
    ("ema20", "ema"),
    ("rsi14", "rsi"),
    ("macd", "macd"),
    ("macd_signal", "macd_signal"),
    ("macd_hist", "macd_hist"),
    ("bb_upper", "bb_upper"),
    ("bb_middle", "bb_middle"),
    ("bb_lower", "bb_lower"),
    ("atr14", "atr"),
    ("stoch_k", "stoch_k"),
    ("stoch_d", "stoch_d"),
    ("adx14", "adx"),
    ("obv", "obv"),
    ("vwap", "vwap"),
];

fn tradegraph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Every golden series of the market crate: the bar file as a path relative to this crate, and
/// TA-Lib's values.
fn golden_series() -> Vec<(String, PathBuf)> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tradegraph-market/tests/fixtures/talib");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".golden.csv").map(str::to_owned))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "golden series in {dir:?}: {names:?}");
    names
        .into_iter()
        .map(|name| {
            let bars = format!("../tradegraph-market/tests/fixtures/talib/{name}.csv");
            (bars, dir.join(format!("{name}.golden.csv")))
        })
        .collect()
}

fn timestamp(text: &str) -> Timestamp {
    match text.trim().parse::<i64>() {
        Ok(n) if n.abs() < 100_000_000_000 => Timestamp::from_secs(n),
        Ok(n) => Timestamp::from_millis(n),
        Err(_) => text.trim().parse().unwrap(),
    }
}

/// Asserts one JSON snapshot equals one golden row (1e-9 relative, null where TA-Lib is empty).
fn assert_row(json: &Value, headers: &csv::StringRecord, row: &csv::StringRecord, at: &str) {
    let ts: Timestamp = json["ts"].as_str().unwrap().parse().unwrap();
    assert_eq!(ts, timestamp(&row[0]), "{at}: timestamp");
    for (column, field) in FIELDS {
        let k = headers.iter().position(|h| h == column).unwrap();
        let cell = row[k].trim();
        let got = json[field].as_f64();
        if cell.is_empty() || cell.eq_ignore_ascii_case("nan") {
            assert!(
                json[field].is_null(),
                "{at}: {field} should be null, got {got:?}"
            );
        } else {
            let want: f64 = cell.parse().unwrap();
            let got = got.unwrap_or_else(|| panic!("{at}: {field} is null, TA-Lib has {want}"));
            let diff = (got - want).abs();
            assert!(
                diff <= 1e-9 || diff <= 1e-9 * want.abs(),
                "{at}: {field} = {got}, TA-Lib {want}"
            );
        }
    }
}

fn golden_rows(path: &Path) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    (headers, reader.records().map(Result::unwrap).collect())
}

#[test]
fn prints_the_last_bars_values_as_ta_lib_computes_them() {
    for (bars, golden) in golden_series() {
        let out = tradegraph(&["data", "indicators", &bars]);
        assert_eq!(out.status.code(), Some(0), "{bars}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), "", "{bars}");
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let (headers, rows) = golden_rows(&golden);
        assert_row(
            &json,
            &headers,
            rows.last().unwrap(),
            &format!("{bars}: last bar"),
        );
    }
}

#[test]
fn prints_every_bars_values_with_all() {
    for (bars, golden) in golden_series() {
        let out = tradegraph(&["data", "indicators", &bars, "--all"]);
        assert_eq!(out.status.code(), Some(0), "{bars}: {}", text(&out.stderr));
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let values = json.as_array().unwrap();
        let (headers, rows) = golden_rows(&golden);
        assert_eq!(values.len(), rows.len(), "{bars}");
        for (i, (value, row)) in values.iter().zip(&rows).enumerate() {
            assert_row(value, &headers, row, &format!("{bars}: bar {i}"));
        }
    }
}

fn scratch(name: &str, content: &str) -> String {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

#[test]
fn skips_and_counts_malformed_rows_naming_line_and_field() {
    let file = scratch(
        "cli_data_malformed.csv",
        "timestamp,open,high,low,close,volume\n\
         2024-01-01T00:00:00Z,10,11,9,10.5,100\n\
         2024-01-01T00:01:00Z,10.5,11,10,abc,100\n\
         2024-01-01T00:02:00Z,10.5,11\n\
         2024-01-01T00:03:00Z,10.5,11.5,10,11,50\n",
    );
    let out = tradegraph(&["data", "indicators", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{file}:3: warning: column `close`: `abc` is not a number"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:4: warning: column `low` is missing")),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped 2 malformed rows, used 2 bars"),
        "{stderr}"
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ts"], "2024-01-01T00:03:00Z");
    assert_eq!(json["obv"], 150.0);
    assert_eq!(
        json["vwap"],
        (100.0 * (30.5 / 3.0) + 50.0 * (32.5 / 3.0)) / 150.0
    );
    assert!(json["sma"].is_null());
}

#[test]
fn a_millisecond_timestamp_past_year_9999_is_a_malformed_row() {
    let file = scratch(
        "cli_data_far_future.csv",
        "timestamp,open,high,low,close,volume\n\
         1704067200000,10,11,9,10.5,100\n\
         99999999999999999,10.5,11,10,11,100\n\
         1704067320000,10.5,11.5,10,11,50\n",
    );
    let out = tradegraph(&["data", "indicators", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{file}:3: warning: column `timestamp`:")),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped 1 malformed row, used 2 bars"),
        "{stderr}"
    );
}

#[test]
fn an_empty_file_is_an_error() {
    for (name, content) in [
        ("cli_data_empty.csv", ""),
        (
            "cli_data_header.csv",
            "timestamp,open,high,low,close,volume\n",
        ),
    ] {
        let file = scratch(name, content);
        let out = tradegraph(&["data", "indicators", &file]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(text(&out.stdout), "");
        assert!(
            text(&out.stderr).starts_with(&format!("{file}: ")),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_missing_column_or_file_is_reported() {
    let file = scratch(
        "cli_data_columns.csv",
        "timestamp,open,high,low,close\n1,1,1,1,1\n",
    );
    let out = tradegraph(&["data", "indicators", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(":1: the header has no `volume` column"));
    let out = tradegraph(&["data", "indicators", "no/such/file.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("no/such/file.csv: cannot read the bar file"));
}
