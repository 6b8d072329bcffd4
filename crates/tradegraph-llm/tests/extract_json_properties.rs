//! `extract_json` on any model text (issue 12, "beyond the list"): never a panic; a value only
//! when a piece of the visible text parses to it; the JSON a chatty answer wraps found, raw,
//! fenced or inline; and time linear in the length, whatever the text (see
//! `fuzz_harness/extract_json.rs`, which the cargo-fuzz target `extract_json` runs too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "fuzz_harness/extract_json.rs"]
mod harness;

use proptest::prelude::*;
use serde_json::Value;
use std::time::{Duration, Instant};

/// A JSON object or array, a few levels deep.
fn document() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::String),
        "[{}\\[\\]\"`<>/ a-z\\\\]{0,8}".prop_map(Value::String),
    ];
    let tree = leaf.prop_recursive(3, 20, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    tree.prop_filter("an object or an array", |v| v.is_object() || v.is_array())
}

/// Chatter with no JSON opening, fence or reasoning block in it.
fn chatter() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 ,.!?:;'\n-]{0,60}"
}

/// How a model wraps its JSON.
fn answer() -> impl Strategy<Value = (String, Value)> {
    (chatter(), document(), chatter(), 0u8..5, any::<bool>()).prop_map(
        |(before, doc, after, shape, pretty)| {
            let json = if pretty {
                serde_json::to_string_pretty(&doc).unwrap()
            } else {
                doc.to_string()
            };
            let text = match shape {
                0 => json,
                1 => format!("{before}\n```json\n{json}\n```\n{after}"),
                2 => format!("{before}\n```\n{json}\n```{after}"),
                3 => format!("<think>maybe {{\"not\": \"this\"}}</think>{before} {json} {after}"),
                _ => format!("\u{feff}{before} {json}"),
            };
            (text, doc)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn wrapped_json_is_found(pair in answer()) {
        let (text, doc) = pair;
        prop_assert_eq!(harness::check(&text), Ok(doc));
    }

    #[test]
    fn any_text_gives_a_piece_of_itself_or_a_reason(text in prop_oneof![
        any::<String>(),
        "[{}\\[\\]\":,0-9a-z \\\\`\n<>/]{0,120}",
        (answer(), any::<prop::sample::Index>(), any::<prop::sample::Index>()).prop_map(|((text, _), a, b)| {
            let chars: Vec<char> = text.chars().collect();
            let (a, b) = (a.index(chars.len() + 1), b.index(chars.len() + 1));
            chars[a.min(b)..a.max(b)].iter().collect()
        }),
        prop::collection::vec(prop::sample::select(vec![
            "{", "}", "[", "]", "\"", "\\", "```", "```json\n", "\n", "<think>", "</think>", "1", "a", ":", ",",
        ]), 0..60).prop_map(|parts| parts.concat()),
    ]) {
        let _ = harness::check(&text);
    }
}

/// Texts made to be slow (thousands of openings that never close, fences, unclosed reasoning
/// blocks, strings that never end) are answered in time linear in their length: 256 KiB in
/// well under a second even unoptimised (a scan quadratic in the length would take minutes).
#[test]
fn hostile_answers_take_linear_time() {
    // A quarter of a megabyte: a quadratic scan of it would take minutes.
    let size = 1 << 18;
    let hostile = [
        "{".repeat(size),
        "[".repeat(size),
        "{\"a\":".repeat(size / 5),
        "```\n{\n".repeat(size / 6),
        "```json\n[1,\n```\n".repeat(size / 16),
        "<think>".repeat(size / 7),
        "<think></think>{".repeat(size / 16),
        format!("{{\"{}", "a".repeat(size)),
        "{\"\\".repeat(size / 3),
        "x { y [ z ".repeat(size / 10),
    ];
    for text in &hostile {
        let started = Instant::now();
        let answer = harness::check(text);
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "{took:?} for {} bytes starting {:?}: {answer:?}",
            text.len(),
            &text[..20]
        );
    }
}
