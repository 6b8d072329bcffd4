//! Cancelling a worker's cycle in flight over Redis pub/sub.

use super::{run, RedisRunQueue};
use crate::queue::CancelChannel;
use crate::StoreError;
use async_trait::async_trait;
use std::time::Duration;
use tradegraph_core::Symbol;

/// Cancellation requests on the pub/sub channel `queue:<name>:{meta}:cancel`. On a cluster, a
/// message published on any node reaches the subscribers of every node; the listener
/// subscribes on one node and moves to the next when it loses it.
#[async_trait]
impl CancelChannel for RedisRunQueue {
    async fn cancel(&self, instrument: &Symbol) -> Result<u64, StoreError> {
        let channel = self.inner.keys.queue_cancel(self.group());
        let mut conn = self.inner.conn.clone();
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(channel).arg(instrument.as_str());
        run(
            "queue cancel",
            self.timeout(),
            publish.query_async::<u64>(&mut conn),
        )
        .await
    }

    async fn cancellations(&self) -> Result<tokio::sync::mpsc::Receiver<Symbol>, StoreError> {
        let nodes =
            match super::super::Topology::of(&self.inner.redis.url, self.inner.redis.cluster) {
                super::super::Topology::Single(url) => vec![url],
                super::super::Topology::Cluster(nodes) => nodes,
            };
        let clients = nodes
            .iter()
            .map(|url| {
                redis::Client::open(url.as_str()).map_err(|e| {
                    StoreError::Config(format!("REDIS_URL `{}`: {e}", super::super::redact(url)))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let channel = self.inner.keys.queue_cancel(self.group());
        let timeout = self.timeout();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(listen(clients, channel, timeout, tx));
        Ok(rx)
    }
}

/// Subscribes to `channel` on one of `clients` and forwards each message's symbol to `tx`,
/// until `tx`'s receiver is dropped; a lost subscription is made again on the next node,
/// after the core backoff.
async fn listen(
    clients: Vec<redis::Client>,
    channel: String,
    timeout: Duration,
    tx: tokio::sync::mpsc::Sender<Symbol>,
) {
    use futures::StreamExt;
    let mut attempts = tradegraph_core::backoff::Attempts::new(
        tradegraph_core::backoff::Backoff::new(Duration::from_millis(100), Duration::from_secs(5)),
    );
    for client in clients.iter().cycle() {
        let subscribed = tokio::time::timeout(timeout, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match subscribed {
            Ok(Ok(mut pubsub)) => {
                attempts.healthy();
                let mut messages = pubsub.on_message();
                loop {
                    tokio::select! {
                        () = tx.closed() => return,
                        message = messages.next() => match message {
                            Some(message) => match message.get_payload::<String>() {
                                Ok(symbol) => {
                                    if tx.send(Symbol::new(symbol)).await.is_err() {
                                        return;
                                    }
                                }
                                Err(e) => tracing::warn!(error = %e, "queue: a cancellation that is not a symbol, ignored"),
                            },
                            None => break,
                        },
                    }
                }
                tracing::warn!("queue: the cancellation channel was lost; subscribing again");
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "queue: cannot subscribe to cancellations; retrying")
            }
            Err(_) => tracing::warn!(
                ?timeout,
                "queue: subscribing to cancellations timed out; retrying"
            ),
        }
        if tx.is_closed() {
            return;
        }
        let (_, delay) = attempts.failed();
        tokio::select! {
            () = tx.closed() => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}
