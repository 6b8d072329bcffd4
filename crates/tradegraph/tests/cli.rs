//! The `tradegraph` binary, run as a user runs it.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs the binary from this crate's directory, so fixture paths in its output are predictable.
fn tradegraph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn check_accepts_a_valid_graph_with_a_summary() {
    let out = tradegraph(&["graph", "check", "tests/fixtures/valid.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "tests/fixtures/valid.yaml: ok: graph `debate`, 5 nodes, 8 edges, 1 join, 1 loop\n"
    );
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn check_accepts_the_research_example() {
    let out = tradegraph(&["graph", "check", "../../graphs/research.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "../../graphs/research.yaml: ok: graph `research`, 5 nodes, 9 edges, 1 join, 0 loops\n"
    );
}

#[test]
fn check_reports_every_problem_with_file_line_and_column() {
    let out = tradegraph(&["graph", "check", "tests/fixtures/invalid.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "tests/fixtures/invalid.yaml:5:13: node `a` is declared twice\n\
         tests/fixtures/invalid.yaml:8:20: the edge from `a` refers to node `c`, which is not declared\n"
    );
}

#[test]
fn check_reports_a_cycle_without_exit() {
    let out = tradegraph(&["graph", "check", "tests/fixtures/cycle.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.lines().any(|l| l
            == "tests/fixtures/cycle.yaml:3:13: cycle a -> b -> a has no conditional exit: add a conditional edge, a goto route or a declared loop that leaves it"),
        "{stderr}"
    );
    for line in stderr.lines() {
        let mut parts = line.splitn(4, ':');
        assert_eq!(parts.next(), Some("tests/fixtures/cycle.yaml"), "{line}");
        assert!(
            parts.next().unwrap().parse::<usize>().is_ok(),
            "line number in {line}"
        );
        assert!(
            parts.next().unwrap().parse::<usize>().is_ok(),
            "column in {line}"
        );
    }
}

#[test]
fn check_names_an_unknown_key() {
    let out = tradegraph(&["graph", "check", "tests/fixtures/typo.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "tests/fixtures/typo.yaml:5:5: unknown key `timeout`; expected one of: name, kind, config, timeout_ms, retry, routes\n"
    );
}

#[test]
fn an_unreadable_file_exits_with_2() {
    let out = tradegraph(&["graph", "check", "tests/fixtures/no-such-file.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("tests/fixtures/no-such-file.yaml: cannot read the graph file: "),
        "{stderr}"
    );
}

#[test]
fn render_draws_mermaid_and_dot() {
    let out = tradegraph(&[
        "graph",
        "render",
        "tests/fixtures/valid.yaml",
        "--format",
        "mermaid",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mermaid = text(&out.stdout);
    assert!(mermaid.starts_with("flowchart TD\n"), "{mermaid}");
    assert!(mermaid.contains("n2[\"bull\"]"), "{mermaid}");
    assert!(
        mermaid.contains("n3 -.->|\"debate: again\"| n2"),
        "{mermaid}"
    );
    assert!(mermaid.contains("n0 -->|\"join\"| n2"), "{mermaid}");

    let out = tradegraph(&[
        "graph",
        "render",
        "tests/fixtures/valid.yaml",
        "--format",
        "dot",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dot = text(&out.stdout);
    assert!(dot.starts_with("digraph \"debate\" {\n"), "{dot}");
    assert!(
        dot.contains("\"bear\" -> \"decide\" [style=dashed, label=\"debate: done\"];"),
        "{dot}"
    );
    assert!(dot.ends_with("}\n"), "{dot}");

    // mermaid is the default
    let out = tradegraph(&["graph", "render", "tests/fixtures/valid.yaml"]);
    assert_eq!(text(&out.stdout), mermaid);
}

#[test]
fn render_refuses_an_invalid_graph_and_an_unknown_format() {
    let out = tradegraph(&[
        "graph",
        "render",
        "tests/fixtures/invalid.yaml",
        "--format",
        "dot",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert!(text(&out.stderr).starts_with("tests/fixtures/invalid.yaml:5:13: "));

    let out = tradegraph(&[
        "graph",
        "render",
        "tests/fixtures/valid.yaml",
        "--format",
        "svg",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("possible values: mermaid, dot"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn schema_prints_the_committed_schema() {
    let out = tradegraph(&["graph", "schema"]);
    assert_eq!(out.status.code(), Some(0));
    let printed = text(&out.stdout);
    let schema: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(schema["title"], "tradegraph graph");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../graphs/graph.schema.json");
    assert!(
        std::fs::read_to_string(committed).unwrap_or_default() == printed,
        "graphs/graph.schema.json is out of date; regenerate it with\n    cargo run -p tradegraph -- graph schema > graphs/graph.schema.json"
    );
}

#[test]
fn usage_errors_and_help() {
    let out = tradegraph(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage: tradegraph [OPTIONS] <COMMAND>"));

    let out = tradegraph(&["graph", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for command in ["check", "render", "schema"] {
        assert!(help.contains(command), "{help}");
    }
    assert!(help.ends_with('\n'));
}
