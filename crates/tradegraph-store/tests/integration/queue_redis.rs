//! Issue 17: the run queue on Redis Streams passes the queue suite on one Redis and on the
//! 3-master Redis Cluster (scripts/services.sh start).
#![cfg(all(feature = "conformance", feature = "redis"))]

use crate::support::{redis_cluster_url, redis_url, unique};
use std::time::Duration;
use tradegraph_core::Symbol;
use tradegraph_store::queue::{conformance, Next, QueueConfig, RunQueue, WorkerId};
use tradegraph_store::redis::{RedisConfig, RedisRunQueue};
use tradegraph_store::{Alerts, StoreEvent};

fn open(url: &str, prefix: &str, config: QueueConfig) -> RedisRunQueue {
    RedisRunQueue::connect(RedisConfig::new(url).key_prefix(prefix), config).unwrap()
}

/// The suite on `url`, each check on a queue of its own under a prefix of this run.
async fn suite(url: &str) {
    let prefix = format!("{}:", unique("queue"));
    conformance::run_all(|config| {
        let queue = open(url, &prefix, config);
        async move { queue }
    })
    .await;
}

#[tokio::test]
async fn the_redis_queue_passes_the_suite() {
    let Some(url) = redis_url() else { return };
    suite(&url).await;
}

#[tokio::test]
async fn the_redis_queue_passes_the_suite_on_a_cluster() {
    let Some(url) = redis_cluster_url() else {
        return;
    };
    suite(&url).await;
}

#[tokio::test]
async fn a_dead_letter_raises_an_event() {
    let Some(url) = redis_url() else { return };
    let alerts = Alerts::new();
    let mut events = alerts.subscribe();
    let queue = RedisRunQueue::connect(
        RedisConfig::new(url)
            .key_prefix(format!("{}:", unique("dead")))
            .alerts(alerts),
        conformance::config().max_deliveries(1),
    )
    .unwrap();
    let btc = Symbol::new("BTCUSDT");
    let id = queue.publish(&btc, b"poison").await.unwrap();
    let worker = WorkerId::new("w");
    let lease = queue.acquire(&worker).await.unwrap().unwrap();
    assert!(matches!(
        queue.next(&lease, Duration::ZERO).await.unwrap(),
        Next::Job(_)
    ));
    // The worker dies on it: its lease runs out.
    tokio::time::sleep(conformance::LEASE + Duration::from_millis(150)).await;
    let lease = queue.acquire(&worker).await.unwrap().unwrap();
    assert_eq!(
        queue.next(&lease, Duration::ZERO).await.unwrap(),
        Next::Idle
    );
    assert_eq!(
        events.try_recv().unwrap(),
        StoreEvent::DeadLettered {
            backend: "redis",
            instrument: "BTCUSDT".into(),
            job: id.to_string(),
            deliveries: 2
        }
    );
}
