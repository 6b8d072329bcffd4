//! Where alerts go: each [`Sink`] behind its own bounded queue and task ([`SinkQueue`]), so a
//! slow or failing one never blocks the bot or the others.

mod events;
mod log;
mod store;
pub mod webhook;

pub use events::EventSink;
pub use log::LogSink;
pub use store::{alert_of_record, StoreSink};
pub use webhook::WebhookSink;

use super::AlertError;
use crate::engine::{AlertEvent, Severity};
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Alerts a sink's queue holds; more are dropped (and logged) until it catches up.
pub const QUEUE: usize = 256;

/// One destination of alerts.
#[async_trait]
pub trait Sink: Send + Sync + 'static {
    /// Its name, for the log (`log`, `events`, `store`, `webhook 1 (slack)`); never a URL.
    fn name(&self) -> String;

    /// Delivers one alert (retrying as it sees fit).
    async fn deliver(&self, alert: &AlertEvent) -> Result<(), AlertError>;
}

/// What a sink's queue carries: an alert, or a marker answered once everything queued
/// before it is delivered.
#[derive(Debug)]
enum Item {
    Alert(AlertEvent),
    Flush(oneshot::Sender<()>),
}

/// A sink behind a bounded queue, delivering on a task of its own. Critical alerts (the
/// engine stopped, a store down, a limit hit) have a lane of their own and go first: ahead of
/// those queued, and ahead of the rest of a delivery in progress (a webhook retrying or
/// hanging), which goes on after them.
#[derive(Debug)]
pub struct SinkQueue {
    name: String,
    tx: mpsc::Sender<Item>,
    critical: mpsc::Sender<AlertEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl SinkQueue {
    /// Starts `sink`'s task. Must be called inside a tokio runtime.
    pub fn start(sink: Arc<dyn Sink>) -> Self {
        let (tx, mut rx) = mpsc::channel::<Item>(QUEUE);
        let (critical, mut first) = mpsc::channel::<AlertEvent>(QUEUE);
        let name = sink.name();
        let task = tokio::spawn(async move {
            let deliver = |alert: AlertEvent| {
                let sink = sink.clone();
                async move {
                    if let Err(e) = sink.deliver(&alert).await {
                        tracing::warn!(sink = %sink.name(), key = %alert.key, error = %e, "alerts: not delivered");
                    }
                }
            };
            // Critical alerts go at once, each on its own (a critical retrying or hanging
            // holds up no other); the rest one at a time, in order.
            let mut urgent = futures::stream::FuturesUnordered::new();
            // Flushes waiting for the criticals in flight (new criticals still start meanwhile).
            let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
            let mut current: Option<
                std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
            > = None;
            loop {
                tokio::select! {
                    biased;
                    Some(alert) = first.recv() => urgent.push(deliver(alert)),
                    Some(()) = futures::StreamExt::next(&mut urgent), if !urgent.is_empty() => {
                        if urgent.is_empty() {
                            for done in flushes.drain(..) {
                                let _ = done.send(());
                            }
                        }
                    }
                    () = async {
                        match current.as_mut() {
                            Some(delivery) => delivery.await,
                            None => std::future::pending().await,
                        }
                    }, if current.is_some() => {
                        current = None;
                    }
                    item = rx.recv(), if current.is_none() => match item {
                        Some(Item::Alert(alert)) => current = Some(Box::pin(deliver(alert))),
                        // What was queued before is delivered; the criticals in flight
                        // too, once they are (the loop goes on meanwhile).
                        Some(Item::Flush(done)) => {
                            if urgent.is_empty() {
                                let _ = done.send(());
                            } else {
                                flushes.push(done);
                            }
                        }
                        None => break,
                    },
                }
            }
            // Stopping: criticals offered last still go, with those in flight.
            while let Ok(alert) = first.try_recv() {
                urgent.push(deliver(alert));
            }
            while futures::StreamExt::next(&mut urgent).await.is_some() {}
            for done in flushes {
                let _ = done.send(());
            }
        });
        Self {
            name,
            tx,
            critical,
            task,
        }
    }

    /// Queues `alert` (a critical one on the lane that goes first); a full queue drops it,
    /// saying so.
    pub fn offer(&self, alert: &AlertEvent) {
        let queued = if alert.severity == Severity::Critical {
            self.critical.try_send(alert.clone()).is_ok()
        } else {
            self.tx.try_send(Item::Alert(alert.clone())).is_ok()
        };
        if !queued {
            tracing::warn!(sink = %self.name, key = %alert.key, "alerts: the sink's queue is full; alert dropped for it");
        }
    }

    /// Waits until every alert queued before this call is delivered (the one in flight
    /// included, and the critical ones in flight until none is), until `deadline` at most.
    pub async fn flush(&self, deadline: tokio::time::Instant) {
        let (done, delivered) = oneshot::channel();
        let flushed = tokio::time::timeout_at(deadline, async {
            self.tx.send(Item::Flush(done)).await.is_ok() && delivered.await.is_ok()
        })
        .await;
        if flushed.is_err() {
            tracing::warn!(sink = %self.name, "alerts: the sink did not catch up before the deadline");
        }
    }

    /// Stops taking alerts and waits (until `deadline` at most) until those queued are
    /// delivered; what is left then is dropped.
    pub async fn close(self, deadline: tokio::time::Instant) {
        drop(self.tx);
        drop(self.critical);
        let mut task = self.task;
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
            tracing::warn!(sink = %self.name, "alerts: the sink did not finish its queue before the deadline; the rest is dropped");
        }
    }
}
