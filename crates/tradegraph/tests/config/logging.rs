//! The binary: JSON logs, -v and -q, exit codes.

use super::support::*;
use std::process::Command;

#[test]
fn json_logs_go_to_stderr_one_object_per_line() {
    let dir = scratch("log-json");
    let out = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(["--log-format", "json", "-v", "config", "show"])
        .env_clear()
        .env("RUST_LOG", "tradegraph=debug")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["level"] == "DEBUG"
            && l["fields"]["message"] == "no env file"
            && l["fields"]["path"].as_str().unwrap().ends_with(".env.btc")),
        "{stderr}"
    );
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("# tradegraph: "));
}

#[test]
fn v_and_q_choose_the_level_when_rust_log_is_unset() {
    let run = |args: &[&str]| {
        let dir = scratch("log-level");
        let out = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
            .args(args)
            .env_clear()
            .current_dir(&dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stderr).unwrap()
    };
    assert_eq!(run(&["config", "show"]), "");
    assert_eq!(run(&["-q", "config", "show"]), "");
    let verbose = run(&["config", "show", "-v"]);
    assert!(
        verbose.contains("DEBUG") && verbose.contains("configuration resolved"),
        "{verbose}"
    );
}

#[test]
fn an_invalid_configuration_exits_1_and_an_unreadable_one_2() {
    let dir = scratch("exit");
    write(&dir, "tradegraph.toml", "[bot]\ncahs = 1\n");
    let out = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(["config", "show"])
        .env_clear()
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("tradegraph config: ")
            && stderr.contains("tradegraph.toml:2:1: unknown field `cahs`"),
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(["config", "show", "--config", "missing.toml"])
        .env_clear()
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
