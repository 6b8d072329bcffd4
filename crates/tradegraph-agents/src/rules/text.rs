//! Quoting third-party text safely: short, one line, no control characters.

/// At most `max` characters of `s` on one line, with an ellipsis when cut.
pub(crate) fn quote(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() <= max {
        clean
    } else {
        let cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// A float with `digits` decimals, or `n/a`.
pub(crate) fn num(x: Option<f64>, digits: usize) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => "n/a".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_one_short_line() {
        assert_eq!(quote("a\nb\tc", 10), "a b c");
        assert_eq!(quote("abcdefghij", 5), "abcd…");
        assert_eq!(num(Some(1.23456), 2), "1.23");
        assert_eq!(num(Some(f64::NAN), 2), "n/a");
    }
}
