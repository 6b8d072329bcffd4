//! Filters the templates use besides `untrusted` (see the `taint` module).

/// A float with a fixed number of decimals (`n/a` for none or non-finite).
pub(crate) fn fixed(value: Option<f64>, digits: Option<usize>) -> String {
    match value {
        // `+ 0.0` turns -0.0 into 0.0, so a zero never prints as "-0.00".
        Some(v) if v.is_finite() => format!("{:.*}", digits.unwrap_or(2), v + 0.0),
        _ => "n/a".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::fixed;

    #[test]
    fn fixed_prints_decimals_and_na() {
        assert_eq!(fixed(Some(1.234_5), None), "1.23");
        assert_eq!(fixed(Some(-0.0), Some(1)), "0.0");
        assert_eq!(fixed(Some(f64::NAN), None), "n/a");
        assert_eq!(fixed(None, None), "n/a");
    }
}
