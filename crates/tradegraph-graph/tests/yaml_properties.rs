//! The YAML parser never panics, and every error it reports points inside the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use tradegraph_graph::yaml::check_str;

const RESEARCH: &str = include_str!("../../../graphs/research.yaml");

/// Errors must point at a real line (or at none), never past the end of the source.
fn assert_positions_inside(source: &str) {
    if let Err(errors) = check_str(source, "prop.yaml") {
        assert!(
            errors.iter().next().is_some(),
            "an error list is never empty"
        );
        let lines = source.lines().count().max(1) + 1;
        for error in errors.iter() {
            assert!(
                error.line <= lines,
                "line {} past the end ({lines} lines): {error}",
                error.line
            );
            assert!(!error.message.is_empty(), "an error says what is wrong");
            assert_eq!(error.origin, "prop.yaml");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(source in "\\PC{0,400}") {
        assert_positions_inside(&source);
    }

    #[test]
    fn yaml_shaped_text_never_panics(
        source in "(name: [a-z]{0,5}\n|nodes:\n|  - \\{ name: [a-z]{1,3}, kind: [a-z:]{0,8} \\}\n|edges:\n|  - [a-z\\[\\], ]{0,12}\n|    [a-z_]{1,8}: [a-z0-9\\[\\]{}]{0,6}\n){0,14}"
    ) {
        assert_positions_inside(&source);
    }

    #[test]
    fn damaged_real_graph_never_panics(cut_at in 0usize..4096, cut_len in 0usize..64, insert in "[\\[\\]{}:,\\-\n #&*!|>'\"a-z0-9]{0,8}") {
        let mut at = cut_at % (RESEARCH.len() + 1);
        while !RESEARCH.is_char_boundary(at) { at -= 1; }
        let mut end = (at + cut_len).min(RESEARCH.len());
        while !RESEARCH.is_char_boundary(end) { end -= 1; }
        let damaged = format!("{}{}{}", &RESEARCH[..at], insert, &RESEARCH[end..]);
        assert_positions_inside(&damaged);
    }
}

#[test]
fn the_undamaged_graph_checks_clean() {
    let summary = check_str(RESEARCH, "research.yaml").unwrap();
    assert!(summary.to_string().contains("research"), "{summary}");
}
