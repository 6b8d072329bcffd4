//! The HTTP client: rustls with the Mozilla roots and the ring provider, following no redirects.

use crate::LlmError;
use std::sync::Arc;
use std::time::Duration;

/// How long connecting may take, whatever the call's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP/1.1 client on rustls, using the process's default crypto provider if one is
/// installed and ring otherwise (it installs nothing process-wide).
///
/// It follows no redirects: reqwest's default policy would resend custom key headers
/// (`x-api-key`, `x-goog-api-key`) to whatever host a 3xx names, so a 3xx is returned as it is
/// and becomes an error (see `status_error`).
pub(crate) fn client() -> Result<reqwest::Client, LlmError> {
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
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| LlmError::Config(format!("HTTP client: {}", e.without_url())))
}
