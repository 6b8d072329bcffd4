//! Tick to the Redis hot cache on loopback: a sustained 10,000 ticks a second, delivered as a feed
//! does (the ticks of each millisecond together). Each tick is timed from the moment the feed
//! hands it to `put_tick` until Redis has acknowledged the write that carries it: "tick to
//! cache". Also printed: one tick at a time, each waiting for Redis (`put_tick` then `flush`).
//!
//! Run: `scripts/services.sh start && cargo bench -p tradegraph-store --features redis --bench hot_cache`
//! (`REDIS_URL` for another server, `TG_BENCH_SECS` to change the 10-second run). The p99 is
//! printed beside its target: < 2 ms (the specification asks < 100 ms from exchange to cache).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tradegraph_core::{Decimal, Symbol, Tick, Timestamp};
use tradegraph_store::redis::{RedisConfig, RedisHotCache};
use tradegraph_store::HotCache;

const RATE: u64 = 10_000;
const TARGET_P99: Duration = Duration::from_millis(2);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn tick(base: Timestamp, i: u64) -> Tick {
    let price = Decimal::new(4_500_000 + (i % 1_000) as i64, 2);
    let mut t = Tick::new(base.add_millis(i as i64 / 10), price, Decimal::new(15, 3));
    (t.bid, t.ask) = (
        Some(price - Decimal::new(1, 2)),
        Some(price + Decimal::new(1, 2)),
    );
    t
}

fn main() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:16379".into());
    let secs: u64 = std::env::var("TG_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cache = Arc::new(
            RedisHotCache::connect(RedisConfig::new(url.clone()))
                .await
                .unwrap(),
        );
        if cache.ping().await.is_err() {
            println!(
                "hot_cache: skipped, Redis is not reachable at {url} (scripts/services.sh start)"
            );
            return;
        }
        let btc = Symbol::new(format!("BENCH{}", std::process::id()));
        let base = Timestamp::from_secs(1_704_103_200);

        // One tick at a time, each waiting for Redis: the round trip alone.
        for i in 0..2_000 {
            cache.put_tick(&btc, &tick(base, i)).await.unwrap();
            cache.flush().await.unwrap();
        }
        let t0 = Instant::now();
        for i in 0..10_000 {
            cache.put_tick(&btc, &tick(base, i)).await.unwrap();
            cache.flush().await.unwrap();
        }
        let round_trip = t0.elapsed() / 10_000;

        // The paced run, as a feed delivers: every millisecond, the ticks of that millisecond
        // (10), each timed from the moment the feed hands it over until Redis has acknowledged
        // it. The feed never waits; one observer matches acknowledgements to ticks.
        let n = RATE * secs;
        let per_ms = RATE / 1_000;
        let sent: Arc<Mutex<VecDeque<(u64, Instant)>>> = Arc::default();
        let observer = {
            let (sent, mut acked) = (sent.clone(), cache.acknowledged());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(n as usize);
                while latencies.len() < n as usize && acked.changed().await.is_ok() {
                    let upto = *acked.borrow_and_update();
                    let now = Instant::now();
                    let mut sent = sent.lock().unwrap();
                    while sent.front().is_some_and(|&(seq, _)| seq <= upto) {
                        let (_, at) = sent.pop_front().unwrap();
                        latencies.push(now - at);
                    }
                }
                latencies
            })
        };
        let mut clock = tokio::time::interval(Duration::from_millis(1));
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        clock.tick().await;
        let start = Instant::now();
        for ms in 0..n / per_ms {
            clock.tick().await;
            for j in 0..per_ms {
                let at = Instant::now();
                cache
                    .put_tick(&btc, &tick(base, ms * per_ms + j))
                    .await
                    .unwrap();
                sent.lock().unwrap().push_back((cache.recorded(), at));
            }
        }
        let mut latencies = observer.await.unwrap();
        let elapsed = start.elapsed();
        assert!(cache.is_available(), "Redis went away during the run");
        latencies.sort();
        let p99 = percentile(&latencies, 0.99);
        println!("tick -> Redis hot cache, loopback ({url})");
        println!("  one tick at a time, waiting for each: {round_trip:?} per tick");
        println!(
            "  {n} ticks at {RATE}/s for {secs} s: achieved {:.0} ticks/s",
            n as f64 / elapsed.as_secs_f64()
        );
        println!(
            "  handed over -> acknowledged by Redis: p50 {:?}, p90 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.90),
            p99,
            percentile(&latencies, 0.999),
            latencies[latencies.len() - 1],
        );
        println!(
            "  p99 {p99:?} (target < {TARGET_P99:?}): {}",
            if p99 < TARGET_P99 { "met" } else { "MISSED" }
        );
    });
}
