//! The bot as a service: how fast a decision reaches an event-stream client, and how many
//! `GET /api/v1/status` requests the service answers while the bot trades.
//!
//! The bot runs as `tradegraph run` runs it: the engine, the event hub and the HTTP service on
//! one single-threaded runtime on its own thread, on a local feed of trades (one-minute
//! decisions, rule-mode agents, the portfolio manager answering BUY and CLOSE in turn through
//! the model path so that cycles send orders), paced at 25 ms of wall time per market minute.
//! The clients run on another thread, over loopback HTTP.
//!
//! 1. **Decision -> event-stream client**: a client on `GET /api/v1/events?types=decision`;
//!    measured from the moment the trade that closes a minute leaves the feed (the cycle runs on
//!    it) to the moment the client has read the `decision` event. Target: p99 < 100 ms (the
//!    specification: the dashboard within 2 s).
//! 2. **Status requests per second while the bot trades**: 8 keep-alive clients asking
//!    `GET /api/v1/status` for 3 s. Target: >= 5,000/s.
//!
//! Run: `cargo bench -p tradegraph --bench service`.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs
)]

use async_trait::async_trait;
use futures::StreamExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tradegraph::engine::{paper_broker, BotConfig, Engine, Mode};
use tradegraph::service::{ApiToken, EventHub, Service};
use tradegraph_agents::model::{ModelAnswer, ModelFailure, ReportModel};
use tradegraph_agents::node::Brain;
use tradegraph_agents::prompt::RenderedPrompt;
use tradegraph_agents::AgentName;
use tradegraph_core::{Decimal, Instrument, Side, Timeframe, Timestamp, Trade};
use tradegraph_market::{MarketEvent, SimulatedClock};

const TARGET_P99: Duration = Duration::from_millis(100);
const TARGET_RPS: f64 = 5_000.0;
const MINUTES: i64 = 400;
const TRADES_PER_MINUTE: i64 = 4;
const PACE: Duration = Duration::from_millis(25);
const CLIENTS: usize = 8;
const HAMMER: Duration = Duration::from_secs(3);

/// BUY, CLOSE, BUY, CLOSE, ...
#[derive(Debug, Default)]
struct Alternate(AtomicUsize);

#[async_trait]
impl ReportModel for Alternate {
    async fn answer(
        &self,
        prompt: &RenderedPrompt,
        _: &serde_json::Value,
    ) -> Result<ModelAnswer, ModelFailure> {
        if prompt.agent != AgentName::PortfolioManager {
            return Err(ModelFailure("rule mode".into()));
        }
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        let action = if n.is_multiple_of(2) { "BUY" } else { "CLOSE" };
        Ok(ModelAnswer::new(
            serde_json::json!({"action": action, "size_pct": 2.0, "stop_loss": null,
                "take_profit": null, "trailing_pct": null, "confidence": 0.8, "rationale": "bench"}),
            "bench",
            "alternate",
        ))
    }
}

/// When the trade that closed the latest minute left the feed.
type Closed = Arc<Mutex<Option<Instant>>>;

/// The bot and its service on one single-threaded runtime; returns its address once it
/// listens.
fn start_bot(closed: Closed, done: Arc<AtomicBool>) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let instrument = Instrument::btc_usdt();
            let start: Timestamp = "2024-03-04T00:00:00Z".parse().unwrap();
            let clock = SimulatedClock::new(start);
            let feed_clock = clock.clone();
            let symbol = instrument.symbol.clone();
            let feed = futures::stream::iter(0..MINUTES * TRADES_PER_MINUTE)
                .then(move |i| {
                    let (clock, symbol, closed) =
                        (feed_clock.clone(), symbol.clone(), closed.clone());
                    async move {
                        if i % TRADES_PER_MINUTE == 0 {
                            tokio::time::sleep(PACE).await;
                        }
                        let ts = start.add_millis(i * 60_000 / TRADES_PER_MINUTE);
                        let price = 42_000.0 + ((i % 9) - 4) as f64 * 0.5;
                        clock.advance_to(ts);
                        if i % TRADES_PER_MINUTE == 0 {
                            *closed.lock().unwrap() = Some(Instant::now());
                        }
                        MarketEvent::Trade {
                            symbol,
                            trade: Trade {
                                ts,
                                price: Decimal::from_f64_retain(price).unwrap().round_dp(2),
                                quantity: Decimal::new(1, 2),
                                aggressor: if i % 2 == 0 { Side::Buy } else { Side::Sell },
                                trade_id: u64::try_from(i + 1).unwrap(),
                                first_trade_id: None,
                                last_trade_id: None,
                            },
                        }
                    }
                })
                .boxed();
            let cash = tradegraph::config::default_cash(instrument.currency);
            let brain = Brain::rules_only()
                .unwrap()
                .with_model(Arc::new(Alternate::default()));
            let mut config = BotConfig::new(instrument.clone(), brain, cash, Mode::Service);
            config.decision_every = Timeframe::M1;
            let hub = EventHub::start(2_048);
            config.events = Some(hub.sender());
            let broker = paper_broker(&config).unwrap();
            let stores = config.stores.clone();
            let engine = Engine::start(config, clock, feed, broker).await.unwrap();
            let (token, _) = ApiToken::generate();
            let service = Service::new(engine.handle(), stores, instrument, token, hub.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            tokio::spawn(service.serve(listener, std::future::pending()));
            let summary = Box::pin(engine.run(std::future::pending(), |_| {}))
                .await
                .unwrap();
            done.store(true, Ordering::SeqCst);
            hub.close();
            println!(
                "(the bot ran {} cycles, {} orders)",
                summary.cycles, summary.orders
            );
        });
    });
    rx.recv().unwrap()
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let closed: Closed = Arc::new(Mutex::new(None));
    let done = Arc::new(AtomicBool::new(false));
    let address = start_bot(closed.clone(), done.clone());
    let base = format!("http://{address}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    runtime.block_on(async {
        // 1. decision -> event-stream client, for the first half of the run.
        let mut stream = http
            .get(format!("{base}/api/v1/events?types=decision"))
            .send()
            .await
            .unwrap();
        let mut latencies = Vec::new();
        let mut buffer = String::new();
        while latencies.len() < (MINUTES as usize) / 2 {
            let Some(chunk) = stream.chunk().await.unwrap() else { break };
            let read = Instant::now();
            buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                if frame.contains("event: decision") {
                    if let Some(left) = *closed.lock().unwrap() {
                        latencies.push(read - left);
                    }
                }
            }
        }
        drop(stream);
        latencies.sort();
        let p99 = percentile(&latencies, 0.99);
        println!(
            "decision -> event-stream client (loopback SSE, {} decisions): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 < {} ms: {})",
            latencies.len(),
            ms(percentile(&latencies, 0.50)),
            ms(p99),
            ms(*latencies.last().unwrap()),
            TARGET_P99.as_millis(),
            if p99 < TARGET_P99 { "met" } else { "MISSED" },
        );

        // 2. status requests per second while the bot trades.
        let answered = Arc::new(AtomicU64::new(0));
        let until = Instant::now() + HAMMER;
        let started = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (http, url, answered) = (http.clone(), format!("{base}/api/v1/status"), answered.clone());
                tokio::spawn(async move {
                    while Instant::now() < until {
                        let response = http.get(&url).send().await.unwrap();
                        assert!(response.status().is_success());
                        let _ = response.bytes().await.unwrap();
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        let elapsed = started.elapsed().as_secs_f64();
        let rps = answered.load(Ordering::Relaxed) as f64 / elapsed;
        let trading = !done.load(Ordering::SeqCst);
        println!(
            "GET /api/v1/status while the bot trades ({CLIENTS} keep-alive clients, {elapsed:.1} s{}): {rps:.0} requests/s (target >= {TARGET_RPS:.0}/s: {})",
            if trading { "" } else { "; the feed had ended" },
            if rps >= TARGET_RPS { "met" } else { "MISSED" },
        );
    });
}
