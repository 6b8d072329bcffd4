//! Reconciliation with the broker and the kill switch at the broker, through the real binary:
//! a bot whose order intents are lost finds the broker's orders and fills unknown, holds
//! entries (across a restart) until a person confirms over HTTP or with the CLI; the kill
//! switch cancels every working order and closes the position at once, never twice.

use crate::harness::{cli, Served, TOKEN};
use serde_json::Value;

fn items(bot: &Served, path: &str) -> Vec<Value> {
    let (code, body) = bot.get(path);
    assert_eq!(code, 200, "{path}: {body}");
    body["items"].as_array().unwrap().clone()
}

/// Forgets every order intent in the bot's state file (the bot is stopped).
fn forget_intents(bot: &Served) {
    let path = bot.dir.join("state/btc.json");
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        !state["intents"].as_array().unwrap().is_empty(),
        "the first run sent orders: {state}"
    );
    state["intents"] = Value::Array(Vec::new());
    std::fs::write(&path, serde_json::to_string(&state).unwrap()).unwrap();
}

#[test]
fn orders_the_bot_does_not_know_hold_entries_until_a_person_confirms_also_across_a_restart() {
    let mut bot = Served::start("reconcile", "", 3);
    bot.wait_cycles(2);
    let working = items(&bot, "/api/v1/orders?status=working");
    assert_eq!(working.len(), 2, "the entry's stop and target work");
    let (code, clean) = bot.get("/api/v1/reconciliation");
    assert_eq!(code, 200, "{clean}");
    assert_eq!(clean["held"], false, "{clean}");
    assert_eq!(clean["last"]["trigger"], "start");
    assert_eq!(clean["last"]["discrepancies"], serde_json::json!([]));

    bot.stop();
    forget_intents(&bot);
    bot.spawn();
    let status = bot.status();
    assert_eq!(status["trading"], "reducing", "{status}");
    assert!(
        status["trading_reason"]
            .as_str()
            .unwrap()
            .contains("reconciliation with the broker found 3 discrepancy(ies)"),
        "{status}"
    );
    let (_, found) = bot.get("/api/v1/reconciliation");
    assert_eq!(found["held"], true);
    let kinds: Vec<&str> = found["holding_for"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["unknown_order", "unknown_order", "unknown_fill"],
        "{found}"
    );
    let alerts = items(&bot, "/api/v1/alerts");
    assert!(
        alerts.iter().any(|a| a["kind"] == "reconciliation"),
        "{alerts:?}"
    );

    // The hold is saved: a restart keeps it.
    bot.restart();
    assert_eq!(bot.status()["reconciliation"]["held"], true);

    // The CLI shows it; confirming needs the token.
    let url = bot.base.clone();
    let (code, out, err) = cli(&["bot", "status", "--url", &url], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("HELD"), "{out}");
    assert!(out.contains("unknown_order"), "{out}");
    let (code, answer, _) = bot.post("/api/v1/reconciliation/confirm", None, None);
    assert_eq!(code, 401, "{answer}");
    assert_eq!(bot.status()["reconciliation"]["held"], true);
    let (_, read) = bot.get("/api/v1/reconciliation");
    let at = read["last"]["at"].as_str().unwrap().to_owned();
    assert!(
        out.contains(&format!("confirm-reconciliation --url {url} --at {at}")),
        "{out}"
    );
    // Confirming needs the report read; an older one (not what holds the bot now) is refused.
    let (code, answer, _) = bot.post("/api/v1/reconciliation/confirm", Some("{}"), Some(TOKEN));
    assert_eq!(code, 400, "{answer}");
    let (code, answer, _) = bot.post(
        "/api/v1/reconciliation/confirm",
        Some(r#"{"at": "2020-01-01T00:00:00Z"}"#),
        Some(TOKEN),
    );
    assert_eq!(code, 409, "{answer}");
    assert_eq!(answer["detail"]["last_at"], at.as_str(), "{answer}");
    assert_eq!(bot.status()["reconciliation"]["held"], true);
    let (code, _, err) = cli(
        &["bot", "confirm-reconciliation", "--url", &url, "--at", &at],
        None,
    );
    assert_eq!(code, 2, "no token: {err}");
    assert!(err.contains("TRADEGRAPH_API_TOKEN"), "{err}");
    let (code, _, err) = cli(
        &["bot", "confirm-reconciliation", "--url", &url, "--at", &at],
        Some("wrong-token-0123456789abcdef"),
    );
    assert_eq!(code, 3, "a wrong token: {err}");
    assert!(err.contains("401"), "{err}");
    assert_eq!(bot.status()["reconciliation"]["held"], true);
    let (code, _, err) = cli(
        &[
            "bot",
            "confirm-reconciliation",
            "--url",
            &url,
            "--at",
            "2020-01-01T00:00:00Z",
        ],
        Some(TOKEN),
    );
    assert_eq!(code, 3, "an older report: {err}");
    assert!(err.contains("409") && err.contains("changed"), "{err}");
    let (code, out, err) = cli(
        &["bot", "confirm-reconciliation", "--url", &url, "--at", &at],
        Some(TOKEN),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("3 discrepancy(ies) accepted"), "{out}");
    // It says which bot it confirmed on.
    assert!(
        out.starts_with(&format!("the BTCUSDT bot at {url}: ")),
        "{out}"
    );
    let status = bot.status();
    assert_eq!(status["reconciliation"]["held"], false, "{status}");
    assert_eq!(status["trading"], "active", "{status}");
    let actions = items(&bot, "/api/v1/operator-actions");
    assert_eq!(
        actions[0]["action"], "reconciliation.confirm",
        "{actions:?}"
    );

    // Confirmed once, the same orders found again at the next start do not hold the bot.
    bot.restart();
    assert_eq!(bot.status()["reconciliation"]["held"], false);
    assert_eq!(bot.status()["trading"], "active");
}

#[test]
fn the_kill_switch_cancels_every_working_order_and_closes_the_position_at_once() {
    let mut bot = Served::start("kill-at-broker", "", 3);
    bot.wait_cycles(2);
    assert_eq!(items(&bot, "/api/v1/orders?status=working").len(), 2);
    assert_eq!(items(&bot, "/api/v1/positions").len(), 1);
    let (code, answer, _) = bot.post(
        "/api/v1/kill-switch",
        Some(r#"{"engaged": true}"#),
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{answer}");
    // Carried out at once, or after a decision cycle in flight (the answer says which): the
    // broker's side is waited for, with a deadline.
    bot.wait("nothing working and no position", |b| {
        items(b, "/api/v1/orders?status=working").is_empty()
            && items(b, "/api/v1/positions").is_empty()
    });
    let all = items(&bot, "/api/v1/orders?status=all");
    let count = |side: &str, status: &str| {
        all.iter()
            .filter(|o| o["request"]["side"] == side && o["status"] == status)
            .count()
    };
    assert_eq!(count("SELL", "FILLED"), 1, "closed by one sell: {all:#?}");
    assert_eq!(
        count("SELL", "CANCELLED"),
        2,
        "the stop-loss and the take-profit cancelled right before the close: {all:#?}"
    );
    // Engaged again, and after a restart: nothing left to cancel or close, nothing sent twice.
    let (code, again, _) = bot.post(
        "/api/v1/kill-switch",
        Some(r#"{"engaged": true}"#),
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{again}");
    bot.restart();
    assert_eq!(bot.status()["kill_switch"], true);
    let sells = items(&bot, "/api/v1/orders?status=all")
        .into_iter()
        .filter(|o| o["request"]["side"] == "SELL" && o["status"] == "FILLED")
        .count();
    assert_eq!(sells, 1, "closed once");
}
