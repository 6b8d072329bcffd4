//! Kite's instruments dump: what `feed::kite::read_instruments` (and the strict
//! `parse_instruments`) make of any CSV text.
//!
//! Shared by the property test `tests/kite_instruments_properties.rs` and the cargo-fuzz
//! target `fuzz/fuzz_targets/kite_instruments.rs` (which includes this file by path). A
//! violated property panics with what was violated.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use tradegraph_market::feed::kite::{
    parse_instruments, read_instruments, InstrumentsDump, KiteInstrument, INSTRUMENT_COLUMNS,
};

/// Reads `text` and checks the answer: only a header without Kite's columns fails (naming
/// line 1 and the columns); otherwise every record is an instrument or a bad row naming the
/// line it starts on and why; every instrument written back as a row reads back the same; the
/// strict parser agrees. Returns the dump, if there was one.
pub fn check(text: &str) -> Option<InstrumentsDump> {
    let dump = match read_instruments(text) {
        Ok(dump) => dump,
        Err(e) => {
            let shown = e.to_string();
            assert!(
                shown.contains("Kite instruments dump line 1"),
                "a header error that does not name line 1: {shown}"
            );
            assert!(
                parse_instruments(text).is_err(),
                "the strict parser read a dump whose header failed: {text:?}"
            );
            return None;
        }
    };
    let starts = record_lines(text);
    assert_eq!(
        dump.instruments.len() + dump.bad_rows.len(),
        starts.len(),
        "a record neither read nor listed as bad: {text:?}"
    );
    for row in &dump.bad_rows {
        assert!(
            !row.reason.is_empty(),
            "a bad row without a reason: {row:?}"
        );
        assert!(
            starts.contains(&row.line),
            "bad row at line {} where no record starts (records start at {starts:?}): {text:?}",
            row.line
        );
    }
    let lines: Vec<u64> = dump.bad_rows.iter().map(|r| r.line).collect();
    assert!(
        lines.windows(2).all(|w| w[0] < w[1]),
        "bad rows out of order: {lines:?}"
    );
    for instrument in &dump.instruments {
        assert!(!instrument.tradingsymbol.is_empty(), "{instrument:?}");
        assert!(!instrument.tick_size.is_sign_negative(), "{instrument:?}");
        round_trip(instrument);
    }
    match parse_instruments(text) {
        Ok(strict) => {
            assert!(
                dump.bad_rows.is_empty(),
                "strict read what the dump refused: {text:?}"
            );
            assert_eq!(strict, dump.instruments, "{text:?}");
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(
                shown.contains("Kite instruments dump line "),
                "a strict error without its line: {shown}"
            );
        }
    }
    Some(dump)
}

/// The line each record after the header starts on (1 is the first line), read the way
/// CSV reads records: a line break ends a record outside quotes (`\r\n` is one break, as are
/// `\n` and `\r`), a field that starts with `"` runs to its closing quote (`""` is a quote)
/// across lines, and empty lines are no records.
pub fn record_lines(text: &str) -> Vec<u64> {
    let mut starts = Vec::new();
    let (mut line, mut in_record, mut quoted, mut field_start) = (1u64, false, false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let crlf = c == '\r' && chars.peek() == Some(&'\n');
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                }
                '"' => quoted = false,
                '\n' => line += 1,
                '\r' if !crlf => line += 1,
                _ => {}
            }
            continue;
        }
        match c {
            '\n' | '\r' => {
                if crlf {
                    chars.next();
                }
                line += 1;
                in_record = false;
                field_start = true;
            }
            _ => {
                if !in_record {
                    starts.push(line);
                    in_record = true;
                }
                quoted = c == '"' && field_start;
                field_start = c == ',';
            }
        }
    }
    // The first record is the header.
    if !starts.is_empty() {
        starts.remove(0);
    }
    starts
}

/// Writes `instrument` as a row under Kite's header and reads it back: the same instrument.
pub fn round_trip(instrument: &KiteInstrument) {
    let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let fields = [
        instrument.instrument_token.to_string(),
        instrument.exchange_token.to_string(),
        quoted(&instrument.tradingsymbol),
        quoted(&instrument.name),
        instrument.last_price.to_string(),
        instrument
            .expiry
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        instrument.strike.to_string(),
        instrument.tick_size.to_string(),
        instrument.lot_size.to_string(),
        quoted(&instrument.instrument_type),
        quoted(&instrument.segment),
        quoted(&instrument.exchange),
    ];
    let text = format!("{}\n{}\n", INSTRUMENT_COLUMNS.join(","), fields.join(","));
    let back = parse_instruments(&text)
        .unwrap_or_else(|e| panic!("{instrument:?} written as {text:?} does not read back: {e}"));
    assert_eq!(
        back.as_slice(),
        std::slice::from_ref(instrument),
        "{text:?}"
    );
}
