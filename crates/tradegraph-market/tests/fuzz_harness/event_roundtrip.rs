//! Market events through their JSON form, the recording line format that replay reads back: an
//! event written and read back is the event it was, the replay parser reads a recorded line as
//! the event (or refuses it for its prices, as feeds do), and bytes from anywhere read as an
//! event or give an error, never a panic.
//!
//! Shared by the property test `tests/event_roundtrip_properties.rs` and the cargo-fuzz target
//! `fuzz/fuzz_targets/event_roundtrip.rs` (which includes this file by path). A violated
//! property panics with what was violated.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use tradegraph_market::feed::check_prices;
use tradegraph_market::feed::replay::LineParser;
use tradegraph_market::MarketEvent;

/// Reads every line of `bytes` as an event (plain JSON and through the replay parser); the
/// events that come out must survive another round trip. Returns how many did.
pub fn check_bytes(bytes: &[u8]) -> usize {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return 0;
    };
    let parser = LineParser::jsonl();
    let mut read = 0;
    for line in text.lines() {
        if let Ok(event) = serde_json::from_str::<MarketEvent>(line) {
            check_value(&event);
            read += 1;
        }
        match parser.parse(line) {
            Ok(event) => {
                assert!(
                    check_prices(&event).is_ok(),
                    "replay let through an event its price check refuses: {event:?}"
                );
                check_value(&event);
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    read
}

/// Writes `event` as a recording line, reads it back (as JSON and through the replay parser)
/// and checks that nothing changed and that the line is stable.
pub fn check_value(event: &MarketEvent) {
    let line = serde_json::to_string(event).expect("an event always encodes");
    assert!(
        !line.contains('\n'),
        "a recording line with a line break: {line}"
    );
    let back: MarketEvent = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("a recorded event does not read back: {e}: {line}"));
    assert_eq!(&back, event, "the event changed: {line}");
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        line,
        "the line changed on a second round trip"
    );
    match (LineParser::jsonl().parse(&line), check_prices(event)) {
        (Ok(replayed), Ok(())) => assert_eq!(&replayed, event, "replay read {line}"),
        (Err(e), Err(_)) => assert!(!e.to_string().is_empty()),
        (Ok(replayed), Err(why)) => {
            panic!("replay took {replayed:?}, which its price check refuses ({why})")
        }
        (Err(e), Ok(())) => panic!("replay refused a recorded line ({e}): {line}"),
    }
}
