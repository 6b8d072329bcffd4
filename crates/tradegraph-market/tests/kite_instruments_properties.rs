//! Kite's instruments dump from any CSV text (issue 14's live venue): only a header without
//! Kite's columns fails; every other record is an instrument that writes back and reads the
//! same, or a bad row naming the line it starts on and why; never a panic (see
//! `fuzz_harness/kite_instruments.rs`, which the cargo-fuzz target `kite_instruments` runs
//! too).
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "fuzz_harness/kite_instruments.rs"]
mod harness;

use proptest::prelude::*;
use tradegraph_market::feed::kite::INSTRUMENT_COLUMNS;

/// A field as the dump may hold it: mostly like Kite's, sometimes hostile.
fn field(good: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => good,
        1 => prop::sample::select(vec![
            "", " ", "-1", "x", "1e3", "4294967296", "\"quoted, with comma\"", "\"a\"\"b\"",
            "2025-02-30", "0.05.1", "NaN", "\"multi\nline\"",
        ])
        .prop_map(str::to_owned),
        1 => "[ -~]{0,12}",
    ]
}

/// One row in Kite's column order.
fn row() -> impl Strategy<Value = Vec<String>> {
    (
        field((0u32..=u32::MAX).prop_map(|n| n.to_string())),
        field((0u32..1_000_000).prop_map(|n| n.to_string())),
        field("[A-Z]{3,9}(2[5-7](JAN|FEB|MAR)FUT)?".prop_map(|s| s)),
        field("[A-Z]{0,9}".prop_map(|s| s)),
        field(
            (0u64..10_000_000, 0u32..3)
                .prop_map(|(n, s)| tradegraph_core::Decimal::new(n as i64, s).to_string()),
        ),
        field(prop_oneof![
            Just(String::new()),
            (2024u32..2030, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
        ]),
        field((0u64..100_000).prop_map(|n| n.to_string())),
        field(
            prop::sample::select(vec!["0.05", "0.01", "0.1", "1", "-0.05"]).prop_map(str::to_owned),
        ),
        field((1u32..2_000).prop_map(|n| n.to_string())),
        field(prop::sample::select(vec!["FUT", "EQ", "CE", "PE"]).prop_map(str::to_owned)),
        field(prop::sample::select(vec!["NFO-FUT", "NSE", "INDICES"]).prop_map(str::to_owned)),
        field(prop::sample::select(vec!["NFO", "NSE"]).prop_map(str::to_owned)),
    )
        .prop_map(|(a, b, c, d, e, f, g, h, i, j, k, l)| vec![a, b, c, d, e, f, g, h, i, j, k, l])
}

/// A dump: Kite's header (columns possibly reordered, an extra column), rows, blank lines.
fn dump() -> impl Strategy<Value = String> {
    (
        Just(INSTRUMENT_COLUMNS.to_vec()).prop_shuffle(),
        any::<bool>(),
        prop::collection::vec((row(), 0u8..8, any::<bool>()), 0..8),
        prop::sample::select(vec!["\n", "\r\n"]),
    )
        .prop_map(|(order, extra, rows, eol)| {
            let mut header: Vec<String> = order.iter().map(|c| (*c).to_owned()).collect();
            if extra {
                header.push("isin".to_owned());
            }
            let mut text = header.join(",") + eol;
            for (row, blank, short) in rows {
                let mut fields: Vec<String> = order
                    .iter()
                    .map(|c| {
                        let at = INSTRUMENT_COLUMNS.iter().position(|k| k == c).unwrap();
                        row[at].clone()
                    })
                    .collect();
                if short {
                    fields.truncate(usize::from(blank) + 4);
                }
                if blank == 0 {
                    text.push_str(eol);
                }
                text.push_str(&fields.join(","));
                text.push_str(eol);
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn dumps_read_row_by_row(text in dump()) {
        let read = harness::check(&text);
        prop_assert!(read.is_some(), "a dump with Kite's header was refused: {:?}", text);
    }

    #[test]
    fn any_text_is_a_dump_or_a_header_error(text in prop_oneof![
        any::<String>(),
        "[,\"\n\r a-z0-9_.-]{0,80}",
        (dump(), any::<prop::sample::Index>()).prop_map(|(d, at)| {
            let end = at.index(d.len() + 1);
            d.get(..end).unwrap_or(&d).to_owned()
        }),
        (dump(), any::<String>()).prop_map(|(d, tail)| d + &tail),
    ]) {
        harness::check(&text);
    }
}

/// A bad row after a blank line or a quoted field spanning lines is named by the line it is
/// on, not by its record number (row index + 2 would call this row line 3; found by
/// `any_text_is_a_dump_or_a_header_error`).
#[test]
fn a_bad_row_is_named_by_its_line() {
    let header = INSTRUMENT_COLUMNS.join(",");
    let good = "1,1,BANKNIFTY25JANFUT,\"BANK\nNIFTY\",0,2025-01-30,0,0.05,30,FUT,NFO-FUT,NFO";
    let text = format!("{header}\n\n{good}\nx,1,INFY,INFY,0,,0,0.05,1,EQ,NSE,NSE\n");
    let dump = tradegraph_market::feed::kite::read_instruments(&text).unwrap();
    let lines: Vec<u64> = dump.bad_rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [5], "{text:?}");
}

/// The model of where records start: blank lines are skipped, a quoted field spans lines.
#[test]
fn records_start_where_the_model_says() {
    assert_eq!(
        harness::record_lines("h\n\n\na\n\"b\nc\"\r\nd\r\re\n"),
        [4, 5, 7, 9]
    );
    assert_eq!(harness::record_lines("h\r\nx,\"a\"\"\n\",y\r\n"), [2]);
}
