//! Every read endpoint, its paging, and the event stream with a reconnect.

use crate::harness::{Served, SYMBOL};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// Every page of `path` (`limit` a page), following `next_cursor`; the items in order.
fn all_pages(bot: &Served, path: &str, limit: usize) -> (Vec<Value>, usize) {
    let (mut items, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit={limit}&cursor={c}"),
            None => format!("{path}?limit={limit}"),
        };
        let (code, page) = bot.get(&url);
        assert_eq!(code, 200, "{page}");
        let got = page["items"].as_array().unwrap().clone();
        assert!(got.len() <= limit);
        pages += 1;
        items.extend(got);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (items, pages),
        }
    }
}

#[test]
fn every_read_endpoint_answers_with_paging_and_the_stream_resumes_without_a_gap() {
    let mut bot = Served::start("read", "", 0);
    // Live from the start: every event, in order.
    let mut live = bot.events("", None);
    bot.play(6);
    let first: Vec<_> = bot
        .runtime
        .block_on(live.until(Duration::from_secs(30), |e| {
            e.event == "decision" && e.data["seq"] == 5
        }));
    drop(live);
    let ids: Vec<u64> = first.iter().map(|e| e.id.unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[1] == w[0] + 1),
        "numbered one by one: {ids:?}"
    );
    let kinds: BTreeSet<&str> = first.iter().map(|e| e.event.as_str()).collect();
    for kind in ["node_started", "node_finished", "decision", "order", "fill"] {
        assert!(kinds.contains(kind), "{kind} in {kinds:?}");
    }
    let buy = first
        .iter()
        .find(|e| e.event == "decision" && e.data["seq"] == 1)
        .unwrap();
    assert_eq!(buy.data["action"], "BUY");
    assert_eq!(buy.data["decision_id"], bot.decision_id(1));
    assert_eq!(buy.data["orders"], 1);
    let last_seen = *ids.last().unwrap();

    // Disconnected while six more cycles run; a reconnect with Last-Event-ID misses nothing.
    bot.play(12);
    bot.wait_cycles(11);
    let mut again = bot.events("", Some(last_seen));
    let rest = bot
        .runtime
        .block_on(again.until(Duration::from_secs(10), |e| {
            e.event == "decision" && e.data["seq"] == 11
        }));
    assert_eq!(rest[0].id, Some(last_seen + 1), "{:?}", rest[0]);
    let rest_ids: Vec<u64> = rest.iter().map(|e| e.id.unwrap()).collect();
    assert!(
        rest_ids.windows(2).all(|w| w[1] == w[0] + 1),
        "{rest_ids:?}"
    );
    let seqs: Vec<u64> = rest
        .iter()
        .filter(|e| e.event == "decision")
        .map(|e| e.data["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (6..=11).collect::<Vec<_>>());
    // Only decisions, from the first event kept.
    let mut decisions = bot.events("?types=decision&last_event_id=0", None);
    let only = bot
        .runtime
        .block_on(decisions.until(Duration::from_secs(10), |e| e.data["seq"] == 11));
    assert_eq!(only.len(), 11);
    assert!(only.iter().all(|e| e.event == "decision"));
    let (code, bad) = bot.get("/api/v1/events?types=decisions");
    assert_eq!(code, 400, "{bad}");
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("unknown event type `decisions`"),
        "{bad}"
    );

    // status
    let status = bot.status();
    assert_eq!(status["instrument"], SYMBOL);
    assert_eq!(status["mode"], "paper");
    assert_eq!(status["trading"], "active");
    assert_eq!(status["kill_switch"], false);
    assert_eq!(status["cycles"], 11);
    assert_eq!(status["last_decision_id"], bot.decision_id(11));
    assert_eq!(status["feed"]["state"], "connected");
    assert!(status["feed"]["age_ms"].as_i64().unwrap() >= 0);
    assert_eq!(status["ready"], true, "{status}");
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["llm"]["configured"], true);
    let checks: BTreeSet<&str> = status["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(checks, BTreeSet::from(["engine", "feed", "state_store"]));

    // the broker
    let (_, positions) = bot.get("/api/v1/positions");
    let positions = positions["items"].as_array().unwrap();
    assert_eq!(positions.len(), 1, "{positions:?}");
    assert_eq!(positions[0]["symbol"], SYMBOL);
    let (_, orders) = bot.get("/api/v1/orders");
    let orders = orders["items"].as_array().unwrap();
    assert_eq!(
        orders.len(),
        2,
        "the stop-loss and the take-profit: {orders:?}"
    );
    assert!(orders.iter().all(|o| o["parent"].is_string()));

    // the logs, paged
    let (decisions, pages) = all_pages(&bot, "/api/v1/decisions", 4);
    assert_eq!(pages, 3);
    let ids: Vec<&str> = decisions
        .iter()
        .map(|d| d["decision_id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (1..=11).rev().map(|m| bot.decision_id(m)).collect();
    assert_eq!(ids, expected, "newest first, each once");
    let (code, page) = bot.get(&format!(
        "/api/v1/decisions?limit=2&before={}",
        bot.minute(3).millis()
    ));
    assert_eq!(code, 200);
    assert_eq!(page["items"][0]["decision_id"], bot.decision_id(2));
    let one = bot.decision(&bot.decision_id(1));
    assert_eq!(one["action"], "BUY");
    assert_eq!(one["agent_decisions"]["portfolio_manager"]["signal"], "BUY");
    assert_eq!(
        one["agent_decisions"]["technical"]["produced_by"]["mode"],
        "llm"
    );
    assert_eq!(one["risk_guard"]["status"], "APPROVED");
    let (code, missing) = bot.get(&format!("/api/v1/decisions/{SYMBOL}-20000101T000000.000Z"));
    assert_eq!(code, 404, "{missing}");
    let (trades, _) = all_pages(&bot, "/api/v1/trades", 1);
    assert_eq!(trades.len(), 1);
    assert_eq!(trades[0]["status"], "open");
    assert_eq!(trades[0]["decision_id"], bot.decision_id(1));

    // charts
    let (_, candles) = bot.get("/api/v1/candles?timeframe=1m&limit=5");
    let candles = candles["items"].as_array().unwrap().clone();
    assert_eq!(candles.len(), 5);
    assert!(
        candles[4]["indicators"].get("rsi").is_some(),
        "{:?}",
        candles[4]
    );
    assert!(candles[0]["open_time"].as_str() < candles[4]["open_time"].as_str());
    let (_, equity) = bot.get("/api/v1/equity?limit=3");
    assert_eq!(equity["items"].as_array().unwrap().len(), 3, "{equity}");
    let (code, daily) = bot.get("/api/v1/pnl/daily?days=7");
    assert_eq!(
        (code, daily["items"].as_array().map(Vec::len)),
        (200, Some(0)),
        "no trade closed: {daily}"
    );

    // the rest
    let (_, usage) = bot.get("/api/v1/llm/usage");
    assert!(usage["run"]["calls"].as_u64().unwrap() >= 11, "{usage}");
    assert!(usage["providers"]["openai"].is_object(), "{usage}");
    for path in [
        "/api/v1/alerts",
        "/api/v1/lessons",
        "/api/v1/approvals",
        "/api/v1/operator-actions",
    ] {
        let (code, body) = bot.get(path);
        assert_eq!(code, 200, "{path}: {body}");
        assert_eq!(body["items"], serde_json::json!([]), "{path}");
    }
    let (_, index) = bot.get("/api/v1");
    assert!(index["endpoints"].as_array().unwrap().len() >= 20);
    assert_eq!(
        bot.get("/healthz"),
        (200, serde_json::json!({"status": "alive"}))
    );
    let (code, ready) = bot.get("/readyz");
    assert_eq!(
        (code, &ready["ready"]),
        (200, &Value::Bool(true)),
        "{ready}"
    );

    // errors are JSON and say what to do
    let (code, err) = bot.get("/api/v1/trades?limit=0");
    assert_eq!(code, 400);
    assert!(err["error"].as_str().unwrap().contains("limit=0"), "{err}");
    let (code, err) = bot.get("/api/v1/decisions?before=yesterday");
    assert_eq!(code, 400);
    assert!(err["error"].as_str().unwrap().contains("RFC 3339"), "{err}");
    let (code, err) = bot.get("/api/v1/nope");
    assert_eq!(code, 404);
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("GET /api/v1 lists them"),
        "{err}"
    );

    // The stream ends when the bot stops.
    let mut open = bot.events("", None);
    bot.stop();
    let started = std::time::Instant::now();
    bot.runtime
        .block_on(async { while open.next(Duration::from_secs(10)).await.is_some() {} });
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the stream ended with the bot"
    );
}

/// The value of the sample `series` (name and labels as Prometheus prints them) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[test]
fn metrics_are_served_as_prometheus_text_and_move_as_the_bot_trades() {
    let mut bot = Served::start("metrics", "", 0);
    bot.play(3);
    bot.wait_cycles(2);
    let (code, kind, text) = bot.get_text("/metrics");
    assert_eq!(code, 200, "{text}");
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let cycles =
        r#"tradegraph_engine_cycle_duration_seconds_count{instrument="BTCUSDT",outcome="ok"}"#;
    let before = sample(&text, cycles).unwrap_or_else(|| panic!("{cycles} in\n{text}"));
    assert!(before >= 2.0, "{before}: {text}");
    assert_eq!(
        sample(
            &text,
            r#"tradegraph_engine_trading_state{instrument="BTCUSDT",state="active"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.contains("# TYPE tradegraph_feed_last_event_timestamp_seconds gauge"),
        "{text}"
    );
    assert!(
        text.contains("tradegraph_graph_node_duration_seconds"),
        "{text}"
    );

    // Two more cycles (the feed plays up to minute 5): the counter moves with them.
    bot.play(5);
    bot.wait_cycles(4);
    let (_, _, text) = bot.get_text("/metrics");
    let after = sample(&text, cycles).unwrap();
    assert!(after >= before + 2.0, "{before} -> {after}");
}
