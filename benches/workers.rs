//! Decision cycles through the run queue on workers (issue 17's benchmarks, with the graph):
//! 48 instruments, 3 workers of 16 slots each (`--concurrency 16`), each worker a thread of its
//! own with the `tradegraph worker` loop ([`Worker`]) and the binary's allocator; every
//! instrument's engine runs the trading graph in rule mode with its state and the graph's
//! checkpoints in Redis (as `tradegraph worker` keeps them), decisions every minute, one closed
//! one-minute candle per job.
//!
//! 1. **Throughput**: once every instrument is held (one job each), 12,000 jobs are published
//!    as fast as one publisher can; cycles per second from the first publish to the last
//!    acknowledgement. Target: ≥ 2,000/s on this machine.
//! 2. **Added latency**: jobs published at a steady 120 a second (2.5 per instrument) for 5 s,
//!    each timed from its publishing to its hand-over to the instrument's engine (the
//!    `tradegraph_queue_wait_seconds` histogram the workers record, read exactly here). Target:
//!    p99 < 5 ms.
//!
//! Run: `scripts/services.sh start && cargo bench -p tradegraph --bench workers`
//! (`REDIS_URL` for another server).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs
)]

use async_trait::async_trait;
use rust_decimal::Decimal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tradegraph::engine::{BotConfig, Mode};
use tradegraph::workers::{
    CycleJob, Instruments, Opened, Worker, WorkerConfig, WorkerError, JOB_FORMAT,
};
use tradegraph_agents::node::Brain;
use tradegraph_agents::TradingState;
use tradegraph_core::{Candle, Instrument, Symbol, Timeframe, Timestamp};
use tradegraph_graph::Checkpointer;
use tradegraph_market::MarketEvent;
use tradegraph_store::queue::{QueueConfig, RunQueue, WorkerId};
use tradegraph_store::redis::{RedisCheckpointer, RedisConfig, RedisRunQueue};
use tradegraph_store::{Stores, StoresConfig};

/// The `tradegraph` binary's allocator, as `tradegraph worker` runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const INSTRUMENTS: usize = 48;
const WORKERS: usize = 3;
const SLOTS: u32 = 16;
const BACKLOG_PER_INSTRUMENT: usize = 250;
const PACED_PER_SECOND: u64 = 120;
const PACED_SECS: u64 = 5;
const TARGET_PER_SECOND: f64 = 2_000.0;
const TARGET_P99: Duration = Duration::from_millis(5);
const DRAIN_LIMIT: Duration = Duration::from_secs(300);

/// Data from 2024-03-04, one minute per job.
const START_MS: i64 = 1_709_510_400_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn wall_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

/// The bench's instruments: BTC/USDT's rules under other symbols.
fn instrument(i: usize, run: &str) -> Instrument {
    let mut instrument = Instrument::btc_usdt();
    instrument.symbol = Symbol::new(format!("WB{i}{run}USDT"));
    instrument
}

/// The job of minute `minute` of instrument `i`.
fn job(i: usize, run: &str, minute: i64) -> Vec<u8> {
    let symbol = instrument(i, run).symbol;
    let open = Timestamp::from_millis(START_MS + minute * 60_000);
    let price = Decimal::from(60_000 + (minute % 17) * 7 - (minute % 5) * 3);
    let mut candle = Candle::opening(open, Timeframe::M1, price, Decimal::ONE);
    candle.high = price + Decimal::from(5);
    candle.low = price - Decimal::from(5);
    CycleJob {
        format: JOB_FORMAT,
        instrument: format!("{i}"),
        symbol: symbol.clone(),
        events: vec![MarketEvent::Candle {
            symbol,
            candle,
            closed: true,
        }],
        at: open.add_millis(60_000),
        published_us: wall_us(),
        decision_every: Some(Timeframe::M1),
    }
    .encode()
    .unwrap()
}

/// Opens instrument `<i>` in rule mode with its state in Redis.
struct Bench {
    redis: String,
    run: String,
}

#[async_trait(?Send)]
impl Instruments for Bench {
    async fn open(&self, job: &CycleJob, _: &WorkerId) -> Result<Opened, WorkerError> {
        let i: usize = job.instrument.parse().unwrap();
        let mut config = BotConfig::new(
            instrument(i, &self.run),
            Brain::rules_only().unwrap(),
            Decimal::from(100_000),
            Mode::Service,
        );
        config.decision_every = Timeframe::M1;
        config.stores = Stores::connect(StoresConfig::new().redis(Some(self.redis.clone())))
            .await
            .map_err(|e| WorkerError::Open {
                instrument: job.instrument.clone(),
                reason: e.to_string(),
            })?;
        Ok(config.into())
    }
}

/// The queue waits the workers record, exactly (a recorder of this histogram alone).
#[derive(Default)]
struct Waits(Mutex<Vec<f64>>);

impl metrics::HistogramFn for Waits {
    fn record(&self, value: f64) {
        self.0.lock().unwrap().push(value);
    }
}

struct Recorder(Arc<Waits>);

impl metrics::Recorder for Recorder {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::noop()
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }
    fn register_histogram(
        &self,
        key: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        if key.name() == tradegraph::telemetry::names::workers::QUEUE_WAIT_SECONDS {
            metrics::Histogram::from_arc(self.0.clone())
        } else {
            metrics::Histogram::noop()
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:16379".into());
    let redis = format!("{}/14", redis.trim_end_matches('/'));
    {
        let client = redis::Client::open(redis.as_str()).unwrap();
        let mut conn = client.get_connection().unwrap_or_else(|e| {
            panic!("Redis at {redis}: {e}; start it with scripts/services.sh start")
        });
        redis::cmd("FLUSHDB").exec(&mut conn).unwrap();
    }
    let waits = Arc::new(Waits::default());
    metrics::set_global_recorder(Recorder(waits.clone())).unwrap();
    let run = format!("{:04}", std::process::id() % 10_000);
    let done = Arc::new(AtomicU64::new(0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut threads = Vec::new();
    for w in 0..WORKERS {
        let (redis, run, done) = (redis.clone(), run.clone(), done.clone());
        let mut stopped = stopped.clone();
        threads.push(std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let config = RedisConfig::new(redis.clone());
                let queue = Arc::new(
                    RedisRunQueue::connect(config.clone(), QueueConfig::default()).unwrap(),
                );
                let checkpoints: Arc<dyn Checkpointer<TradingState>> = Arc::new(
                    RedisCheckpointer::connect(config)
                        .await
                        .unwrap()
                        .keep_last(16),
                );
                let worker = Worker::new(
                    queue,
                    Arc::new(Bench { redis, run }),
                    checkpoints,
                    WorkerConfig::default()
                        .id(WorkerId::new(format!("bench-{w}")))
                        .concurrency(SLOTS)
                        .keep_idle(Duration::from_secs(600))
                        .idle_poll(Duration::from_millis(20)),
                )
                .on_cycle(Arc::new(move |_, _| {
                    done.fetch_add(1, Ordering::Relaxed);
                }));
                worker
                    .run(async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    })
                    .await
            })
        }));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let publisher = {
        let _inside = rt.enter();
        RedisRunQueue::connect(RedisConfig::new(redis.clone()), QueueConfig::default()).unwrap()
    };
    let publish = |i: usize, minute: i64| {
        let symbol = instrument(i, &run).symbol;
        rt.block_on(publisher.publish(&symbol, &job(i, &run, minute)))
            .unwrap();
    };
    let wait_done = |n: u64, what: &str| {
        let began = Instant::now();
        while done.load(Ordering::Relaxed) < n {
            assert!(
                began.elapsed() < DRAIN_LIMIT,
                "{what}: {} of {n} cycles done",
                done.load(Ordering::Relaxed)
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    // Every instrument taken, its engine started.
    for i in 0..INSTRUMENTS {
        publish(i, 0);
    }
    wait_done(INSTRUMENTS as u64, "warm-up");
    // 1. Throughput.
    let began = Instant::now();
    for minute in 1..=BACKLOG_PER_INSTRUMENT as i64 {
        for i in 0..INSTRUMENTS {
            publish(i, minute);
        }
    }
    let total = (INSTRUMENTS * (BACKLOG_PER_INSTRUMENT + 1)) as u64;
    wait_done(total, "throughput");
    let took = began.elapsed();
    let per_second = (INSTRUMENTS * BACKLOG_PER_INSTRUMENT) as f64 / took.as_secs_f64();
    println!(
        "workers/throughput: {} cycles of the graph (rule mode) on {WORKERS} workers x {SLOTS} slots over {INSTRUMENTS} instruments in {:.2} s: {per_second:.0} cycles/s (target >= {TARGET_PER_SECOND:.0}/s) {}",
        INSTRUMENTS * BACKLOG_PER_INSTRUMENT,
        took.as_secs_f64(),
        if per_second >= TARGET_PER_SECOND { "MET" } else { "MISSED" }
    );
    // 2. Added latency, at a steady rate.
    waits.0.lock().unwrap().clear();
    let every = Duration::from_secs_f64(1.0 / PACED_PER_SECOND as f64);
    let mut minute = BACKLOG_PER_INSTRUMENT as i64 + 1;
    let paced = Instant::now();
    let mut sent = 0_u64;
    while paced.elapsed() < Duration::from_secs(PACED_SECS) {
        let i = (sent as usize) % INSTRUMENTS;
        publish(i, minute);
        sent += 1;
        if i == INSTRUMENTS - 1 {
            minute += 1;
        }
        let next = paced + every.mul_f64(sent as f64);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    wait_done(total + sent, "paced");
    let mut waited = waits.0.lock().unwrap().clone();
    waited.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&waited, 0.5) * 1e3,
        percentile(&waited, 0.99) * 1e3,
        waited.last().copied().unwrap_or(0.0) * 1e3,
    );
    println!(
        "workers/added_latency: {} jobs at {PACED_PER_SECOND}/s, publish to the engine: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms (target p99 < {} ms) {}",
        waited.len(),
        TARGET_P99.as_millis(),
        if p99 < TARGET_P99.as_secs_f64() * 1e3 { "MET" } else { "MISSED" }
    );
    stop.send_replace(true);
    for thread in threads {
        let _ = thread.join().unwrap();
    }
}
