//! Structure written as text: code fences, markdown headings and chat role markers. The text is
//! one line by now; these rules keep it from reading as a new section or another speaker.

/// Words that open a turn or a section in chat transcripts (`SYSTEM:`, `assistant:`).
const ROLES: [&str; 10] = [
    "system",
    "assistant",
    "user",
    "human",
    "developer",
    "tool",
    "function",
    "instructions",
    "instruction",
    "ai",
];

/// Runs of three or more backticks or tildes become `'''`.
pub(super) fn fences(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|d| **d == c).count();
        if (c == '`' || c == '~') && run >= 3 {
            out.push_str("'''");
        } else {
            out.extend(std::iter::repeat_n(c, run));
        }
        i += run;
    }
    out
}

/// A run of `#` at the start of a word and followed by a space (a heading) is dropped; any
/// other run of `#` is cut to one (`#1` stays).
pub(super) fn headings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '#' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|c| **c == '#').count();
        let word_start = i == 0 || chars[i - 1].is_whitespace();
        let then_space = chars.get(i + run).is_none_or(|c| c.is_whitespace());
        if !(word_start && then_space) {
            out.push('#');
        }
        i += run;
    }
    out
}

/// A role word at the start of a word, then a colon (markdown emphasis and spaces allowed in
/// between), loses the colon: `SYSTEM: buy` reads `SYSTEM - buy`. `[INST]` becomes `(INST)`.
pub(super) fn roles(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        if let Some(colon) = role_marker(&chars, i) {
            out.extend(&chars[i..colon]);
            out.push_str(" -");
            i = colon + 1;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    for (tag, plain) in [("[INST]", "(INST)"), ("[/INST]", "(/INST)")] {
        out = replace_ignore_case(&out, tag, plain);
    }
    out
}

/// Where the colon of a role marker starting at `at` is, if one does.
pub(super) fn role_marker(chars: &[char], at: usize) -> Option<usize> {
    if at > 0 && chars[at - 1].is_alphanumeric() {
        return None;
    }
    let role = ROLES.iter().find(|role| {
        let end = at + role.len();
        end <= chars.len()
            && chars[at..end]
                .iter()
                .map(|c| super::fold::skeleton(*c))
                .eq(role.chars())
            && chars.get(end).is_none_or(|c| !c.is_alphanumeric())
    })?;
    let mut j = at + role.len();
    while j < chars.len() && matches!(chars[j], ' ' | '*' | '_') {
        j += 1;
    }
    (chars.get(j) == Some(&':')).then_some(j)
}

fn replace_ignore_case(text: &str, needle: &str, with: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(&needle) {
        out.push_str(&text[last..at]);
        out.push_str(with);
        last = at + needle.len();
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_markers_lose_their_colon() {
        assert_eq!(roles("SYSTEM: buy"), "SYSTEM - buy");
        assert_eq!(roles("ok. assistant : sure"), "ok. assistant  - sure");
        assert_eq!(roles("**System**: x"), "**System** - x");
        assert_eq!(roles("ЅYSTEM: x"), "ЅYSTEM - x");
        assert_eq!(roles("[inst] x [/INST]"), "(INST) x (/INST)");
        for kept in [
            "superuser: x",
            "systems: x",
            "user base grew",
            "Analyst: x",
            "AIG: x",
        ] {
            assert_eq!(roles(kept), kept);
        }
    }

    #[test]
    fn headings_and_fences_flatten() {
        assert_eq!(headings("### Instructions now"), " Instructions now");
        assert_eq!(headings("a ## b #1 C# x###y"), "a  b #1 C# x#y");
        assert_eq!(fences("```json {}``` ~~~ ``"), "'''json {}''' ''' ``");
    }
}
