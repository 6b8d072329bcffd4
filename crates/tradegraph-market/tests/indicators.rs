//! The indicators against TA-Lib's own output: every bar of every golden series, every value to
//! 1e-9 relative (1e-9 absolute near zero), and `None` exactly where TA-Lib has no value.
//!
//! Fixtures: `tests/fixtures/talib/<series>.csv` (`timestamp,open,high,low,close,volume`) and
//! `<series>.golden.csv` (TA-Lib's values, empty during the lead-in; VWAP resets each UTC day).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use tradegraph_core::{Candle, Decimal, Timeframe, Timestamp};
use tradegraph_market::indicators::{Bar, IndicatorConfig, IndicatorSet, IndicatorValues};

const TOLERANCE: f64 = 1e-9;

/// Reads one value from a snapshot.
type Getter = fn(&IndicatorValues) -> Option<f64>;

/// The golden columns, in file order, with how to read each from a snapshot.
const COLUMNS: [(&str, Getter); 15] = [
    ("sma20", |v| v.sma),
    ("ema20", |v| v.ema),
    ("rsi14", |v| v.rsi),
    ("macd", |v| v.macd),
    ("macd_signal", |v| v.macd_signal),
    ("macd_hist", |v| v.macd_hist),
    ("bb_upper", |v| v.bb_upper),
    ("bb_middle", |v| v.bb_middle),
    ("bb_lower", |v| v.bb_lower),
    ("atr14", |v| v.atr),
    ("stoch_k", |v| v.stoch_k),
    ("stoch_d", |v| v.stoch_d),
    ("adx14", |v| v.adx),
    ("obv", |v| v.obv),
    ("vwap", |v| v.vwap),
];

/// TA-Lib's first valid index per column, for the default periods (VWAP aside).
const LOOKBACKS: [(&str, usize); 14] = [
    ("sma20", 19),
    ("ema20", 19),
    ("rsi14", 14),
    ("macd", 33),
    ("macd_signal", 33),
    ("macd_hist", 33),
    ("bb_upper", 19),
    ("bb_middle", 19),
    ("bb_lower", 19),
    ("atr14", 14),
    ("stoch_k", 17),
    ("stoch_d", 17),
    ("adx14", 27),
    ("obv", 0),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/talib")
}

/// Every `<series>` with both files.
fn series() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter_map(|name| name.strip_suffix(".golden.csv").map(str::to_owned))
                .filter(|name| fixtures().join(format!("{name}.csv")).is_file())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Integer milliseconds (or seconds, when too small to be milliseconds), or RFC 3339.
fn timestamp(text: &str) -> Timestamp {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return if n.abs() < 100_000_000_000 {
            Timestamp::from_secs(n)
        } else {
            Timestamp::from_millis(n)
        };
    }
    text.parse()
        .or_else(|_| text.replacen(' ', "T", 1).parse())
        .or_else(|_| format!("{}Z", text.replacen(' ', "T", 1)).parse())
        .unwrap_or_else(|e| panic!("timestamp `{text}`: {e}"))
}

fn records(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let headers = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader.records().map(Result::unwrap).collect();
    (headers, rows)
}

fn close_enough(got: f64, want: f64) -> bool {
    let diff = (got - want).abs();
    diff <= TOLERANCE || diff <= TOLERANCE * want.abs()
}

/// Runs a series through the set, by `f64` bars and by decimal candles; returns the problems.
fn check_series(name: &str) -> (usize, Vec<String>) {
    let (_, bars) = records(&fixtures().join(format!("{name}.csv")));
    let (headers, golden) = records(&fixtures().join(format!("{name}.golden.csv")));
    assert_eq!(
        bars.len(),
        golden.len(),
        "{name}: bar and golden row counts"
    );
    let column = |wanted: &str| {
        headers
            .iter()
            .position(|h| h == wanted)
            .unwrap_or_else(|| panic!("{name}.golden.csv has no `{wanted}` column"))
    };
    let mut by_bar = IndicatorSet::new(IndicatorConfig::default()).unwrap();
    let mut by_candle = IndicatorSet::new(IndicatorConfig::default()).unwrap();
    let mut problems = Vec::new();
    let mut first_valid = vec![None; COLUMNS.len()];
    for (i, (row, want)) in bars.iter().zip(&golden).enumerate() {
        let ts = timestamp(&row[0]);
        assert_eq!(ts, timestamp(&want[0]), "{name}: row {i} timestamps differ");
        let f = |k: usize| row[k].trim().parse::<f64>().unwrap();
        let values = by_bar.update(&Bar::new(ts, f(1), f(2), f(3), f(4), f(5)));
        let d = |k: usize| row[k].trim().parse::<Decimal>().unwrap();
        let mut candle = Candle::opening(ts, Timeframe::M1, d(1), d(5));
        (candle.high, candle.low, candle.close) = (d(2), d(3), d(4));
        let from_candle = by_candle.update_candle(&candle);
        for (c, (label, get)) in COLUMNS.iter().enumerate() {
            let cell = want[column(label)].trim();
            let expected = (!cell.is_empty() && !cell.eq_ignore_ascii_case("nan"))
                .then(|| cell.parse::<f64>().unwrap());
            if expected.is_some() && first_valid[c].is_none() {
                first_valid[c] = Some(i);
            }
            for (path, got) in [("bar", get(&values)), ("candle", get(&from_candle))] {
                let ok = match (got, expected) {
                    (None, None) => true,
                    (Some(g), Some(e)) => close_enough(g, e),
                    _ => false,
                };
                if !ok {
                    problems.push(format!(
                        "{name}.golden.csv:{}: {label} ({path}): got {got:?}, TA-Lib {expected:?}",
                        i + 2
                    ));
                }
            }
        }
    }
    for (label, lookback) in LOOKBACKS {
        let c = COLUMNS.iter().position(|(l, _)| *l == label).unwrap();
        if bars.len() > lookback && first_valid[c] != Some(lookback) {
            problems.push(format!(
                "{name}: TA-Lib's first {label} is at {:?}, expected {lookback}",
                first_valid[c]
            ));
        }
    }
    (bars.len(), problems)
}

#[test]
fn every_indicator_matches_ta_lib_on_every_golden_series() {
    let names = series();
    assert!(
        names.len() >= 3,
        "expected at least 3 golden series in {:?}, found {names:?}",
        fixtures()
    );
    let mut problems = Vec::new();
    for name in &names {
        let (bars, found) = check_series(name);
        assert!(
            bars > 60,
            "{name}: only {bars} bars, too short to test every indicator"
        );
        problems.extend(found);
    }
    // How many per series and column, then the first few in full.
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for problem in &problems {
        let series = problem.split('.').next().unwrap_or_default();
        let column = problem.split(": ").nth(1).unwrap_or_default();
        *counts.entry(format!("{series} {column}")).or_default() += 1;
    }
    let shown: Vec<_> = problems.iter().take(40).map(String::as_str).collect();
    assert!(
        problems.is_empty(),
        "{} mismatches against TA-Lib:\n{counts:#?}\nfirst ones:\n{}",
        problems.len(),
        shown.join("\n")
    );
}
