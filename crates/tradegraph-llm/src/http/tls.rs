//! The HTTP client: rustls with the Mozilla roots and the ring provider, following no redirects.
//! Public as [`crate::http_client_builder`]: tradegraph's other clients (the dashboard's
//! overview, the alert webhooks) start from it.

use crate::LlmError;
use std::sync::Arc;
use std::time::Duration;

/// How long connecting may take, whatever the call's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client builder on rustls (HTTP/1.1, the Mozilla roots of `webpki-roots`, the process's
/// default crypto provider if one is installed and ring otherwise: it installs nothing
/// process-wide), with a 10 s connect timeout and following no redirects. Every HTTP client of
/// tradegraph starts from it; add the caller's own settings (a request timeout) and build.
///
/// It follows no redirects: reqwest's default policy would resend custom key headers
/// (`x-api-key`, `x-goog-api-key`) or a body to whatever host a 3xx names, so a 3xx is
/// returned as it is and the caller treats it as an error.
///
/// ```
/// let client = tradegraph_llm::http_client_builder()?
///     .timeout(std::time::Duration::from_secs(2))
///     .build()
///     .map_err(|e| tradegraph_llm::LlmError::Config(e.to_string()))?;
/// # drop(client);
/// # Ok::<(), tradegraph_llm::LlmError>(())
/// ```
///
/// # Errors
/// [`LlmError::Config`] when the TLS configuration cannot be made (the crypto provider
/// supports none of the safe protocol versions).
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, LlmError> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| LlmError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none()))
}

/// The providers' client: [`http_client_builder`] as it is.
pub(crate) fn client() -> Result<reqwest::Client, LlmError> {
    http_client_builder()?
        .build()
        .map_err(|e| LlmError::Config(format!("HTTP client: {}", e.without_url())))
}
