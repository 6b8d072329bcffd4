//! The ticker WebSocket: `?api_key=..&access_token=..` checked at the handshake (403
//! otherwise), then every order update as `{"type":"order","data":{..}}`, and a 1-byte
//! binary heartbeat every second as Kite sends. A silenced venue sends nothing and keeps the
//! connection open (a half-open TCP connection, as the client sees it).

use super::http::form;
use super::Shared;
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::Message;

pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((tcp, _)) = listener.accept().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = connection(tcp, shared).await;
        });
    }
}

// The handshake callback's error type is tungstenite's (a whole HTTP response).
#[allow(clippy::result_large_err)]
async fn connection(
    tcp: TcpStream,
    shared: Arc<Shared>,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let mut closed = shared.drops.subscribe();
    if shared.lock_control().refuse_streams {
        return Ok(());
    }
    let (key, token) = {
        let c = shared.lock_control();
        (c.api_key.clone(), c.access_token.clone())
    };
    let check = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        let query = form(request.uri().query().unwrap_or(""));
        let ok = query.get("api_key") == Some(&key) && query.get("access_token") == Some(&token);
        if ok {
            Ok(response)
        } else {
            let mut refused = ErrorResponse::new(Some("invalid api_key or access_token".into()));
            *refused.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::FORBIDDEN;
            Err(refused)
        }
    };
    let ws = tokio_tungstenite::accept_hdr_async(tcp, check).await?;
    shared.lock_control().stream_connections += 1;
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    shared.lock_state().subscribers.push(tx);
    let mut heartbeat = tokio::time::interval(std::time::Duration::from_secs(1));
    // Read as each message would go: a stream silenced while this loop waits stays silent.
    let silent = || shared.lock_control().silent_streams;
    loop {
        tokio::select! {
            _ = heartbeat.tick() => {
                if !silent() {
                    sink.send(Message::binary(vec![0u8])).await?;
                }
            }
            _ = closed.changed() => {
                let _ = sink.close().await;
                return Ok(());
            }
            event = rx.recv() => {
                let Some(event) = event else { return Ok(()) };
                if !silent() {
                    sink.send(Message::text(event)).await?;
                }
            }
            message = source.next() => match message {
                Some(Ok(Message::Ping(p))) => sink.send(Message::Pong(p)).await?,
                Some(Ok(Message::Close(_))) | None => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
            },
        }
    }
}
