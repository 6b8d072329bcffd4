//! The write-behind spill reader on whatever a previous run left (issue 12, "beyond the
//! list"): spill files of whole records, blank lines, junk, torn records (a record's first
//! bytes, cut inside a character too) followed by more records, invalid UTF-8, long lines and
//! a torn tail, with an `.offset` file that is absent, on a line boundary, inside a line, past
//! the end, negative or not a number. Starting a `WriteBehind` on it writes back exactly the
//! whole records after a valid offset (from the start otherwise), in order, once; keeps every
//! other non-blank line as rejected; and leaves the file empty or committed to its end, with no
//! offset past its end (see
//! `fuzz_harness/spill_reader.rs`, which the cargo-fuzz target `spill_reader` runs too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "fuzz_harness/spill_reader.rs"]
mod harness;

use proptest::prelude::*;
use tradegraph_core::{Symbol, Timestamp};
use tradegraph_store::behind::Versioned;
use tradegraph_store::{DecisionRecord, Lesson, Record};

fn record() -> impl Strategy<Value = Record> {
    (0i64..1_000_000, "[ -~]{0,12}", any::<bool>()).prop_map(|(secs, words, lesson)| {
        let at = Timestamp::from_secs(1_700_000_000 + secs);
        if lesson {
            Record::Lesson(Lesson::new(Symbol::new("BTCUSDT"), at, "technical", words))
        } else {
            Record::Decision(DecisionRecord::new(Symbol::new("BTCUSDT"), at).action(words))
        }
    })
}

fn line(record: &Record, version: Option<i64>) -> Vec<u8> {
    match version {
        Some(v) => serde_json::to_vec(&Versioned::with_version(record.clone(), v)).unwrap(),
        None => serde_json::to_vec(record).unwrap(),
    }
}

/// One line of a spill file, without its line break.
fn spill_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => (record(), prop::option::of(any::<i64>())).prop_map(|(r, v)| line(&r, v)),
        1 => "[ \t\r]{0,3}".prop_map(String::into_bytes),
        1 => "[ -~]{0,40}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| b.into_iter().filter(|&c| c != b'\n').collect()),
        2 => (record(), any::<prop::sample::Index>()).prop_map(|(r, cut)| {
            // A torn append: the first bytes of a record (here "é" is cut in two sometimes).
            let whole = line(&Record::Lesson(match r {
                Record::Lesson(l) => l,
                _ => Lesson::new(Symbol::new("NIFTY50"), Timestamp::EPOCH, "all", "café"),
            }), Some(1));
            whole[..cut.index(whole.len())].to_vec()
        }),
        1 => (1usize..200_000).prop_map(|n| {
            let r = Record::Lesson(Lesson::new(Symbol::new("X"), Timestamp::EPOCH, "all", "y".repeat(n)));
            line(&r, Some(7))
        }),
    ]
}

/// A spill file (lines, maybe a torn tail) and the offset file beside it.
fn spill() -> impl Strategy<Value = (Vec<u8>, Option<Vec<u8>>)> {
    (
        prop::collection::vec(spill_line(), 0..12),
        prop::option::of(spill_line()),
        any::<prop::sample::Index>(),
        0u8..8,
        any::<u64>(),
    )
        .prop_map(|(lines, tail, pick, offset_kind, n)| {
            let mut contents = Vec::new();
            let mut boundaries = vec![0u64];
            for l in &lines {
                contents.extend_from_slice(l);
                contents.push(b'\n');
                boundaries.push(contents.len() as u64);
            }
            if let Some(tail) = tail {
                contents.extend_from_slice(&tail);
            }
            let offset = match offset_kind {
                0 | 1 => None,
                2 | 3 => Some(pick.get(&boundaries).to_string().into_bytes()),
                4 => Some((n % (contents.len() as u64 + 2)).to_string().into_bytes()),
                5 => Some(n.to_string().into_bytes()),
                6 => Some(format!(" -{n}\n").into_bytes()),
                _ => Some(vec![0xff, b'1', b'2']),
            };
            (contents, offset)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_spill_file_is_written_back_exactly(case in spill()) {
        let (contents, offset) = case;
        harness::check(&contents, offset.as_deref());
    }
}

/// A record after a torn one is written back, and the torn one is kept as rejected.
#[test]
fn a_record_after_a_torn_one_is_not_lost() {
    let first = Record::Lesson(Lesson::new(
        Symbol::new("BTCUSDT"),
        Timestamp::EPOCH,
        "all",
        "café",
    ));
    let second = Record::Decision(DecisionRecord::new(
        Symbol::new("BTCUSDT"),
        Timestamp::from_secs(60),
    ));
    let torn = line(&first, Some(3));
    let cut = torn.iter().position(|&b| b == 0xC3).unwrap() + 1;
    let mut contents = torn[..cut].to_vec();
    contents.push(b'\n');
    contents.extend(line(&second, Some(4)));
    contents.push(b'\n');
    let written = harness::check(&contents, None);
    assert_eq!(written.records, vec![Versioned::with_version(second, 4)]);
    assert_eq!(written.bad_lines, 1);
}
