//! The TLS client configuration of every connection tradegraph opens to a market: the feeds'
//! WebSockets, the news clients, and the venue brokers' REST calls and order-update streams
//! (`tradegraph-broker`).

use crate::MarketError;
use std::sync::Arc;

/// rustls with the `ring` provider and the Mozilla roots of `webpki-roots` (neither aws-lc nor
/// the system's certificate store is involved), whatever rustls provider features other crates
/// in the build enable. `what` names the connection in the error. An HTTP client sets its ALPN
/// (`http/1.1`) on a clone.
///
/// # Errors
/// [`MarketError::Config`] when rustls refuses the protocol versions (it does not with `ring`).
pub fn tls_config(what: &str) -> Result<Arc<rustls::ClientConfig>, MarketError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| MarketError::Config(format!("{what} TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
