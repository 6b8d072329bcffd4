//! `tradegraph backtest` and `tradegraph run` on files, as a user runs them: the summary, the
//! model budget, and a replayed bot that carries on after a restart.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

/// Runs the binary in `dir` with only `env` (no keys or servers of the test's environment).
fn tradegraph(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
    command.args(args).current_dir(dir).env_clear();
    // `run` serves on a port of its own: tests running at once must not collide on 8001.
    command.env("TRADEGRAPH_LISTEN", "127.0.0.1:0");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// `n` one-minute bars from 2024-03-04T00:00Z, a gentle zigzag.
fn bars(dir: &Path, n: usize) -> std::path::PathBuf {
    bars_from(dir, "2024-03-04T00:00:00Z", n)
}

/// `n` one-minute bars from `start`, a gentle zigzag.
fn bars_from(dir: &Path, start: &str, n: usize) -> std::path::PathBuf {
    let start: tradegraph_core::Timestamp = start.parse().unwrap();
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..n {
        let p = 100.0 + if (i / 7) % 2 == 0 { i % 7 } else { 7 - i % 7 } as f64 * 0.1;
        let ts = start.add_millis(i as i64 * 60_000);
        csv += &format!("{ts},{p:.2},{:.2},{:.2},{p:.2},10\n", p + 0.05, p - 0.05);
    }
    let path = dir.join("bars.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn backtest_replays_the_bundled_sample_and_prints_the_summary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tradegraph(&root, &["backtest", "--instrument", "btc"], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("No LLM keys: the agents run in rule mode"),
        "{stdout}"
    );
    let lines = std::fs::read_to_string(root.join("examples/data/btcusdt-1m.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert!(
        stdout.contains(&format!(
            "over {lines} bars, about {} decision cycles",
            lines / 15
        )),
        "{stdout}"
    );
    assert!(stdout.contains("--- summary ---"), "{stdout}");
    assert!(
        stdout.contains(&format!("cycles {} ", lines / 15)),
        "{stdout}"
    );
}

#[test]
fn backtest_windows_the_data_and_refuses_an_empty_window() {
    let dir = support::temp_dir("window");
    let data = bars(&dir, 120);
    let data = data.to_str().unwrap();
    let out = tradegraph(
        &dir,
        &[
            "backtest",
            "--instrument",
            "btc",
            "--data",
            data,
            "--from",
            "2024-03-04T01:00:00Z",
        ],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("cycles 4 "),
        "the second hour only: {stdout}"
    );
    // the plan counts what the period holds, not the whole file
    assert!(
        stdout.contains("over 60 bars, about 4 decision cycles"),
        "{stdout}"
    );
    let out = tradegraph(
        &dir,
        &[
            "backtest",
            "--data",
            data,
            "--from",
            "2024-03-04T01:00:00Z",
            "--to",
            "2024-03-04T00:00:00Z",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not before --to"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn backtest_with_models_states_its_plan_and_stops_asking_at_the_budget() {
    let (runtime, llm) = support::llm::LlmServer::on_own_runtime();
    let dir = support::temp_dir("budget");
    let data = bars(&dir, 90);
    std::fs::write(dir.join("tradegraph.toml"), "[llm.budget]\nmax_calls = 5\n").unwrap();
    let out = tradegraph(
        &dir,
        &[
            "backtest",
            "--instrument",
            "btc",
            "--data",
            data.to_str().unwrap(),
        ],
        &llm.env(),
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("models: up to 11 calls per cycle, about 66 calls in all"),
        "{stdout}"
    );
    assert!(
        stdout.contains("LLM budget spent (5 of 5 calls): the agents run in rule mode from now on"),
        "{stdout}"
    );
    let requests = runtime
        .block_on(llm.server.received_requests())
        .unwrap()
        .len();
    // Calls stop exactly at the budget, the four analysts asking in parallel included (each
    // call reserves its place before it goes out).
    assert_eq!(requests, 5, "{requests} requests");
    assert!(stdout.contains("reports by model"), "{stdout}");
    let by_rules: u64 = stdout
        .split("by rules ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(by_rules > 30, "the rest in rule mode: {stdout}");
}

#[test]
fn run_on_a_replay_saves_its_state_and_a_restart_carries_on() {
    let dir = support::temp_dir("replay");
    let data = bars(&dir, 61);
    let data = data.to_str().unwrap();
    let args = [
        "run",
        "--instrument",
        "btc",
        "--feed",
        "replay",
        "--data",
        data,
    ];
    let out = tradegraph(&dir, &args, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("bot state in file"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("feed_stale"),
        "the replay's end is not a stale feed: {stderr}"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains(" BTCUSDT | T "))
            .count(),
        4,
        "{stdout}"
    );
    let state =
        support::state::read(&dir.join(".tradegraph/state-btc.json")).expect("the state file");
    let sequence =
        support::state::body(&state, "BTCUSDT", "sequence").expect("the decision sequence");
    assert_eq!(sequence["cycles"], 4, "{sequence}");

    // The same file again: every cycle was run already.
    let out = tradegraph(&dir, &args, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains(" BTCUSDT | T "))
            .count(),
        0,
        "nothing decided twice: {stdout}"
    );
    assert!(stdout.contains("cycles 0 "), "{stdout}");
}

/// A Bank Nifty backtest of 90 one-minute bars from `start`: the exit code, stdout and stderr
/// together.
fn banknifty_backtest(dir: &Path, start: &str) -> (Option<i32>, String) {
    let data = bars_from(dir, start, 90);
    let out = tradegraph(
        dir,
        &[
            "backtest",
            "--instrument",
            "banknifty",
            "--data",
            data.to_str().unwrap(),
        ],
        &[],
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    (out.status.code(), all)
}

#[test]
fn a_session_past_the_holiday_list_is_warned_once() {
    let dir = support::temp_dir("holidays");
    // Monday 4 January 2027, from NSE's open (09:15 IST): past the bundled list (2026).
    let (code, warned) = banknifty_backtest(&dir, "2027-01-04T03:45:00Z");
    assert_eq!(code, Some(0), "{warned}");
    let warnings = warned.matches("past the holiday list").count();
    assert_eq!(warnings, 1, "one warning for the year: {warned}");
    assert!(
        warned.contains("2027-01-04") && warned.contains("ends with 2026"),
        "names the date and the list's last year: {warned}"
    );
    assert!(
        warned.contains("holidays_file"),
        "says what to do: {warned}"
    );

    // Inside the list's years: no warning.
    let (code, all) = banknifty_backtest(&dir, "2026-07-20T03:45:00Z");
    assert_eq!(code, Some(0), "{all}");
    assert!(!all.contains("past the holiday list"), "{all}");
}

/// What the portfolio manager and the risk manager were shown, in the order they were asked.
#[derive(Default)]
struct Shown {
    portfolio_manager: Vec<String>,
    risk_manager: Vec<String>,
}

/// A desk of models in OpenAI's format whose portfolio manager first asks to CLOSE while flat,
/// then BUYs with a stop and a target, then HOLDs; it keeps the prompts it was shown.
struct BookDesk(std::sync::Arc<std::sync::Mutex<Shown>>);

impl wiremock::Respond for BookDesk {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        use serde_json::json;
        use support::llm::{completion, desk_answer, is_agent, messages};
        let (system, user) = messages(request);
        let mut shown = self.0.lock().unwrap();
        let answer = if is_agent(&system, "portfolio manager") {
            shown.portfolio_manager.push(user);
            match shown.portfolio_manager.len() {
                1 => {
                    json!({"action": "CLOSE", "size_pct": 0.0, "stop_loss": null, "take_profit": null,
                    "trailing_pct": null, "confidence": 0.7, "rationale": "Take the profit."})
                }
                2 => {
                    json!({"action": "BUY", "size_pct": 2.0, "stop_loss": 97.0, "take_profit": 105.0,
                    "trailing_pct": null, "confidence": 0.8, "rationale": "A small long."})
                }
                _ => {
                    json!({"action": "HOLD", "size_pct": 0.0, "stop_loss": null, "take_profit": null,
                    "trailing_pct": null, "confidence": 0.6, "rationale": "Keep it."})
                }
            }
        } else {
            if is_agent(&system, "risk manager") {
                shown.risk_manager.push(user);
            }
            desk_answer(&system)
                .unwrap_or_else(|| panic!("an agent the desk does not know: {system}"))
        };
        completion(&answer)
    }
}

/// The risk manager and the portfolio manager see the book: flat, a CLOSE is refused with a
/// finding that says there is nothing to close; after the entry fills, the position with its
/// entry, stop-loss and take-profit, the working exits and the room left under the limits.
#[test]
fn the_models_see_the_book_and_a_close_while_flat_is_refused() {
    use wiremock::matchers::{method, path_regex};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let shown = std::sync::Arc::new(std::sync::Mutex::new(Shown::default()));
    let server = runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(method("POST"))
            .and(path_regex("chat/completions$"))
            .respond_with(BookDesk(std::sync::Arc::clone(&shown)))
            .mount(&server)
            .await;
        server
    });
    let dir = support::temp_dir("book");
    let data = bars(&dir, 60);
    let out_dir = dir.join("report");
    let env = [
        ("OPENAI_API_KEY", "test".to_owned()),
        ("OPENAI_BASE_URL", format!("{}/v1", server.uri())),
        ("OPENAI_MODEL", "gpt-test".to_owned()),
    ];
    let out = tradegraph(
        &dir,
        &[
            "backtest",
            "--instrument",
            "btc",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let decisions: Vec<serde_json::Value> =
        std::fs::read_to_string(out_dir.join("decisions.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    assert!(decisions.len() >= 3, "{decisions:?}");

    // Flat: the book says so, and the CLOSE is refused, saying why.
    let shown = shown.lock().unwrap();
    let first = &shown.portfolio_manager[0];
    for line in [
        "- Position: none (flat). CLOSE has nothing to close.",
        "- Equity 100000, cash 100000, today's P&L 0.",
        "- Daily loss: 0% so far of the 2% limit (of the day's starting equity), 2% left.",
        "- Position size: at most 5% of equity; 5% of equity left to add.",
        "- Working orders: none.",
        "- Entries: allowed.",
    ] {
        assert!(first.contains(line), "{line:?} not in:\n{first}");
    }
    assert!(shown.risk_manager[0].contains("- Position: none (flat)."));
    let verdict = &decisions[0]["verdict"];
    assert_eq!(verdict["status"], "REJECTED", "{verdict}");
    assert_eq!(verdict["action"], "CLOSE", "{verdict}");
    assert_eq!(
        verdict["findings"],
        serde_json::json!([{"effect": "rejected", "reason": {"rule": "nothing_to_close"}}]),
        "{verdict}"
    );
    assert!(decisions[0]["orders"].as_array().unwrap().is_empty());

    // The BUY goes out and fills at the next open; the next prompts show the position.
    assert_eq!(
        decisions[1]["orders"].as_array().unwrap().len(),
        1,
        "{}",
        decisions[1]
    );
    for prompt in [&shown.portfolio_manager[2], &shown.risk_manager[2]] {
        assert!(prompt.contains("- Position: long "), "{prompt}");
        assert!(
            prompt.contains("stop-loss 97, take-profit 105."),
            "{prompt}"
        );
        assert!(
            prompt.contains("- Working orders: stop-loss sell ")
                && prompt.contains("stop at 97")
                && prompt.contains("take-profit sell ")
                && prompt.contains("limit at 105"),
            "{prompt}"
        );
        // 2% of equity went into the position at about the price it is marked at now.
        let left: f64 = prompt
            .split("5% of equity; ")
            .nth(1)
            .and_then(|rest| rest.split('%').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no room left in: {prompt}"));
        assert!((2.9..=3.1).contains(&left), "{left}% left to add: {prompt}");
        assert!(prompt.contains("- Entries: allowed."), "{prompt}");
    }
}

/// A webhook whose `url_env` is set nowhere stops the commands that deliver alerts (`run`,
/// naming the variable and the file's line), not those that send none (a backtest, on paper,
/// with no alerts): a developer without the team's Slack secret can still backtest.
#[test]
fn an_unset_webhook_variable_stops_run_and_not_a_backtest() {
    let dir = support::temp_dir("unset-hook");
    std::fs::write(
        dir.join("tradegraph.toml"),
        "\n[[alerts.webhook]]\nurl_env = \"NO_SUCH_HOOK\"\nformat = \"json\"\n",
    )
    .unwrap();
    let data = bars(&dir, 60);
    let backtest = tradegraph(
        &dir,
        &[
            "backtest",
            "--instrument",
            "btc",
            "--data",
            data.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(
        backtest.status.code(),
        Some(0),
        "{}",
        text(&backtest.stderr)
    );
    let run = tradegraph(
        &dir,
        &["run", "--instrument", "btc", "--feed", "synthetic"],
        &[],
    );
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("NO_SUCH_HOOK") && stderr.contains("tradegraph.toml:2"),
        "{stderr}"
    );
    assert!(!text(&run.stdout).contains("BTCUSDT |"), "no cycle ran");
}
