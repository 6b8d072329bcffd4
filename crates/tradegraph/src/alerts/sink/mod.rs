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
use crate::engine::AlertEvent;
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

/// A sink behind a bounded queue, delivering on a task of its own.
#[derive(Debug)]
pub struct SinkQueue {
    name: String,
    tx: mpsc::Sender<Item>,
    task: tokio::task::JoinHandle<()>,
}

impl SinkQueue {
    /// Starts `sink`'s task. Must be called inside a tokio runtime.
    pub fn start(sink: Arc<dyn Sink>) -> Self {
        let (tx, mut rx) = mpsc::channel::<Item>(QUEUE);
        let name = sink.name();
        let task = tokio::spawn(async move {
            while let Some(item) = rx.recv().await {
                match item {
                    Item::Alert(alert) => {
                        if let Err(e) = sink.deliver(&alert).await {
                            tracing::warn!(sink = %sink.name(), key = %alert.key, error = %e, "alerts: not delivered");
                        }
                    }
                    Item::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        Self { name, tx, task }
    }

    /// Queues `alert`; a full queue drops it, saying so.
    pub fn offer(&self, alert: &AlertEvent) {
        if self.tx.try_send(Item::Alert(alert.clone())).is_err() {
            tracing::warn!(sink = %self.name, key = %alert.key, "alerts: the sink's queue is full; alert dropped for it");
        }
    }

    /// Waits until every alert queued before this call is delivered (the one in flight
    /// included), until `deadline` at most.
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
        let mut task = self.task;
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
            tracing::warn!(sink = %self.name, "alerts: the sink did not finish its queue before the deadline; the rest is dropped");
        }
    }
}
