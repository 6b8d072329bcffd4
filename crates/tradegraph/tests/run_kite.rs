//! `tradegraph run --feed kite` as a user runs it: a paper bot against a local WebSocket server
//! speaking Kite's ticker protocol (credentials in the query, subscribe and mode messages,
//! binary packets, heartbeats) and a local model server in OpenAI's format.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::time::Duration;
use support::kite::{credentials_ok, full, index_full, ACCESS, KEY};
use support::process::Bot;
use support::ws::{Keepalive, WsServer};
use support::{closed_port, cycles, llm::LlmServer, state, temp_dir, this_minute_ms};
use tokio_tungstenite::tungstenite::Message;
use tradegraph_core::{ExchangeSession, Timestamp};

const NIFTY: u32 = 256_265;

/// 10:00 IST on Wednesday 18 June 2025, an NSE trading day.
const SESSION_START: u32 = 1_750_221_000;

/// `minutes` minutes of the Nifty 50 index from 10:00 IST, three packets a minute, in a
/// narrow band around 24,800.
fn script(minutes: usize) -> Vec<Vec<Message>> {
    (0..minutes)
        .map(|m| {
            (0..3u32)
                .map(|k| {
                    let secs = SESSION_START + (m as u32) * 60 + k * 20;
                    let paise = 2_480_000 + ((m as u32 * 3 + k) % 7) * 150;
                    index_full(NIFTY, paise, secs)
                })
                .collect()
        })
        .collect()
}

/// The environment of a Kite bot on `feed_url` with the models of `llm` (if any).
fn env(llm: Option<&LlmServer>, feed_url: &str) -> Vec<(&'static str, String)> {
    let mut env = llm.map(LlmServer::env).unwrap_or_default();
    env.push(("KITE_WS_URL", feed_url.to_owned()));
    env.push(("KITE_API_KEY", KEY.to_owned()));
    env.push(("KITE_ACCESS_TOKEN", ACCESS.to_owned()));
    env
}

/// A configuration: one-minute decisions, a verdict age that lets the server's old exchange
/// times through the execution re-check, the state in the bot's directory; plus `extra`.
fn config(dir: &std::path::Path, name: &str, extra: &str) {
    std::fs::write(
        dir.join("bot.toml"),
        format!(
            r#"[bot]
decision_timeframe = "1m"
max_verdict_age_secs = 315360000

[stores]
state_file = "state/{name}.json"
spill_file = "state/spill-{name}.jsonl"
{extra}"#
        ),
    )
    .unwrap();
}

/// The first line of the summary (`cycles N (acted on ...), ... orders N, refused ...`).
fn summary_counts(stdout: &[String]) -> String {
    let at = stdout.iter().position(|l| l == "--- summary ---");
    let at = at.unwrap_or_else(|| panic!("no summary: {stdout:#?}"));
    stdout[at + 1].clone()
}

/// Whether NSE takes new entries at `t` on the wall clock (the execution re-check runs on it):
/// `Some(true)` inside the session and more than 30 minutes (the entry cut-off) before the
/// close, `Some(false)` outside the session, `None` in between.
fn nse_takes_entries(t: Timestamp) -> Option<bool> {
    let nse = ExchangeSession::nse();
    let Some((open, close)) = nse.bounds(nse.local_date(t)) else {
        return Some(false);
    };
    if t < open || t >= close {
        Some(false)
    } else if t < close.add_millis(-31 * 60_000) {
        Some(true)
    } else {
        None
    }
}

fn wall_clock() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}

#[test]
fn nifty_bot_on_kite_index_packets_closes_candles_decides_and_stops_on_sigterm() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let llm = LlmServer::start(&runtime);
    let feed = WsServer::start(
        &runtime,
        script(12),
        12,
        Duration::from_millis(40),
        Keepalive::Heartbeat,
        credentials_ok,
    );
    let dir = temp_dir("kite-nifty");
    config(&dir, "nifty", "");
    let minute = |m: i64| Timestamp::from_secs(i64::from(SESSION_START) + m * 60);
    let before = nse_takes_entries(wall_clock());
    let mut bot = Bot::spawn(
        &dir,
        &[
            "run",
            "--instrument",
            "nifty",
            "--feed",
            "kite",
            "--config",
            "bot.toml",
        ],
        &env(Some(&llm), &feed.url),
    );
    bot.wait_for_cycle("NIFTY50", minute(11));
    bot.terminate();
    let exited = bot.wait_exit(Duration::from_secs(15));
    let after = nse_takes_entries(wall_clock());
    assert_eq!(exited.status.code(), Some(0), "{}", exited.dump());
    assert!(
        exited.stdout.iter().any(|l| l
            == "nifty: paper trading NIFTY50 on the kite feed with 100000000 Inr; a decision every 1min"),
        "{}",
        exited.dump()
    );

    // The handshake and the subscription, as Kite's ticker expects them.
    {
        let seen = feed.seen.lock().unwrap();
        assert_eq!(
            seen.targets,
            [format!("/?api_key={KEY}&access_token={ACCESS}")]
        );
        assert_eq!(
            seen.texts,
            [
                r#"{"a":"subscribe","v":[256265]}"#,
                r#"{"a":"mode","v":["full",[256265]]}"#
            ]
        );
    }
    for line in exited.stdout.iter().chain(&exited.stderr) {
        assert!(
            !line.contains(ACCESS) && !line.contains(KEY),
            "a secret shown: {line}"
        );
    }

    // One candle closed and one cycle ran per minute of packets, on the exchange's time.
    let ran = cycles(&exited.stdout, "NIFTY50");
    let times: Vec<Timestamp> = ran.iter().map(|(at, _)| *at).collect();
    assert_eq!(
        times,
        (1..=11).map(minute).collect::<Vec<_>>(),
        "{}",
        exited.dump()
    );
    let (_, entry) = &ran[0];
    assert!(entry.contains("| PM Buy 2.00%"), "{entry}");
    for (_, line) in &ran[1..] {
        assert!(
            line.contains("| PM Hold ") && !line.contains("| order "),
            "{line}"
        );
    }
    let file = state::read(&dir.join("state/nifty.json")).expect("the state file is written");
    let sequence = state::body(&file, "NIFTY50", "sequence").unwrap();
    assert_eq!(sequence["cycles"], 11, "{sequence}");
    assert_eq!(
        sequence["last_cycle_at"],
        minute(11).to_string(),
        "{sequence}"
    );

    // The BUY goes out only if NSE takes entries now, on the wall clock: the guard rules, and
    // the execution re-checks, on the time it is, whatever time the packets carry.
    let counts = summary_counts(&exited.stdout);
    let fills = state::body(&file, "NIFTY50", "broker")
        .and_then(|b| b["fills"].as_array().cloned())
        .unwrap_or_default();
    let refused = exited
        .stderr
        .iter()
        .find(|l| l.contains("execution refused: the verdict no longer holds"));
    match (before, after) {
        (Some(true), Some(true)) => {
            assert!(entry.contains("| guard Approved"), "{entry}");
            assert!(
                entry.contains("| order Buy ") && entry.ends_with(" Filled"),
                "{entry}"
            );
            assert!(
                counts.contains(", orders 1, refused at execution 0"),
                "{counts}"
            );
            assert_eq!(fills.len(), 1, "{fills:?}");
            let ledger = state::body(&file, "NIFTY50", "trades").unwrap();
            assert_eq!(
                ledger["open"]["trade_id"], fills[0]["client_id"],
                "{ledger}"
            );
        }
        (Some(false), Some(false)) => {
            assert!(
                entry.contains("| guard Rejected (the market is closed at "),
                "{entry}"
            );
            assert!(!entry.contains("| order "), "{entry}");
            assert!(
                counts.contains(", orders 0, refused at execution 0"),
                "{counts}"
            );
            assert!(fills.is_empty(), "{fills:?}");
            assert!(refused.is_none(), "nothing reached execution");
        }
        // At the edge of the session: exactly one of filled, refused at execution (the guard
        // ruled just before the cutoff), rejected by the guard.
        _ => assert_eq!(
            u8::from(fills.len() == 1)
                + u8::from(refused.is_some())
                + u8::from(entry.contains("| guard Rejected")),
            1,
            "filled, refused or rejected\n{}",
            exited.dump()
        ),
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A Nifty future's instrument token (the low byte 2 is the NFO segment).
const NIFTY_FUT: u32 = (52_226 << 8) | 2;

/// The Nifty future as a custom Kite instrument that trades around the clock, so that the
/// execution re-check (on the wall clock) takes the entry whenever the test runs.
const FUTURE: &str = r#"
[feeds.kite.tokens]
niftyfut = 13369858

[[instruments]]
name = "niftyfut"
symbol = "NIFTYFUT"
venue = "kite"
segment = "derivatives"
currency = "INR"
tick_size = "0.05"
lot_size = "75"
session = "24x7"
"#;

#[test]
fn kite_future_bot_fills_its_buy_on_full_packets_and_stops_on_sigterm() {
    assert_eq!(NIFTY_FUT, 13_369_858);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let llm = LlmServer::start(&runtime);
    // Half an hour ago, three packets a minute around 24,850 with depth and rising volume.
    let start = this_minute_ms() / 1000 - 30 * 60;
    let start = u32::try_from(start).unwrap();
    let frames: Vec<Vec<Message>> = (0..12u32)
        .map(|m| {
            (0..3u32)
                .map(|k| {
                    let n = m * 3 + k;
                    full(
                        NIFTY_FUT,
                        2_485_000 + (n % 5) * 100,
                        10_000 + n * 150,
                        start + m * 60 + k * 20,
                    )
                })
                .collect()
        })
        .collect();
    let feed = WsServer::start(
        &runtime,
        frames,
        12,
        Duration::from_millis(40),
        Keepalive::Heartbeat,
        credentials_ok,
    );
    let dir = temp_dir("kite-future");
    config(&dir, "niftyfut", FUTURE);
    let minute = |m: i64| Timestamp::from_secs(i64::from(start) + m * 60);
    let mut bot = Bot::spawn(
        &dir,
        &[
            "run",
            "--instrument",
            "niftyfut",
            "--feed",
            "kite",
            "--config",
            "bot.toml",
        ],
        &env(Some(&llm), &feed.url),
    );
    bot.wait_for_cycle("NIFTYFUT", minute(11));
    bot.terminate();
    let exited = bot.wait_exit(Duration::from_secs(15));
    assert_eq!(exited.status.code(), Some(0), "{}", exited.dump());
    assert_eq!(
        feed.seen.lock().unwrap().texts,
        [
            r#"{"a":"subscribe","v":[13369858]}"#,
            r#"{"a":"mode","v":["full",[13369858]]}"#
        ]
    );

    let ran = cycles(&exited.stdout, "NIFTYFUT");
    let times: Vec<Timestamp> = ran.iter().map(|(at, _)| *at).collect();
    assert_eq!(
        times,
        (1..=11).map(minute).collect::<Vec<_>>(),
        "{}",
        exited.dump()
    );
    let (_, entry) = &ran[0];
    assert!(
        entry.contains("| PM Buy 2.00%")
            && entry.contains("| order Buy ")
            && entry.ends_with(" Filled"),
        "{entry}"
    );
    assert!(
        ran[1..].iter().all(|(_, l)| !l.contains("| order ")),
        "{}",
        exited.dump()
    );
    let counts = summary_counts(&exited.stdout);
    assert!(
        counts.starts_with("cycles 11 (acted on 1), ")
            && counts.contains(", orders 1, refused at execution 0"),
        "{counts}"
    );

    let file = state::read(&dir.join("state/niftyfut.json")).expect("the state file is written");
    let broker = state::body(&file, "NIFTYFUT", "broker").expect("the paper account is saved");
    let fills = broker["fills"].as_array().unwrap();
    assert_eq!(fills.len(), 1, "{broker}");
    let fill = &fills[0];
    assert_eq!(
        (&fill["side"], &fill["ts"]),
        (&"BUY".into(), &minute(1).to_string().into())
    );
    let quantity: u64 = fill["quantity"].as_str().unwrap().parse().unwrap();
    assert!(
        quantity > 0 && quantity.is_multiple_of(75),
        "whole lots of 75: {fill}"
    );
    let price: f64 = fill["price"].as_str().unwrap().parse().unwrap();
    assert!(
        (24_840.0..=24_900.0).contains(&price),
        "a buy near the ask: {fill}"
    );
    let ledger = state::body(&file, "NIFTYFUT", "trades").unwrap();
    assert_eq!(ledger["open"]["trade_id"], fill["client_id"], "{ledger}");
    assert_eq!(ledger["open"]["position"], fill["quantity"], "{ledger}");
    let sequence = state::body(&file, "NIFTYFUT", "sequence").unwrap();
    assert_eq!(
        (&sequence["cycles"], &sequence["last_cycle_at"]),
        (&11.into(), &minute(11).to_string().into()),
        "{sequence}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn nothing_listening_at_the_kite_url_means_reconnects_and_a_clean_stop() {
    let dir = temp_dir("kite-unreachable");
    config(&dir, "nifty", "");
    let url = format!("ws://127.0.0.1:{}", closed_port());
    let mut bot = Bot::spawn(
        &dir,
        &[
            "run",
            "--instrument",
            "nifty",
            "--feed",
            "kite",
            "--config",
            "bot.toml",
        ],
        &env(None, &url),
    );
    bot.wait_for_reconnects(2);
    let exited = bot.stop_cleanly();
    let counts = summary_counts(&exited.stdout);
    assert!(counts.starts_with("cycles 0 "), "{counts}");
    assert!(
        exited
            .stdout
            .iter()
            .any(|l| l.contains("reconnects ") && !l.contains("reconnects 0")),
        "{}",
        exited.dump()
    );
    for line in exited.stdout.iter().chain(&exited.stderr) {
        assert!(
            !line.contains(ACCESS) && !line.contains(KEY),
            "a secret shown: {line}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}
