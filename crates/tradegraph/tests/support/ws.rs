//! A local WebSocket server that plays a script: batches of frames (one batch a minute of
//! exchange time), each connection from the first batch, up to a limit the test raises; then it
//! keeps the connection alive as the venue does (Binance pings, Kite's one-byte heartbeats).

use futures::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::{http, Message};

/// How the server keeps an idle connection alive.
#[derive(Debug, Clone, Copy)]
pub enum Keepalive {
    /// A WebSocket ping (Binance).
    Ping,
    /// A one-byte binary message (Kite's heartbeat).
    Heartbeat,
}

/// What the server saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// The request target of each handshake (path and query).
    pub targets: Vec<String>,
    /// Text messages the client sent.
    pub texts: Vec<String>,
    /// Connections accepted.
    pub connections: usize,
}

/// The running server.
pub struct WsServer {
    pub url: String,
    pub seen: Arc<Mutex<Seen>>,
    limit: Arc<AtomicUsize>,
}

impl WsServer {
    /// Starts on `runtime`. `accept` decides from the request target whether the handshake
    /// succeeds (a refusal is a 403, as Kite answers bad credentials); each batch is followed
    /// by `pace` of wall time.
    pub fn start(
        runtime: &tokio::runtime::Runtime,
        script: Vec<Vec<Message>>,
        limit: usize,
        pace: Duration,
        keepalive: Keepalive,
        accept: fn(&str) -> bool,
    ) -> Self {
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let limit = Arc::new(AtomicUsize::new(limit));
        let script = Arc::new(script);
        let (server_seen, server_limit) = (Arc::clone(&seen), Arc::clone(&limit));
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let seen = Arc::clone(&server_seen);
                let limit = Arc::clone(&server_limit);
                let script = Arc::clone(&script);
                tokio::spawn(async move {
                    let check_seen = Arc::clone(&seen);
                    #[allow(clippy::result_large_err)]
                    let check =
                        move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                            let target = req.uri().to_string();
                            check_seen.lock().unwrap().targets.push(target.clone());
                            if accept(&target) {
                                Ok(resp)
                            } else {
                                let mut denied = ErrorResponse::new(Some("refused".into()));
                                *denied.status_mut() = http::StatusCode::FORBIDDEN;
                                Err(denied)
                            }
                        };
                    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
                        return;
                    };
                    seen.lock().unwrap().connections += 1;
                    let (mut tx, mut rx) = ws.split();
                    let reader_seen = Arc::clone(&seen);
                    let reader = tokio::spawn(async move {
                        while let Some(Ok(message)) = rx.next().await {
                            if let Message::Text(text) = message {
                                reader_seen.lock().unwrap().texts.push(text.to_string());
                            }
                        }
                    });
                    let mut next = 0;
                    let mut idle = tokio::time::Instant::now();
                    loop {
                        if reader.is_finished() {
                            return;
                        }
                        if next < limit.load(Ordering::Acquire).min(script.len()) {
                            for frame in &script[next] {
                                if tx.send(frame.clone()).await.is_err() {
                                    return;
                                }
                            }
                            next += 1;
                            tokio::time::sleep(pace).await;
                            continue;
                        }
                        if idle.elapsed() >= Duration::from_millis(500) {
                            idle = tokio::time::Instant::now();
                            let beat = match keepalive {
                                Keepalive::Ping => Message::Ping(vec![7].into()),
                                Keepalive::Heartbeat => Message::binary(vec![0u8]),
                            };
                            if tx.send(beat).await.is_err() {
                                return;
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                });
            }
        });
        Self { url, seen, limit }
    }

    /// From now on each connection plays the script up to batch `limit` (excluded).
    pub fn play_up_to(&self, limit: usize) {
        self.limit.store(limit, Ordering::Release);
    }
}
