//! Webhooks: a generic JSON POST, Slack's incoming webhooks and Telegram's `sendMessage`.
//! The URL is a secret: it is never logged, never in an error, never in `Debug`.

mod body;
mod client;

pub use body::{body, CHAT_MESSAGE_MAX};

use super::Sink;
use crate::alerts::{AlertError, WebhookConfig};
use crate::engine::AlertEvent;
use async_trait::async_trait;
use std::time::Duration;
use tradegraph_core::backoff::Backoff;
use tradegraph_core::Symbol;

/// Attempts per alert (the first and three retries).
pub const ATTEMPTS: u32 = 4;

/// One `[[alerts.webhook]]`: POSTs each alert's body, retrying a failure (a connection error,
/// a 5xx, a 429) [`ATTEMPTS`] times in all with the feeds' jittered [`Backoff`].
pub struct WebhookSink {
    index: usize,
    config: WebhookConfig,
    instrument: Symbol,
    http: reqwest::Client,
    backoff: Backoff,
}

impl WebhookSink {
    /// The `index`th webhook (from 1), for `instrument`'s alerts.
    ///
    /// # Errors
    /// [`AlertError::Tls`] or [`AlertError::Client`] when the HTTP client cannot be built.
    pub fn new(
        index: usize,
        config: WebhookConfig,
        instrument: Symbol,
    ) -> Result<Self, AlertError> {
        Ok(Self {
            index,
            config,
            instrument,
            http: client::client()?,
            backoff: Backoff::new(Duration::from_millis(500), Duration::from_secs(10)),
        })
    }

    /// Waits `backoff` between attempts instead (tests use short ones).
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    fn failed(&self, reason: String) -> AlertError {
        AlertError::Webhook {
            index: self.index,
            format: self.config.format.as_str(),
            // Belt and braces: whatever the reason quotes, the URL does not survive.
            reason: self.config.url.redact(&reason),
        }
    }

    /// One POST: `Ok`, or the error and whether another attempt may succeed.
    async fn post(&self, body: &serde_json::Value) -> Result<(), (AlertError, bool)> {
        let sent = self
            .http
            .post(self.config.url.expose())
            .json(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => {
                let status = response.status();
                let retry = status.is_server_error() || status.as_u16() == 429;
                let why = if status.is_redirection() {
                    format!("HTTP {status} (redirects are not followed: give the final URL)")
                } else {
                    format!("HTTP {status}")
                };
                Err((self.failed(why), retry))
            }
            Err(e) => Err((self.failed(e.without_url().to_string()), true)),
        }
    }
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("index", &self.index)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Sink for WebhookSink {
    fn name(&self) -> String {
        format!("webhook {} ({})", self.index, self.config.format.as_str())
    }

    async fn deliver(&self, alert: &AlertEvent) -> Result<(), AlertError> {
        let body = body(
            self.config.format,
            &self.instrument,
            alert,
            self.config.chat_id.as_deref(),
        );
        let mut attempt = 1;
        loop {
            match self.post(&body).await {
                Ok(()) => return Ok(()),
                Err((e, true)) if attempt < ATTEMPTS => {
                    tracing::debug!(sink = %self.name(), attempt, error = %e, "alerts: webhook failed; retrying");
                    tokio::time::sleep(self.backoff.delay(attempt)).await;
                    attempt += 1;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }
}
