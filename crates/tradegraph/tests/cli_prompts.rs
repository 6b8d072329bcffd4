//! `tradegraph prompts render`, run as a user runs it.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, missing_docs)]

fn run(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv = vec!["tradegraph", "prompts", "render"];
    argv.extend_from_slice(args);
    let code = tradegraph::cli::run(argv, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn every_agent_renders_for_every_instrument() {
    for instrument in ["btc", "banknifty", "nifty"] {
        for agent in [
            "technical",
            "fundamental",
            "sentiment",
            "macro",
            "bull",
            "bear",
            "risk_manager",
            "portfolio_manager",
            "learning",
        ] {
            let (code, out, err) = run(&["--agent", agent, "--instrument", instrument]);
            assert_eq!(code, 0, "{agent} {instrument}: {err}");
            assert!(out.starts_with(&format!("# {agent} ({agent}@")), "{out}");
            assert!(out.contains("## system") && out.contains("## user"));
        }
    }
    let (_, india, _) = run(&["--agent", "macro", "--instrument", "banknifty"]);
    assert!(india.contains("For India, weigh the RBI"), "Indian context");
    let (_, btc, _) = run(&["--agent", "macro", "--instrument", "btc"]);
    assert!(
        btc.contains("For Bitcoin") && !btc.contains("For India"),
        "crypto context"
    );
}

#[test]
fn mistakes_are_named() {
    let (code, _, err) = run(&["--agent", "oracle", "--instrument", "btc"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown agent `oracle`"), "{err}");
    let (code, _, err) = run(&["--agent", "execution", "--instrument", "btc"]);
    assert_eq!(code, 2);
    assert!(err.contains("no prompt"), "{err}");
    let (code, _, err) = run(&["--agent", "technical", "--instrument", "eth"]);
    assert_eq!(code, 2);
    assert!(err.contains("eth"), "{err}");
}

#[test]
fn a_template_directory_overrides_the_embedded_ones() {
    let dir = std::env::temp_dir().join(format!("tradegraph-cli-prompts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("sentiment.j2"),
        "{% block system %}Mood of {{ instrument.kind }}{% endblock %}{% block user %}{{ news | length }} stories{% endblock %}",
    )
    .unwrap();
    let (code, out, err) = run(&[
        "--agent",
        "sentiment",
        "--instrument",
        "btc",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Mood of crypto"), "{out}");
    assert!(out.contains(" stories"));
}

#[test]
fn a_template_directory_that_is_not_there_is_refused_naming_it() {
    let dir =
        std::env::temp_dir().join(format!("tradegraph-cli-no-prompts-{}", std::process::id()));
    let (code, out, err) = run(&[
        "--agent",
        "sentiment",
        "--instrument",
        "btc",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_ne!(code, 0, "{out}");
    assert!(out.is_empty(), "nothing rendered: {out}");
    assert!(err.contains(dir.to_str().unwrap()), "{err}");
}
