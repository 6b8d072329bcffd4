//! Decision cycles on workers, end to end, with the real binary against the real Redis and
//! MongoDB of `scripts/services.sh` (skipped, saying so, when they are not running, unless
//! TRADEGRAPH_REQUIRE_SERVICES=1):
//! - a worker decides exactly as a bot that runs its engine itself, cycle for cycle;
//! - three workers serve ten instruments on synthetic feeds while one of them is killed with
//!   SIGKILL mid-cycle: every cycle is stored once, in order, no order intent or fill is
//!   repeated, and the killed worker's cycle goes on from its checkpoint on another worker;
//! - the ingesting process lists the workers and their load, cancels a cycle in flight, and a
//!   worker stopped by SIGTERM gives its instrument back at once.
//!
//! Each test has a Redis database of its own (the queue's keys are per database; the
//! cancellation channel is shared, and the symbols are the test's own).
#![cfg(feature = "cli")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    missing_docs,
    unreachable_pub
)]

mod support;

/// The scripted models of the chaos test, slowed down.
#[allow(dead_code)]
#[path = "chaos/desk.rs"]
mod desk;

use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};
use support::process::Bot;
use tradegraph_core::{Symbol, Timestamp};
use tradegraph_store::queue::{QueueConfig, RunQueue};
use tradegraph_store::redis::{RedisConfig, RedisRunQueue};

const TOKEN: &str = "workers-test-token-0123456789";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Redis database `db` of the services' server, emptied.
fn redis_db(url: &str, db: u8) -> String {
    let url = format!("{}/{db}", url.trim_end_matches('/'));
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_connection().unwrap();
    redis::cmd("FLUSHDB").exec(&mut conn).unwrap();
    url
}

/// The environment of every process of a test: the stores, the token, the models (if any).
fn env(redis: &str, models: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("REDIS_URL", redis.to_owned()),
        ("TRADEGRAPH_API_TOKEN", TOKEN.to_owned()),
    ];
    env.extend(models.iter().cloned());
    env
}

/// `tradegraph.toml` for `instruments` (name, symbol) on synthetic feeds at `speed`, deciding
/// every minute, their state and logs in `database`.
fn configure(
    dir: &Path,
    mongodb: &str,
    database: &str,
    instruments: &[(String, String)],
    speed: f64,
) {
    let mut toml = format!(
        "[bot]\nfeed = \"synthetic\"\nspeed = {speed}\ndecision_timeframe = \"1m\"\n\n\
         [stores]\nmongodb_uri = \"{mongodb}\"\ndatabase = \"{database}\"\n\n"
    );
    for (name, symbol) in instruments {
        toml += &format!(
            "[[instruments]]\nname = \"{name}\"\nsymbol = \"{symbol}\"\nvenue = \"none\"\n\
             exchange = \"BINANCE\"\nsegment = \"spot\"\ncurrency = \"USDT\"\n\
             tick_size = \"0.01\"\nlot_size = \"0.0001\"\nsession = \"24x7\"\n\n"
        );
    }
    std::fs::write(dir.join("tradegraph.toml"), toml).unwrap();
}

fn worker(dir: &Path, name: &str, concurrency: u32, env: &[(&str, String)]) -> Bot {
    Bot::spawn(
        dir,
        &[
            "worker",
            "--name",
            name,
            "--concurrency",
            &concurrency.to_string(),
        ],
        env,
    )
}

fn ingest(dir: &Path, instrument: &str, env: &[(&str, String)]) -> Bot {
    Bot::spawn(
        dir,
        &["run", "--instrument", instrument, "--workers", "redis"],
        env,
    )
}

/// The service address an ingesting process printed.
fn service_address(bot: &mut Bot) -> String {
    bot.wait_until("the service's address", Duration::from_secs(30), |b| {
        b.stdout().iter().any(|l| l.starts_with("service: http://"))
    });
    let line = bot
        .stdout()
        .into_iter()
        .find(|l| l.starts_with("service: http://"))
        .unwrap();
    let rest = line.trim_start_matches("service: http://");
    rest[..rest.find('/').unwrap()].to_owned()
}

/// The symbols of the instruments a worker took and did not give back, from its log.
fn held(stderr: &[String]) -> BTreeSet<String> {
    let symbol = |line: &str| {
        let rest = &line[line.find("symbol=")? + 7..];
        Some(rest.split_whitespace().next()?.to_owned())
    };
    let mut held = BTreeSet::new();
    for line in stderr {
        if line.contains("worker: instrument taken") {
            held.extend(symbol(line));
        } else if line.contains("worker: instrument given back") {
            if let Some(s) = symbol(line) {
                held.remove(&s);
            }
        }
    }
    held
}

/// The symbol and the number of decision cycles an ingesting process said it published as it
/// stopped (in order, exit 0).
fn published_by(fed: support::process::Exited) -> (String, usize) {
    assert_eq!(fed.status.code(), Some(0), "{}", fed.dump());
    let line = fed
        .stdout
        .iter()
        .find(|l| l.ends_with("decision cycles published"))
        .unwrap_or_else(|| panic!("{}", fed.dump()));
    let (symbol, rest) = line.split_once(": ").unwrap();
    let n = rest.split_whitespace().next().unwrap().parse().unwrap();
    (symbol.to_owned(), n)
}

/// Waits until no job of `symbols` is pending on the queue at `redis`.
fn drained(rt: &tokio::runtime::Runtime, redis: &str, symbols: &[String], limit: Duration) {
    let queue = {
        let _inside = rt.enter();
        RedisRunQueue::connect(RedisConfig::new(redis), QueueConfig::default()).unwrap()
    };
    let deadline = Instant::now() + limit;
    loop {
        let pending: Vec<u64> = rt.block_on(async {
            let mut all = Vec::new();
            for s in symbols {
                all.push(queue.pending(&Symbol::new(s)).await.unwrap());
            }
            all
        });
        if pending.iter().all(|p| *p == 0) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "jobs still pending after {limit:?}: {pending:?} for {symbols:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The instruments of `symbols` with jobs in the dead letters at `redis`, and how many.
fn dead_lettered(
    rt: &tokio::runtime::Runtime,
    redis: &str,
    symbols: &[String],
) -> BTreeMap<String, usize> {
    let queue = {
        let _inside = rt.enter();
        RedisRunQueue::connect(RedisConfig::new(redis), QueueConfig::default()).unwrap()
    };
    rt.block_on(async {
        let mut dead = BTreeMap::new();
        for s in symbols {
            let n = queue.dead_letters(&Symbol::new(s)).await.unwrap().len();
            if n > 0 {
                dead.insert(s.clone(), n);
            }
        }
        dead
    })
}

async fn documents(db: &mongodb::Database, collection: &str, symbol: &str) -> Vec<Document> {
    db.collection::<Document>(collection)
        .find(doc! {"instrument": symbol})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

/// The first `client_id` string anywhere in `value` (a saved order).
fn client_id_in(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Object(map) => map
            .get("client_id")
            .and_then(|c| c.as_str().map(str::to_owned))
            .or_else(|| map.values().find_map(client_id_in)),
        serde_json::Value::Array(items) => items.iter().find_map(client_id_in),
        _ => None,
    }
}

/// The decisions stored for `symbol`: (decision time, seq), in time order; fails on a decision
/// stored twice.
async fn decisions(db: &mongodb::Database, symbol: &str) -> Vec<(i64, i64)> {
    let docs = documents(db, "agent_decisions", symbol).await;
    let mut ids = BTreeSet::new();
    let mut out = Vec::new();
    for d in &docs {
        let id = d.get_str("decision_id").unwrap().to_owned();
        assert!(
            ids.insert(id.clone()),
            "decision {id} of {symbol} is stored twice"
        );
        let at = match d.get("timestamp").unwrap() {
            mongodb::bson::Bson::DateTime(t) => t.timestamp_millis(),
            mongodb::bson::Bson::String(t) => t.parse::<Timestamp>().unwrap().millis(),
            other => panic!("a decision's timestamp {other}"),
        };
        let seq = d
            .get_i64("seq")
            .or_else(|_| d.get_i32("seq").map(i64::from))
            .unwrap();
        out.push((at, seq));
    }
    out.sort_unstable();
    out
}

/// HTTP on the test's runtime.
struct Http<'a>(&'a tokio::runtime::Runtime, reqwest::Client);

impl Http<'_> {
    fn get(&self, url: &str) -> (u16, serde_json::Value) {
        self.0.block_on(async {
            let r = self.1.get(url).send().await.unwrap();
            (r.status().as_u16(), r.json().await.unwrap())
        })
    }

    fn text(&self, url: &str) -> String {
        self.0
            .block_on(async { self.1.get(url).send().await.unwrap().text().await.unwrap() })
    }

    fn post(&self, url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
        self.0.block_on(async {
            let mut request = self.1.post(url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.json().await.unwrap())
        })
    }
}

#[test]
fn a_worker_decides_as_the_bot_itself_does() {
    let Some((redis, mongodb)) = support::services() else {
        return;
    };
    let redis = redis_db(&redis, 12);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = support::temp_dir("workers-same");
    std::fs::create_dir_all(dir.join("examples/data")).unwrap();
    std::fs::copy(
        root.join("examples/data/btcusdt-1m.csv"),
        dir.join("examples/data/btcusdt-1m.csv"),
    )
    .unwrap();
    let alone_db = support::unique("alone");
    let workers_db = support::unique("workers");
    let toml = |db: &str| format!("[stores]\nmongodb_uri = \"{mongodb}\"\ndatabase = \"{db}\"\n");
    // The bot alone, on the bundled replay.
    std::fs::write(dir.join("tradegraph.toml"), toml(&alone_db)).unwrap();
    let alone =
        Bot::spawn(&dir, &["run", "--instrument", "btc"], &[]).wait_exit(Duration::from_secs(300));
    assert_eq!(alone.status.code(), Some(0), "{}", alone.dump());
    let expected = support::cycles(&alone.stdout, "BTCUSDT");
    assert!(expected.len() > 200, "{}", alone.dump());
    // The same replay ingested, its cycles on a worker.
    std::fs::write(dir.join("tradegraph.toml"), toml(&workers_db)).unwrap();
    let env = env(&redis, &[]);
    let mut worker = worker(&dir, "same-1", 2, &env);
    let fed = ingest(&dir, "btc", &env).wait_exit(Duration::from_secs(300));
    assert_eq!(fed.status.code(), Some(0), "{}", fed.dump());
    assert!(
        fed.stdout
            .iter()
            .any(|l| l.contains("decision cycles published")),
        "{}",
        fed.dump()
    );
    worker.wait_until("every cycle decided", Duration::from_secs(300), |w| {
        support::cycles(&w.stdout(), "BTCUSDT").len() >= expected.len()
    });
    let worked = worker.stop_cleanly();
    let got = support::cycles(&worked.stdout, "BTCUSDT");
    assert_eq!(got.len(), expected.len(), "{}", worked.dump());
    for ((at, line), (wat, wline)) in expected.iter().zip(&got) {
        assert_eq!((at, line), (wat, wline), "the worker decided otherwise");
    }
}

#[test]
fn three_workers_and_a_sigkill_lose_and_repeat_no_cycle_and_no_order() {
    let Some((redis, mongodb)) = support::services() else {
        return;
    };
    let redis = redis_db(&redis, 11);
    let rt = runtime();
    // Models that take 150 ms an answer: a cycle lasts about a second, so a worker is always
    // in the middle of one; the portfolio manager buys and closes on a script.
    // (one step of the script a minute: a buy, a hold, a close, a hold, ...)
    let desk = desk::Desk::start_slow(
        &rt,
        Timestamp::from_millis(0),
        Duration::from_millis(150),
        1,
    );
    let dir = support::temp_dir("workers-kill");
    let database = support::unique("workers-kill");
    let tag = &database[database.len() - 4..];
    let instruments: Vec<(String, String)> = (0..10)
        .map(|i| (format!("k{i}"), format!("K{i}{}USDT", tag.to_uppercase())))
        .collect();
    let symbols: Vec<String> = instruments.iter().map(|(_, s)| s.clone()).collect();
    configure(&dir, &mongodb, &database, &instruments, 60.0);
    let env = env(&redis, &desk.env());
    let mut workers: BTreeMap<&str, Bot> = ["wk-a", "wk-b", "wk-c"]
        .into_iter()
        .map(|name| (name, worker(&dir, name, 4, &env)))
        .collect();
    let mut feeds: Vec<Bot> = instruments
        .iter()
        .map(|(name, _)| ingest(&dir, name, &env))
        .collect();
    // Once the workers hold all ten and have been deciding for a while, the one holding the
    // most dies.
    let began = Instant::now();
    loop {
        let holding: usize = workers.values().map(|w| held(&w.stderr()).len()).sum();
        let decided: usize = workers
            .values()
            .map(|w| {
                symbols
                    .iter()
                    .map(|s| support::cycles(&w.stdout(), s).len())
                    .sum::<usize>()
            })
            .sum();
        if holding == 10 && decided >= 20 {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(90),
            "the workers did not take the ten instruments: {holding} held, {decided} cycles"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let victim = *workers
        .iter()
        .max_by_key(|(_, w)| held(&w.stderr()).len())
        .unwrap()
        .0;
    let killed = workers.remove(victim).unwrap().kill();
    let orphaned = held(&killed.stderr);
    assert!(!orphaned.is_empty(), "{}", killed.dump());
    eprintln!("workers: killed {victim}, holding {orphaned:?}");
    // The feeds go on a while, then stop; the survivors drain the queues.
    std::thread::sleep(Duration::from_secs(6));
    let mut published = BTreeMap::new();
    for feed in &feeds {
        feed.terminate();
    }
    for feed in feeds.drain(..) {
        let (symbol, n) = published_by(feed.wait_exit(Duration::from_secs(30)));
        published.insert(symbol, n);
    }
    drained(&rt, &redis, &symbols, Duration::from_secs(180));
    let survivors: Vec<_> = workers.into_values().map(Bot::stop_cleanly).collect();
    let dump = || {
        let mut text = format!("--- killed {victim} ---\n{}\n", killed.dump());
        for s in &survivors {
            text += &format!("--- survivor ---\n{}\n", s.dump());
        }
        text
    };
    // No job set aside: a kill delivers a job once more, far from the cap.
    let dead = dead_lettered(&rt, &redis, &symbols);
    assert!(dead.is_empty(), "jobs set aside: {dead:?}\n{}", dump());
    // The killed worker's cycle went on from its checkpoint on another worker.
    let resumed: Vec<&String> = survivors
        .iter()
        .flat_map(|s| &s.stderr)
        .filter(|l| {
            l.contains("decision cycle resumed from its checkpoint")
                && orphaned.iter().any(|o| l.contains(&format!("symbol={o}")))
        })
        .collect();
    assert!(
        !resumed.is_empty(),
        "no cycle of {orphaned:?} resumed\n{}",
        dump()
    );
    // No order sent twice, whichever owner sent it: every worker's log, the killed one's too.
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for line in survivors
        .iter()
        .flat_map(|s| &s.stderr)
        .chain(&killed.stderr)
        .filter(|l| l.contains("order sent to the broker"))
    {
        let rest = &line[line.find("client_id=").expect(line) + 10..];
        let id = rest.split_whitespace().next().unwrap().to_owned();
        *sent.entry(id).or_default() += 1;
    }
    assert!(!sent.is_empty(), "no order was sent\n{}", dump());
    let twice: Vec<_> = sent.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "orders sent more than once: {twice:?}\n{}",
        dump()
    );
    // Printed at most once each, in order on each worker.
    for symbol in &symbols {
        let mut seen = BTreeSet::new();
        for out in survivors.iter().map(|s| &s.stdout).chain([&killed.stdout]) {
            let times: Vec<Timestamp> = support::cycles(out, symbol)
                .into_iter()
                .map(|c| c.0)
                .collect();
            assert!(
                times.windows(2).all(|w| w[0] < w[1]),
                "{symbol} out of order: {times:?}"
            );
            for t in times {
                assert!(
                    seen.insert(t),
                    "the cycle of {symbol} at {t} ran twice\n{}",
                    dump()
                );
            }
        }
    }
    // Stored: every published cycle once, numbered in time order; no order or fill twice.
    let client = rt
        .block_on(mongodb::Client::with_uri_str(&mongodb))
        .unwrap();
    let db = client.database(&database);
    let (mut placed, mut filled_total) = (0, 0);
    for symbol in &symbols {
        let stored = rt.block_on(decisions(&db, symbol));
        let expected = published[symbol];
        assert_eq!(
            stored.len(),
            expected,
            "{symbol}: {expected} cycles published, {} stored\n{}",
            stored.len(),
            dump()
        );
        let seqs: Vec<i64> = stored.iter().map(|(_, seq)| *seq).collect();
        let want: Vec<i64> = (1..=i64::try_from(expected).unwrap()).collect();
        assert_eq!(
            seqs, want,
            "{symbol}: the cycles are not numbered in time order"
        );
        // The paper account as the last owner saved it: every order it ever took (those kept
        // and those let go), each client order id once; each filled once.
        let state = rt.block_on(documents(&db, "bot_state", symbol));
        let broker = state
            .iter()
            .find(|d| d.get_str("part") == Ok("broker"))
            .map(|d| serde_json::from_str::<serde_json::Value>(d.get_str("body").unwrap()).unwrap())
            .unwrap_or_else(|| panic!("{symbol}: no paper account saved\n{}", dump()));
        let mut taken: Vec<String> = broker["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| client_id_in(o).unwrap_or_else(|| panic!("an order without a client id: {o}")))
            .collect();
        taken.extend(
            broker["retired"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c.as_str().unwrap().to_owned()),
        );
        let unique: BTreeSet<&String> = taken.iter().collect();
        assert_eq!(
            taken.len(),
            unique.len(),
            "{symbol}: an order placed twice: {taken:?}"
        );
        let fills = broker["fills"].as_array().unwrap();
        let filled: Vec<&str> = fills
            .iter()
            .map(|f| f["client_id"].as_str().unwrap())
            .collect();
        let unique: BTreeSet<&str> = filled.iter().copied().collect();
        assert_eq!(
            filled.len(),
            unique.len(),
            "{symbol}: a client order id filled twice: {filled:?}"
        );
        placed += taken.len();
        filled_total += filled.len();
    }
    assert!(
        placed > 0 && filled_total > 0,
        "no order was placed or filled: the checks of orders are empty\n{}",
        dump()
    );
    let orders = placed;
    eprintln!(
        "workers: {} cycles, {orders} orders ({} sent), {} resumed from a checkpoint",
        published.values().sum::<usize>(),
        sent.len(),
        resumed.len()
    );
}

/// MongoDB goes away for longer than a job's deliveries last (the worker allows one): the
/// instrument is given back and taken again, its job never counted, so no job goes to the dead
/// letters; once MongoDB is back every published cycle is decided and stored, once each.
#[test]
fn a_store_outage_sends_no_job_to_the_dead_letters() {
    let Some(redis) = support::redis_url() else {
        return;
    };
    let Some(mut mongo) = support::private::PrivateMongo::start() else {
        return;
    };
    let redis = redis_db(&redis, 5);
    let rt = runtime();
    let dir = support::temp_dir("workers-outage");
    let database = support::unique("workers-outage");
    let symbol = "OUTAGEUSDT".to_owned();
    configure(
        &dir,
        &mongo.uri(),
        &database,
        &[("o1".into(), symbol.clone())],
        60.0,
    );
    let env = env(&redis, &[]);
    let mut worker = Bot::spawn(
        &dir,
        &[
            "worker",
            "--name",
            "outage-1",
            "--concurrency",
            "1",
            "--max-deliveries",
            "1",
        ],
        &env,
    );
    let feed = ingest(&dir, "o1", &env);
    worker.wait_until("three cycles decided", Duration::from_secs(90), |w| {
        support::cycles(&w.stdout(), &symbol).len() >= 3
    });
    mongo.stop();
    // Away past what two deliveries take (a save that fails within 5 s, the lease running
    // out after 10 s, the slot's wait of 12 s): were they counted, the job at the head of the
    // queue would be set aside by then.
    std::thread::sleep(Duration::from_secs(40));
    mongo.resume();
    std::thread::sleep(Duration::from_secs(5));
    feed.terminate();
    let (_, published) = published_by(feed.wait_exit(Duration::from_secs(60)));
    let symbols = [symbol.clone()];
    drained(&rt, &redis, &symbols, Duration::from_secs(180));
    let worked = worker.stop_cleanly();
    let dead = dead_lettered(&rt, &redis, &symbols);
    assert!(
        dead.is_empty(),
        "jobs set aside: {dead:?}\n{}",
        worked.dump()
    );
    assert!(
        worked
            .stderr
            .iter()
            .any(|l| l.contains("not counted as delivered")),
        "the outage was not seen\n{}",
        worked.dump()
    );
    // Printed at most once each, in order (a cycle whose save landed as the store came back
    // is not run again, so not printed); stored once each, every one.
    let printed: Vec<Timestamp> = support::cycles(&worked.stdout, &symbol)
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert!(
        printed.windows(2).all(|w| w[0] < w[1]) && printed.len() <= published,
        "{}",
        worked.dump()
    );
    let client = rt
        .block_on(mongodb::Client::with_uri_str(mongo.uri()))
        .unwrap();
    let stored = rt.block_on(decisions(&client.database(&database), &symbol));
    let seqs: Vec<i64> = stored.iter().map(|(_, seq)| *seq).collect();
    let want: Vec<i64> = (1..=i64::try_from(published).unwrap()).collect();
    assert_eq!(seqs, want, "{}", worked.dump());
}

#[test]
fn the_workers_are_listed_a_cycle_is_cancelled_and_a_stopped_worker_gives_back() {
    let Some((redis, mongodb)) = support::services() else {
        return;
    };
    let redis = redis_db(&redis, 13);
    let rt = runtime();
    // Models that take a second an answer: a cycle is in flight long enough to cancel it, and
    // short enough for a graceful stop to wait for.
    let desk = desk::Desk::start_slow(&rt, Timestamp::from_millis(0), Duration::from_secs(1), 15);
    let dir = support::temp_dir("workers-ops");
    let database = support::unique("workers-ops");
    let symbol = format!("OPS{}USDT", database[database.len() - 4..].to_uppercase());
    configure(
        &dir,
        &mongodb,
        &database,
        &[("ops".into(), symbol.clone())],
        60.0,
    );
    let env = env(&redis, &desk.env());
    let mut first = worker(&dir, "ops-a", 1, &env);
    let mut feed = ingest(&dir, "ops", &env);
    let address = service_address(&mut feed);
    first.wait_until("the instrument taken", Duration::from_secs(60), |w| {
        held(&w.stderr()).contains(&symbol)
    });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = Http(&rt, reqwest::Client::new());
    // The worker and its load.
    let mut listed = serde_json::Value::Null;
    for _ in 0..100 {
        listed = http.get(&format!("http://{address}/api/v1/workers")).1;
        if listed["workers"][0]["instruments"][0] == symbol.as_str() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(listed["workers"][0]["id"], "ops-a", "{listed}");
    assert_eq!(listed["workers"][0]["capacity"], 1, "{listed}");
    assert_eq!(
        listed["workers"][0]["instruments"][0],
        symbol.as_str(),
        "{listed}"
    );
    let metrics = http.text(&format!("http://{address}/metrics"));
    assert!(
        metrics.contains("tradegraph_worker_capacity{worker=\"ops-a\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("tradegraph_workers_alive 1"), "{metrics}");
    // `tradegraph bot status` (the containers' health check) reads the ingest's status.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(["bot", "status", "--url", &format!("http://{address}")])
        .env_clear()
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{printed}");
    assert!(
        printed.contains(&format!("instrument    {symbol}")),
        "{printed}"
    );
    assert!(printed.contains("role          ingest"), "{printed}");
    // Cancelling needs the token; with it, the cycle in flight stops.
    let url = format!("http://{address}/api/v1/cycle/cancel");
    assert_eq!(http.post(&url, None).0, 401);
    first.wait_until("a model asked", Duration::from_secs(60), |_| {
        desk.answered.load(std::sync::atomic::Ordering::Relaxed) > 0
            || desk.last_asked.lock().unwrap().is_some()
    });
    // A request that lands between two cycles cancels nothing (the worker says so): asked
    // again until one lands in a cycle.
    let cancelled = |w: &Bot| {
        let log = w.stderr();
        log.iter()
            .any(|l| l.contains("decision cycle in flight was cancelled on request"))
            && log
                .iter()
                .any(|l| l.contains("decision cycle failed") && l.contains("cancel"))
    };
    for _ in 0..10 {
        let (status, answer) = http.post(&url, Some(TOKEN));
        assert_eq!(status, 202, "{answer}");
        assert!(answer["heard_by"].as_u64().unwrap() >= 1, "{answer}");
        let asked = Instant::now();
        while !cancelled(&first) && asked.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(Duration::from_millis(50));
        }
        if cancelled(&first) {
            break;
        }
    }
    first.wait_until("the cycle cancelled", Duration::from_secs(30), |w| {
        cancelled(w)
    });
    // A second worker waits; SIGTERM makes the first give the instrument back at once.
    let mut second = worker(&dir, "ops-b", 1, &env);
    let stopped = first.stop_cleanly();
    assert!(
        stopped
            .stderr
            .iter()
            .any(|l| l.contains("worker: instrument given back")),
        "{}",
        stopped.dump()
    );
    let client = redis::Client::open(redis.as_str()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let holder: Option<String> = redis::cmd("GET")
        .arg(format!("queue:cycles:{{{symbol}}}:lease"))
        .query(&mut conn)
        .unwrap();
    assert!(
        holder.as_deref().is_none_or(|h| h.starts_with("ops-b/")),
        "the lease is still {holder:?} after the first worker stopped"
    );
    second.wait_until("the instrument taken over", Duration::from_secs(60), |w| {
        held(&w.stderr()).contains(&symbol)
    });
    // Once its beats stop counting, the first worker's gauges are zero: sums over the workers
    // count the ones there.
    let gone = [
        "tradegraph_worker_instruments{worker=\"ops-a\"} 0",
        "tradegraph_worker_capacity{worker=\"ops-a\"} 0",
        "tradegraph_worker_jobs_done{worker=\"ops-a\"} 0",
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut metrics = http.text(&format!("http://{address}/metrics"));
    while !gone.iter().all(|line| metrics.lines().any(|l| l == *line)) {
        assert!(Instant::now() < deadline, "{metrics}");
        std::thread::sleep(Duration::from_millis(250));
        metrics = http.text(&format!("http://{address}/metrics"));
    }
    feed.terminate();
    let fed = feed.wait_exit(Duration::from_secs(30));
    assert_eq!(fed.status.code(), Some(0), "{}", fed.dump());
    let _ = second.stop_cleanly();
}

/// A job no worker of this version can read (another version's, during a rolling upgrade) is
/// set aside in the instrument's dead letters with its payload, not deleted: a worker that can
/// read it finds it there.
#[test]
fn an_unreadable_job_is_set_aside_not_deleted() {
    let Some((redis, mongodb)) = support::services() else {
        return;
    };
    let redis = redis_db(&redis, 14);
    let rt = runtime();
    let dir = support::temp_dir("workers-unreadable");
    let database = support::unique("workers-unreadable");
    let symbol = format!("UNR{}USDT", database[database.len() - 4..].to_uppercase());
    configure(
        &dir,
        &mongodb,
        &database,
        &[("unr".into(), symbol.clone())],
        60.0,
    );
    let queue = {
        let _inside = rt.enter();
        RedisRunQueue::connect(RedisConfig::new(&redis), QueueConfig::default()).unwrap()
    };
    let instrument = Symbol::new(&symbol);
    let payload = br#"{"format":99,"instrument":"elsewhere"}"#;
    rt.block_on(queue.publish(&instrument, payload)).unwrap();
    let mut worker = worker(&dir, "unreadable-1", 1, &env(&redis, &[]));
    worker.wait_until("the unreadable job handled", Duration::from_secs(60), |w| {
        w.stderr().iter().any(|l| l.contains("an unreadable job"))
    });
    let dead = rt.block_on(queue.dead_letters(&instrument)).unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].job.payload, payload);
    assert_eq!(rt.block_on(queue.pending(&instrument)).unwrap(), 0);
    worker.stop_cleanly();
}

/// A webhook receiver on loopback: what each path received (the alert bodies, `format = "json"`).
type Hooked = std::sync::Arc<std::sync::Mutex<Vec<(String, serde_json::Value)>>>;

fn alert_receiver(rt: &tokio::runtime::Runtime) -> (String, Hooked) {
    let got: Hooked = std::sync::Arc::default();
    let kept = got.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, axum::Json(body): axum::Json<serde_json::Value>| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push((uri.path().to_owned(), body));
                axum::http::StatusCode::OK
            }
        },
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move { axum::serve(listener, app).await });
    (base, got)
}

/// The kinds of the alerts `path` received.
fn kinds_at(got: &Hooked, path: &str) -> BTreeSet<String> {
    got.lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| p == path)
        .filter_map(|(_, body)| body["kind"].as_str().map(str::to_owned))
        .collect()
}

/// `run --workers redis` and `tradegraph worker` deliver alerts as the bot alone does: the
/// ingesting process its own (the feed, the stores, the process), each worker those of the
/// instruments it holds (the engine's equity and trades, the guard, the models), to the
/// configured webhooks.
#[test]
fn the_ingesting_process_and_the_workers_deliver_alerts_to_the_webhooks() {
    let Some((redis, mongodb)) = support::services() else {
        return;
    };
    let redis = redis_db(&redis, 10);
    let rt = runtime();
    let (hook, got) = alert_receiver(&rt);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = support::temp_dir("workers-alerts");
    std::fs::create_dir_all(dir.join("examples/data")).unwrap();
    std::fs::copy(
        root.join("examples/data/btcusdt-1m.csv"),
        dir.join("examples/data/btcusdt-1m.csv"),
    )
    .unwrap();
    let database = support::unique("workers-alerts");
    // Any process is above 1 MB; the replay's trades take equity below its peak.
    std::fs::write(
        dir.join("tradegraph.toml"),
        format!(
            "[stores]\nmongodb_uri = \"{mongodb}\"\ndatabase = \"{database}\"\n\n\
             [alerts]\nsample_secs = 1\nmax_memory_mb = 1\nmax_drawdown_pct = 0.0001\n\n\
             [[alerts.webhook]]\nurl_env = \"ALERT_HOOK\"\nformat = \"json\"\n"
        ),
    )
    .unwrap();
    let with_hook = |path: &str| {
        let mut env = env(&redis, &[]);
        env.push(("ALERT_HOOK", format!("{hook}{path}")));
        env
    };
    let mut worker = Bot::spawn(
        &dir,
        &["worker", "--name", "alerts-1", "--keep-idle-secs", "120"],
        &with_hook("/worker"),
    );
    let fed = ingest(&dir, "btc", &with_hook("/ingest")).wait_exit(Duration::from_secs(300));
    assert_eq!(fed.status.code(), Some(0), "{}", fed.dump());
    assert!(
        kinds_at(&got, "/ingest").contains("memory"),
        "{got:?}\n{}",
        fed.dump()
    );
    worker.wait_until(
        "the worker's alerts delivered",
        Duration::from_secs(180),
        |_| {
            let kinds = kinds_at(&got, "/worker");
            kinds.contains("memory") && kinds.contains("drawdown")
        },
    );
    let worked = worker.stop_cleanly();
    // about the instrument the worker held
    for (path, body) in got.lock().unwrap().iter() {
        assert_eq!(body["instrument"], "BTCUSDT", "{path}: {body}");
    }
    drop(worked);
}

/// The ingesting process's feed state, as its alerts read it: data after a disconnection is the
/// feed delivering again (the `feed_stale` alert the disconnection raised then recovers), as
/// the engine takes it.
#[test]
fn the_ingest_says_the_feed_is_back_when_data_comes_after_a_disconnection() {
    use tradegraph::engine::{BotEvent, FeedState};
    use tradegraph::workers::Ingest;
    use tradegraph_core::{Decimal, Instrument, Tick, Timeframe};
    use tradegraph_market::{FeedNotice, MarketEvent};
    let Some((redis, _)) = support::services() else {
        return;
    };
    let redis = redis_db(&redis, 9);
    let rt = runtime();
    rt.block_on(async {
        let queue = std::sync::Arc::new(
            RedisRunQueue::connect(RedisConfig::new(redis), QueueConfig::default()).unwrap(),
        );
        let instrument = Instrument::btc_usdt();
        let symbol = instrument.symbol.clone();
        let now = tradegraph_core::Timestamp::from_millis(1_733_097_600_000);
        let tick = |ms: i64| MarketEvent::Tick {
            symbol: symbol.clone(),
            tick: Tick::new(now.add_millis(ms), Decimal::from(95_000), Decimal::ONE),
        };
        let notice = |notice: FeedNotice| MarketEvent::Notice {
            feed: "binance".into(),
            ts: now,
            notice,
        };
        let events = vec![
            tick(0),
            notice(FeedNotice::Disconnected {
                reason: "closed".into(),
            }),
            tick(1_000),
        ];
        let (tx, mut rx) = tokio::sync::broadcast::channel(16);
        let ingest = Ingest::new(
            futures::stream::iter(events),
            queue,
            instrument,
            "btc",
            Timeframe::M15,
            tradegraph_store::Stores::memory(),
        )
        .events(tx);
        ingest.run(std::future::pending()).await.unwrap();
        let mut states = Vec::new();
        while let Ok(event) = rx.try_recv() {
            if let BotEvent::Feed { state, .. } = event {
                states.push(state);
            }
        }
        assert_eq!(
            states,
            [
                FeedState::Connected,
                FeedState::Disconnected,
                FeedState::Connected,
                FeedState::Ended
            ]
        );
    });
}

/// The ingesting process's `/readyz` (the compose deployment's readiness) is 503 while a
/// periodic check fails or the feed is down, naming them, and 200 once they are well again.
#[test]
fn the_ingests_readiness_names_a_failing_check_and_a_feed_that_is_down() {
    use tradegraph::engine::{Check, CheckId, CheckState};
    use tradegraph::service::{ApiToken, HealthBoard};
    use tradegraph::workers::{Ingest, IngestService};
    use tradegraph_core::{Decimal, Instrument, Tick, Timeframe};
    use tradegraph_market::{FeedNotice, MarketEvent};
    let Some((redis, _)) = support::services() else {
        return;
    };
    let redis = redis_db(&redis, 8);
    let rt = runtime();
    let _ = rustls::crypto::ring::default_provider().install_default();
    rt.block_on(async {
        let queue = std::sync::Arc::new(
            RedisRunQueue::connect(RedisConfig::new(redis), QueueConfig::default()).unwrap(),
        );
        let instrument = Instrument::btc_usdt();
        let symbol = instrument.symbol.clone();
        let now = tradegraph_core::Timestamp::from_millis(1_733_097_600_000);
        let (tx, rx) = tokio::sync::mpsc::channel::<MarketEvent>(4);
        let feed = Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|e| (e, rx))
        }));
        let ingest = Ingest::new(
            feed,
            queue.clone(),
            instrument,
            "btc",
            Timeframe::M15,
            tradegraph_store::Stores::memory(),
        );
        let board = HealthBoard::new();
        let service = IngestService::new(
            queue,
            symbol.clone(),
            ingest.status(),
            ApiToken::new("0123456789abcdef0123").unwrap(),
        )
        .with_health(board.clone())
        .router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(tradegraph::service::serve_router(
            listener,
            service,
            std::future::pending(),
        ));
        tokio::spawn(ingest.run(std::future::pending()));
        let http = reqwest::Client::new();
        let ready = || async {
            let answer = http
                .get(format!("http://{address}/readyz"))
                .send()
                .await
                .unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        };
        let tick = MarketEvent::Tick {
            symbol: symbol.clone(),
            tick: Tick::new(now, Decimal::from(95_000), Decimal::ONE),
        };
        tx.send(tick).await.unwrap();
        let mut answer = ready().await;
        for _ in 0..50 {
            if answer.0 == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            answer = ready().await;
        }
        assert_eq!(answer.0, 200, "{}", answer.1);
        let mongodb = CheckId::from_name("mongodb").unwrap();
        board.set(Check::new(
            mongodb,
            CheckState::Failing,
            "no answer from 127.0.0.1:1",
            now,
        ));
        let (code, body) = ready().await;
        assert_eq!(code, 503, "{body}");
        assert!(body.contains("mongodb: no answer"), "{body}");
        board.set(Check::new(mongodb, CheckState::Ok, "answers", now));
        tx.send(MarketEvent::Notice {
            feed: "binance".into(),
            ts: now,
            notice: FeedNotice::Disconnected {
                reason: "closed".into(),
            },
        })
        .await
        .unwrap();
        let mut answer = ready().await;
        for _ in 0..50 {
            if answer.0 == 503 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            answer = ready().await;
        }
        assert_eq!(answer.0, 503, "{}", answer.1);
        assert!(answer.1.contains("feed: disconnected"), "{}", answer.1);
    });
}

/// The models' day budget holds across the workers an instrument goes to: the day's calls made
/// on one worker count on the next (saved with the instrument's state, as a bot restarted the
/// same day carries them), instead of each open starting the day from nothing.
#[test]
fn the_models_day_budget_holds_across_the_workers_an_instrument_goes_to() {
    let Some((redis, mongodb)) = support::services() else {
        return;
    };
    let redis = redis_db(&redis, 7);
    let rt = runtime();
    let desk = desk::Desk::start(&rt, Timestamp::from_millis(0));
    let dir = support::temp_dir("workers-budget");
    let database = support::unique("workers-budget");
    let tag = &database[database.len() - 4..];
    let symbol = format!("B{}USDT", tag.to_uppercase());
    configure(
        &dir,
        &mongodb,
        &database,
        &[("b0".to_owned(), symbol.clone())],
        60.0,
    );
    let mut toml = std::fs::read_to_string(dir.join("tradegraph.toml")).unwrap();
    toml += "[llm.day_budget]\nmax_calls = 12\n";
    std::fs::write(dir.join("tradegraph.toml"), toml).unwrap();
    let env = env(&redis, &desk.env());
    let answered = || desk.answered.load(std::sync::atomic::Ordering::SeqCst);

    // The first worker spends the day's calls, then decides by rules.
    let mut first = worker(&dir, "budget-a", 1, &env);
    let feed = ingest(&dir, "b0", &env);
    first.wait_until("the day's calls spent", Duration::from_secs(120), |w| {
        answered() >= 12 && support::cycles(&w.stdout(), &symbol).len() >= 4
    });
    let first = first.stop_cleanly();
    let spent = answered();
    assert_eq!(
        spent,
        12,
        "the day's budget caps the calls: {}",
        first.dump()
    );

    // The next worker to take the instrument decides on: by rules, the day being spent.
    let mut second = worker(&dir, "budget-b", 1, &env);
    second.wait_until(
        "cycles on the second worker",
        Duration::from_secs(120),
        |w| support::cycles(&w.stdout(), &symbol).len() >= 3,
    );
    let second = second.stop_cleanly();
    feed.terminate();
    let _ = feed.wait_exit(Duration::from_secs(30));
    assert_eq!(
        answered(),
        spent,
        "the second worker asked the models again on a spent day\n{}",
        second.dump()
    );
}

/// A worker starts whatever the default instrument's live settings (BTC trading live in its
/// own process, the other instruments on workers): a live instrument is refused per job.
#[test]
fn a_worker_starts_beside_a_default_instrument_configured_live() {
    let Some((redis, _)) = support::services() else {
        return;
    };
    let redis = redis_db(&redis, 6);
    let dir = support::temp_dir("workers-live-default");
    std::fs::write(dir.join("tradegraph.toml"), "[bot]\nlive = true\n").unwrap();
    let mut env = env(&redis, &[]);
    env.push(("TRADEGRAPH_LIVE", "1".to_owned()));
    let mut w = worker(&dir, "live-default", 1, &env);
    w.wait_until("the worker's start", Duration::from_secs(60), |w| {
        w.stdout()
            .iter()
            .any(|l| l.starts_with("worker live-default: up to"))
    });
    let stopped = w.stop_cleanly();
    assert_eq!(stopped.status.code(), Some(0), "{}", stopped.dump());
}
