//! The periodic health checks against the real binary: a bot on a private Redis and a private
//! MongoDB (started here, so that stopping them disturbs no other test), the local model
//! server and the local feed, its checks every second. Each outage is named by `/readyz` with
//! what failed, and the event stream carries exactly one `health` event per change.

use crate::harness::{Served, SseEvent};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::support::{private, unique};

/// Checks every second, the models' key check every second too, a 2 s time limit, and a feed
/// stale after 4 s of silence.
const HEALTH: &str =
    "\n[health]\nevery_secs = 1\nllm_every_secs = 1\ntimeout_secs = 2\nfeed_stale_secs = 4\n";

/// Minutes of the feed's script: enough to keep it playing while the first checks run.
const MINUTES: usize = 120;

/// The state of check `name` in a `/readyz` body.
fn state<'a>(ready: &'a Value, name: &str) -> Option<&'a str> {
    check(ready, name).and_then(|c| c["state"].as_str())
}

fn check<'a>(ready: &'a Value, name: &str) -> Option<&'a Value> {
    ready["checks"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)
}

/// The failing checks `/readyz` names (`"<name>: <message>"`), by name.
fn failing(ready: &Value) -> BTreeMap<String, String> {
    ready["failing"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str()?.split_once(": "))
        .map(|(name, message)| (name.to_owned(), message.to_owned()))
        .collect()
}

/// Polls `/readyz` until `done` holds for its status code and body, calling `between` before
/// each poll; fails after 90 s.
fn until_ready(
    bot: &Served,
    what: &str,
    mut between: impl FnMut(),
    mut done: impl FnMut(u16, &Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        between();
        let (code, ready) = bot.get("/readyz");
        if done(code, &ready) {
            return ready;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} within 90 s; /readyz said {ready}\n{}",
            bot.dump()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `/readyz` is 503 naming `name`; returns what it says of it.
fn until_failing(bot: &Served, name: &str) -> String {
    let ready = until_ready(
        bot,
        &format!("failing {name}"),
        || {},
        |code, ready| code == 503 && failing(ready).contains_key(name),
    );
    failing(&ready)[name].clone()
}

#[test]
fn readyz_names_each_outage_and_each_change_is_one_health_event() {
    let Some(mut redis) = private::PrivateRedis::start() else {
        return;
    };
    let Some(mut mongo) = private::PrivateMongo::start() else {
        return;
    };
    let stores = format!(
        "redis_url = \"{}\"\nmongodb_uri = \"{}\"\ndatabase = \"{}\"\n{HEALTH}",
        redis.url(),
        mongo.uri(),
        unique("health")
    );
    let bot = Served::start_scripted("health", "", &stores, 2, Vec::new(), MINUTES);
    let mut stream = bot.events("?types=health", Some(0));

    // Everything well while the feed plays a minute every half second.
    let (mut played, mut advanced) = (2, Instant::now());
    let ready = until_ready(
        &bot,
        "ready with every check ok",
        || {
            if advanced.elapsed() >= Duration::from_millis(500) && played < MINUTES {
                played += 1;
                advanced = Instant::now();
                bot.play(played);
            }
        },
        |code, ready| {
            code == 200
                && ["redis", "mongodb", "llm", "broker", "feed"]
                    .iter()
                    .all(|name| state(ready, name) == Some("ok"))
        },
    );
    assert!(
        state(&ready, "redis") == Some("ok")
            && check(&ready, "redis").unwrap()["message"]
                .as_str()
                .unwrap()
                .starts_with("PONG in "),
        "{ready}"
    );
    // Every check once, in /readyz and in the status.
    let status = bot.status();
    let mut names: Vec<&str> = status["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "broker",
            "engine",
            "feed",
            "llm",
            "mongodb",
            "redis",
            "state_store"
        ],
        "{status}"
    );
    // The feed stops here: it goes quiet.

    // Redis stops.
    redis.stop();
    let said = until_failing(&bot, "redis");
    assert!(
        said.contains("PING failed") || said.contains("no answer within"),
        "{said}"
    );
    let (_, _, metrics) = bot.get_text("/metrics");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("tradegraph_health_check_state{")
                && l.contains("check=\"redis\"")
                && l.contains("instrument=\"BTCUSDT\"")
                && l.ends_with("} 2")),
        "{metrics}"
    );

    // MongoDB stops.
    mongo.stop();
    let said = until_failing(&bot, "mongodb");
    assert!(
        said.contains("ping failed") || said.contains("no answer within"),
        "{said}"
    );

    // The models reject the key.
    bot.llm.fail_with(401);
    let said = until_failing(&bot, "llm");
    assert!(said.contains("every model provider is down"), "{said}");
    assert!(said.contains("openai (gpt-test)"), "{said}");

    // The feed has been quiet since the first checks.
    let said = until_failing(&bot, "feed");
    assert!(said.contains("no market data"), "{said}");
    let ready = until_ready(
        &bot,
        "every outage at once",
        || {},
        |_, ready| {
            let named = failing(ready);
            ["redis", "mongodb", "llm", "feed"]
                .iter()
                .all(|n| named.contains_key(*n))
        },
    );
    assert_eq!(ready["ready"], false);

    // Redis is back.
    redis.resume();
    until_ready(
        &bot,
        "redis ok again",
        || {},
        |_, ready| state(ready, "redis") == Some("ok"),
    );

    // The stream: one `health` event per change, up to Redis's recovery.
    let events: Vec<SseEvent> = bot
        .runtime
        .block_on(stream.until(Duration::from_secs(30), |e| {
            e.data["check"] == "redis" && e.data["state"] == "ok"
        }));
    let mut by_check: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &events {
        assert_eq!(e.event, "health", "{e:?}");
        assert!(!e.data["message"].as_str().unwrap().is_empty(), "{e:?}");
        by_check
            .entry(e.data["check"].as_str().unwrap().to_owned())
            .or_default()
            .push(e.data["state"].as_str().unwrap().to_owned());
    }
    for (name, states) in &by_check {
        assert!(
            states.windows(2).all(|w| w[0] != w[1]),
            "{name}: an event without a change of state: {states:?}"
        );
    }
    // A first result counts only when not ok; Redis failed once and recovered once.
    assert_eq!(by_check["redis"], ["failing", "ok"], "{by_check:?}");
    for name in ["mongodb", "llm"] {
        assert_eq!(by_check[name][0], "failing", "{name}: {by_check:?}");
    }
    assert!(
        by_check["feed"].iter().any(|s| s == "failing"),
        "{by_check:?}"
    );
}
