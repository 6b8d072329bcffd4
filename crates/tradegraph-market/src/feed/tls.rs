//! The TLS client configuration of the WebSocket feeds.

use crate::MarketError;
use std::sync::Arc;

/// rustls with the `ring` provider and the Mozilla roots of `webpki-roots` (neither aws-lc nor
/// the system's certificate store is involved), whatever rustls provider features other crates
/// in the build enable. `feed` names the feed in the error.
pub(crate) fn websocket_tls(feed: &str) -> Result<Arc<rustls::ClientConfig>, MarketError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| MarketError::Config(format!("{feed} TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
