//! `tradegraph backtest --record FILE` then `--replay FILE`: the replay calls no model (the
//! local model server is stopped, no key is set), decides the same and writes a byte-identical
//! `summary.json`; a torn record file keeps its answers; a request the record lacks stops the
//! run with an error naming the agent, the model and the hash.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

/// Runs the binary in `dir` with only `env`.
fn tradegraph(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
    command.args(args).current_dir(dir).env_clear();
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

/// `tradegraph backtest --instrument btc --data DATA` with `extra`, in `dir` with only `env`.
fn backtest(dir: &Path, data: &str, extra: &[&str], env: &[(&str, String)]) -> Output {
    let mut args = vec!["backtest", "--instrument", "btc", "--data", data];
    args.extend_from_slice(extra);
    tradegraph(dir, &args, env)
}

/// The `summary.json` a backtest wrote in `dir/out`, parsed.
fn summary_json(dir: &Path, out: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(out).join("summary.json")).unwrap()).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// `n` one-minute bars from `start`, a gentle zigzag, in `dir/name`.
fn bars(dir: &Path, name: &str, start: &str, n: usize) -> String {
    let start: tradegraph_core::Timestamp = start.parse().unwrap();
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..n {
        let p = 100.0 + if (i / 7) % 2 == 0 { i % 7 } else { 7 - i % 7 } as f64 * 0.1;
        let ts = start.add_millis(i as i64 * 60_000);
        csv += &format!("{ts},{p:.2},{:.2},{:.2},{p:.2},10\n", p + 0.05, p - 0.05);
    }
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The printed summary: everything from its header on.
fn summary(stdout: &str) -> &str {
    let at = stdout
        .find("--- summary ---")
        .unwrap_or_else(|| panic!("no summary: {stdout}"));
    let end = stdout[at..]
        .find("report: ")
        .map_or(stdout.len(), |e| at + e);
    &stdout[at..end]
}

fn ok(out: &Output) -> String {
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    stdout
}

#[test]
fn a_recorded_backtest_replays_with_no_model_and_the_same_report() {
    let (runtime, llm) = support::llm::LlmServer::on_own_runtime();
    let env = llm.env();
    let dir = support::temp_dir("record-replay");
    let data = bars(&dir, "bars.csv", "2024-03-04T00:00:00Z", 90);
    let backtest = |extra: &[&str], env: &[(&str, String)]| backtest(&dir, &data, extra, env);

    let recorded = ok(&backtest(
        &["--record", "answers.jsonl", "--out", "recorded"],
        &env,
    ));
    assert!(
        recorded.contains("LLM answers: recorded to answers.jsonl")
            && recorded.contains("no cycle deadline"),
        "{recorded}"
    );
    let calls = runtime
        .block_on(llm.server.received_requests())
        .unwrap()
        .len();
    assert!(calls >= 6 * 4, "the models were asked: {calls} calls");
    assert!(recorded.contains("reports by model"), "{recorded}");
    assert!(
        recorded.contains("note: gpt-test (openai) has no known training cut-off"),
        "{recorded}"
    );
    let lines = std::fs::read_to_string(dir.join("answers.jsonl")).unwrap();
    assert_eq!(
        lines
            .lines()
            .filter(|l| l.contains(r#""type":"answer""#))
            .count(),
        calls,
        "one line per call"
    );
    assert!(
        !lines.contains("You are the"),
        "no prompt text in the record"
    );

    // the model server is gone
    drop(llm);
    drop(runtime);

    // with the same environment (its key now leads nowhere): the same report, byte for byte
    let same = ok(&backtest(
        &["--replay", "answers.jsonl", "--out", "same"],
        &env,
    ));
    assert!(same.contains("no model is called"), "{same}");
    assert_eq!(summary(&same), summary(&recorded));
    let read = |sub: &str, file: &str| std::fs::read(dir.join(sub).join(file)).unwrap();
    assert!(
        read("same", "summary.json") == read("recorded", "summary.json"),
        "summary.json differs:\n{}\n---\n{}",
        text(&read("recorded", "summary.json")),
        text(&read("same", "summary.json"))
    );
    assert_eq!(
        read("same", "decisions.jsonl"),
        read("recorded", "decisions.jsonl")
    );

    // with no key at all
    let replayed = ok(&backtest(
        &["--replay", "answers.jsonl", "--out", "replayed"],
        &[],
    ));
    assert!(!replayed.contains("No LLM keys"), "{replayed}");
    assert!(
        replayed.contains("LLM chain: openai (gpt-test)"),
        "{replayed}"
    );
    assert_eq!(summary(&replayed), summary(&recorded));
    assert_eq!(
        read("replayed", "decisions.jsonl"),
        read("recorded", "decisions.jsonl")
    );
    let recorded_summary = summary_json(&dir, "recorded");
    let record = &recorded_summary["configuration"]["llm_record"];
    assert_eq!(record["path"], "answers.jsonl", "{record}");
    assert_eq!(record["answers"], calls);
    assert_eq!(record["sha256"].as_str().map(str::len), Some(64));
    let metrics = |sub: &str| {
        let v = summary_json(&dir, sub);
        (v["metrics"].clone(), v["results"].clone(), v["llm"].clone())
    };
    assert_eq!(metrics("replayed"), metrics("recorded"));

    // a crash mid-write: the torn line is reported and skipped, the answers before it replay
    let mut torn = lines.clone();
    torn.push_str(r#"{"v":1,"type":"answer","key":"0a1b"#);
    std::fs::write(dir.join("answers.jsonl"), torn).unwrap();
    let out = backtest(&["--replay", "answers.jsonl"], &[]);
    let again = ok(&out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "note: answers.jsonl:{}: skipped, torn",
            lines.lines().count() + 1
        )),
        "{stderr}"
    );
    assert_eq!(summary(&again), summary(&recorded));

    // other data asks other questions: the first one the record lacks stops the run
    let other = bars(&dir, "other.csv", "2024-05-06T00:00:00Z", 90);
    let out = tradegraph(
        &dir,
        &[
            "backtest",
            "--instrument",
            "btc",
            "--data",
            &other,
            "--replay",
            "answers.jsonl",
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("replay stopped: no recorded answer for agent `")
            && stderr.contains("on openai (model gpt-test), request hash ")
            && stderr.contains("record again with --record"),
        "{stderr}"
    );
    assert!(
        !text(&out.stdout).contains("--- summary ---"),
        "no report from a broken replay"
    );
}

#[test]
fn record_without_a_model_and_a_missing_replay_file_are_usage_errors() {
    let dir = support::temp_dir("record-usage");
    let data = bars(&dir, "bars.csv", "2024-03-04T00:00:00Z", 30);
    let out = tradegraph(
        &dir,
        &[
            "backtest",
            "--instrument",
            "btc",
            "--data",
            &data,
            "--replay",
            "none.jsonl",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot read none.jsonl"));
    let out = tradegraph(
        &dir,
        &[
            "backtest",
            "--instrument",
            "btc",
            "--data",
            &data,
            "--record",
            "a.jsonl",
        ],
        &[],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("records model answers, and no model is configured"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_recorded_walk_forward_replays_with_the_same_window_reports() {
    let (runtime, llm) = support::llm::LlmServer::on_own_runtime();
    let env = llm.env();
    let dir = support::temp_dir("record-replay-split");
    // two windows of at least ten 15-minute cycles each
    let data = bars(&dir, "bars.csv", "2024-03-04T00:00:00Z", 330);
    let backtest = |extra: &[&str], env: &[(&str, String)]| {
        let mut args = vec![
            "backtest",
            "--instrument",
            "btc",
            "--data",
            data.as_str(),
            "--split",
            "2",
        ];
        args.extend_from_slice(extra);
        tradegraph(&dir, &args, env)
    };
    ok(&backtest(
        &["--record", "answers.jsonl", "--out", "recorded"],
        &env,
    ));
    // the model server is gone; the same environment (its key now leads nowhere)
    drop(llm);
    drop(runtime);
    ok(&backtest(
        &["--replay", "answers.jsonl", "--out", "same"],
        &env,
    ));
    let read = |sub: &str, file: &str| std::fs::read(dir.join(sub).join(file)).unwrap();
    for window in ["window-01", "window-02"] {
        let file = format!("{window}/summary.json");
        assert!(
            read("same", &file) == read("recorded", &file),
            "{file} differs:\n{}\n---\n{}",
            text(&read("recorded", &file)),
            text(&read("same", &file))
        );
        let v = summary_json(&dir, &format!("same/{window}"));
        let record = &v["configuration"]["llm_record"];
        assert_eq!(record["path"], "answers.jsonl", "{record}");
        assert!(record.get("sha256").is_none(), "{record}");
    }
}

/// A replay that stops at its first missing answer halts the baselines running beside it (the
/// rule-mode run of a model's backtest, on a thread of their own): the report written says so
/// instead of holding figures of a run that went on after the run it compares with had ended.
/// The data runs 60 days past the recorded hour-and-a-half, so the baselines (a pass of
/// buy-and-hold over the whole file, then the rule-mode run) are far from done when the replay
/// misses at the first new cycle.
#[test]
fn a_replay_stopped_at_a_missing_answer_halts_its_baselines() {
    let (runtime, llm) = support::llm::LlmServer::on_own_runtime();
    let env = llm.env();
    let dir = support::temp_dir("replay-stop-baselines");
    let short = bars(&dir, "short.csv", "2024-03-04T00:00:00Z", 90);
    ok(&backtest(
        &dir,
        &short,
        &["--record", "answers.jsonl", "--out", "recorded"],
        &env,
    ));
    let recorded = summary_json(&dir, "recorded")["results"]["cycles"]
        .as_u64()
        .unwrap();
    assert!(recorded >= 5, "{recorded} cycles recorded");
    drop(llm);
    drop(runtime);

    // the same first 90 bars, then 60 days more
    let long = bars(&dir, "long.csv", "2024-03-04T00:00:00Z", 90 + 60 * 1440);
    let out = backtest(
        &dir,
        &long,
        &["--replay", "answers.jsonl", "--out", "stopped"],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("replay stopped: no recorded answer for agent `"),
        "{stderr}"
    );
    let summary = summary_json(&dir, "stopped");
    // the report says the run ended early, and why, for whoever reads it later
    let why = summary["stopped"].as_str().unwrap_or_default();
    assert!(
        why.contains("replay stopped: no recorded answer for agent `"),
        "{}",
        summary["stopped"]
    );
    let html = std::fs::read_to_string(dir.join("stopped/report.html")).unwrap();
    assert!(
        html.contains("id=\"stopped\"") && html.contains("replay stopped"),
        "the report page says it"
    );
    // a whole run's summary says nothing of the kind
    assert_eq!(
        summary_json(&dir, "recorded")["stopped"],
        serde_json::Value::Null
    );
    assert_eq!(
        summary["baselines_error"], "baselines: stopped with the run",
        "{}",
        summary["baselines"]
    );
    assert_eq!(summary["baselines"], serde_json::Value::Null);
    // the run itself ended at the miss: the recorded cycles (and the one that missed, if it
    // counts), not one more
    let cycles = summary["results"]["cycles"].as_u64().unwrap();
    assert!(
        (recorded..=recorded + 1).contains(&cycles),
        "{cycles} cycles replayed, {recorded} recorded: the run did not stop at the first miss"
    );
}

/// With no `<PROVIDER>_MODEL` set, a provider asks its default model, and a price for that
/// model counts its cost: the run does not say the chain is unpriced (and so does not cap its
/// calls as an unpriced run's).
#[test]
fn the_default_model_is_priced_by_its_price() {
    let (runtime, llm) = support::llm::LlmServer::on_own_runtime();
    let env: Vec<(&str, String)> = llm
        .env()
        .into_iter()
        .filter(|(k, _)| *k != "OPENAI_MODEL")
        .collect();
    let dir = support::temp_dir("default-model-price");
    std::fs::write(
        dir.join("tradegraph.toml"),
        "[llm.prices]\n\"gpt-4.1-mini\" = { input_per_mtok = \"0.40\", output_per_mtok = \"1.60\" }\n",
    )
    .unwrap();
    let data = bars(&dir, "bars.csv", "2024-03-04T00:00:00Z", 30);
    let stdout = ok(&backtest(&dir, &data, &[], &env));
    assert!(!stdout.contains("LLM prices: none configured"), "{stdout}");
    drop(llm);
    drop(runtime);
}
