//! A decision cycle's deadline and budgets, as a user meets them: models that take 2 s a call
//! all answer within the deadline (the debate's sides asked at once), models that hang are
//! dropped at each agent's share of it, and the cycle's and the day's budgets stop model calls
//! exactly at their caps with the four analysts asking at once; the agents answer by their
//! rules and each decision says why. Against a local server in OpenAI's chat-completions
//! format.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use serde_json::{json, Value};
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

/// `tradegraph backtest` of `cycles` cycles against `desk`, with `env` added and `config` as
/// `tradegraph.toml`; the decision lines.
fn backtest_with(
    name: &str,
    desk: &Desk,
    env: &[(&str, &str)],
    config: &str,
    cycles: i64,
) -> (Output, Vec<Value>) {
    let dir = support::temp_dir(name);
    std::fs::write(dir.join("tradegraph.toml"), config).unwrap();
    let data = support::bars_for_cycles(&dir, cycles);
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
    assert_eq!(decisions.len() as i64, cycles, "{decisions:?}");
    (out, decisions)
}

/// One cycle with the default configuration; its decision line.
fn backtest(name: &str, desk: &Desk, env: &[(&str, &str)]) -> (Output, Value) {
    let (out, decisions) = backtest_with(name, desk, env, "", 1);
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
    // An analyst may wait a sixth of the deadline (six model stages ahead, learning's the last);
    // each later stage what is left over the stages ahead of it: the shares of the five stages
    // that asked add up to no more than the deadline.
    let share = |reason: &str| -> f64 {
        reason
            .trim_start_matches("deadline: no answer within ")
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(share(&modes[0].2), 1.0, "{modes:?}");
    // technical, bull 1, bull 2, risk, decision
    let stages = [&modes[0], &modes[6], &modes[8], &modes[4], &modes[5]];
    let total: f64 = stages.iter().map(|(_, _, reason)| share(reason)).sum();
    assert!(
        total <= 6.0,
        "the stages' shares add up to {total} s: {modes:?}"
    );
    for (agent, _, reason) in &modes {
        assert!(share(reason) <= 1.05, "{agent}: {reason}");
    }
    // The run was not held by the hanging server (600 s a call).
    assert!(took < Duration::from_secs(120), "{took:?}");
    // A decision was still made (by rules) and the guard ruled on it.
    assert_eq!(
        decision["decision"]["report"]["action"], "HOLD",
        "{decision}"
    );
    assert!(decision["verdict"].is_object(), "{decision}");
}

#[test]
fn the_cycles_and_the_days_budgets_stop_model_calls_exactly_at_their_caps() {
    let desk = desk(Duration::from_millis(50));
    let config = "[llm.cycle_budget]\nmax_calls = 2\n\n[llm.day_budget]\nmax_calls = 3\n";
    let (_, decisions) = backtest_with("budget-windows", &desk, &[], config, 2);
    let mut by_model = Vec::new();
    for decision in &decisions {
        let modes = modes(decision);
        assert_eq!(modes.len(), 10, "{modes:?}");
        let models: Vec<&(String, String, String)> =
            modes.iter().filter(|(_, mode, _)| mode == "llm").collect();
        by_model.push(models.len());
        // Only analysts reached the model: they ask first, four at once.
        for (agent, _, _) in &models {
            assert!(
                ["technical", "fundamental", "sentiment", "macro_view"].contains(&agent.as_str()),
                "{agent}"
            );
        }
        for (agent, mode, reason) in modes.iter().filter(|(_, mode, _)| mode == "rule") {
            // "... with calls in flight" when the others of the four were still asking.
            let cycle = reason.starts_with("cycle budget exceeded: 2 calls of 2")
                && reason.ends_with("; the next cycle may ask again");
            let day = reason.starts_with("day budget exceeded: 3 calls of 3")
                && reason.ends_with("; models are asked again from the next day");
            assert!(cycle || day, "{agent} ({mode}): {reason}");
        }
    }
    // The cycle's cap, then what the day had left.
    assert_eq!(by_model, [2, 1]);
    assert_eq!(desk.arrivals.lock().unwrap().len(), 3);
    // Each answer's tokens are in its report.
    let technical_or_other = decisions[0]
        .as_object()
        .unwrap()
        .values()
        .find(|v| v["mode"] == "llm")
        .unwrap();
    assert_eq!(
        technical_or_other["spend"],
        json!({"input_tokens": 900, "output_tokens": 60}),
        "unpriced: tokens, no cost"
    );
}

#[test]
fn a_primary_that_hangs_is_timed_out_within_the_share_and_the_next_provider_answers() {
    let hanging = desk(Duration::from_secs(600));
    let answering = desk(Duration::ZERO);
    let groq = format!("{}/v1", answering.server.uri());
    // Calls that time out count: a cap above the run's plan of one call per agent.
    let (_, decisions) = backtest_with(
        "deadline-failover",
        &hanging,
        &[
            ("TRADEGRAPH_LLM_PROVIDERS", "openai,groq"),
            ("GROQ_API_KEY", "test"),
            ("GROQ_BASE_URL", &groq),
            ("GROQ_MODEL", "gpt-test"),
            ("TRADEGRAPH_CYCLE_DEADLINE_SECS", "12"),
        ],
        "[llm.budget]\nmax_calls = 100\n",
        1,
    );
    let decision = &decisions[0];
    let modes = modes(decision);
    assert_eq!(modes.len(), 10, "{modes:?}");
    for (agent, mode, reason) in &modes {
        assert_eq!(mode, "llm", "{agent} fell back: {reason}");
    }
    for report in [
        &decision["technical"],
        &decision["risk"],
        &decision["decision"],
    ] {
        assert_eq!(report["provider"], "groq", "{report}");
    }
    // The primary was asked and timed out (its breaker then sent the rest to groq).
    assert!(!hanging.arrivals.lock().unwrap().is_empty());
    assert_eq!(answering.arrivals.lock().unwrap().len(), 10);
}
