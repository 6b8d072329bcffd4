//! `tradegraph run --feed binance` as a user runs it: a paper bot against a local WebSocket
//! server speaking Binance's combined-stream frames and a local model server in OpenAI's
//! format; SIGTERM, the state file, a restart that must not repeat the order.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::time::Duration;
use support::binance::script;
use support::process::Bot;
use support::ws::{Keepalive, WsServer};
use support::{closed_port, cycles, llm::LlmServer, state, temp_dir, this_minute_ms};
use tradegraph_core::Timestamp;

const SYMBOL: &str = "BTCUSDT";

fn config(dir: &std::path::Path) {
    std::fs::write(
        dir.join("bot.toml"),
        r#"[bot]
decision_timeframe = "1m"
# the server's trades are half an hour old: the execution re-check must not refuse them
max_verdict_age_secs = 86400

[stores]
state_file = "state/btc.json"
spill_file = "state/spill-btc.jsonl"
"#,
    )
    .unwrap();
}

/// The environment of a bot on `feed_url` with the models of `llm`.
fn env(llm: &LlmServer, feed_url: &str) -> Vec<(&'static str, String)> {
    let mut env = llm.env();
    env.push(("BINANCE_WS_URL", feed_url.to_owned()));
    env
}

const ARGS: [&str; 7] = [
    "run",
    "--instrument",
    "btc",
    "--feed",
    "binance",
    "--config",
    "bot.toml",
];

/// The orders the saved paper account holds, as (client id, role, side, status).
fn saved_orders(file: &serde_json::Value) -> Vec<(String, String, String, String)> {
    let broker = state::body(file, SYMBOL, "broker").expect("the paper account is saved");
    broker["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let text = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
            (
                text(&o["order"]["request"]["client_id"]),
                text(&o["meta"]["role"]),
                text(&o["order"]["request"]["side"]),
                text(&o["order"]["status"]),
            )
        })
        .collect()
}

#[test]
fn paper_bot_trades_once_stops_on_sigterm_and_resumes_without_repeating_the_order() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let llm = LlmServer::start(&runtime);
    // Half an hour ago: 12 minutes of trades for the first run, 20 for the second.
    let start = this_minute_ms() - 30 * 60_000;
    let feed = WsServer::start(
        &runtime,
        script(start, 20),
        12,
        Duration::from_millis(40),
        Keepalive::Ping,
        |_| true,
    );
    let dir = temp_dir("binance-restart");
    config(&dir);
    let state_path = dir.join("state/btc.json");
    let minute = |m: i64| Timestamp::from_millis(start + m * 60_000);

    // First run: the minutes 0..12 close 11 candles, each a cycle; the first one buys.
    let mut bot = Bot::spawn(&dir, &ARGS, &env(&llm, &feed.url));
    bot.wait_until(
        "a cycle on the candle that closes at minute 11",
        Duration::from_secs(20),
        |b| {
            cycles(&b.stdout(), SYMBOL)
                .iter()
                .any(|(at, _)| *at == minute(11))
        },
    );
    bot.terminate();
    let first = bot.wait_exit(Duration::from_secs(15));
    assert_eq!(first.status.code(), Some(0), "{}", first.dump());
    assert!(
        first.stdout.iter().any(|l| l
            == "btc: paper trading BTCUSDT on the binance feed with 100000 Usdt; a decision every 1min"),
        "{}",
        first.dump()
    );
    let ran = cycles(&first.stdout, SYMBOL);
    let times: Vec<Timestamp> = ran.iter().map(|(at, _)| *at).collect();
    assert_eq!(
        times,
        (1..=11).map(minute).collect::<Vec<_>>(),
        "{}",
        first.dump()
    );
    let (_, entry_line) = &ran[0];
    assert!(
        entry_line.contains("| PM Buy 2.00%") && entry_line.contains("| guard Approved"),
        "{entry_line}"
    );
    assert!(
        entry_line.contains("| order Buy ") && entry_line.ends_with(" Filled"),
        "{entry_line}"
    );
    for (_, line) in &ran[1..] {
        assert!(
            line.contains("| PM Hold ") && !line.contains("| order "),
            "{line}"
        );
    }
    let summary = first.stdout.iter().position(|l| l == "--- summary ---");
    let summary = summary.unwrap_or_else(|| panic!("no summary\n{}", first.dump()));
    assert!(
        first.stdout[summary + 1].starts_with("cycles 11 (acted on 1), ")
            && first.stdout[summary + 1].contains(", orders 1, refused at execution 0"),
        "{}",
        first.dump()
    );
    assert!(
        first.stderr.iter().any(|l| l.contains("SIGTERM")),
        "{}",
        first.dump()
    );
    assert_eq!(
        feed.seen.lock().unwrap().targets,
        ["/stream?streams=btcusdt@trade/btcusdt@kline_1m/btcusdt@depth5@100ms"]
    );

    // What the first run saved.
    let file = state::read(&state_path).expect("the state file is written");
    let sequence = state::body(&file, SYMBOL, "sequence").unwrap().clone();
    assert_eq!(sequence["cycles"], 11, "{sequence}");
    assert_eq!(
        sequence["last_cycle_at"],
        minute(11).to_string(),
        "{sequence}"
    );
    assert_eq!(
        sequence["last_decision"],
        format!("{SYMBOL}-{}", minute(11).compact_millis()),
        "{sequence}"
    );
    let orders = saved_orders(&file);
    let entries: Vec<_> = orders.iter().filter(|o| o.1 == "plain").collect();
    assert_eq!(entries.len(), 1, "{orders:?}");
    let entry_id = entries[0].0.clone();
    assert_eq!(
        (entries[0].2.as_str(), entries[0].3.as_str()),
        ("BUY", "FILLED"),
        "{orders:?}"
    );
    let mut exits: Vec<(&str, &str)> = orders
        .iter()
        .filter(|o| o.1 != "plain")
        .map(|o| (o.1.as_str(), o.3.as_str()))
        .collect();
    exits.sort_unstable();
    assert_eq!(
        exits,
        [("stop_loss", "OPEN"), ("take_profit", "OPEN")],
        "{orders:?}"
    );
    let broker = state::body(&file, SYMBOL, "broker").unwrap();
    let fills = broker["fills"].as_array().unwrap();
    assert_eq!(fills.len(), 1, "{broker}");
    assert_eq!(fills[0]["client_id"], entry_id.as_str());
    assert_eq!(
        fills[0]["ts"],
        minute(1).to_string(),
        "filled at the decision's time"
    );
    let quantity = fills[0]["quantity"].clone();
    assert_eq!(
        broker["portfolio"]["positions"][SYMBOL]["quantity"],
        quantity
    );
    let ledger = state::body(&file, SYMBOL, "trades").unwrap().clone();
    assert_eq!(ledger["open"]["trade_id"], entry_id.as_str(), "{ledger}");
    assert_eq!(ledger["open"]["position"], quantity, "{ledger}");
    assert_eq!(
        ledger["open"]["context"]["decision_id"],
        format!("{SYMBOL}-{}", minute(1).compact_millis())
    );
    let intents = state::intents(&file);
    assert_eq!(intents.len(), 1, "{intents:?}");
    assert_eq!(
        (&intents[0]["client_id"], &intents[0]["status"]),
        (&serde_json::json!(entry_id), &serde_json::json!("done"))
    );

    // Second run: the server plays the same trades again, then eight newer minutes.
    feed.play_up_to(20);
    let mut bot = Bot::spawn(&dir, &ARGS, &env(&llm, &feed.url));
    bot.wait_until(
        "a cycle on the candle that closes at minute 19",
        Duration::from_secs(20),
        |b| {
            cycles(&b.stdout(), SYMBOL)
                .iter()
                .any(|(at, _)| *at == minute(19))
        },
    );
    bot.terminate();
    let second = bot.wait_exit(Duration::from_secs(15));
    assert_eq!(second.status.code(), Some(0), "{}", second.dump());
    let ran = cycles(&second.stdout, SYMBOL);
    let times: Vec<Timestamp> = ran.iter().map(|(at, _)| *at).collect();
    assert_eq!(
        times,
        (12..=19).map(minute).collect::<Vec<_>>(),
        "cycles continue after the last saved one, none repeated\n{}",
        second.dump()
    );
    for (_, line) in &ran {
        assert!(!line.contains("| order "), "{line}");
    }
    assert!(
        second.stdout.iter().any(|l| l == "--- summary ---"),
        "{}",
        second.dump()
    );

    let file = state::read(&state_path).unwrap();
    let orders = saved_orders(&file);
    let mut ids: Vec<&str> = orders.iter().map(|o| o.0.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        orders.len(),
        "client order ids are unique: {orders:?}"
    );
    let entries: Vec<_> = orders.iter().filter(|o| o.1 == "plain").collect();
    assert_eq!(entries.len(), 1, "one entry for the one BUY: {orders:?}");
    assert_eq!(entries[0].0, entry_id);
    let broker = state::body(&file, SYMBOL, "broker").unwrap();
    assert_eq!(broker["fills"].as_array().unwrap().len(), 1, "{broker}");
    let ledger = state::body(&file, SYMBOL, "trades").unwrap();
    assert_eq!(
        ledger["open"]["trade_id"],
        entry_id.as_str(),
        "the same open trade: {ledger}"
    );
    assert_eq!(ledger["open"]["position"], quantity, "{ledger}");
    let sequence = state::body(&file, SYMBOL, "sequence").unwrap();
    assert_eq!(sequence["cycles"], 19, "{sequence}");
    assert_eq!(
        sequence["last_cycle_at"],
        minute(19).to_string(),
        "{sequence}"
    );
    assert_eq!(state::intents(&file).len(), 1);

    // The portfolio manager was asked about each decision once: the BUY was not asked again.
    let asked = llm.asked.lock().unwrap();
    let expected: Vec<(String, &str)> = (1..=19)
        .map(|m| (minute(m).to_string(), if m == 1 { "BUY" } else { "HOLD" }))
        .collect();
    assert_eq!(asked.decisions, expected);
    assert!(asked.unknown.is_empty(), "{:?}", asked.unknown);
    drop(asked);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn nothing_listening_at_the_feed_url_means_reconnects_and_a_clean_stop() {
    let dir = temp_dir("binance-unreachable");
    config(&dir);
    let url = format!("ws://127.0.0.1:{}", closed_port());
    let mut bot = Bot::spawn(&dir, &ARGS, &[("BINANCE_WS_URL", url.clone())]);
    bot.wait_for_reconnects(2);
    let exited = bot.stop_cleanly();
    assert!(
        exited
            .stderr
            .iter()
            .any(|l| l.contains("feed: disconnected; reconnecting")),
        "{}",
        exited.dump()
    );
    let summary = exited.stdout.iter().position(|l| l == "--- summary ---");
    let summary = summary.unwrap_or_else(|| panic!("no summary\n{}", exited.dump()));
    assert!(
        exited.stdout[summary + 1].starts_with("cycles 0 "),
        "{}",
        exited.dump()
    );
    assert!(
        exited.stdout[summary + 4..]
            .iter()
            .any(|l| l.contains("reconnects ") && !l.contains("reconnects 0")),
        "{}",
        exited.dump()
    );
    assert!(cycles(&exited.stdout, SYMBOL).is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}
