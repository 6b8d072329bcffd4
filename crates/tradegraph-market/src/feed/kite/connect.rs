//! Opening a connection: TCP, TLS (rustls with the `ring` provider and the Mozilla roots of
//! `webpki-roots`: no aws-lc, no system certificate store), the WebSocket handshake, and the
//! subscription, all within a time limit.

use super::{control, KiteConfig};
use crate::MarketError;
use futures::SinkExt;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// An open connection.
pub(super) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A full-mode message for Kite's limit of 3000 instruments is about 560 KB.
const MAX_MESSAGE: usize = 4 << 20;

/// The feed's TLS configuration (see [`tls_config`](crate::feed::tls::tls_config)).
pub(super) fn tls_config() -> Result<Arc<rustls::ClientConfig>, MarketError> {
    crate::feed::tls::tls_config("kite")
}

/// Connects, subscribes to the configured tokens and sets their mode, within the connect
/// timeout. The error says what failed, with credentials redacted.
pub(super) async fn connect(
    config: &KiteConfig,
    tls: Arc<rustls::ClientConfig>,
) -> Result<Socket, String> {
    let limit = config.connect_timeout;
    let attempt = async {
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let url = config.url_with_credentials();
        let (mut socket, _response) = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            Some(ws_config),
            true,
            Some(Connector::Rustls(tls)),
        )
        .await
        .map_err(|e| format!("connecting: {e}"))?;
        let tokens: Vec<u32> = config.tokens.iter().map(|(token, _)| *token).collect();
        for text in [
            control::subscribe(&tokens),
            control::mode(config.mode, &tokens),
        ] {
            socket
                .send(Message::text(text))
                .await
                .map_err(|e| format!("subscribing: {e}"))?;
        }
        Ok(socket)
    };
    let result = match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result,
        Err(_) => Err(format!("connecting: not subscribed within {limit:?}")),
    };
    result.map_err(|e: String| config.redact(&format!("{}: {e}", config.redacted_url())))
}
