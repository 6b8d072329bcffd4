//! Alerts against the real binary: a bot whose guard trips the circuit breaker on every cycle
//! raises one typed `circuit_breaker` alert per cool-down, seen on the event stream, in
//! `GET /api/v1/alerts`, in MongoDB's `alerts` collection and at a local webhook receiver; and
//! a private Redis that fails again within the cool-down under a bot raises `store_down` again
//! once the cool-down is over (the health checks' `BotEvent::Health`); a private MongoDB stopped under a bot
//! leaves `GET /api/v1/alerts` answering from the alerts the run raised.

use crate::harness::Served;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{private, unique};

type Received = Arc<Mutex<Vec<Value>>>;

/// A webhook receiver on loopback (generic JSON bodies), on the bot's runtime.
fn receiver(bot_runtime: &tokio::runtime::Runtime) -> (String, Received) {
    let got: Received = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().fallback(move |axum::Json(body): axum::Json<Value>| {
        let sink = sink.clone();
        async move {
            sink.lock().unwrap().push(body);
            axum::http::StatusCode::OK
        }
    });
    let listener = bot_runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!(
        "http://{}/hook/secret-path-0123456789",
        listener.local_addr().unwrap()
    );
    bot_runtime.spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

fn of_kind(received: &Received, kind: &str) -> Vec<Value> {
    received
        .lock()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind && a["recovered"] == false)
        .cloned()
        .collect()
}

/// `[alerts]` with a long cool-down, a sample a second, and one JSON webhook at `url`.
fn alerts_section(url: &str) -> String {
    alerts_cooling(url, 3600)
}

/// `[alerts]` with a cool-down of `secs`, a sample a second, and one JSON webhook at `url`.
fn alerts_cooling(url: &str, secs: u64) -> String {
    format!(
        "\n[alerts]\ncooldown_secs = {secs}\nsample_secs = 1\n\n[[alerts.webhook]]\nurl = \"{url}\"\nformat = \"json\"\n"
    )
}

#[test]
fn a_tripped_circuit_breaker_raises_one_typed_alert_everywhere() {
    let Some((_, mongo)) = crate::support::services() else {
        return;
    };
    let database = unique("alerts");
    // Every bar's range is above the limit: the breaker trips on every cycle that proposes.
    let probe = tokio::runtime::Runtime::new().unwrap();
    let (url, got) = receiver(&probe);
    let extra = format!(
        "\n[risk]\nmax_bar_range_pct = 0.000001\n{}",
        alerts_section(&url)
    );
    let stores = format!("mongodb_uri = \"{mongo}\"\ndatabase = \"{database}\"\n");
    let mut bot = Served::start_with("alerts", &extra, &stores, 2, Vec::new());
    let mut stream = bot.events("?types=alert", Some(0));
    let mut played = 2;
    bot.wait("a circuit_breaker alert at the webhook", |b| {
        if of_kind(&got, "circuit_breaker").is_empty() && played < 20 {
            played += 1;
            b.play(played);
        }
        !of_kind(&got, "circuit_breaker").is_empty()
    });
    let hooked = of_kind(&got, "circuit_breaker");
    assert_eq!(hooked[0]["severity"], "critical", "{hooked:?}");
    assert_eq!(hooked[0]["instrument"], "BTCUSDT");
    assert!(
        hooked[0]["message"]
            .as_str()
            .unwrap()
            .contains("circuit breaker"),
        "{hooked:?}"
    );

    // On the event stream, typed.
    let seen = bot
        .runtime
        .block_on(stream.until(Duration::from_secs(60), |e| {
            e.event == "alert" && e.data["kind"] == "circuit_breaker"
        }));
    let event = &seen.last().unwrap().data;
    assert_eq!(
        (event["key"].as_str(), event["severity"].as_str()),
        (Some("circuit_breaker"), Some("critical"))
    );

    // More cycles run (the desk's models propose only once, so no later decision trips the
    // breaker again: what is counted below is the alert's delivery, each sink once).
    let cycles = bot.status()["cycles"].as_u64().unwrap();
    let more = cycles + 3;
    bot.wait("three more cycles", |b| {
        if played < 20 {
            played += 1;
            b.play(played);
        }
        b.status()["cycles"].as_u64().unwrap_or(0) >= more
    });

    // In the API (the store's alert log, with what it has not written yet).
    let (code, listed) = bot.get("/api/v1/alerts");
    assert_eq!(code, 200, "{listed}");
    let breakers: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "circuit_breaker")
        .collect();
    assert_eq!(breakers.len(), 1, "{listed}");
    assert!(
        breakers[0]["id"].as_str().unwrap().starts_with("BTCUSDT@"),
        "{listed}"
    );

    // A clean stop delivers what every sink holds: then the webhook and MongoDB's `alerts`
    // have every alert they will ever get.
    let exited = bot.stop();
    assert_eq!(
        of_kind(&got, "circuit_breaker").len(),
        1,
        "once per cool-down: {:?}",
        got.lock().unwrap()
    );
    let stored = probe.block_on(async {
        let client = mongodb::Client::with_uri_str(&mongo).await.unwrap();
        let db = client.database(&database);
        let n = db
            .collection::<mongodb::bson::Document>("alerts")
            .count_documents(mongodb::bson::doc! {"kind": "circuit_breaker", "recovered": false})
            .await
            .unwrap();
        db.drop().await.unwrap();
        n
    });
    assert_eq!(stored, 1, "one document in `alerts`");
    assert!(
        !exited.dump().contains("secret-path-0123456789"),
        "the webhook URL is never logged"
    );
}

/// The bot's `[health]`: checks every second, a 2 s time limit, the feed never stale.
const HEALTH: &str =
    "\n[health]\nevery_secs = 1\nllm_every_secs = 1\ntimeout_secs = 2\nfeed_stale_secs = 600\n";

/// What the webhook received for `key`: (raises, recoveries).
fn counts(received: &Received, key: &str) -> (usize, usize) {
    let got = received.lock().unwrap();
    let of = |recovered: bool| {
        got.iter()
            .filter(|a| a["key"] == key && a["recovered"] == recovered)
            .count()
    };
    (of(false), of(true))
}

#[test]
fn a_redis_down_again_within_the_cooldown_is_alerted_once_the_cooldown_is_over() {
    let Some(mut redis) = private::PrivateRedis::start() else {
        return;
    };
    let probe = tokio::runtime::Runtime::new().unwrap();
    let (url, got) = receiver(&probe);
    let extra = alerts_cooling(&url, 15);
    let stores = format!("redis_url = \"{}\"\n{HEALTH}", redis.url());
    let mut bot = Served::start_with("alerts-redis", &extra, &stores, 2, Vec::new());
    let mut health = bot.events("?types=health", Some(0));
    bot.wait_cycles(1);
    let redis_now = |health: &mut crate::harness::Sse, state: &'static str| {
        probe.block_on(health.until(Duration::from_secs(60), |e| {
            e.data["check"] == "redis" && e.data["state"] == state
        }));
    };

    redis.stop();
    bot.wait("store_down:redis at the webhook", |_| {
        counts(&got, "store_down:redis").0 == 1
    });
    assert_eq!(
        got.lock()
            .unwrap()
            .iter()
            .find(|a| a["key"] == "store_down:redis")
            .map(|a| a["severity"].clone()),
        Some(Value::from("critical"))
    );
    redis_now(&mut health, "failing");
    redis.resume();
    bot.wait("the recovery at the webhook", |_| {
        counts(&got, "store_down:redis").1 == 1
    });
    // It fails again within the cool-down and stays down: the health checks say so once
    // (one `health` event); the webhook is told once the cool-down is over, never "recovered"
    // alone while Redis is down.
    redis_now(&mut health, "ok");
    redis.stop();
    redis_now(&mut health, "failing");
    bot.wait("the second store_down:redis at the webhook", |_| {
        counts(&got, "store_down:redis").0 == 2
    });
    assert_eq!(counts(&got, "store_down:redis"), (2, 1));
    redis.resume();
    bot.wait("the second recovery at the webhook", |_| {
        counts(&got, "store_down:redis").1 == 2
    });
    // A clean stop delivers whatever the sinks still hold before the process exits.
    bot.stop();
    assert_eq!(
        counts(&got, "store_down:redis"),
        (2, 2),
        "an alert and a recovery per failure, the second held to the cool-down: {:?}",
        got.lock().unwrap()
    );
}

#[test]
fn the_alerts_are_listed_from_memory_while_mongodb_is_down() {
    let Some(mut mongo) = private::PrivateMongo::start() else {
        return;
    };
    let probe = tokio::runtime::Runtime::new().unwrap();
    let (url, got) = receiver(&probe);
    let extra = alerts_section(&url);
    let stores = format!(
        "mongodb_uri = \"{}\"\ndatabase = \"{}\"\n{HEALTH}",
        mongo.uri(),
        unique("alerts_memory")
    );
    let mut bot = Served::start_with("alerts-mongo", &extra, &stores, 2, Vec::new());
    bot.wait_cycles(1);
    let (code, listed) = bot.get("/api/v1/alerts");
    assert_eq!(
        (code, listed["source"].as_str()),
        (200, Some("store")),
        "{listed}"
    );

    mongo.stop();
    bot.wait("store_down:mongodb at the webhook", |_| {
        counts(&got, "store_down:mongodb").0 == 1
    });
    let (code, listed) = bot.get("/api/v1/alerts");
    assert_eq!(
        code, 200,
        "never an error for a store that is down: {listed}"
    );
    assert_eq!(listed["source"], "memory", "{listed}");
    assert!(listed["store_error"].as_str().is_some(), "{listed}");
    let down: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["key"] == "store_down:mongodb")
        .collect();
    assert_eq!(down.len(), 1, "{listed}");
    let hooked = got
        .lock()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "store_down:mongodb")
        .cloned()
        .unwrap();
    assert_eq!(down[0]["severity"], "critical");
    assert_eq!(down[0]["at"], hooked["at"], "the alert the webhook got");
    assert!(
        down[0]["id"].as_str().unwrap().starts_with("BTCUSDT@"),
        "{listed}"
    );
    mongo.resume();
}
