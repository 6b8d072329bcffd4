//! The control endpoints: the token, the kill switch across a restart, pause, close all,
//! cancel all.

use crate::harness::{cli, Served, GENERATE, TOKEN};
use serde_json::Value;
use std::time::Duration;

/// Every control endpoint, with a body that would act.
const CONTROLS: [(&str, Option<&str>); 9] = [
    ("/api/v1/kill-switch", Some(r#"{"engaged": true}"#)),
    ("/api/v1/pause", Some(r#"{"paused": true}"#)),
    ("/api/v1/close-all", None),
    ("/api/v1/cancel-all", Some(r#"{"include_exits": true}"#)),
    ("/api/v1/approvals/x/approve", None),
    ("/api/v1/approvals/x/reject", Some(r#"{"reason": "no"}"#)),
    ("/api/v1/prompts/versions/technical/1/approve", None),
    ("/api/v1/prompts/versions/technical/1/withdraw", None),
    (
        "/api/v1/prompts/versions/technical/rollback",
        Some(r#"{"to": 0}"#),
    ),
];

fn items(bot: &Served, path: &str) -> Vec<Value> {
    let (code, body) = bot.get(path);
    assert_eq!(code, 200, "{path}: {body}");
    body["items"].as_array().unwrap().clone()
}

#[test]
fn every_control_endpoint_refuses_a_missing_or_wrong_token_and_nothing_changes() {
    let mut bot = Served::start("auth", "", 3);
    bot.wait_cycles(2);
    let positions = items(&bot, "/api/v1/positions");
    let orders = items(&bot, "/api/v1/orders?status=working");
    assert_eq!((positions.len(), orders.len()), (1, 2));
    for (path, body) in CONTROLS {
        for token in [None, Some("wrong-token-0123456789abcdef"), Some("")] {
            let (code, answer, challenge) = bot.post(path, body, token);
            assert_eq!(code, 401, "{path} with {token:?}: {answer}");
            assert_eq!(challenge.as_deref(), Some("Bearer"));
            assert!(
                answer["error"]
                    .as_str()
                    .unwrap()
                    .contains("Authorization: Bearer"),
                "{answer}"
            );
        }
    }
    let status = bot.status();
    assert_eq!(
        (&status["kill_switch"], &status["entries_paused"]),
        (&Value::Bool(false), &Value::Bool(false))
    );
    assert_eq!(items(&bot, "/api/v1/positions"), positions);
    assert_eq!(items(&bot, "/api/v1/orders?status=working"), orders);
    assert!(items(&bot, "/api/v1/operator-actions").is_empty());
    // The right token, a bad body: 400, nothing done.
    let (code, answer, _) = bot.post(
        "/api/v1/kill-switch",
        Some(r#"{"engage": true}"#),
        Some(TOKEN),
    );
    assert_eq!(code, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `engage`"),
        "{answer}"
    );
    assert_eq!(bot.status()["kill_switch"], false);
    // A body over the limit is too large (413), not a malformed one (it was a 400).
    let big = format!(r#"{{"engaged": true, "pad": "{}"}}"#, "x".repeat(65 * 1024));
    let (code, answer, _) = bot.post("/api/v1/kill-switch", Some(&big), Some(TOKEN));
    assert_eq!(code, 413, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("64 KiB"),
        "{answer}"
    );
    assert_eq!(bot.status()["kill_switch"], false);
}

#[test]
fn the_kill_switch_engaged_over_http_stops_entries_and_survives_a_restart() {
    // With MongoDB (when it runs), the operator log outlives the process too.
    let (stores, env) = match crate::support::services() {
        Some((_, mongo)) => (
            format!(
                "database = \"tradegraph_service_kill_{}\"",
                std::process::id()
            ),
            vec![("MONGODB_URI", mongo)],
        ),
        None => (String::new(), Vec::new()),
    };
    let kept = if env.is_empty() { 1 } else { 2 };
    let mut bot = Served::start_with("kill", "", &stores, 0, env);
    let (code, answer, _) = bot.post(
        "/api/v1/kill-switch",
        Some(r#"{"engaged": true}"#),
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["detail"]["engaged"], true);
    let status = bot.status();
    assert_eq!(status["kill_switch"], true);
    assert_eq!(status["trading"], "halted");
    assert_eq!(status["trading_reason"], "the kill switch is engaged");
    let (code, ready) = bot.get("/readyz");
    assert_eq!(code, 200, "halted is not unhealthy: {ready}");

    // The models say BUY at the first decision: the guard refuses it.
    bot.play(4);
    bot.wait_cycles(3);
    let first = bot.decision(&bot.decision_id(1));
    assert_eq!(first["action"], "BUY");
    assert_eq!(first["risk_guard"]["status"], "REJECTED", "{first}");
    assert!(
        first["risk_guard"]["findings"]
            .to_string()
            .contains("kill switch"),
        "{first}"
    );
    assert!(items(&bot, "/api/v1/positions").is_empty());
    let actions = items(&bot, "/api/v1/operator-actions");
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["action"], "kill_switch.engage");
    assert_eq!(actions[0]["outcome"], "done");
    assert!(
        actions[0]["source"]
            .as_str()
            .unwrap()
            .starts_with("http 127.0.0.1:"),
        "{actions:?}"
    );

    // Still engaged after a restart, before any market data.
    bot.restart();
    let status = bot.status();
    assert_eq!(status["kill_switch"], true, "{status}");
    assert_eq!(status["trading"], "halted");
    let (code, answer, _) = bot.post(
        "/api/v1/kill-switch",
        Some(r#"{"engaged": false}"#),
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{answer}");
    assert_eq!(bot.status()["trading"], "active");
    let actions = items(&bot, "/api/v1/operator-actions");
    assert_eq!(
        actions.len(),
        kept,
        "kept across the restart in MongoDB: {actions:?}"
    );
    assert_eq!(actions[0]["action"], "kill_switch.release", "newest first");
    bot.stop();
    if let Some((_, mongo)) = crate::support::services() {
        bot.runtime.block_on(async {
            let client = mongodb::Client::with_uri_str(&mongo).await.unwrap();
            let name = format!("tradegraph_service_kill_{}", std::process::id());
            client.database(&name).drop().await.unwrap();
        });
    }
}

#[test]
fn without_a_token_set_one_is_generated_printed_once_and_never_logged() {
    let mut bot = Served::start_with(
        "generated",
        "",
        "",
        0,
        vec![("TRADEGRAPH_API_TOKEN", GENERATE.to_owned())],
    );
    let stdout = bot.bot.as_ref().unwrap().stdout();
    let lines: Vec<&String> = stdout
        .iter()
        .filter(|l| l.starts_with("API token"))
        .collect();
    assert_eq!(lines.len(), 1, "{stdout:?}");
    let token = lines[0].rsplit(' ').next().unwrap().to_owned();
    assert_eq!(token.len(), 64, "32 random bytes in hex: {token}");
    let (code, _, _) = bot.post("/api/v1/pause", Some(r#"{"paused": true}"#), Some(TOKEN));
    assert_eq!(code, 401, "not the test token");
    let (code, answer, _) = bot.post("/api/v1/pause", Some(r#"{"paused": true}"#), Some(&token));
    assert_eq!(code, 200, "{answer}");
    let exited = bot.stop();
    let everywhere = format!("{}\n{}", exited.stderr.join("\n"), exited.stdout.join("\n"));
    assert_eq!(
        everywhere.matches(&token).count(),
        1,
        "printed once, never logged"
    );
}

#[test]
fn a_short_token_is_refused_at_start_without_showing_it() {
    let mut bot = Served::start_with(
        "short",
        "",
        "",
        0,
        vec![("TRADEGRAPH_API_TOKEN", "hunter2".to_owned())],
    );
    let exited = bot.bot.take().unwrap().wait_exit(Duration::from_secs(20));
    // Invalid configuration (1), found with the settings: not a bot that stopped (3).
    assert_eq!(exited.status.code(), Some(1), "{}", exited.dump());
    let stderr = exited.stderr.join("\n");
    assert!(
        stderr.contains("TRADEGRAPH_API_TOKEN has 7 characters; use at least 16"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2") && !exited.stdout.join("\n").contains("hunter2"));
}

#[test]
fn paused_entries_are_held_back_and_the_pause_survives_a_restart() {
    let mut bot = Served::start("pause", "", 0);
    let (code, answer, _) = bot.post("/api/v1/pause", Some(r#"{"paused": true}"#), Some(TOKEN));
    assert_eq!(code, 200, "{answer}");
    let status = bot.status();
    assert_eq!(status["trading"], "reducing");
    assert_eq!(status["entries_paused"], true);
    bot.play(3);
    bot.wait_cycles(2);
    let first = bot.decision(&bot.decision_id(1));
    assert_eq!(
        first["risk_guard"]["status"], "APPROVED",
        "the guard let it through: {first}"
    );
    assert_eq!(first["operator_gate"], "entries paused", "{first}");
    assert!(first.get("orders").is_none(), "{first}");
    assert!(items(&bot, "/api/v1/positions").is_empty());
    bot.restart();
    assert_eq!(bot.status()["entries_paused"], true);
    let (code, _, _) = bot.post("/api/v1/pause", Some(r#"{"paused": false}"#), Some(TOKEN));
    assert_eq!(code, 200);
    assert_eq!(bot.status()["trading"], "active");
}

#[test]
fn cancel_all_keeps_the_exits_unless_asked_and_close_all_closes_once() {
    let mut bot = Served::start("close", "", 3);
    bot.wait_cycles(2);
    assert_eq!(items(&bot, "/api/v1/orders?status=working").len(), 2);

    let (code, answer, _) = bot.post("/api/v1/cancel-all", None, Some(TOKEN));
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["detail"]["cancelled"], serde_json::json!([]));
    assert_eq!(
        answer["detail"]["kept"].as_array().unwrap().len(),
        2,
        "{answer}"
    );
    assert_eq!(items(&bot, "/api/v1/orders?status=working").len(), 2);

    let (code, answer, _) = bot.post(
        "/api/v1/cancel-all",
        Some(r#"{"include_exits": true}"#),
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{answer}");
    let cancelled = answer["detail"]["cancelled"].as_array().unwrap();
    assert_eq!(cancelled.len(), 2, "{answer}");
    assert!(cancelled.iter().all(|o| o["status"] == "CANCELLED"));
    assert!(items(&bot, "/api/v1/orders?status=working").is_empty());

    let (code, answer, _) = bot.post("/api/v1/close-all", None, Some(TOKEN));
    assert_eq!(code, 200, "{answer}");
    let order = &answer["detail"]["orders"][0];
    assert_eq!(
        (&order["side"], &order["status"]),
        (&Value::from("SELL"), &Value::from("FILLED")),
        "{answer}"
    );
    assert!(items(&bot, "/api/v1/positions").is_empty());
    let trades = items(&bot, "/api/v1/trades");
    assert_eq!(trades.len(), 1);
    assert_eq!(trades[0]["status"], "closed", "{trades:?}");
    assert!(trades[0]["realized_pnl"].is_string());

    // Nothing left: refused, nothing sent.
    let (code, answer, _) = bot.post("/api/v1/close-all", None, Some(TOKEN));
    assert_eq!(code, 409, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("no open position"),
        "{answer}"
    );
    let actions = items(&bot, "/api/v1/operator-actions");
    let what: Vec<(&str, &str)> = actions
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap(),
                a["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        what,
        [
            ("positions.close_all", "refused"),
            ("positions.close_all", "done"),
            ("orders.cancel_all", "done"),
            ("orders.cancel_all", "done"),
        ]
    );
    let file = crate::support::state::read(&bot.dir.join("state/btc.json")).unwrap();
    let intents = crate::support::state::intents(&file);
    assert_eq!(
        intents.len(),
        2,
        "the entry and the close, each journaled once: {intents:?}"
    );
}

#[test]
fn prompt_versions_are_listed_approved_and_rolled_back_over_http_and_the_cli_with_clear_refusals() {
    let mut bot = Served::start("prompts", "", 3);
    bot.wait_cycles(1);
    assert!(items(&bot, "/api/v1/prompts/versions").is_empty());
    assert!(items(&bot, "/api/v1/prompts/versions?agent=technical").is_empty());
    let (code, answer) = bot.get("/api/v1/prompts/versions?agent=chartist");
    assert_eq!(code, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("chartist"),
        "{answer}"
    );

    // A version that is no number is a JSON error naming the path, as every error is.
    for bad in [
        "/api/v1/prompts/versions/technical/abc/approve",
        "/api/v1/prompts/versions/technical/-1/withdraw",
    ] {
        let (code, answer, _) = bot.post(bad, None, Some(TOKEN));
        assert_eq!(code, 400, "{bad}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| e.contains("path")),
            "{bad}: {answer}"
        );
    }

    let approve = "/api/v1/prompts/versions/technical/1/approve";
    let (code, answer, _) = bot.post(approve, None, Some(TOKEN));
    assert_eq!(code, 409, "{answer}");
    assert_eq!(
        answer["error"], "prompt version technical v1: there is no such version",
        "{answer}"
    );
    let (code, answer, _) = bot.post(
        "/api/v1/prompts/versions/chartist/1/approve",
        None,
        Some(TOKEN),
    );
    assert_eq!(code, 400, "{answer}");
    let rollback = "/api/v1/prompts/versions/technical/rollback";
    let (code, answer, _) = bot.post(rollback, Some("{}"), Some(TOKEN));
    assert_eq!(code, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("give {\"to\""),
        "{answer}"
    );
    let (code, answer, _) = bot.post(rollback, Some(r#"{"to": 0}"#), Some(TOKEN));
    assert_eq!(code, 409, "{answer}");
    assert!(
        answer.to_string().contains("it is the version in use"),
        "{answer}"
    );
    let actions: Vec<Value> = items(&bot, "/api/v1/operator-actions");
    let recorded: Vec<(&str, &str)> = actions
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap(),
                a["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        [
            ("prompt.rollback", "refused"),
            ("prompt.approve", "refused")
        ],
        "newest first: {actions:?}"
    );

    let url = bot.base.clone();
    let (code, out, err) = cli(&["prompts", "versions", "--url", &url], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("no prompt versions"), "{out}");
    let approve_cli = [
        "prompts",
        "approve",
        "--url",
        &url,
        "--agent",
        "technical",
        "--version",
        "1",
    ];
    let (code, _, err) = cli(&approve_cli, None);
    assert_eq!(code, 2, "no token: {err}");
    assert!(err.contains("TRADEGRAPH_API_TOKEN"), "{err}");
    let (code, _, err) = cli(&approve_cli, Some(TOKEN));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("409") && err.contains("technical v1: there is no such version"),
        "{err}"
    );
    // A command that changes a bot names the bot it reached (the address defaults to BTC's).
    assert!(
        err.contains(&format!("the BTCUSDT bot at {url}: POST")),
        "{err}"
    );
    let (code, _, err) = cli(
        &[
            "prompts",
            "rollback",
            "--url",
            &url,
            "--agent",
            "technical",
            "--to",
            "0",
        ],
        Some(TOKEN),
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("it is the version in use"), "{err}");
    assert!(err.contains("the BTCUSDT bot at "), "{err}");
    let (code, _, err) = cli(
        &["prompts", "versions", "--url", &url, "--agent", "chartist"],
        None,
    );
    assert_eq!(code, 2, "{err}");
    bot.stop();
}
