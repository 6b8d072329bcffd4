//! A decision cycle's deadline, as a user meets it: models that take 2 s a call all answer
//! within it (the debate's sides asked at once), and models that hang are dropped at each
//! agent's share of it, the agents answering by their rules and the decision saying so.
//! Against a local server in OpenAI's chat-completions format.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::llm::{completion, desk_answer, is_agent, messages};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Every answer after `delay`; each request's agent (and debate round) with when it came.
struct SlowDesk {
    delay: Duration,
    arrivals: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl Respond for SlowDesk {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let (system, user) = messages(request);
        let agent = [
            "technical analyst",
            "fundamental analyst",
            "sentiment analyst",
            "macro analyst",
            "bull researcher",
            "bear researcher",
            "risk manager",
            "portfolio manager",
            "learning agent",
        ]
        .into_iter()
        .find(|role| is_agent(&system, role))
        .unwrap_or("unknown");
        let round = user
            .split("This is round ")
            .nth(1)
            .and_then(|rest| rest.split('.').next())
            .map(|r| format!(" {r}"))
            .unwrap_or_default();
        self.arrivals
            .lock()
            .unwrap()
            .push((format!("{agent}{round}"), Instant::now()));
        let answer = desk_answer(&system).unwrap_or_else(|| {
            json!({"action": "HOLD", "size_pct": 0.0, "stop_loss": null, "take_profit": null,
                "trailing_pct": null, "confidence": 0.6, "rationale": "Nothing to do."})
        });
        completion(&answer).set_delay(self.delay)
    }
}

struct Desk {
    _runtime: tokio::runtime::Runtime,
    server: MockServer,
    arrivals: Arc<Mutex<Vec<(String, Instant)>>>,
}

fn desk(delay: Duration) -> Desk {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path_regex("chat/completions$"))
            .respond_with(SlowDesk {
                delay,
                arrivals: Arc::clone(&arrivals),
            })
            .mount(&server)
            .await;
        server
    });
    Desk {
        _runtime: runtime,
        server,
        arrivals,
    }
}

/// 16 one-minute bars: one 15-minute candle closes, so one decision cycle.
fn one_cycle_of_bars(dir: &Path) -> std::path::PathBuf {
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..16i64 {
        let p = 100.0 + (i % 5) as f64 * 0.1;
        let ts = tradegraph_core::Timestamp::from_millis(1_709_510_400_000 + i * 60_000);
        csv += &format!("{ts},{p:.2},{:.2},{:.2},{p:.2},10\n", p + 0.05, p - 0.05);
    }
    let path = dir.join("bars.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

/// `tradegraph backtest` of one cycle against `desk`, with `env` added; the decision line.
fn backtest(name: &str, desk: &Desk, env: &[(&str, &str)]) -> (Output, Value) {
    let dir = support::temp_dir(name);
    let data = one_cycle_of_bars(&dir);
    let out_dir = dir.join("report");
    let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
    command
        .args(["backtest", "--instrument", "btc", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out_dir)
        .current_dir(&dir)
        .env_clear()
        .env("OPENAI_API_KEY", "test")
        .env("OPENAI_BASE_URL", format!("{}/v1", desk.server.uri()))
        .env("OPENAI_MODEL", "gpt-test");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = std::fs::read_to_string(out_dir.join("decisions.jsonl")).unwrap();
    let decisions: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(decisions.len(), 1, "one cycle: {decisions:?}");
    (out, decisions.into_iter().next().unwrap())
}

/// Each agent's report in a decision line: (agent, mode, reason).
fn modes(decision: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut add = |agent: String, report: &Value| {
        out.push((
            agent,
            report["mode"].as_str().unwrap_or_default().to_owned(),
            report["reason"].as_str().unwrap_or_default().to_owned(),
        ));
    };
    for agent in [
        "technical",
        "fundamental",
        "sentiment",
        "macro_view",
        "risk",
        "decision",
    ] {
        add(agent.to_owned(), &decision[agent]);
    }
    for entry in decision["debate"].as_array().unwrap() {
        add(
            format!("{} {}", entry["stance"], entry["round"]),
            &entry["turn"],
        );
    }
    out
}

#[test]
fn models_taking_two_seconds_all_answer_within_the_deadline_with_the_debate_asked_at_once() {
    let latency = Duration::from_secs(2);
    let desk = desk(latency);
    let (_, decision) = backtest("deadline-slow", &desk, &[]);
    let modes = modes(&decision);
    assert_eq!(modes.len(), 10, "{modes:?}");
    for (agent, mode, reason) in &modes {
        assert_eq!(mode, "llm", "{agent} fell back: {reason}");
    }
    // Each round's two sides were asked together: the bear did not wait for the bull's
    // answer (2 s), and round 2 came after both of round 1.
    let arrivals = desk.arrivals.lock().unwrap().clone();
    let at = |who: &str| {
        arrivals
            .iter()
            .find(|(a, _)| a == who)
            .unwrap_or_else(|| panic!("no request of the {who}: {arrivals:?}"))
            .1
    };
    for round in [1, 2] {
        let (bull, bear) = (
            at(&format!("bull researcher {round}")),
            at(&format!("bear researcher {round}")),
        );
        let apart = if bull > bear {
            bull - bear
        } else {
            bear - bull
        };
        assert!(
            apart < latency / 2,
            "round {round}: the sides were asked {apart:?} apart"
        );
    }
    assert!(at("bull researcher 2") >= at("bear researcher 1") + latency / 2);
}

#[test]
fn models_that_hang_are_dropped_at_each_agents_share_and_the_rules_answer_saying_so() {
    let desk = desk(Duration::from_secs(600));
    let started = Instant::now();
    let (_, decision) = backtest(
        "deadline-hang",
        &desk,
        &[("TRADEGRAPH_CYCLE_DEADLINE_SECS", "6")],
    );
    let took = started.elapsed();
    let modes = modes(&decision);
    assert_eq!(modes.len(), 10, "{modes:?}");
    for (agent, mode, reason) in &modes {
        assert_eq!(mode, "rule", "{agent}");
        assert!(
            reason.starts_with("deadline: no answer within ")
                && reason.ends_with("this agent's share of the cycle's 6 s deadline"),
            "{agent}: {reason}"
        );
    }
    // An analyst may wait a sixth of the deadline (six model stages ahead, learning's the last).
    let (_, _, analyst) = &modes[0];
    assert!(
        analyst.starts_with("deadline: no answer within 1.0 s,"),
        "{analyst}"
    );
    // The run was not held by the hanging server (600 s a call).
    assert!(took < Duration::from_secs(120), "{took:?}");
    // A decision was still made (by rules) and the guard ruled on it.
    assert_eq!(
        decision["decision"]["report"]["action"], "HOLD",
        "{decision}"
    );
    assert!(decision["verdict"].is_object(), "{decision}");
}
