//! The HTTP side shared by the providers: TLS, base URLs, timeouts, status mapping, redaction.
// With only some providers compiled in (or none: the `http` feature alone), some of the shared
// helpers go unused.
#![cfg_attr(
    not(all(
        feature = "openai",
        feature = "anthropic",
        feature = "gemini",
        feature = "ollama"
    )),
    allow(dead_code, unused_imports, unused_macros)
)]

mod builders;
mod status;
mod tls;

pub(crate) use builders::http_builders;
pub use tls::http_client_builder;

pub(crate) use status::{redacted_snippet, status_error};

/// The most bytes read from one provider response body: 8 MiB. A body past it is refused
/// with [`LlmError::Malformed`] naming the provider and the cap, and is not read further, so a
/// faulty or hostile endpoint cannot make the process hold an unbounded answer in memory.
/// Real answers are far smaller (a full 128k-token completion is well under 1 MiB).
///
/// ```
/// assert_eq!(tradegraph_llm::MAX_RESPONSE_BYTES, 8 * 1024 * 1024);
/// ```
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

use crate::keys::KeyRing;
use crate::{LlmError, Secret};
use reqwest::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde_json::Value;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// How an API wants its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyHeader {
    /// `Authorization: Bearer KEY` (OpenAI and the compatible APIs, Ollama behind a proxy).
    Bearer,
    /// `x-api-key: KEY` (Anthropic).
    XApiKey,
    /// `x-goog-api-key: KEY` (Gemini; never the `?key=` query parameter, which would put the
    /// key in URLs and so in logs).
    XGoogApiKey,
}

/// One provider's endpoint: name, base URL, keys, timeout and client.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    pub(crate) provider: String,
    base: Url,
    keys: Option<KeyRing>,
    key_header: KeyHeader,
    pub(crate) timeout: Duration,
    extra_headers: Vec<(HeaderName, HeaderValue)>,
    client: reqwest::Client,
}

/// A decoded 2xx answer.
pub(crate) struct Reply {
    pub(crate) body: Value,
    pub(crate) latency: Duration,
}

impl Http {
    pub(crate) fn new(
        provider: &str,
        base: &str,
        key: Option<Secret>,
        key_header: KeyHeader,
        timeout: Duration,
    ) -> Result<Self, LlmError> {
        Ok(Self {
            provider: provider.to_owned(),
            base: parse_base(provider, base)?,
            keys: key.as_ref().and_then(KeyRing::new),
            key_header,
            timeout,
            extra_headers: Vec::new(),
            client: tls::client()?,
        })
    }

    pub(crate) fn set_base(&mut self, base: &str) -> Result<(), LlmError> {
        self.base = parse_base(&self.provider, base)?;
        Ok(())
    }

    /// The base URL without a trailing slash (it holds no credentials: `parse_base` refuses
    /// them); it keeps two endpoints under one provider name apart in cache keys.
    pub(crate) fn endpoint(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    pub(crate) fn set_key(&mut self, key: Option<Secret>) {
        self.keys = key.as_ref().and_then(KeyRing::new);
    }

    /// Every key, to redact from text that may echo one.
    fn all_keys(&self) -> &[Secret] {
        self.keys.as_ref().map_or(&[], KeyRing::all)
    }

    pub(crate) fn set_name(&mut self, name: &str) {
        self.provider = name.to_owned();
    }

    pub(crate) fn set_client(&mut self, client: reqwest::Client) {
        self.client = client;
    }

    /// Adds a header sent with every call (`anthropic-version`, OpenRouter's `X-Title`).
    pub(crate) fn header(&mut self, name: &'static str, value: &'static str) {
        self.extra_headers.push((
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }

    /// `POST {base}/{path}` with a JSON body; the 2xx body as JSON.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: &Value,
        timeout: Option<Duration>,
    ) -> Result<Reply, LlmError> {
        self.send(Method::POST, path, Some(body), timeout).await
    }

    /// `GET {base}/{path}`; the 2xx body as JSON.
    pub(crate) async fn get(
        &self,
        path: &str,
        timeout: Option<Duration>,
    ) -> Result<Reply, LlmError> {
        self.send(Method::GET, path, None, timeout).await
    }

    /// One call, with the key in use; when the vendor refuses that key or says it is out of
    /// quota ([`KeyRing::is_about_the_key`]) and there are others, the same call again with
    /// the next, each key of the ring tried at most once per call (in ring order from the key
    /// in use, whatever calls in parallel do to the ring). Later calls start from the key that
    /// last answered. When every key failed: rate limited if any key was only out of quota
    /// (with the soonest wait, the ring left at that key), so a revoked key beside a busy one
    /// never reads as a refused provider; refused only when every key was refused.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        timeout: Option<Duration>,
    ) -> Result<Reply, LlmError> {
        let Some(keys) = self.keys.as_ref().filter(|k| k.len() > 1) else {
            let key = self.keys.as_ref().map(|k| k.current().1);
            return self.send_with(key, method, path, body, timeout).await;
        };
        let (first, _) = keys.current();
        // The soonest-free key that was out of quota, and its error.
        let mut limited: Option<(usize, LlmError)> = None;
        let mut refused: Option<LlmError> = None;
        for n in 0..keys.len() {
            let at = (first + n) % keys.len();
            let key = &keys.all()[at];
            match self
                .send_with(Some(key), method.clone(), path, body, timeout)
                .await
            {
                Err(err) if KeyRing::is_about_the_key(&err) => {
                    // The ring's hint moves past a failed key (once, for calls in parallel).
                    keys.rotate_from(at);
                    if n + 1 < keys.len() {
                        tracing::warn!(
                            provider = %self.provider,
                            key = at + 1,
                            keys = keys.len(),
                            next = (at + 1) % keys.len() + 1,
                            error = %err,
                            "provider refused a key; the call goes on with the next"
                        );
                    }
                    if matches!(err, LlmError::RateLimited { .. }) {
                        let sooner = limited
                            .as_ref()
                            .is_none_or(|(_, best)| wait_of(&err) < wait_of(best));
                        if sooner {
                            limited = Some((at, err));
                        }
                    } else {
                        refused = Some(err);
                    }
                }
                other => {
                    if other.is_ok() {
                        keys.settle_on(at);
                    }
                    return other;
                }
            }
        }
        match (limited, refused) {
            (Some((at, err)), _) => {
                keys.settle_on(at);
                Err(err)
            }
            (None, Some(err)) => Err(err),
            (None, None) => Err(LlmError::Config(format!(
                "{}: the key ring is empty",
                self.provider
            ))),
        }
    }

    async fn send_with(
        &self,
        key: Option<&Secret>,
        method: Method,
        path: &str,
        body: Option<&Value>,
        timeout: Option<Duration>,
    ) -> Result<Reply, LlmError> {
        let url = self.url(path)?;
        let timeout = timeout.unwrap_or(self.timeout);
        let span =
            tracing::debug_span!("llm_http", provider = %self.provider, %method, path = url.path());
        async move {
            let mut request = self
                .client
                .request(method, url)
                .timeout(timeout)
                .header(ACCEPT, "application/json");
            for (name, value) in &self.extra_headers {
                request = request.header(name, value);
            }
            if let Some(key) = key {
                request = match self.key_header {
                    KeyHeader::Bearer => request.header(
                        reqwest::header::AUTHORIZATION,
                        sensitive(&format!("Bearer {}", key.expose()))?,
                    ),
                    KeyHeader::XApiKey => request.header("x-api-key", sensitive(key.expose())?),
                    KeyHeader::XGoogApiKey => {
                        request.header("x-goog-api-key", sensitive(key.expose())?)
                    }
                };
            }
            if let Some(body) = body {
                let bytes = serde_json::to_vec(body).map_err(|e| {
                    LlmError::Config(format!("{}: request body: {e}", self.provider))
                })?;
                request = request.header(CONTENT_TYPE, "application/json").body(bytes);
            }
            let started = Instant::now();
            let response = request
                .send()
                .await
                .map_err(|e| self.transport(e, timeout))?;
            let status = response.status();
            // Headers matter only for errors (Retry-After).
            let headers = if status.is_success() {
                reqwest::header::HeaderMap::new()
            } else {
                response.headers().clone()
            };
            let bytes = self.read_capped(response, timeout).await?;
            let latency = started.elapsed();
            if !status.is_success() {
                let text = String::from_utf8_lossy(&bytes);
                let err = status_error(
                    &self.provider,
                    status.as_u16(),
                    &headers,
                    &text,
                    self.all_keys(),
                    timeout,
                );
                tracing::debug!(status = status.as_u16(), ?latency, error = %err, "provider error");
                return Err(err);
            }
            tracing::debug!(
                status = status.as_u16(),
                ?latency,
                bytes = bytes.len(),
                "provider answered"
            );
            let body: Value = serde_json::from_slice(&bytes).map_err(|e| LlmError::Malformed {
                provider: self.provider.clone(),
                message: format!(
                    "the body is not JSON ({e}): {}",
                    redacted_snippet(&String::from_utf8_lossy(&bytes), self.all_keys())
                ),
            })?;
            Ok(Reply { body, latency })
        }
        .instrument(span)
        .await
    }

    /// The body, read chunk by chunk and refused once it passes [`MAX_RESPONSE_BYTES`].
    async fn read_capped(
        &self,
        mut response: reqwest::Response,
        timeout: Duration,
    ) -> Result<Vec<u8>, LlmError> {
        let too_large = || {
            LlmError::Malformed {
            provider: self.provider.clone(),
            message: format!(
                "the response body is larger than the {} MiB cap; the endpoint is not a working LLM API, check the base URL",
                MAX_RESPONSE_BYTES / (1024 * 1024)
            ),
        }
        };
        let announced = response
            .content_length()
            .and_then(|n| usize::try_from(n).ok());
        if announced.is_some_and(|n| n > MAX_RESPONSE_BYTES) {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(announced.unwrap_or(0));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport(e, timeout))?
        {
            if body.len().saturating_add(chunk.len()) > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The typed error for an error body that came with a 2xx (OpenRouter does this).
    pub(crate) fn error_in_body(&self, status: u16, body: &Value) -> LlmError {
        status_error(
            &self.provider,
            status,
            &reqwest::header::HeaderMap::new(),
            &body.to_string(),
            self.all_keys(),
            self.timeout,
        )
    }

    fn url(&self, path: &str) -> Result<Url, LlmError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| {
                LlmError::Config(format!(
                    "{}: the base URL cannot take a path",
                    self.provider
                ))
            })?
            .pop_if_empty()
            .extend(path.split('/').filter(|s| !s.is_empty()));
        Ok(url)
    }

    /// A reqwest error as an [`LlmError`], without the URL and with the key redacted.
    fn transport(&self, err: reqwest::Error, timeout: Duration) -> LlmError {
        if err.is_timeout() {
            return LlmError::Timeout {
                provider: self.provider.clone(),
                after: timeout,
            };
        }
        let err = err.without_url();
        let mut reason = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            reason.push_str(": ");
            reason.push_str(&cause.to_string());
            source = cause.source();
        }
        LlmError::Connect {
            provider: self.provider.clone(),
            message: redacted_snippet(&reason, self.all_keys()),
        }
    }
}

/// How long a rate-limited error asks to wait (unknown: the longest).
fn wait_of(err: &LlmError) -> Duration {
    err.retry_after().unwrap_or(Duration::MAX)
}

fn sensitive(value: &str) -> Result<HeaderValue, LlmError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        LlmError::Config("the API key contains characters a header cannot carry".into())
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// The base URL, checked. Errors show it with its credentials redacted (`crate::redact_url`).
fn parse_base(provider: &str, base: &str) -> Result<Url, LlmError> {
    let shown = || crate::redact_url(base.trim());
    let url = Url::parse(base.trim())
        .map_err(|e| LlmError::Config(format!("{provider}: base URL `{}`: {e}", shown())))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(LlmError::Config(format!(
            "{provider}: base URL `{}` must be http(s)://host[/path]",
            shown()
        )));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(LlmError::Config(format!(
            "{provider}: base URL `{}` must carry no query string or credentials (give the key as a key)",
            shown()
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_paths_joined() {
        let http = Http::new(
            "x",
            "https://api.openai.com/v1/",
            None,
            KeyHeader::Bearer,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            http.url("chat/completions").unwrap().as_str(),
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(http.endpoint(), "https://api.openai.com/v1");
        let http = Http::new(
            "x",
            "http://127.0.0.1:9",
            None,
            KeyHeader::Bearer,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            http.url("/api/chat").unwrap().as_str(),
            "http://127.0.0.1:9/api/chat"
        );
        assert_eq!(http.endpoint(), "http://127.0.0.1:9");
        for bad in [
            "ftp://host",
            "not a url",
            "mailto:a@b",
            "http://h/?key=1",
            "https://u:p@h/",
        ] {
            assert!(
                matches!(parse_base("x", bad), Err(LlmError::Config(_))),
                "{bad}"
            );
        }
    }
}
