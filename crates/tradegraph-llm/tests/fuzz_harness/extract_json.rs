//! `extract_json` on any model text: the value it finds, if any, is what a piece of the text
//! (outside `<think>` blocks) parses to; otherwise an error saying why.
//!
//! Shared by the property test `tests/extract_json_properties.rs` and the cargo-fuzz target
//! `fuzz/fuzz_targets/extract_json.rs` (which includes this file by path). A violated property
//! panics with what was violated.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use serde_json::Value;
use tradegraph_llm::extract_json;

/// Texts up to this many bytes have their answer looked for among all their pieces (a
/// quadratic search); longer ones are only checked for a sane answer.
pub const SEARCHED_BYTES: usize = 600;

/// Runs `extract_json` on `text` and checks its answer. Returns it.
pub fn check(text: &str) -> Result<Value, String> {
    let answer = extract_json(text);
    match &answer {
        Ok(value) => {
            let visible = visible(text);
            if visible.len() <= SEARCHED_BYTES {
                assert!(
                    is_piece_of(&visible, value),
                    "{value} is not what any piece of the answer parses to: {text:?}"
                );
            }
        }
        Err(e) => assert!(
            e == "the answer is empty"
                || e == "the answer contains no JSON object or array"
                || e.starts_with("the answer is not valid JSON: "),
            "an error that does not say why: {e}"
        ),
    }
    answer
}

/// The answer as the documentation describes what is read: a leading byte-order mark
/// dropped, `<think>...</think>` blocks cut out (an unclosed one hides the rest).
pub fn visible(text: &str) -> String {
    let mut rest = text.trim_start_matches('\u{feff}');
    let mut out = String::new();
    while let Some(open) = rest.find("<think>") {
        out.push_str(&rest[..open]);
        match rest[open..].find("</think>") {
            Some(close) => rest = &rest[open + close + "</think>".len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Whether some piece `text[i..j]` parses to `value`.
fn is_piece_of(text: &str, value: &Value) -> bool {
    let starts: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| !c.is_whitespace())
        .map(|(i, _)| i)
        .collect();
    let ends: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| !c.is_whitespace())
        .map(|(i, c)| i + c.len_utf8())
        .collect();
    starts.iter().any(|&i| {
        ends.iter()
            .filter(|&&j| j > i)
            .any(|&j| serde_json::from_str::<Value>(&text[i..j]).is_ok_and(|v| &v == value))
    })
}
