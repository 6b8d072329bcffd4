//! A live bot end to end: `tradegraph run` with `TRADEGRAPH_LIVE=1` and `live = true` on the
//! local Binance venue (its REST API and user data stream) and a local market feed. Its entry
//! reaches the venue once, also when the bot is killed right after the venue accepted it and
//! restarted; the kill switch cancels its working orders and closes the position at the venue;
//! a canary API secret never shows in the bot's output or state.

use crate::harness::{Served, TOKEN};
use rust_decimal::Decimal;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tradegraph_testkit::venue::binance::{BinanceVenue, Failure};

const KEY: &str = "live-test-api-key-0123456789";
const CANARY: &str = "canary-secret-5e1f0a9b7c3d2e48";

struct Venue {
    _runtime: Runtime,
    venue: BinanceVenue,
}

fn venue() -> Venue {
    let runtime = Runtime::new().unwrap();
    let venue = runtime.block_on(BinanceVenue::start(KEY, CANARY)).unwrap();
    venue.set_balance("USDT", Decimal::from(100_000));
    // The feed's trades are about 95 000.
    venue.set_price(Decimal::from(95_000));
    Venue {
        _runtime: runtime,
        venue,
    }
}

fn live_bot(name: &str, v: &Venue, played: usize) -> Served {
    live_bot_with(name, v, played, "", "")
}

/// [`live_bot`] with `extra` added to `[bot]` and `stores` to `[stores]`.
fn live_bot_with(name: &str, v: &Venue, played: usize, extra: &str, stores: &str) -> Served {
    Served::start_with(
        name,
        &format!("live = true\n{extra}"),
        stores,
        played,
        vec![
            ("TRADEGRAPH_LIVE", "1".to_owned()),
            ("BINANCE_API_KEY", KEY.to_owned()),
            ("BINANCE_API_SECRET", CANARY.to_owned()),
            ("BINANCE_API_URL", v.venue.url()),
            ("BINANCE_WS_API_URL", v.venue.ws_url()),
        ],
    )
}

fn entries(v: &Venue) -> usize {
    v.venue
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v3/order")
        .count()
}

/// The BTC the account holds, free and locked by working orders.
fn held(v: &Venue) -> Decimal {
    let (free, locked) = v.venue.balance("BTC");
    free + locked
}

fn wait(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "no {what} within 30 s");

        std::thread::sleep(Duration::from_millis(40));
    }
}

fn assert_no_canary(bot: &Served, output: &str) {
    assert!(!output.contains(CANARY), "the secret shows in the output");
    let state = std::fs::read_to_string(bot.dir.join("state/btc.json")).unwrap_or_default();
    assert!(!state.contains(CANARY), "the secret is in the state");
}

/// A second process of a live bot on the same state server (a deploy that starts the new one
/// before the old one stopped) is refused before it connects to the venue: its broker would
/// otherwise resume the book the first one trades on (exits found owed placed, cancelled
/// legs restored) before the claim refused it.
#[test]
fn a_second_live_instance_is_refused_before_it_reaches_the_venue() {
    let Some((_, mongo)) = crate::support::services() else {
        return;
    };
    let v = venue();
    let database = crate::support::unique("live_instance");
    let stores = format!("mongodb_uri = \"{mongo}\"\ndatabase = \"{database}\"\n");
    // A short lease: the second watches the first's claim for 2 s, not 30.
    let mut bot = live_bot_with("live-instance", &v, 0, "instance_lease_secs = 2", &stores);
    wait("the first bot's user data stream", || {
        v.venue.subscriptions() == 1
    });
    let first = bot.bot.as_ref().unwrap().id();
    let asked = |path: &str| v.venue.requests().iter().filter(|r| r.path == path).count();
    let (infos, accounts) = (asked("/api/v3/exchangeInfo"), asked("/api/v3/account"));
    let second = bot
        .spawn_another("live-instance-second")
        .wait_exit(Duration::from_secs(60));
    let said = second.dump();
    assert!(!second.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "another instance of the BTCUSDT bot holds its state (process {first} on"
        )),
        "{said}"
    );
    assert!(
        said.contains("): stop it first, or give this one another state store"),
        "{said}"
    );
    assert!(!said.contains("LIVE TRADING"), "no live banner: {said}");
    // Nothing of the second reached the venue: no stream, no rules, no account read.
    assert_eq!(v.venue.subscriptions(), 1, "{said}");
    assert_eq!(asked("/api/v3/exchangeInfo"), infos, "{said}");
    assert_eq!(asked("/api/v3/account"), accounts, "{said}");
    // The first trades on, and stops cleanly.
    assert_eq!(bot.status()["mode"], "live");
    let exited = bot.stop();
    assert!(exited.status.success(), "{}", exited.dump());
}

#[test]
fn a_live_bot_killed_after_the_venue_accepted_its_entry_sends_it_once() {
    let v = venue();
    let mut bot = live_bot("live-once", &v, 0);
    let status = bot.status();
    assert_eq!(status["mode"], "live", "{status}");
    let stderr = bot.bot.as_ref().unwrap().stderr().join("\n");
    assert!(stderr.contains("LIVE TRADING"), "the banner: {stderr}");
    assert!(stderr.contains("binance at http://127.0.0.1"), "{stderr}");
    // The key as its length only; the account's balances; the instrument; the limits.
    assert!(
        stderr.contains(&format!("with key *** ({} characters)", KEY.len())),
        "{stderr}"
    );
    assert!(!stderr.contains(&KEY[5..]), "nothing of the key: {stderr}");
    assert!(stderr.contains("account:     cash "), "{stderr}");
    assert!(stderr.contains("instrument:  BTCUSDT"), "{stderr}");
    assert!(stderr.contains("risk limits: position "), "{stderr}");
    // The models say BUY at the first decision: the entry goes to the venue.
    bot.play(3);
    wait("an entry at the venue", || entries(&v) >= 1);
    // Killed right after the venue accepted it (SIGKILL: nothing saved after the answer).
    let killed = bot.bot.take().unwrap().kill();
    bot.spawn();
    bot.wait_cycles(2);
    // Two minutes more. The feed plays each connection from its first minute up to the limit,
    // so the limit only goes up: lowered to 2, a bot reconnecting after it got no new minute
    // and never reached its third cycle.
    bot.play(5);
    bot.wait_cycles(3);
    let sent: Vec<String> = v
        .venue
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v3/order")
        .map(|r| r.query.clone())
        .collect();
    let first_id = |q: &String| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("newClientOrderId="))
            .unwrap_or_default()
            .to_owned()
    };
    let ids: Vec<String> = sent.iter().map(first_id).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        ids.len(),
        "no client order id sent twice: {ids:?}"
    );
    let exited = bot.stop();
    let output = format!(
        "{}\n{}\n{}",
        killed.dump(),
        exited.stderr.join("\n"),
        exited.stdout.join("\n")
    );
    assert_no_canary(&bot, &output);
}

#[test]
fn the_kill_switch_cancels_and_closes_at_the_venue() {
    let v = venue();
    let mut bot = live_bot("live-kill", &v, 3);
    wait("an entry at the venue", || entries(&v) >= 1);
    bot.wait_cycles(2);
    wait("the entry filled at the venue", || held(&v) > Decimal::ZERO);
    let (code, answer, _) = bot.post(
        "/api/v1/kill-switch",
        Some(r#"{"engaged": true}"#),
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{answer}");
    // The broker work may wait for a decision cycle in flight: wait for it, with a deadline.
    let working = || {
        v.venue
            .orders()
            .into_iter()
            .filter(|o| matches!(o.status, "NEW" | "PARTIALLY_FILLED"))
            .count()
    };
    wait("nothing works at the venue", || working() == 0);
    wait("the position is closed at the venue", || held(&v).is_zero());
    let (_, status) = bot.get("/api/v1/status");
    assert_eq!(status["kill_switch"], true, "{status}\n{answer}");
    let exited = bot.stop();
    assert_no_canary(
        &bot,
        &format!("{}\n{}", exited.stderr.join("\n"), exited.stdout.join("\n")),
    );
}

/// After a kill right after the entry and a restart, the venue and the bot agree: no hold.
/// The restarted broker books the entry's fill it learns of after the restart (the trade
/// ledger has the trade) and knows the OCO legs it reads back as the entry's exits.
#[test]
fn after_a_kill_and_a_restart_the_venue_and_the_live_bot_agree() {
    let v = venue();
    let mut bot = live_bot("live-agree", &v, 0);
    bot.play(3);
    wait("an entry at the venue", || entries(&v) >= 1);
    let _killed = bot.bot.take().unwrap().kill();
    bot.spawn();
    bot.wait_cycles(2);
    let (_, rec) = bot.get("/api/v1/reconciliation");
    assert_eq!(rec["held"], false, "the venue and the bot agree: {rec}");
    // The reconciliation compared a venue that holds the entry with a ledger that has it: the
    // entry's fill was booked once, before or after the kill (the trade log of this test's
    // in-memory store does not outlive the first process, so the ledger is what is compared).
    assert!(held(&v) > Decimal::ZERO, "the entry filled at the venue");
    assert_eq!(rec["last"]["trigger"], "start", "{rec}");
    assert_eq!(
        rec["last"]["discrepancies"].as_array().map(Vec::len),
        Some(0),
        "{rec}"
    );
    assert!(rec["fills_seen"].as_u64().unwrap_or(0) >= 1, "{rec}");
    bot.stop();
}

/// The read API asks the venue once for many clients: twenty clients' positions and working
/// orders within a moment cost the venue's rate limit one account read and one open-orders
/// read (the bot's orders and the kill switch's close need that limit too), and every client
/// gets the venue's answer.
#[test]
fn many_clients_reading_positions_and_orders_cost_the_venue_one_read() {
    let v = venue();
    let mut bot = live_bot("live-reads", &v, 3);
    wait("an entry at the venue", || entries(&v) >= 1);
    bot.wait_cycles(2);
    wait("the entry filled at the venue", || held(&v) > Decimal::ZERO);
    let reads = |path: &str| {
        v.venue
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path == path)
            .count()
    };
    let before = (reads("/api/v3/account"), reads("/api/v3/openOrders"));
    for _ in 0..20 {
        let (code, positions) = bot.get("/api/v1/positions");
        assert_eq!(code, 200, "{positions}");
        let held_by_api: Decimal = positions["items"][0]["quantity"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .unwrap();
        assert!(held_by_api > Decimal::ZERO, "{positions}");
        let (code, orders) = bot.get("/api/v1/orders?status=working");
        assert_eq!(code, 200, "{orders}");
        assert_eq!(orders["history"], false, "{orders}");
    }
    let after = (reads("/api/v3/account"), reads("/api/v3/openOrders"));
    assert!(
        after.0 - before.0 <= 3 && after.1 - before.1 <= 3,
        "venue reads for 20 clients: {before:?} -> {after:?}"
    );
    // An answer older than two seconds is not served again: the venue is read anew.
    std::thread::sleep(Duration::from_millis(2_100));
    let (code, _) = bot.get("/api/v1/positions");
    assert_eq!(code, 200);
    assert!(reads("/api/v3/account") > after.0, "read again once stale");
    // A venue that fails is not asked again by every client: the failure is shared as an
    // answer is (each request read the venue anew while it failed).
    std::thread::sleep(Duration::from_millis(2_100));
    for _ in 0..6 {
        v.venue
            .fail_next("GET", "/api/v3/account", Failure::ServerError);
    }
    let before = reads("/api/v3/account");
    let codes: Vec<u16> = (0..10).map(|_| bot.get("/api/v1/positions").0).collect();
    let failing = reads("/api/v3/account") - before;
    assert!(
        failing <= 3,
        "{failing} venue reads for 10 clients while it fails: {codes:?}"
    );
    assert_ne!(codes[0], 200, "{codes:?}");
    bot.stop();
}
