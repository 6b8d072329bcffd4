//! Finding the JSON in an answer: raw, fenced, or inside chatty text.

use serde_json::Value;

/// How many candidate openings the scan of chatty text tries before giving up.
const MAX_CANDIDATES: usize = 16;

/// The JSON value in a model's answer.
///
/// Tries, in order: the whole answer; the fenced blocks (```` ```json ```` first, then any
/// fence); the first balanced `{...}` or `[...]` that parses, scanning the text. Reasoning
/// blocks (`<think>...</think>`) are skipped.
///
/// # Errors
/// What was wrong, in words for the repair turn.
///
/// ```
/// use tradegraph_llm::extract_json;
/// use serde_json::json;
///
/// assert_eq!(extract_json(r#"{"a": 1}"#)?, json!({"a": 1}));
/// assert_eq!(extract_json("Sure!\n```json\n{\"a\": 2}\n```\nAnything else?")?, json!({"a": 2}));
/// assert_eq!(extract_json(r#"The answer is {"a": {"b": "}"}} as requested."#)?, json!({"a": {"b": "}"}}));
/// assert!(extract_json("I cannot help with that.").is_err());
/// # Ok::<(), String>(())
/// ```
pub fn extract_json(answer: &str) -> Result<Value, String> {
    let visible = strip_thinking(answer.trim_start_matches('\u{feff}'));
    let text = visible.trim();
    if text.is_empty() {
        return Err("the answer is empty".into());
    }
    let whole_err = match serde_json::from_str::<Value>(text) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let fences = fenced_blocks(text);
    for (_, body) in fences
        .iter()
        .filter(|(lang, _)| lang.eq_ignore_ascii_case("json"))
    {
        if let Ok(v) = serde_json::from_str(body.trim()) {
            return Ok(v);
        }
    }
    for (_, body) in &fences {
        if let Ok(v) = serde_json::from_str(body.trim()) {
            return Ok(v);
        }
    }
    let mut tried = 0;
    for (start, c) in text.char_indices() {
        if c != '{' && c != '[' {
            continue;
        }
        if let Some(end) = balanced_end(&text[start..]) {
            if let Ok(v) = serde_json::from_str(&text[start..start + end]) {
                return Ok(v);
            }
        }
        tried += 1;
        if tried >= MAX_CANDIDATES {
            break;
        }
    }
    if tried == 0 && fences.is_empty() {
        Err("the answer contains no JSON object or array".into())
    } else {
        Err(format!("the answer is not valid JSON: {whole_err}"))
    }
}

/// The answer without `<think>...</think>` blocks (an unclosed one hides the rest).
fn strip_thinking(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("<think>") {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("<think>") {
        out.push_str(&rest[..open]);
        match rest[open..].find("</think>") {
            Some(close) => rest = &rest[open + close + "</think>".len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.into()
}

/// `(language, body)` of each ```` ``` ```` fence.
fn fenced_blocks(text: &str) -> Vec<(&str, &str)> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let line_end = after.find('\n').unwrap_or(after.len());
        let lang = after[..line_end].trim();
        let body_start = (line_end + 1).min(after.len());
        let body = &after[body_start..];
        match body.find("```") {
            Some(close) => {
                blocks.push((lang, &body[..close]));
                rest = &body[close + 3..];
            }
            None => {
                // An unclosed fence (a truncated answer): take what is there.
                blocks.push((lang, body));
                break;
            }
        }
    }
    blocks
}

/// The byte length of the balanced bracket group at the start of `text`, strings respected.
fn balanced_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_shape_models_produce() {
        let cases = [
            ("[1, 2]", json!([1, 2])),
            ("  \u{feff}{\"a\":true}\n", json!({"a": true})),
            ("```\n{\"a\": 1}\n```", json!({"a": 1})),
            ("```JSON\n{\"a\": 1}\n```", json!({"a": 1})),
            (
                "Here:\n```python\nx = {1: 2}\n```\n```json\n{\"a\": 3}\n```",
                json!({"a": 3}),
            ),
            (
                "<think>maybe {\"a\": 0}?</think>{\"a\": 4}",
                json!({"a": 4}),
            ),
            (
                "Result: {\"s\": \"a \\\" } b\"} done",
                json!({"s": "a \" } b"}),
            ),
            ("Set {x} is not JSON but {\"a\": 5} is", json!({"a": 5})),
            ("```json\n{\"a\": 6}", json!({"a": 6})),
        ];
        for (text, want) in cases {
            assert_eq!(extract_json(text).unwrap(), want, "{text:?}");
        }
    }

    #[test]
    fn failures_say_why() {
        assert_eq!(extract_json("   ").unwrap_err(), "the answer is empty");
        assert_eq!(
            extract_json("no idea").unwrap_err(),
            "the answer contains no JSON object or array"
        );
        assert!(extract_json("{\"a\": 1,}")
            .unwrap_err()
            .starts_with("the answer is not valid JSON"));
        assert_eq!(
            extract_json("<think>long thoughts").unwrap_err(),
            "the answer is empty"
        );
    }

    #[test]
    fn scanning_is_bounded() {
        let text = "{".repeat(10_000);
        assert!(extract_json(&text).is_err());
    }
}
