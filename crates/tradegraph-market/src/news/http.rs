//! The HTTP side shared by the provider clients: TLS, timeouts, redirects, body cap, status
//! mapping, redaction.

use super::json::kind;
use super::NewsError;
use reqwest::header::{HeaderValue, ACCEPT, LOCATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use std::time::Duration;
use tracing::Instrument;
use tradegraph_core::redact::Secret;

/// The timeout of every call unless set.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long connecting may take, whatever the call's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of an error body goes into an error message.
const BODY_SNIPPET_CHARS: usize = 200;

/// How much of an error (non-2xx) body is read: enough for the snippet, never the whole of a
/// large one.
const ERROR_BODY_BYTES: usize = 64 * 1024;

/// The most bytes read from one news response body: 8 MiB. A body past it is refused with
/// [`NewsError::TooLarge`] naming the provider, the URL (key redacted) and the cap, and is not
/// read further, so a faulty or hostile endpoint cannot make the process hold an unbounded
/// answer in memory. Real answers are far smaller (100 Finnhub stories are about 100 KiB;
/// 1,000 EODHD articles with their full text a few MiB).
///
/// ```
/// assert_eq!(tradegraph_market::news::MAX_RESPONSE_BYTES, 8 * 1024 * 1024);
/// ```
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// One provider's endpoint: base URL, key, timeout and client.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    pub(crate) provider: &'static str,
    base: Url,
    key: Secret,
    /// The query parameter that carries the key (`token`, `api_token`).
    key_param: &'static str,
    pub(crate) timeout: Duration,
    client: reqwest::Client,
}

impl Http {
    pub(crate) fn new(
        provider: &'static str,
        base: &str,
        key: Secret,
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
        match self.get_json(path, params).await? {
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

    /// `GET {base}/{path}?{params}&{key_param}=KEY`, expecting JSON. `path` may have several
    /// segments (`series/observations`).
    pub(crate) async fn get_json(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Value, NewsError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| {
                NewsError::Config(format!("{}: base URL cannot take a path", self.provider))
            })?
            .pop_if_empty()
            .extend(path.split('/'));
        let endpoint = url.path().to_owned();
        url.query_pairs_mut()
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
            .append_pair(self.key_param, self.key.expose());
        let span = tracing::debug_span!("news_request", provider = self.provider, %endpoint);
        async move {
            let response = self
                .client
                .get(url.clone())
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
            if status.is_redirection() {
                // Never followed (see `client`): a redirect could take the key elsewhere.
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map_or_else(
                        || "nowhere (no Location header)".to_owned(),
                        |to| self.key.redact(&tradegraph_core::redact::url(to)),
                    );
                return Err(NewsError::Redirect {
                    provider: self.provider,
                    endpoint,
                    status: status.as_u16(),
                    location,
                });
            }
            if !status.is_success() {
                let body = String::from_utf8_lossy(&start_of(response).await).into_owned();
                return Err(NewsError::Status {
                    provider: self.provider,
                    endpoint,
                    status: status.as_u16(),
                    body: self.snippet(&body),
                });
            }
            let bytes = self.read(response, MAX_RESPONSE_BYTES, &url).await?;
            serde_json::from_slice(&bytes).map_err(|e| NewsError::Malformed {
                provider: self.provider,
                path: "$".to_owned(),
                reason: format!("not JSON: {e}"),
            })
        }
        .instrument(span)
        .await
    }

    /// The body, read chunk by chunk and refused with [`NewsError::TooLarge`] once it passes
    /// `cap` bytes (or announces more in its Content-Length), without reading further.
    async fn read(
        &self,
        mut response: reqwest::Response,
        cap: usize,
        url: &Url,
    ) -> Result<Vec<u8>, NewsError> {
        let too_large = || NewsError::TooLarge {
            provider: self.provider,
            url: self.key.redact(&tradegraph_core::redact::url(url.as_str())),
            cap,
        };
        let announced = response
            .content_length()
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        if announced.is_some_and(|n| n > cap) {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(announced.unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(e))? {
            if body.len().saturating_add(chunk.len()) > cap {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
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
    pub(crate) fn snippet(&self, body: &str) -> String {
        let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut text: String = one_line.chars().take(BODY_SNIPPET_CHARS).collect();
        if one_line.chars().count() > BODY_SNIPPET_CHARS {
            text.push('…');
        }
        self.key.redact(&text)
    }
}

/// The first [`ERROR_BODY_BYTES`] of an error body (what could be read of them), for its
/// snippet; the rest is not read.
async fn start_of(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = ERROR_BODY_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= ERROR_BODY_BYTES {
            break;
        }
    }
    body
}

/// The base URL, checked. Errors show it with its credentials redacted.
fn parse_base(provider: &str, base: &str) -> Result<Url, NewsError> {
    let shown = || tradegraph_core::redact::url(base.trim());
    let url = Url::parse(base.trim())
        .map_err(|e| NewsError::Config(format!("{provider}: base URL `{}`: {e}", shown())))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(NewsError::Config(format!(
            "{provider}: base URL `{}` must be http(s)://host[/path]",
            shown()
        )));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(NewsError::Config(format!(
            "{provider}: base URL `{}` must carry no query string or credentials (the API key is its own setting: {}_API_KEY)",
            shown(),
            provider.to_ascii_uppercase()
        )));
    }
    Ok(url)
}

/// An HTTP/1.1 client on the market connections' TLS configuration
/// ([`tls_config`](crate::feed::tls::tls_config): rustls, `ring`, the Mozilla roots).
///
/// It follows no redirects: reqwest's default policy would resend the request, key included in
/// its query string, to whatever host a 3xx names (a moved host keeps the query), so a 3xx is
/// returned as it is and becomes [`NewsError::Redirect`].
fn client() -> Result<reqwest::Client, NewsError> {
    let tls = crate::feed::tls::tls_config("news").map_err(|e| NewsError::Config(e.to_string()))?;
    let mut tls = (*tls).clone();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| NewsError::Config(format!("HTTP client: {}", e.without_url())))
}

/// `Retry-After` as a delay: delta-seconds or an HTTP date (see
/// [`tradegraph_core::retry_after`]).
pub(crate) fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    tradegraph_core::retry_after::parse(value?.to_str().ok()?)
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
        for bad in [
            "ftp://host",
            "not a url",
            "mailto:a@b",
            "http://h/?token=1",
            "https://u:p@h/",
        ] {
            assert!(
                matches!(parse_base("x", bad), Err(NewsError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn snippets_redact_the_key() {
        let http = Http::new("x", "http://127.0.0.1:1", Secret::new("k3y"), "token").unwrap();
        assert_eq!(http.snippet("bad  token k3y\n"), "bad token ***");
    }
}
