//! After rendering: every piece of untrusted text sits inside the one `<data>` frame of the
//! user message, then the renderer's markers go.

use super::taint::{MARK_CLOSE, MARK_OPEN, NAME_END};

/// The frame's tags, as the system message names them.
const OPEN: &str = "<data>";
const CLOSE: &str = "</data>";

/// Where a rendered prompt put untrusted text it must not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Misplaced {
    /// The field (`lessons[0].text`).
    pub field: String,
    /// What is wrong, and what to do.
    pub problem: String,
}

/// Checks the system and user messages and returns them without the markers.
pub(crate) fn settle(system: &str, user: &str) -> Result<(String, String), Misplaced> {
    if let Some((field, _)) = spans(system).into_iter().next() {
        return Err(Misplaced {
            field,
            problem: "in the system message, which holds instructions only: move it into the \
                      `<data>` frame of the user message"
                .into(),
        });
    }
    let spans = spans(user);
    let (opens, closes) = (user.matches(OPEN).count(), user.matches(CLOSE).count());
    let frame = match (user.find(OPEN), user.find(CLOSE)) {
        (Some(open), Some(close)) if opens == 1 && closes == 1 && open < close => {
            Some((open + OPEN.len(), close))
        }
        _ => None,
    };
    if let Some((field, _)) = spans.first() {
        if (opens, closes) != (1, 1) {
            return Err(Misplaced {
                field: field.clone(),
                problem: format!(
                    "in a user message with {opens} `<data>` and {closes} `</data>`: write one \
                     `<data>` ... `</data>` frame around all the untrusted text"
                ),
            });
        }
    }
    for (field, at) in &spans {
        let inside = frame.is_some_and(|(start, end)| start <= at.0 && at.1 <= end);
        if !inside {
            return Err(Misplaced {
                field: field.clone(),
                problem: "outside the `<data>` frame of the user message: move it between \
                          `<data>` and `</data>`"
                    .into(),
            });
        }
    }
    Ok((strip(system), strip(user)))
}

/// Each marked span: its field and its byte range (marker to marker).
fn spans(text: &str) -> Vec<(String, (usize, usize))> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find(MARK_OPEN).map(|i| from + i) {
        let name_end = text[start..]
            .find(NAME_END)
            .map_or(text.len(), |i| start + i);
        let end = text[start..]
            .find(MARK_CLOSE)
            .map_or(text.len(), |i| start + i + MARK_CLOSE.len_utf8());
        let field = text[start + MARK_OPEN.len_utf8()..name_end.min(end)].to_owned();
        out.push((field, (start, end)));
        from = end.max(start + MARK_OPEN.len_utf8());
    }
    out
}

/// The text without markers and field names.
fn strip(text: &str) -> String {
    // Copied a run at a time between markers (found by `memchr`), not a character at a time.
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find(MARK_OPEN) {
        push_unmarked(&mut out, &rest[..open]);
        let name = &rest[open + MARK_OPEN.len_utf8()..];
        rest = name
            .find(NAME_END)
            .map_or("", |end| &name[end + NAME_END.len_utf8()..]);
    }
    push_unmarked(&mut out, rest);
    out
}

/// `text` without the markers that end a name or a span.
fn push_unmarked(out: &mut String, text: &str) {
    for run in text.split(MARK_CLOSE) {
        for piece in run.split(NAME_END) {
            out.push_str(piece);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(field: &str, text: &str) -> String {
        format!("{MARK_OPEN}{field}{NAME_END}{text}{MARK_CLOSE}")
    }

    /// The markers taken out one character at a time: a field's name from its opening marker
    /// to the end of the name, and every end marker.
    fn strip_by_char(text: &str) -> String {
        let mut out = String::new();
        let mut in_name = false;
        for c in text.chars() {
            match c {
                MARK_OPEN => in_name = true,
                NAME_END => in_name = false,
                MARK_CLOSE => {}
                c if !in_name => out.push(c),
                _ => {}
            }
        }
        out
    }

    proptest::proptest! {
        /// Whatever the text, well marked or not, runs are copied as characters would be.
        #[test]
        fn markers_are_stripped_as_by_each_character(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![
                        MARK_OPEN.to_string(), NAME_END.to_string(), MARK_CLOSE.to_string(),
                    ]),
                    ".{0,5}",
                ],
                0..24,
            )
        ) {
            let text = parts.concat();
            proptest::prop_assert_eq!(strip(&text), strip_by_char(&text));
        }
    }

    #[test]
    fn marked_text_inside_the_one_frame_passes_and_loses_its_markers() {
        let user = format!(
            "Task.\n<data>\n- {}\n</data>\nAnswer.",
            mark("news[0].headline", "Hi")
        );
        let (system, user) = settle("Rules about <data> and </data>.", &user).unwrap();
        assert_eq!(user, "Task.\n<data>\n- Hi\n</data>\nAnswer.");
        assert_eq!(system, "Rules about <data> and </data>.");
    }

    #[test]
    fn marked_text_elsewhere_is_refused_with_its_field() {
        let m = mark("lessons[0].text", "x");
        for (system, user, says) in [
            (m.clone(), "<data>\n</data>".to_owned(), "system message"),
            (String::new(), format!("{m}\n<data>\n</data>"), "outside"),
            (String::new(), format!("<data>\n</data>{m}"), "outside"),
            (String::new(), m.clone(), "0 `<data>`"),
            (
                String::new(),
                format!("<data>{m}</data><data></data>"),
                "2 `<data>`",
            ),
        ] {
            let err = settle(&system, &user).unwrap_err();
            assert_eq!(err.field, "lessons[0].text");
            assert!(err.problem.contains(says), "{}", err.problem);
        }
        assert!(settle("", "no untrusted text, no frame").is_ok());
    }
}
