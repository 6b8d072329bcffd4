//! Errors of news and macro sources.

use std::path::PathBuf;
use std::time::Duration;
use tradegraph_core::Timestamp;

/// What went wrong fetching news or macro figures. No variant ever holds an API key, a
/// password or a URL with one in it (URLs are shown with `***` in their place).
///
/// A malformed *item* is not an error: sources skip it, count it
/// ([`NewsSource::skipped_items`](super::NewsSource::skipped_items)) and log where it was.
///
/// ```
/// use std::time::Duration;
/// use tradegraph_market::news::NewsError;
/// let err = NewsError::RateLimited {
///     provider: "finnhub",
///     retry_after: Some(Duration::from_secs(30)),
/// };
/// assert_eq!(err.to_string(), "finnhub: rate limited (HTTP 429); retry after 30 s");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NewsError {
    /// The provider answered with an unexpected HTTP status.
    #[error("{provider}: HTTP {status} from {endpoint}: {body}{}", status_hint(*status))]
    Status {
        /// `finnhub`, `eodhd`.
        provider: &'static str,
        /// The path asked for, without the query string (`/news`).
        endpoint: String,
        /// The status code.
        status: u16,
        /// The start of the response body (keys redacted).
        body: String,
    },
    /// The provider said "too many requests" (HTTP 429).
    #[error("{provider}: rate limited (HTTP 429); {}", retry_hint(*retry_after))]
    RateLimited {
        /// `finnhub`, `eodhd`.
        provider: &'static str,
        /// How long the provider asked to wait (its `Retry-After` header), when it said.
        retry_after: Option<Duration>,
    },
    /// No complete answer within the timeout.
    #[error("{provider}: no response within {} ms; check the base URL or raise the timeout", after.as_millis())]
    Timeout {
        /// `finnhub`, `eodhd`.
        provider: &'static str,
        /// The timeout.
        after: Duration,
    },
    /// The request could not be made (connection refused, DNS, TLS).
    #[error("{provider}: request failed: {reason}; check the base URL and the network")]
    Request {
        /// `finnhub`, `eodhd`.
        provider: &'static str,
        /// Why (URLs and keys removed).
        reason: String,
    },
    /// The provider answered with a redirect (3xx). Redirects are never followed: the request
    /// carries the API key, and following would send it to whatever host the redirect names.
    #[error("{provider}: HTTP {status} redirect from {endpoint} to {location} not followed (it could carry the API key to another host); set the base URL to where the API is now")]
    Redirect {
        /// `finnhub`, `eodhd`.
        provider: &'static str,
        /// The path asked for, without the query string (`/news`).
        endpoint: String,
        /// The status code.
        status: u16,
        /// Where the redirect pointed, credentials and key redacted.
        location: String,
    },
    /// The response body is larger than the cap ([`MAX_RESPONSE_BYTES`](super::MAX_RESPONSE_BYTES)
    /// for an answer); it was not read further.
    #[error("{provider}: the response from {url} is larger than the {} MiB cap and was not read further; the endpoint is not a working news API, check the base URL", cap / (1024 * 1024))]
    TooLarge {
        /// `finnhub`, `eodhd`.
        provider: &'static str,
        /// The URL asked for, the key redacted (`...&token=***`).
        url: String,
        /// The cap, in bytes.
        cap: usize,
    },
    /// The response body as a whole cannot be read.
    #[error("{provider}: malformed response at `{path}`: {reason}")]
    Malformed {
        /// `finnhub`, `eodhd`.
        provider: &'static str,
        /// JSON path of the problem (`$` is the whole body).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file's content cannot be used.
    #[error("{origin}: {reason}")]
    File {
        /// Where (`macro_india.json:12:5`).
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// A macro source has nothing dated at or before the time asked for.
    #[error("{origin}: no macro snapshot at or before {as_of}; add an earlier snapshot or ask for a later time")]
    NoSnapshot {
        /// The source (a file name).
        origin: String,
        /// The time asked for (after clamping to the source's clock).
        as_of: Timestamp,
    },
    /// A configuration value that cannot work.
    #[error("configuration: {0}")]
    Config(String),
}

fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => " (check the API key and the plan's access to this endpoint)",
        404 => " (check the base URL)",
        500..=599 => " (provider error; retry later)",
        _ => "",
    }
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(delay) => format!("retry after {} s", delay.as_secs()),
        None => "retry later (no Retry-After given)".to_owned(),
    }
}
