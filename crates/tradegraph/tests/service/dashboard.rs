//! The dashboard over HTTP: the pages and every file they load, with their types, the
//! Content-Security-Policy and caching; `/api/v1/graph`; `/api/v1/overview` over two peers.

use crate::harness::Served;
use crate::support::closed_port;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'sha256-3pRED1tOXas1FXFoPb9TGCjmYe9XQsmO9OV23khV2nY='; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'none'";

struct Got {
    code: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

fn fetch(bot: &Served, path: &str, etag: Option<&str>) -> Got {
    bot.runtime.block_on(async {
        let mut request = bot.http.get(format!("{}{path}", bot.base));
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        let response = request.send().await.unwrap();
        Got {
            code: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap_or_default(),
        }
    })
}

fn header<'a>(got: &'a Got, name: &str) -> &'a str {
    got.headers.get(name).map_or("", |v| v.to_str().unwrap())
}

/// The `/assets/...` paths `html` links and the modules `js` (at `path`) imports.
fn links(path: &str, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for piece in text.split("\"/assets/").skip(1) {
        found.push(format!("/assets/{}", piece.split('"').next().unwrap()));
    }
    let dir = path.rsplit_once('/').unwrap().0;
    for line in text.lines().filter(|l| l.starts_with("import ")) {
        let target = line
            .rsplit_once(" from '")
            .unwrap()
            .1
            .trim_end_matches("';");
        let mut parts: Vec<&str> = dir.split('/').collect();
        for piece in target.split('/') {
            match piece {
                "." => {}
                ".." => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        found.push(parts.join("/"));
    }
    found
}

#[test]
fn the_pages_and_every_file_they_load_are_served_with_their_type_the_policy_and_caching() {
    let bot = Served::start("dash-assets", "", 0);
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut todo: Vec<String> = Vec::new();
    for page in ["/", "/overview"] {
        let got = fetch(&bot, page, None);
        assert_eq!(got.code, 200, "{page}: {}", got.body);
        assert_eq!(header(&got, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&got, "content-security-policy"), POLICY, "{page}");
        assert_eq!(header(&got, "x-content-type-options"), "nosniff");
        assert_eq!(header(&got, "cache-control"), "no-cache");
        assert!(
            !got.body.contains("<script>") && !got.body.contains("style="),
            "no inline script or style in {page}"
        );
        assert!(!got.body.contains("%ASSETS%"));
        let etag = header(&got, "etag").to_owned();
        assert!(etag.starts_with('"'), "{etag}");
        let again = fetch(&bot, page, Some(&etag));
        assert_eq!(again.code, 304, "{page} revalidated");
        assert_eq!(header(&again, "content-security-policy"), POLICY);
        todo.extend(links(page, &got.body));
    }
    assert!(todo.iter().any(|p| p.ends_with("/js/app.js")), "{todo:?}");
    while let Some(path) = todo.pop() {
        if seen.contains_key(&path) {
            continue;
        }
        let got = fetch(&bot, &path, None);
        assert_eq!(got.code, 200, "{path}: {}", got.body);
        assert_eq!(header(&got, "content-security-policy"), POLICY, "{path}");
        assert_eq!(
            header(&got, "cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        let etag = header(&got, "etag").to_owned();
        assert_eq!(fetch(&bot, &path, Some(&etag)).code, 304, "{path}");
        let kind = header(&got, "content-type").to_owned();
        let expected = match path.rsplit_once('.').map(|(_, e)| e) {
            Some("js" | "mjs") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            _ => "text/plain; charset=utf-8",
        };
        assert_eq!(kind, expected, "{path}");
        if kind.starts_with("text/javascript") {
            todo.extend(links(&path, &got.body));
        }
        seen.insert(path, kind);
    }
    let files: BTreeSet<&str> = seen
        .keys()
        .map(|p| p.splitn(4, '/').nth(3).unwrap())
        .collect();
    for needed in [
        "style.css",
        "icon.svg",
        "js/app.js",
        "js/overview.js",
        "js/panels/chart.js",
        "js/panels/graph.js",
        "vendor/lightweight-charts.standalone.production.mjs",
        "vendor/LICENSE",
        "vendor/NOTICE",
    ] {
        assert!(files.contains(needed), "{needed} in {files:?}");
    }
    let notice = seen.keys().find(|p| p.ends_with("vendor/NOTICE")).unwrap();
    assert!(fetch(&bot, notice, None).body.contains("TradingView"));
    // Another version's files are not served: the page must be reloaded.
    let stale = fetch(&bot, "/assets/0000000000000000/js/app.js", None);
    assert_eq!(stale.code, 404);
    assert!(stale.body.contains("reload the page"), "{}", stale.body);
}

#[test]
fn the_graph_endpoint_gives_the_compiled_graph_whose_nodes_the_events_name() {
    let bot = Served::start("dash-graph", "", 0);
    let mut live = bot.events("?types=node_started,decision", None);
    bot.play(3);
    let events = bot
        .runtime
        .block_on(live.until(Duration::from_secs(30), |e| e.event == "decision"));
    let (code, graph) = bot.get("/api/v1/graph");
    assert_eq!(code, 200, "{graph}");
    assert_eq!(graph["name"], "trading");
    let nodes: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        nodes,
        [
            "technical",
            "fundamental",
            "sentiment",
            "macro",
            "debate_round",
            "bull",
            "bear",
            "debate_round_end",
            "risk_manager",
            "portfolio_manager",
            "risk_guard",
            "execution",
            "learning"
        ]
    );
    let edges: BTreeSet<(String, String, String)> = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_owned(),
                e["to"].as_str().unwrap().to_owned(),
                e["kind"]["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (from, to, kind) in [
        ("start", "technical", "static"),
        ("technical", "debate_round", "join"),
        ("debate_round", "bull", "static"),
        ("debate_round", "bear", "static"),
        ("bull", "debate_round_end", "join"),
        ("bear", "debate_round_end", "join"),
        ("debate_round_end", "debate_round", "loop_back"),
        ("debate_round_end", "risk_manager", "loop_exit"),
        ("risk_guard", "execution", "route"),
        ("learning", "end", "static"),
    ] {
        assert!(
            edges.contains(&(from.into(), to.into(), kind.into())),
            "{from} -> {to} ({kind}) in {edges:?}"
        );
    }
    let started: BTreeSet<&str> = events
        .iter()
        .filter(|e| e.event == "node_started")
        .map(|e| e.data["node"].as_str().unwrap())
        .collect();
    assert!(started.len() >= 8, "{started:?}");
    assert!(
        started.iter().all(|n| nodes.contains(n)),
        "{started:?} are graph nodes"
    );
    let (_, index) = bot.get("/api/v1");
    let paths: Vec<&str> = index["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    for path in ["/api/v1/graph", "/api/v1/overview", "/", "/overview"] {
        assert!(paths.contains(&path), "{path} listed");
    }
}

#[test]
fn the_overview_lists_a_peer_that_answers_and_one_that_does_not() {
    let up = Served::start("dash-peer-up", "", 2);
    let up_address = up.base.trim_start_matches("http://").to_owned();
    let down_address = format!("127.0.0.1:{}", closed_port());
    let peers = format!("{up_address}, {down_address}");
    let viewer = Served::start_with(
        "dash-viewer",
        "",
        "",
        0,
        vec![("TRADEGRAPH_DASHBOARD_PEERS", peers)],
    );
    let (code, overview) = viewer.get("/api/v1/overview");
    assert_eq!(code, 200, "{overview}");
    let items = overview["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{overview}");
    let (a, b) = (&items[0], &items[1]);
    assert_eq!(a["address"], up_address.as_str());
    assert_eq!(a["dashboard"], format!("http://{up_address}/"));
    assert_eq!(a["reachable"], true, "{a}");
    assert_eq!(a["error"], serde_json::Value::Null);
    assert_eq!(a["mode"], "paper");
    assert_eq!(a["trading"], "active");
    assert_eq!(a["kill_switch"], false);
    assert!(a["failing"].is_array(), "{a}");
    assert_eq!(b["address"], down_address.as_str());
    assert_eq!(b["reachable"], false, "{b}");
    let error = b["error"].as_str().unwrap();
    assert!(
        error.contains(&down_address) && error.contains("cannot reach"),
        "{error}"
    );
    // What the peer says of itself on its own API, the overview says of it (asked again until
    // both agree: the peer's state moves, and the overview is up to 2 s old).
    let own = |viewer: &Served| {
        let status = up.status();
        let (_, pnl) = up.get("/api/v1/pnl/daily?days=1");
        let today = pnl["items"]
            .as_array()
            .and_then(|days| days.last())
            .map_or(serde_json::json!("0"), |day| day["realized_pnl"].clone());
        let (_, overview) = viewer.get("/api/v1/overview");
        let seen = overview["items"][0].clone();
        let expected = (
            status["instrument"].clone(),
            status["ready"].clone(),
            status["equity"].clone(),
            today,
        );
        let got = (
            seen["instrument"].clone(),
            seen["ready"].clone(),
            seen["equity"].clone(),
            seen["today_pnl"].clone(),
        );
        (expected, got)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (expected, got) = own(&viewer);
        if expected == got {
            assert_eq!(got.0, "BTCUSDT");
            assert!(got.1.is_boolean() && got.2.is_string(), "{got:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the overview says {got:?}, the peer {expected:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The peer's state as it changes: its kill switch, engaged; the overview shows it once its
    // answer (kept 2 s) is renewed.
    let (code, _, _) = up.post(
        "/api/v1/kill-switch",
        Some(r#"{"engaged": true}"#),
        Some(crate::harness::TOKEN),
    );
    assert_eq!(code, 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, overview) = viewer.get("/api/v1/overview");
        assert!(overview["asked_ms_ago"].is_u64(), "{overview}");
        let peer = &overview["items"][0];
        if peer["kill_switch"] == true {
            assert_eq!(peer["trading"], "halted", "{overview}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the engaged kill switch not shown: {overview}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let page = viewer.get_text("/overview");
    assert_eq!(page.0, 200);
    assert!(page.2.contains("js/overview.js"), "{}", page.2);
}

#[test]
fn a_saved_usage_ledger_that_cannot_be_read_does_not_keep_the_bot_from_starting() {
    let mut bot = Served::start("usage-corrupt", "", 3);
    bot.wait_cycles(2);
    bot.stop();
    let path = bot.dir.join("state/btc.json");
    let mut file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let states = file["states"].as_array_mut().unwrap();
    let ledger = states
        .iter_mut()
        .find(|s| s["key"]["part"] == "llm_usage")
        .expect("the ledger saved");
    ledger["body"] = serde_json::json!({"rows": "not rows"});
    std::fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
    bot.spawn();
    let warned = bot.bot.as_ref().unwrap().stderr().join("\n");
    assert!(
        warned.contains("llm_usage") && warned.contains("cannot be read"),
        "a warning naming the part: {warned}"
    );
    let (code, usage) = bot.get("/api/v1/llm/usage?days=1");
    assert_eq!(code, 200, "{usage}");
    assert_eq!(usage["total"]["calls"], 0, "an empty ledger: {usage}");
    bot.play(5);
    bot.wait("the new run's calls in the ledger", |s| {
        s.get("/api/v1/llm/usage?days=1").1["total"]["calls"].as_u64() > Some(0)
    });
}

/// The API's answers, errors included, are read as the type they say and kept by no browser
/// or proxy; the dashboard's own caching stays as it is.
#[test]
fn api_answers_say_nosniff_and_no_store() {
    let bot = Served::start("api-headers", "", 0);
    for path in [
        "/api/v1/status",
        "/api/v1/positions",
        "/api/v1/nope",
        "/readyz",
        "/metrics",
    ] {
        let got = fetch(&bot, path, None);
        assert_eq!(header(&got, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&got, "cache-control"), "no-store", "{path}");
    }
    assert_eq!(header(&fetch(&bot, "/", None), "cache-control"), "no-cache");
}
