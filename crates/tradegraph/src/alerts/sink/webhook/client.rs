//! The webhooks' HTTP client.

use crate::alerts::AlertError;
use std::time::Duration;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one POST may take in all.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The client every HTTP client of tradegraph starts from ([`tradegraph_llm::http_client_builder`]:
/// rustls, the Mozilla roots, HTTP/1.1), with the webhooks' timeouts. It follows no redirects:
/// a redirect would carry the alert (and a token in the URL's path) to another host, so a 3xx
/// is a failure.
pub(crate) fn client() -> Result<reqwest::Client, AlertError> {
    tradegraph_llm::http_client_builder()
        .map_err(AlertError::Tls)?
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| AlertError::Client(e.without_url()))
}
