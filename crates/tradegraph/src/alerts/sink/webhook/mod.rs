//! Webhooks: a generic JSON POST, Slack's incoming webhooks and Telegram's `sendMessage`.
//! The URL is a secret: it is never logged, never in an error, never in `Debug`.

mod body;
mod client;

pub use body::{body, CHAT_MESSAGE_MAX};

use super::Sink;
use crate::alerts::{AlertError, WebhookConfig, WebhookFormat};
use crate::engine::AlertEvent;
use async_trait::async_trait;
use std::time::Duration;
use tradegraph_core::backoff::Backoff;
use tradegraph_core::Symbol;

/// Attempts per alert (the first and three retries).
pub const ATTEMPTS: u32 = 4;

/// The longest wait a receiver's `Retry-After` gets before the next attempt.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// One `[[alerts.webhook]]`: POSTs each alert's body, retrying a failure (a connection error,
/// a 5xx, a 429) [`ATTEMPTS`] times in all with the feeds' jittered [`Backoff`], waiting at
/// least as long as the receiver asks (`Retry-After`, or Telegram's `parameters.retry_after`;
/// [`MAX_RETRY_AFTER`] at most).
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
    async fn post(&self, body: &serde_json::Value) -> Result<(), (AlertError, Again)> {
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
                let why = if status.is_redirection() {
                    format!("HTTP {status} (redirects are not followed: give the final URL)")
                } else {
                    format!("HTTP {status}")
                };
                let again = if status.is_server_error() || status.as_u16() == 429 {
                    Again::After(self.asked_wait(response).await)
                } else {
                    Again::No
                };
                Err((self.failed(why), again))
            }
            Err(e) => Err((self.failed(e.without_url().to_string()), Again::After(None))),
        }
    }

    /// How long a refusing receiver asks to be left alone: `Retry-After`, else (Telegram)
    /// the body's `parameters.retry_after` in seconds; [`MAX_RETRY_AFTER`] at most.
    async fn asked_wait(&self, response: reqwest::Response) -> Option<Duration> {
        let header = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(tradegraph_core::retry_after::parse);
        let asked = match header {
            Some(wait) => Some(wait),
            None if self.config.format == WebhookFormat::Telegram => {
                // A refusal's body is short; a long one is not read.
                let text = response.text().await.ok().filter(|t| t.len() <= 4_096)?;
                serde_json::from_str::<serde_json::Value>(&text)
                    .ok()?
                    .pointer("/parameters/retry_after")?
                    .as_f64()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(|s| Duration::from_secs_f64(s.min(MAX_RETRY_AFTER.as_secs_f64())))
            }
            None => None,
        };
        asked.map(|wait| wait.min(MAX_RETRY_AFTER))
    }
}

/// Whether a failed POST is tried again, and after how long the receiver asked for.
enum Again {
    No,
    After(Option<Duration>),
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
                Err((e, Again::After(asked))) if attempt < ATTEMPTS => {
                    let wait = self.backoff.delay(attempt).max(asked.unwrap_or_default());
                    tracing::debug!(sink = %self.name(), attempt, wait_ms = wait.as_millis(), error = %e, "alerts: webhook failed; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }
}
