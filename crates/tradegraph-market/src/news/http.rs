//! The HTTP side shared by the provider clients: TLS, timeouts, status mapping, redaction.

use super::json::kind;
use super::{ApiKey, NewsError};
use reqwest::header::{HeaderValue, ACCEPT, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// The timeout of every call unless set.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of an error body goes into an error message.
const BODY_SNIPPET_CHARS: usize = 200;

/// One provider's endpoint: base URL, key, timeout and client.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    pub(crate) provider: &'static str,
    base: Url,
    key: ApiKey,
    /// The query parameter that carries the key (`token`, `api_token`).
    key_param: &'static str,
    pub(crate) timeout: Duration,
    client: reqwest::Client,
}

impl Http {
    pub(crate) fn new(
        provider: &'static str,
        base: &str,
        key: ApiKey,
        key_param: &'static str,
    ) -> Result<Self, NewsError> {
        Ok(Self {
            provider,
            base: parse_base(provider, base)?,
            key,
            key_param,
            timeout: DEFAULT_TIMEOUT,
            client: client()?,
        })
    }

    pub(crate) fn set_base(&mut self, base: &str) -> Result<(), NewsError> {
        self.base = parse_base(self.provider, base)?;
        Ok(())
    }

    pub(crate) fn set_client(&mut self, client: reqwest::Client) {
        self.client = client;
    }

    /// `GET {base}/{path}?{params}&{key_param}=KEY`, expecting a JSON array.
    pub(crate) async fn get_array(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Vec<Value>, NewsError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| {
                NewsError::Config(format!("{}: base URL cannot take a path", self.provider))
            })?
            .pop_if_empty()
            .push(path);
        let endpoint = url.path().to_owned();
        url.query_pairs_mut()
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
            .append_pair(self.key_param, self.key.expose());
        let span = tracing::debug_span!("news_request", provider = self.provider, %endpoint);
        async move {
            let response = self
                .client
                .get(url)
                .timeout(self.timeout)
                .header(ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| self.transport(e))?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let retry_after = retry_after(response.headers().get(RETRY_AFTER));
                return Err(NewsError::RateLimited {
                    provider: self.provider,
                    retry_after,
                });
            }
            if !status.is_success() {
                let body = response.text().await.unwrap_or_default();
                return Err(NewsError::Status {
                    provider: self.provider,
                    endpoint,
                    status: status.as_u16(),
                    body: self.snippet(&body),
                });
            }
            let bytes = response.bytes().await.map_err(|e| self.transport(e))?;
            let value: Value =
                serde_json::from_slice(&bytes).map_err(|e| NewsError::Malformed {
                    provider: self.provider,
                    path: "$".to_owned(),
                    reason: format!("not JSON: {e}"),
                })?;
            match value {
                Value::Array(items) => Ok(items),
                other => Err(NewsError::Malformed {
                    provider: self.provider,
                    path: "$".to_owned(),
                    reason: format!(
                        "expected an array of news items, found {}{}",
                        kind(&other),
                        other
                            .get("error")
                            .and_then(Value::as_str)
                            .map_or(String::new(), |e| {
                                format!(" (provider says: {})", self.snippet(e))
                            })
                    ),
                }),
            }
        }
        .instrument(span)
        .await
    }

    /// A reqwest error as a [`NewsError`], without the URL (it carries the key).
    fn transport(&self, err: reqwest::Error) -> NewsError {
        if err.is_timeout() {
            return NewsError::Timeout {
                provider: self.provider,
                after: self.timeout,
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
        NewsError::Request {
            provider: self.provider,
            reason: self.key.redact(&reason),
        }
    }

    /// The start of a body, keys redacted, on one line.
    fn snippet(&self, body: &str) -> String {
        let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut text: String = one_line.chars().take(BODY_SNIPPET_CHARS).collect();
        if one_line.chars().count() > BODY_SNIPPET_CHARS {
            text.push('…');
        }
        self.key.redact(&text)
    }
}

fn parse_base(provider: &str, base: &str) -> Result<Url, NewsError> {
    let url = Url::parse(base.trim())
        .map_err(|e| NewsError::Config(format!("{provider}: base URL `{base}`: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(NewsError::Config(format!(
            "{provider}: base URL `{base}` must be http(s)://host[/path]"
        )));
    }
    if url.query().is_some() {
        return Err(NewsError::Config(format!(
            "{provider}: the base URL must not have a query string (pass the key as an ApiKey)"
        )));
    }
    Ok(url)
}

/// An HTTP/1.1 client on rustls with the Mozilla roots, using the process's default crypto
/// provider if one is installed and ring otherwise (it installs nothing process-wide).
fn client() -> Result<reqwest::Client, NewsError> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| NewsError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| NewsError::Config(format!("HTTP client: {}", e.without_url())))
}

/// `Retry-After` as a delay: delta-seconds or an HTTP date.
pub(crate) fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let text = value?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let delta = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let secs = HeaderValue::from_static("30");
        assert_eq!(retry_after(Some(&secs)), Some(Duration::from_secs(30)));
        let past = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(retry_after(Some(&past)), Some(Duration::ZERO));
        assert_eq!(retry_after(Some(&HeaderValue::from_static("soon"))), None);
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(parse_base("x", "https://finnhub.io/api/v1").is_ok());
        for bad in ["ftp://host", "not a url", "mailto:a@b", "http://h/?token=1"] {
            assert!(
                matches!(parse_base("x", bad), Err(NewsError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn snippets_redact_the_key() {
        let http = Http::new("x", "http://127.0.0.1:1", ApiKey::new("k3y"), "token").unwrap();
        assert_eq!(http.snippet("bad  token k3y\n"), "bad token ***");
    }
}
