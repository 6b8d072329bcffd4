//! A local Kite-speaking WebSocket server and helpers for `kite_feed.rs`.
#![allow(dead_code, unreachable_pub)]

use futures::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::{http, Message};
use tokio_tungstenite::WebSocketStream;
use tradegraph_core::Timestamp;
use tradegraph_market::feed::kite::{KiteConfig, KiteFeed};
use tradegraph_market::feed::{Backoff, Feed};
use tradegraph_market::{FeedNotice, MarketEvent, SimulatedClock};

pub const KEY: &str = "kite_test_key";
pub const TOKEN: &str = "s3cret-access-token";
pub const INFY: u32 = 408_065;
pub const FUT: u32 = (52_226 << 8) | 2;
pub const T0: i64 = 1_718_359_000_000;

pub type Ws = WebSocketStream<TcpStream>;

/// What the server saw.
#[derive(Default)]
pub struct Seen {
    pub queries: Vec<String>,
    pub texts: Vec<String>,
    pub pongs: usize,
}

pub fn ltp(token: u32, price: u32) -> Vec<u8> {
    [token.to_be_bytes(), price.to_be_bytes()].concat()
}

pub fn full(token: u32, ltp: u32, volume: u32, secs: u32) -> Vec<u8> {
    let mut b = vec![0u8; 184];
    for (at, v) in [(0, token), (4, ltp), (16, volume), (60, secs)] {
        b[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }
    // Best bid 1 below, best ask 1 above the last price, 25 each.
    for (at, price) in [(64, ltp - 5), (124, ltp + 5)] {
        b[at..at + 4].copy_from_slice(&25u32.to_be_bytes());
        b[at + 4..at + 8].copy_from_slice(&price.to_be_bytes());
        b[at + 8..at + 10].copy_from_slice(&3u16.to_be_bytes());
    }
    b
}

pub fn frame(packets: &[Vec<u8>]) -> Message {
    let mut out = (packets.len() as u16).to_be_bytes().to_vec();
    for p in packets {
        out.extend_from_slice(&(p.len() as u16).to_be_bytes());
        out.extend_from_slice(p);
    }
    Message::binary(out)
}

/// Accepts one connection, checking the credentials, and reads the subscription.
pub async fn accept(listener: &TcpListener, seen: &Arc<Mutex<Seen>>) -> Option<Ws> {
    let (tcp, _) = listener.accept().await.unwrap();
    let seen2 = Arc::clone(seen);
    // The callback's signature is tungstenite's.
    #[allow(clippy::result_large_err)]
    let check = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let query = req.uri().query().unwrap_or_default().to_owned();
        seen2.lock().unwrap().queries.push(query.clone());
        if query == format!("api_key={KEY}&access_token={TOKEN}") {
            Ok(resp)
        } else {
            let mut denied = ErrorResponse::new(Some("bad credentials".into()));
            *denied.status_mut() = http::StatusCode::FORBIDDEN;
            Err(denied)
        }
    };
    let mut ws = tokio_tungstenite::accept_hdr_async(tcp, check).await.ok()?;
    for _ in 0..2 {
        let msg = timeout(Duration::from_secs(5), ws.next())
            .await
            .ok()??
            .ok()?;
        seen.lock()
            .unwrap()
            .texts
            .push(msg.into_text().ok()?.to_string());
    }
    Some(ws)
}

/// Reads until a pong arrives (or a second passes).
pub async fn await_pong(ws: &mut Ws, seen: &Arc<Mutex<Seen>>) {
    let deadline = Instant::now() + Duration::from_secs(1);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if msg.is_pong() {
            seen.lock().unwrap().pongs += 1;
            return;
        }
    }
}

pub fn config(port: u16, silence: Duration) -> KiteConfig {
    KiteConfig {
        url: format!("ws://127.0.0.1:{port}"),
        silence_timeout: silence,
        connect_timeout: Duration::from_secs(5),
        backoff: Backoff::new(Duration::from_millis(20), Duration::from_millis(50)),
        ..KiteConfig::new(
            KEY,
            TOKEN,
            vec![(INFY, "INFY".into()), (FUT, "NIFTY-FUT".into())],
        )
    }
}

pub fn feed(config: KiteConfig) -> Feed {
    let clock = SimulatedClock::new(Timestamp::from_millis(T0));
    KiteFeed::new(config, Arc::new(clock)).unwrap().stream()
}

/// Events until `stop` matches one (included), within 10 s.
pub async fn until(
    feed: &mut Feed,
    mut stop: impl FnMut(&MarketEvent) -> bool,
) -> Vec<MarketEvent> {
    let mut events = Vec::new();
    let run = async {
        while let Some(event) = feed.next().await {
            let done = stop(&event);
            events.push(event);
            if done {
                break;
            }
        }
    };
    let finished = timeout(Duration::from_secs(10), run).await.is_ok();
    assert!(finished, "timed out; got {events:#?}");
    events
}

pub fn notice(e: &MarketEvent) -> Option<&FeedNotice> {
    match e {
        MarketEvent::Notice { notice, .. } => Some(notice),
        _ => None,
    }
}

pub fn assert_no_secrets(events: &[MarketEvent]) {
    let shown = format!("{events:?} {}", serde_json::to_string(events).unwrap());
    assert!(
        !shown.contains(TOKEN) && !shown.contains(KEY),
        "secret leaked: {shown}"
    );
}
