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
    assert_eq!(
        checks,
        BTreeSet::from(["broker", "engine", "feed", "llm", "state_store"])
    );

    // the broker
    let (_, positions) = bot.get("/api/v1/positions");
    let positions = positions["items"].as_array().unwrap();
    assert_eq!(positions.len(), 1, "{positions:?}");
    assert_eq!(positions[0]["symbol"], SYMBOL);
    let (_, orders) = bot.get("/api/v1/orders?status=working");
    let orders = orders["items"].as_array().unwrap();
    assert_eq!(
        orders.len(),
        2,
        "the stop-loss and the take-profit: {orders:?}"
    );
    assert!(orders.iter().all(|o| o["parent"].is_string()));
    assert!(orders.iter().all(|o| o["status"] == "OPEN"), "{orders:?}");

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
    // the audit trail: the technical analyst's prompt by its hash, the model's answer as it came
    let technical = &one["agent_decisions"]["technical"];
    let hash = technical["prompt_hash"].as_str().expect("a prompt hash");
    assert!(
        technical["answer"]
            .as_str()
            .is_some_and(|a| a.contains("signal")),
        "{technical}"
    );
    let (code, prompt) = bot.get(&format!("/api/v1/prompts/{hash}"));
    assert_eq!(code, 200, "{prompt}");
    assert_eq!(prompt["agent"], "technical");
    assert_eq!(prompt["prompt_version"], technical["prompt_version"]);
    assert!(
        prompt["user"].as_str().is_some_and(|u| !u.is_empty()),
        "{prompt}"
    );
    let (code, missing) = bot.get("/api/v1/prompts/sha256:none");
    assert_eq!(code, 404, "{missing}");
    let run = one["run_id"].as_str().expect("the decision's run");
    let (_, status) = bot.get("/api/v1/status");
    assert_eq!(status["run_id"], one["run_id"], "the bot's own run");
    let (code, same) = bot.get(&format!(
        "/api/v1/decisions/{}?run={run}",
        bot.decision_id(1)
    ));
    assert_eq!((code, &same["run_id"]), (200, &one["run_id"]));
    let (code, other) = bot.get(&format!(
        "/api/v1/decisions/{}?run=another",
        bot.decision_id(1)
    ));
    assert_eq!(code, 404, "{other}");
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
    every_route_is_listed_and_every_listed_route_is_served(&bot, &index);
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
    // A parameter an endpoint does not take is refused, naming it: a typo changed the answer
    // without a word (`limt=5` gave 50 trades, `state=working` every order).
    for (path, named) in [
        ("/api/v1/trades?limt=5", "limt"),
        ("/api/v1/orders?state=working", "state"),
        ("/api/v1/events?type=order", "type"),
        ("/api/v1/equity?limit=5&since=2024-01-01", "since"),
        ("/api/v1/lessons?agent=bogus", "bogus"),
    ] {
        let (code, err) = bot.get(path);
        assert_eq!(code, 400, "{path}: {err}");
        assert!(
            err["error"].as_str().unwrap().contains(named),
            "{path}: {err}"
        );
    }
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

#[test]
fn orders_show_working_and_finished_ones_newest_first_and_paged() {
    let mut bot = Served::start("orders", "", 0);
    bot.play(4);
    bot.wait_cycles(3);
    let (_, orders) = bot.get("/api/v1/orders?status=working");
    let orders = orders["items"].as_array().unwrap().clone();
    assert_eq!(
        orders.len(),
        2,
        "the stop-loss and the take-profit: {orders:?}"
    );
    // Finished orders too: the entry, filled.
    let (code, finished) = bot.get("/api/v1/orders?status=finished");
    assert_eq!(code, 200, "{finished}");
    assert_eq!(finished["history"], true, "the paper account keeps them");
    let finished = finished["items"].as_array().unwrap().clone();
    assert_eq!(finished.len(), 1, "the filled entry: {finished:?}");
    assert_eq!(finished[0]["status"], "FILLED");
    assert_eq!(finished[0]["request"]["client_id"], orders[0]["parent"]);
    // All (the default), newest first, paged like the logs.
    let (all, pages) = all_pages(&bot, "/api/v1/orders", 2);
    assert_eq!((all.len(), pages), (3, 2), "{all:?}");
    let (_, first_page) = bot.get("/api/v1/orders");
    assert_eq!(first_page["items"].as_array().unwrap().len(), 3);
    assert_eq!(first_page["next_cursor"], Value::Null);
    let keys: Vec<(tradegraph_core::Timestamp, String)> = all
        .iter()
        .map(|o| {
            (
                o["created_at"].as_str().unwrap().parse().unwrap(),
                o["request"]["client_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(keys, sorted, "newest first");
    assert_eq!(all.iter().filter(|o| o["status"] == "FILLED").count(), 1);
    let (code, err) = bot.get("/api/v1/orders?status=done");
    assert_eq!(code, 400, "{err}");
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("unknown variant `done`, expected one of `working`, `finished`, `all`"),
        "the bad value and the good ones named: {err}"
    );

    // Cancelled orders are finished orders too.
    let (code, answer, _) = bot.post(
        "/api/v1/cancel-all",
        Some(r#"{"include_exits": true}"#),
        Some(crate::harness::TOKEN),
    );
    assert_eq!(code, 200, "{answer}");
    let (_, working) = bot.get("/api/v1/orders?status=working");
    assert_eq!(working["items"], serde_json::json!([]), "{working}");
    let (_, finished) = bot.get("/api/v1/orders?status=finished&limit=5");
    let statuses: BTreeSet<&str> = finished["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["CANCELLED", "FILLED"]),
        "{finished}"
    );
    assert_eq!(finished["items"].as_array().unwrap().len(), 3, "{finished}");
}

/// The calls the model server answered, by agent (found by the system prompt, as the server
/// finds them): each billed 900 prompt and 60 answer tokens.
fn served_calls(bot: &Served) -> std::collections::BTreeMap<&'static str, u64> {
    let roles = [
        ("technical analyst", "technical"),
        ("fundamental analyst", "fundamental"),
        ("sentiment analyst", "sentiment"),
        ("macro analyst", "macro"),
        ("bull researcher", "bull"),
        ("bear researcher", "bear"),
        ("risk manager", "risk_manager"),
        ("portfolio manager", "portfolio_manager"),
        ("learning agent", "learning"),
    ];
    let requests = bot
        .runtime
        .block_on(bot.llm.server.received_requests())
        .unwrap();
    let mut calls = std::collections::BTreeMap::new();
    for request in requests {
        if !request.url.path().ends_with("chat/completions") {
            continue; // the health checks' probes
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let system = body["messages"][0]["content"].as_str().unwrap_or_default();
        let agent = roles
            .iter()
            .find(|(role, _)| system.contains(&format!("You are the {role}")))
            .map_or("unknown", |(_, agent)| *agent);
        *calls.entry(agent).or_insert(0) += 1;
    }
    calls
}

#[test]
fn model_usage_by_agent_provider_and_day_is_what_the_models_billed_and_survives_a_restart() {
    let mut bot = Served::start("usage", "", 0);
    bot.play(4);
    bot.wait_cycles(3);
    let served = served_calls(&bot);
    let calls: u64 = served.values().sum();
    assert!(calls >= 3 * 8, "every agent of three cycles: {served:?}");
    bot.wait("the usage to count every call", |b| {
        b.get("/api/v1/llm/usage").1["total"]["calls"].as_u64() == Some(calls)
    });
    let check = |usage: &Value| {
        let today = chrono::Utc::now().date_naive().to_string();
        assert_eq!(usage["total"]["calls"], calls, "{usage}");
        assert_eq!(usage["total"]["input_tokens"], 900 * calls, "{usage}");
        assert_eq!(usage["total"]["output_tokens"], 60 * calls, "{usage}");
        let by_agent = usage["by_agent"].as_object().unwrap();
        let agents: std::collections::BTreeMap<&str, u64> = by_agent
            .iter()
            .map(|(k, v)| (k.as_str(), v["calls"].as_u64().unwrap()))
            .collect();
        assert_eq!(agents, served, "{usage}");
        for (agent, tally) in by_agent {
            let n = tally["calls"].as_u64().unwrap();
            assert_eq!(tally["input_tokens"], 900 * n, "{agent}");
            assert_eq!(tally["output_tokens"], 60 * n, "{agent}");
        }
        let providers: Vec<&String> = usage["by_provider"].as_object().unwrap().keys().collect();
        assert_eq!(providers, ["openai"], "{usage}");
        assert_eq!(usage["by_provider"]["openai"]["calls"], calls);
        let days = usage["by_day"].as_array().unwrap();
        assert_eq!(days.len(), 1, "{usage}");
        assert_eq!(days[0]["day"], today.as_str());
        assert_eq!(days[0]["calls"], calls);
        assert_eq!(usage["days"], 30, "{usage}");
    };
    let (code, usage) = bot.get("/api/v1/llm/usage");
    assert_eq!(code, 200, "{usage}");
    check(&usage);
    assert_eq!(
        usage["run"]["calls"], calls,
        "this run's totals agree: {usage}"
    );

    // A restart: the usage by agent, provider and day is still there; this run's is new.
    bot.restart();
    let (_, usage) = bot.get("/api/v1/llm/usage?days=1");
    assert_eq!(usage["days"], 1);
    let mut usage = usage;
    usage["days"] = 30.into();
    check(&usage);
    assert_eq!(usage["run"]["calls"], 0, "{usage}");
    for bad in ["0", "91", "x"] {
        let (code, err) = bot.get(&format!("/api/v1/llm/usage?days={bad}"));
        assert_eq!(code, 400, "days={bad}: {err}");
    }
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

/// `GET /api/v1` lists exactly the routes the router serves (a hard list here: axum cannot
/// list its routes), and each listed one is served (not the router's "no endpoint" answer).
fn every_route_is_listed_and_every_listed_route_is_served(bot: &Served, index: &Value) {
    let served = [
        ("GET", "/api/v1/status"),
        ("GET", "/api/v1/positions"),
        ("GET", "/api/v1/orders"),
        ("GET", "/api/v1/trades"),
        ("GET", "/api/v1/equity"),
        ("GET", "/api/v1/pnl/daily"),
        ("GET", "/api/v1/decisions"),
        ("GET", "/api/v1/decisions/{id}"),
        ("GET", "/api/v1/prompts/{hash}"),
        ("GET", "/api/v1/decisions/{id}/replay"),
        ("POST", "/api/v1/decisions/{id}/replay"),
        ("GET", "/api/v1/candles"),
        ("GET", "/api/v1/llm/usage"),
        ("GET", "/api/v1/alerts"),
        ("GET", "/api/v1/lessons"),
        ("GET", "/api/v1/approvals"),
        ("GET", "/api/v1/operator-actions"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/graph"),
        ("GET", "/api/v1/overview"),
        ("POST", "/api/v1/kill-switch"),
        ("POST", "/api/v1/pause"),
        ("POST", "/api/v1/close-all"),
        ("POST", "/api/v1/cancel-all"),
        ("POST", "/api/v1/approvals/{id}/approve"),
        ("POST", "/api/v1/approvals/{id}/reject"),
        ("GET", "/api/v1/reconciliation"),
        ("POST", "/api/v1/reconciliation/confirm"),
        ("GET", "/api/v1/prompts/versions"),
        ("POST", "/api/v1/prompts/versions/{agent}/{version}/approve"),
        (
            "POST",
            "/api/v1/prompts/versions/{agent}/{version}/withdraw",
        ),
        ("POST", "/api/v1/prompts/versions/{agent}/rollback"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/"),
        ("GET", "/overview"),
        ("GET", "/assets/{version}/{path}"),
    ];
    let mut listed: Vec<(String, String)> = index["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_owned(),
                e["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected: Vec<(String, String)> = served
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    listed.sort();
    expected.sort();
    assert_eq!(
        listed, expected,
        "GET /api/v1 lists every route, and only those"
    );
    for (method, path) in served {
        if path == "/api/v1/events" {
            continue; // a stream: tested on its own
        }
        let path = path
            .replace("{id}", "1")
            .replace("{version}", "0")
            .replace("{path}", "x.js");
        let body = if method == "GET" {
            bot.get_text(&path).2
        } else {
            // No token: refused, but by the endpoint, not the router's fallback.
            bot.post(&path, None, None).1.to_string()
        };
        assert!(
            !body.contains("no endpoint") && !body.contains("does not take"),
            "{method} {path} is listed but not served: {body}"
        );
    }
}
