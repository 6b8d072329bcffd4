//! One GET to a venue, with its rate limits honoured: `Retry-After` on 429 and 418, the shared
//! backoff on 5xx and transport failures, Binance's `X-MBX-USED-WEIGHT-1M` kept under a budget
//! and Kite's requests spaced apart.

use super::{DownloadConfig, HistoryError, HistorySource};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use tradegraph_core::redact::Secret;

/// The most bytes read from one answer: 32 MiB (a page of 1,000 klines is about 150 KiB, 60
/// days of Kite minute candles about 1.5 MiB).
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// How much of an error body goes into a message.
const SNIPPET_CHARS: usize = 200;

/// The HTTP side of one download.
pub(crate) struct Fetcher {
    pub(crate) venue: &'static str,
    base: String,
    client: reqwest::Client,
    headers: HeaderMap,
    secret: Option<Secret>,
    retries: u32,
    backoff: tradegraph_core::backoff::Backoff,
    weight_budget: u32,
    spacing: Duration,
    last_sent: Option<Instant>,
    timeout: Duration,
    max_retry_after: Duration,
}

impl Fetcher {
    pub(crate) fn new(config: &DownloadConfig) -> Result<Self, HistoryError> {
        let (venue, base, mut headers, secret) = match &config.source {
            HistorySource::Binance { api_url, .. } => ("binance", api_url, HeaderMap::new(), None),
            HistorySource::Kite {
                api_url,
                api_key,
                access_token,
                ..
            } => {
                let mut headers = HeaderMap::new();
                headers.insert("x-kite-version", HeaderValue::from_static("3"));
                let mut value = HeaderValue::from_str(&format!(
                    "token {}:{}",
                    api_key.expose(),
                    access_token.expose()
                ))
                .map_err(|_| {
                    HistoryError::Config(
                        "KITE_API_KEY or KITE_ACCESS_TOKEN holds characters a header cannot carry"
                            .into(),
                    )
                })?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
                ("kite", api_url, headers, Some(access_token.clone()))
            }
        };
        let base = base.trim().trim_end_matches('/').to_owned();
        let shown = tradegraph_core::redact::url(&base);
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| HistoryError::Config(format!("{venue} API URL `{shown}`: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            return Err(HistoryError::Config(format!(
                "{venue} API URL `{shown}` must be http(s)://host[/path], without a query"
            )));
        }
        headers.insert("accept", HeaderValue::from_static("application/json"));
        Ok(Self {
            venue,
            base,
            client: client()?,
            headers,
            secret,
            retries: config.retries,
            backoff: config.backoff,
            weight_budget: config.weight_budget,
            spacing: config.min_spacing,
            last_sent: None,
            timeout: config.timeout,
            max_retry_after: config.max_retry_after,
        })
    }

    /// The body of a 2xx answer to `GET {base}{path}`.
    pub(crate) async fn get(&mut self, path: &str) -> Result<Vec<u8>, HistoryError> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Some(last) = self.last_sent {
                let since = last.elapsed();
                if since < self.spacing {
                    tokio::time::sleep(self.spacing - since).await;
                }
            }
            self.last_sent = Some(Instant::now());
            let sent = self
                .client
                .get(&url)
                .headers(self.headers.clone())
                .timeout(self.timeout)
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(e) if attempt <= self.retries => {
                    tracing::warn!(venue = self.venue, endpoint = path, attempt, error = %self.redact(&e.without_url().to_string()), "request failed; retrying");
                    tokio::time::sleep(self.backoff.delay(attempt)).await;
                    continue;
                }
                Err(e) => {
                    return Err(HistoryError::Request {
                        venue: self.venue,
                        endpoint: path.to_owned(),
                        reason: self.redact(&chain(&e.without_url())),
                    })
                }
            };
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS || status.as_u16() == 418 {
                if attempt > self.retries {
                    return Err(HistoryError::RateLimited {
                        venue: self.venue,
                        endpoint: path.to_owned(),
                        status: status.as_u16(),
                        attempts: attempt,
                    });
                }
                let asked = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(tradegraph_core::retry_after::parse);
                if let Some(wait) = asked.filter(|w| *w > self.max_retry_after) {
                    let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                    return Err(HistoryError::RetryLater {
                        venue: self.venue,
                        endpoint: path.to_owned(),
                        status: status.as_u16(),
                        wait,
                        until: tradegraph_core::Timestamp::from_millis(
                            now_ms().saturating_add(wait_ms),
                        ),
                    });
                }
                let wait = asked.unwrap_or_else(|| self.backoff.delay(attempt));
                tracing::warn!(
                    venue = self.venue,
                    endpoint = path,
                    status = status.as_u16(),
                    wait_ms = wait.as_millis() as u64,
                    "rate limited; waiting as asked"
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            if status.is_server_error() && attempt <= self.retries {
                tracing::warn!(
                    venue = self.venue,
                    endpoint = path,
                    status = status.as_u16(),
                    attempt,
                    "server error; retrying"
                );
                tokio::time::sleep(self.backoff.delay(attempt)).await;
                continue;
            }
            let used = response
                .headers()
                .get("x-mbx-used-weight-1m")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u32>().ok());
            let body = match self.read(response, path).await {
                Ok(body) => body,
                // The connection failed while the answer was coming: asked again.
                Err(Read::Transport(e)) if attempt <= self.retries => {
                    tracing::warn!(venue = self.venue, endpoint = path, attempt, error = %self.redact(&e.without_url().to_string()), "reading the answer failed; retrying");
                    tokio::time::sleep(self.backoff.delay(attempt)).await;
                    continue;
                }
                Err(Read::Transport(e)) => {
                    return Err(HistoryError::Request {
                        venue: self.venue,
                        endpoint: path.to_owned(),
                        reason: self.redact(&chain(&e.without_url())),
                    })
                }
                Err(Read::Failed(e)) => return Err(e),
            };
            if !status.is_success() {
                let text = String::from_utf8_lossy(&body);
                let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
                let mut snippet: String = one_line.chars().take(SNIPPET_CHARS).collect();
                if one_line.chars().count() > SNIPPET_CHARS {
                    snippet.push('…');
                }
                return Err(HistoryError::Status {
                    venue: self.venue,
                    endpoint: path.to_owned(),
                    status: status.as_u16(),
                    body: self.redact(&snippet),
                });
            }
            if let Some(wait) =
                used.and_then(|used| weight_pause(used, self.weight_budget, now_ms()))
            {
                tracing::info!(
                    venue = self.venue,
                    used,
                    budget = self.weight_budget,
                    wait_ms = wait.as_millis() as u64,
                    "request weight budget spent for this minute; pausing"
                );
                tokio::time::sleep(wait).await;
            }
            return Ok(body);
        }
    }

    async fn read(&self, mut response: reqwest::Response, path: &str) -> Result<Vec<u8>, Read> {
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_BODY_BYTES {
                        return Err(Read::Failed(HistoryError::Request {
                            venue: self.venue,
                            endpoint: path.to_owned(),
                            reason: format!("the answer is larger than {MAX_BODY_BYTES} bytes"),
                        }));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) => return Err(Read::Transport(e)),
            }
        }
    }

    fn redact(&self, text: &str) -> String {
        match &self.secret {
            Some(secret) => secret.redact(text),
            None => text.to_owned(),
        }
    }
}

/// Why an answer could not be read.
enum Read {
    /// The connection failed (a reset, the timeout): worth asking again.
    Transport(reqwest::Error),
    /// Not worth asking again.
    Failed(HistoryError),
}

/// How long to pause once Binance says `used` weight of this minute is spent: until the next
/// minute (plus half a second for clocks apart) when `used` reached `budget`.
pub(crate) fn weight_pause(used: u32, budget: u32, now_ms: i64) -> Option<Duration> {
    (used >= budget).then(|| {
        let left = 60_000 - now_ms.rem_euclid(60_000) + 500;
        Duration::from_millis(u64::try_from(left).unwrap_or(60_500))
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// An error with its causes, on one line.
fn chain(err: &reqwest::Error) -> String {
    let mut reason = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    reason
}

/// An HTTP/1.1 client on the market connections' TLS configuration, following no redirects
/// (a redirect could carry Kite's authorization elsewhere).
fn client() -> Result<reqwest::Client, HistoryError> {
    let tls =
        crate::feed::tls::tls_config("history").map_err(|e| HistoryError::Config(e.to_string()))?;
    let mut tls = (*tls).clone();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| HistoryError::Config(format!("HTTP client: {}", e.without_url())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weight_budget_pauses_until_the_next_minute() {
        assert_eq!(weight_pause(10, 5_000, 0), None);
        assert_eq!(
            weight_pause(5_000, 5_000, 45_000),
            Some(Duration::from_millis(15_500))
        );
        assert_eq!(
            weight_pause(6_001, 5_000, 120_000),
            Some(Duration::from_millis(60_500))
        );
    }
}
