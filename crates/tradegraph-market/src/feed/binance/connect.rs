//! Opening a connection: TCP, TLS (rustls with the `ring` provider and the Mozilla roots of
//! `webpki-roots`, so neither aws-lc nor the system's certificate store is involved) and the
//! WebSocket handshake, within a time limit.

use crate::MarketError;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// An open connection.
pub(super) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Binance's frames are a few hundred bytes; anything near this is not a market message.
const MAX_MESSAGE: usize = 1 << 20;

/// The feed's TLS configuration (see [`tls_config`](crate::feed::tls::tls_config)).
pub(super) fn tls_config() -> Result<Arc<rustls::ClientConfig>, MarketError> {
    crate::feed::tls::tls_config("binance")
}

/// Connects to `url`, giving up after `timeout`. The error says what failed.
pub(super) fn connect(
    url: String,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> BoxFuture<'static, Result<Socket, String>> {
    Box::pin(async move {
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let handshake = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            Some(config),
            true,
            Some(Connector::Rustls(tls)),
        );
        match tokio::time::timeout(timeout, handshake).await {
            Ok(Ok((socket, _response))) => Ok(socket),
            Ok(Err(e)) => Err(format!("connecting to {url}: {e}")),
            Err(_) => Err(format!(
                "connecting to {url}: no handshake within {timeout:?}"
            )),
        }
    })
}
