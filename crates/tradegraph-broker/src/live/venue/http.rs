//! [`VenueHttp`]: the HTTP client of a venue broker.

use super::Masker;
use crate::live::VenueReason;
use crate::BrokerError;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// How a venue's HTTP client behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// The longest a request may take, connection included.
    pub timeout: Duration,
    /// The largest response body read (larger ones are an error, not a truncation); a call
    /// may allow more ([`Call::max_body`]).
    pub max_body: usize,
    /// How many times a request refused with 429 is sent again (after the venue's
    /// `Retry-After`).
    pub max_retries: u32,
    /// The longest `Retry-After` waited for inside a call; a longer one is returned as
    /// [`VenueReason::RateLimited`] at once. Short by default: an order call runs in the
    /// engine's loop, which must stay free for the kill switch; the engine tries again at its
    /// next cycle.
    pub max_wait: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_body: 2 << 20,
            max_retries: 2,
            max_wait: Duration::from_secs(2),
        }
    }
}

/// One request, as the venue's module built (and signed) it.
#[derive(Debug, Clone)]
pub struct Call {
    /// The method.
    pub method: Method,
    /// The path under the base URL, with its leading `/`: `/api/v3/order`.
    pub path: String,
    /// The query string, encoded (and signed), without `?`; empty for none.
    pub query: String,
    /// A form body (`application/x-www-form-urlencoded`), encoded.
    pub form: Option<String>,
    /// Headers. Their values are never logged (they carry keys and tokens).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// A larger body cap for this call (Kite's instruments dump), `None` for the default.
    pub max_body: Option<usize>,
    /// The answer carries credentials (Kite's `/session/token`): its body is never logged.
    pub sensitive: bool,
}

impl Call {
    /// A call with no query, body or headers.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: String::new(),
            form: None,
            headers: Vec::new(),
            max_body: None,
            sensitive: false,
        }
    }

    /// Its answer carries credentials: the body is not logged.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// With this encoded query.
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = query.into();
        self
    }

    /// With this encoded form body.
    pub fn form(mut self, form: impl Into<String>) -> Self {
        self.form = Some(form.into());
        self
    }

    /// With this header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Reading a body up to `bytes`.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }
}

/// The longest ban (418) the client waits out before asking again: Binance's longest.
const LONGEST_BAN: Duration = Duration::from_secs(3 * 86_400);

/// A venue's answer: any status but 3xx, 429 and 418 (which [`VenueHttp::send`] handles).
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The headers (Binance's `X-MBX-USED-WEIGHT-1M`, ...).
    pub headers: HeaderMap,
    /// The body, as text.
    pub body: String,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// A header's value as text, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The HTTP client of one venue broker: rustls with the `ring` provider and the Mozilla roots
/// (the same TLS configuration as the feeds' WebSockets), a timeout, **no redirects** (a 3xx is
/// an error: a redirect could carry a signed query or a key header to another host), a cap on
/// the body read, `Retry-After` respected on 429 (waited, then the call is built and sent
/// again) and 418 (every call refused until it passes), and a `debug` log line for every
/// request and response with the venue broker's secrets masked (header values are never
/// logged).
#[derive(Debug)]
pub struct VenueHttp {
    venue: &'static str,
    client: reqwest::Client,
    base: Url,
    settings: HttpSettings,
    masker: Masker,
    banned_until: Mutex<Option<Instant>>,
}

impl VenueHttp {
    /// A client for `venue` at `base` (`https://api.binance.com`), masking what `masker` masks.
    ///
    /// # Errors
    /// [`BrokerError::Config`] when the base URL is not an absolute `http(s)` URL, or TLS cannot
    /// be set up.
    pub fn new(
        venue: &'static str,
        base: &str,
        settings: HttpSettings,
        masker: Masker,
    ) -> Result<Self, BrokerError> {
        let config = |what: String| BrokerError::Config(format!("{venue}: {what}"));
        let base = Url::parse(base.trim_end_matches('/'))
            .map_err(|e| config(format!("base URL {}: {e}", masker.mask(base))))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(config(format!(
                "base URL {} must be http:// or https://",
                masker.mask(base.as_str())
            )));
        }
        let tls = tradegraph_market::feed::tls::tls_config(venue)
            .map_err(|e| config(format!("TLS: {e}")))?;
        let mut tls = (*tls).clone();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| config(format!("HTTP client: {}", e.without_url())))?;
        Ok(Self {
            venue,
            client,
            base,
            settings,
            masker,
            banned_until: Mutex::new(None),
        })
    }

    /// The longest wait a call may spend inside this client (see [`HttpSettings::max_wait`]):
    /// a venue broker's own pacing keeps to it too.
    pub fn max_wait(&self) -> Duration {
        self.settings.max_wait
    }

    /// The venue's name.
    pub fn venue(&self) -> &'static str {
        self.venue
    }

    /// The base URL, credentials masked.
    pub fn base_shown(&self) -> String {
        self.masker.mask(self.base.as_str())
    }

    /// The masker.
    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    /// `reason` as this venue's [`BrokerError::Venue`], its text masked.
    pub fn error(&self, reason: VenueReason) -> BrokerError {
        let reason = match reason {
            VenueReason::Unavailable(what) => VenueReason::Unavailable(self.masker.mask(&what)),
            VenueReason::Other { code, message } => VenueReason::Other {
                code: self.masker.mask(&code),
                message: self.masker.mask(&message),
            },
            VenueReason::FilterFailed { filter, detail } => VenueReason::FilterFailed {
                filter,
                detail: self.masker.mask(&detail),
            },
            other => other,
        };
        BrokerError::Venue {
            venue: self.venue.to_owned(),
            reason,
        }
    }

    /// Sends the call `build` makes, building it again for each attempt (a signed call gets a
    /// fresh timestamp).
    ///
    /// # Errors
    /// [`BrokerError::Venue`] with [`VenueReason::RateLimited`] (429 beyond the retries or
    /// the longest wait, 418, or a ban still running), [`VenueReason::Unavailable`] (no
    /// answer, a timeout, a body over the cap), [`VenueReason::Other`] (a redirect, not
    /// followed); `build`'s own error.
    pub async fn send(
        &self,
        build: impl Fn() -> Result<Call, BrokerError>,
    ) -> Result<Reply, BrokerError> {
        let mut attempt = 0;
        loop {
            if let Some(wait) = self.ban_left() {
                return Err(self.error(VenueReason::RateLimited {
                    retry_after: Some(wait),
                    banned: true,
                }));
            }
            let call = build()?;
            let reply = self.once(&call).await?;
            let status = reply.status;
            if status.is_redirection() {
                let to = reply.header("location").unwrap_or("");
                return Err(self.error(VenueReason::Other {
                    code: format!("HTTP {}", status.as_u16()),
                    message: format!("a redirect to {to:?} was not followed"),
                }));
            }
            let banned = status.as_u16() == 418;
            if status != StatusCode::TOO_MANY_REQUESTS && !banned {
                return Ok(reply);
            }
            let retry_after = retry_after(&reply.headers);
            if banned {
                // Binance bans for 2 minutes to 3 days; a longer `Retry-After` (or one past
                // what the clock holds) is held to 3 days, after which the venue is asked again.
                let ban = retry_after
                    .unwrap_or(Duration::from_secs(60))
                    .min(LONGEST_BAN);
                let until = Instant::now() + ban;
                *self
                    .banned_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(until);
                tracing::error!(venue = self.venue, ?retry_after, "the venue banned this client for too many requests: nothing is sent until the ban ends");
                return Err(self.error(VenueReason::RateLimited {
                    retry_after,
                    banned: true,
                }));
            }
            attempt += 1;
            let wait = retry_after.unwrap_or(Duration::from_secs(u64::from(attempt)));
            if attempt > self.settings.max_retries || wait > self.settings.max_wait {
                return Err(self.error(VenueReason::RateLimited {
                    retry_after,
                    banned: false,
                }));
            }
            tracing::warn!(
                venue = self.venue,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "rate limited by the venue: waiting as it asked, then sending again"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// How long a ban (418) still runs.
    fn ban_left(&self) -> Option<Duration> {
        let mut banned = self
            .banned_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let until = (*banned)?;
        let now = Instant::now();
        if until <= now {
            *banned = None;
            return None;
        }
        Some(until - now)
    }

    async fn once(&self, call: &Call) -> Result<Reply, BrokerError> {
        let mut url = self.base.clone();
        {
            let base_path = self.base.path().trim_end_matches('/');
            url.set_path(&format!("{base_path}{}", call.path));
        }
        url.set_query((!call.query.is_empty()).then_some(call.query.as_str()));
        let shown = self.masker.mask(&format!("{} {}", call.method, url));
        let mut request = self.client.request(call.method.clone(), url);
        for (name, value) in &call.headers {
            request = request.header(name.clone(), value.clone());
        }
        if let Some(form) = &call.form {
            request = request
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(form.clone());
        }
        tracing::debug!(venue = self.venue, request = %shown, form = call.form.as_deref().map(|f| self.masker.mask(f)), "venue request");
        let started = std::time::Instant::now();
        let response = request.send().await.map_err(|e| {
            let what = e.without_url().to_string();
            tracing::debug!(venue = self.venue, request = %shown, error = %self.masker.mask(&what), "venue request failed");
            self.error(VenueReason::Unavailable(format!("{shown}: {what}")))
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let cap = call.max_body.unwrap_or(self.settings.max_body);
        let body = read_capped(response, cap)
            .await
            .map_err(|what| self.error(VenueReason::Unavailable(format!("{shown}: {what}"))))?;
        tracing::debug!(
            venue = self.venue,
            request = %shown,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            body = %if call.sensitive {
                "(not logged: it carries credentials)".to_owned()
            } else {
                self.masker.mask_fields(&self.masker.mask(snippet(&body)))
            },
            "venue response"
        );
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// The body, at most `cap` bytes (more is an error: an answer cut short is not read).
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<String, String> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err(format!(
                        "the response body is larger than {cap} bytes, the most this broker reads"
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(format!("reading the response: {}", e.without_url())),
        }
    }
    String::from_utf8(body).map_err(|_| "the response body is not UTF-8".to_owned())
}

/// The first 512 characters, for a log line.
fn snippet(body: &str) -> &str {
    match body.char_indices().nth(512) {
        Some((at, _)) => &body[..at],
        None => body,
    }
}

/// `Retry-After` as a delay (seconds, or an HTTP date: see [`tradegraph_core::retry_after`]).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    tradegraph_core::retry_after::parse(headers.get(RETRY_AFTER)?.to_str().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates_and_ignores_the_rest() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static(" 7 "));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO), "a past date");
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn snippets_cut_on_characters() {
        let long = "é".repeat(600);
        assert_eq!(snippet(&long).chars().count(), 512);
        assert_eq!(snippet("short"), "short");
    }

    #[test]
    fn a_base_url_must_be_http() {
        let err = VenueHttp::new(
            "binance",
            "ftp://user:pw@example.com",
            HttpSettings::default(),
            Masker::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("must be http:// or https://"), "{err}");
        assert!(!err.contains("pw"), "{err}");
    }
}
