//! Entries that wait for an operator: approved, rejected, expired, superseded, and across a
//! restart.

use crate::harness::{Served, TOKEN};
use serde_json::Value;
use std::time::Duration;

const REQUIRED: &str = "approval = \"required\"\napproval_timeout_secs = 120";

fn approvals(bot: &Served) -> Vec<Value> {
    let (code, body) = bot.get("/api/v1/approvals");
    assert_eq!(code, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

fn positions(bot: &Served) -> usize {
    bot.get("/api/v1/positions").1["items"]
        .as_array()
        .unwrap()
        .len()
}

/// A bot whose first decision (a BUY) waits for approval; returns its approval.
fn waiting(name: &str, config: &str) -> (Served, Value) {
    let mut bot = Served::start(name, config, 2);
    bot.wait("an entry waiting for approval", |b| approvals(b).len() == 1);
    let waiting = approvals(&bot).remove(0);
    assert_eq!(waiting["id"], bot.decision_id(1));
    assert_eq!(waiting["side"], "BUY");
    assert_eq!(waiting["verdict"], "APPROVED");
    assert!(waiting["stop_loss"].is_string(), "{waiting}");
    let status = bot.status();
    assert_eq!(status["approval_required"], true);
    assert_eq!(status["cycles"], 1, "the cycle counts as run: {status}");
    assert_eq!(positions(&bot), 0, "nothing sent yet");
    (bot, waiting)
}

#[test]
fn an_approved_entry_is_sent_once() {
    let (bot, waiting) = waiting("approve", REQUIRED);
    let id = waiting["id"].as_str().unwrap();
    let mut events = bot.events("?types=approval_requested,approval_resolved,order", Some(0));
    let path = format!("/api/v1/approvals/{id}/approve");
    let (code, answer, _) = bot.post(&path, None, Some(TOKEN));
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["message"], "approved: 1 order(s) sent");
    assert_eq!(
        answer["detail"]["orders"][0]["client_id"],
        waiting["client_id"]
    );
    assert_eq!(positions(&bot), 1);
    assert!(approvals(&bot).is_empty());
    let decision = bot.decision(id);
    assert_eq!(decision["operator_gate"], "approved", "{decision}");
    assert_eq!(decision["orders"].as_array().unwrap().len(), 1);
    let seen = bot
        .runtime
        .block_on(events.until(Duration::from_secs(10), |e| e.event == "order"));
    let kinds: Vec<&str> = seen.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["approval_requested", "approval_resolved", "order"]);
    assert_eq!(seen[1].data["outcome"], "approved");
    assert!(seen[1].data["by"]
        .as_str()
        .unwrap()
        .starts_with("http 127.0.0.1:"));
    // Approving again: no such approval, nothing sent.
    let (code, answer, _) = bot.post(&path, None, Some(TOKEN));
    assert_eq!(code, 404, "{answer}");
    assert_eq!(positions(&bot), 1);
    let (_, actions) = bot.get("/api/v1/operator-actions");
    let outcomes: Vec<&str> = actions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["refused", "done"]);
}

#[test]
fn a_rejected_entry_is_not_sent() {
    let (bot, waiting) = waiting("reject", REQUIRED);
    let id = waiting["id"].as_str().unwrap();
    let (code, answer, _) = bot.post(
        &format!("/api/v1/approvals/{id}/reject"),
        Some(r#"{"reason": "not before the data release"}"#),
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["message"], "rejected: the order was not sent");
    assert_eq!(positions(&bot), 0);
    assert!(approvals(&bot).is_empty());
    let decision = bot.decision(id);
    assert_eq!(decision["operator_gate"], "rejected", "{decision}");
    assert!(decision.get("orders").is_none());
    let (_, actions) = bot.get("/api/v1/operator-actions");
    assert_eq!(actions["items"][0]["action"], "approval.reject");
}

#[test]
fn an_entry_nobody_approves_expires() {
    let (mut bot, waiting) = waiting(
        "expire",
        "approval = \"required\"\napproval_timeout_secs = 2",
    );
    let id = waiting["id"].as_str().unwrap().to_owned();
    bot.wait("the approval to expire", |b| approvals(b).is_empty());
    assert_eq!(positions(&bot), 0);
    assert_eq!(bot.decision(&id)["operator_gate"], "expired");
    let mut events = bot.events("?types=approval_resolved", Some(0));
    let resolved = bot
        .runtime
        .block_on(events.until(Duration::from_secs(5), |_| true));
    assert_eq!(resolved[0].data["outcome"], "expired");
}

#[test]
fn the_next_decision_supersedes_a_waiting_entry_while_market_events_go_on() {
    let (mut bot, waiting) = waiting("supersede", REQUIRED);
    bot.play(4);
    bot.wait_cycles(3);
    assert!(approvals(&bot).is_empty());
    assert_eq!(positions(&bot), 0);
    let id = waiting["id"].as_str().unwrap();
    assert_eq!(bot.decision(id)["operator_gate"], "superseded");
}

#[test]
fn a_waiting_entry_survives_a_restart_and_is_sent_once_when_approved() {
    let (mut bot, waiting) = waiting("restart", REQUIRED);
    let id = waiting["id"].as_str().unwrap().to_owned();
    bot.restart();
    // The feed plays the same minutes again: the cycle is not run again.
    bot.wait("the feed again", |b| {
        b.status()["feed"]["state"] == "connected"
    });
    let again = approvals(&bot);
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["id"], waiting["id"]);
    assert_eq!(again[0]["client_id"], waiting["client_id"]);
    let (code, answer, _) = bot.post(
        &format!("/api/v1/approvals/{id}/approve"),
        None,
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{answer}");
    assert_eq!(positions(&bot), 1);
    assert_eq!(bot.status()["cycles"], 1);
    bot.stop();
    let file = crate::support::state::read(&bot.dir.join("state/btc.json")).unwrap();
    let intents = crate::support::state::intents(&file);
    assert_eq!(intents.len(), 1, "sent once: {intents:?}");
    assert_eq!(intents[0]["client_id"], waiting["client_id"]);
    let broker = crate::support::state::body(&file, "BTCUSDT", "broker").unwrap();
    assert_eq!(broker["fills"].as_array().unwrap().len(), 1);
    let saved = crate::support::state::body(&file, "BTCUSDT", "approvals").unwrap();
    assert_eq!(saved, &serde_json::json!([]));
}

#[test]
fn an_approval_sent_before_a_crash_is_settled_at_restart_and_written_to_the_operator_log() {
    let (mut bot, waiting) = waiting("settled", REQUIRED);
    let id = waiting["id"].as_str().unwrap().to_owned();
    let path = bot.dir.join("state/btc.json");
    let file = crate::support::state::read(&path).unwrap();
    let saved_waiting = crate::support::state::body(&file, "BTCUSDT", "approvals")
        .unwrap()
        .clone();
    assert_eq!(
        saved_waiting.as_array().map(Vec::len),
        Some(1),
        "saved as waiting"
    );
    let (code, answer, _) = bot.post(
        &format!("/api/v1/approvals/{id}/approve"),
        None,
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{answer}");
    bot.stop();
    // As if the bot had crashed after sending the order and before saving the approval as
    // settled: the approval is saved as waiting again.
    let mut file = crate::support::state::read(&path).unwrap();
    let doc = file["states"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|d| d["key"]["instrument"] == "BTCUSDT" && d["key"]["part"] == "approvals")
        .unwrap();
    doc["body"] = saved_waiting;
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    bot.spawn();
    assert!(approvals(&bot).is_empty(), "settled, not shown again");
    assert_eq!(positions(&bot), 1, "sent once");
    let (code, actions) = bot.get("/api/v1/operator-actions");
    assert_eq!(code, 200, "{actions}");
    let settled = &actions["items"][0];
    assert_eq!(settled["action"], "approval.approve", "{actions}");
    assert_eq!(settled["source"], "restart", "{actions}");
    assert_eq!(settled["outcome"], "done", "{actions}");
    assert_eq!(settled["detail"]["id"], id.as_str(), "{actions}");
    assert_eq!(
        settled["detail"]["client_id"], waiting["client_id"],
        "{actions}"
    );
    assert!(
        settled["message"].as_str().unwrap().contains("restart"),
        "{actions}"
    );
}
