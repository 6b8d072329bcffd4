//! The Binance feed's connections: replaced when ageing without losing or repeating a trade,
//! replaced when silent, retried with backoff when refused.
//!
//! The local server plays the exchange: one sequence of trades, every connection receiving it
//! from the moment it connects, as Binance does.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tradegraph_market::feed::binance::{BinanceConfig, BinanceFeed};
use tradegraph_market::feed::{Backoff, Feed};
use tradegraph_market::{FeedNotice, MarketEvent, SystemClock};

/// Starts the exchange: a trade every millisecond or so, and a closed 1-minute kline every ten
/// trades (time runs fast here), to every open connection. Every other connection lags 20 ms
/// behind, so a successor connection is sometimes behind its predecessor and sometimes ahead.
async fn exchange() -> (String, Arc<AtomicUsize>) {
    let (trades, _) = broadcast::channel::<(Instant, String)>(1 << 16);
    let producer = trades.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(1));
        for id in 1_000u64.. {
            interval.tick().await;
            let frame = format!(
                r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":1,"s":"BTCUSDT","t":{id},"p":"93512.10","q":"0.001","T":1,"m":true,"M":true}}}}"#
            );
            let _ = producer.send((Instant::now(), frame));
            if id % 10 == 0 {
                let t = id / 10 * 60_000;
                let kline = format!(
                    r#"{{"stream":"btcusdt@kline_1m","data":{{"e":"kline","E":1,"s":"BTCUSDT","k":{{"t":{t},"T":1,"s":"BTCUSDT","i":"1m","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1","v":"1","n":1,"x":true,"q":"1","V":"1","Q":"1","B":"0"}}}}}}"#
                );
                let _ = producer.send((Instant::now(), kline));
            }
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut feed = trades.subscribe();
            let lag = Duration::from_millis(20)
                * u32::from(counter.fetch_add(1, Ordering::SeqCst) % 2 == 1);
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
                loop {
                    tokio::select! {
                        frame = feed.recv() => match frame {
                            Ok((at, frame)) => {
                                tokio::time::sleep_until(at + lag).await;
                                if ws.send(Message::text(frame)).await.is_err() { break }
                            }
                            Err(broadcast::error::RecvError::Lagged(_)) => {}
                            Err(broadcast::error::RecvError::Closed) => break,
                        },
                        incoming = ws.next() => match incoming {
                            Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                            Some(Ok(_)) => {}
                        },
                    }
                }
            });
        }
    });
    (url, connections)
}

fn config(url: &str) -> BinanceConfig {
    BinanceConfig {
        url: url.to_owned(),
        backoff: Backoff::new(Duration::from_millis(20), Duration::from_millis(100)),
        ..BinanceConfig::new("BTCUSDT")
    }
}

fn feed(config: BinanceConfig) -> Feed {
    BinanceFeed::new(config, Arc::new(SystemClock))
        .unwrap()
        .stream()
}

async fn next(events: &mut Feed) -> MarketEvent {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .expect("the feed never ends")
}

fn describe(event: &MarketEvent) -> String {
    match event {
        MarketEvent::Notice { notice, .. } => match notice {
            FeedNotice::Connected { .. } => "connected".into(),
            FeedNotice::Disconnected { .. } => "disconnected".into(),
            FeedNotice::Reconnecting { attempt, .. } => format!("reconnecting {attempt}"),
            other => format!("{other:?}"),
        },
        other => format!("{other:?}"),
    }
}

/// A server that accepts WebSocket connections and never sends anything.
async fn quiet_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
                while ws.next().await.is_some() {}
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_roll_over_without_a_gap() {
    let (url, connections) = exchange().await;
    let config = BinanceConfig {
        depth: false,
        max_connection_age: Duration::from_millis(300),
        ..config(&url)
    };
    let mut events = feed(config);
    // A replacement that loses nothing is no disconnection: it was announced as one (a hole in
    // the data, and a "no market data" alert with its recovery every day).
    let (mut connected, mut replaced) = (0, Vec::new());
    let (mut trades, mut klines) = (Vec::new(), Vec::new());
    while connected + replaced.len() < 4 {
        match next(&mut events).await {
            MarketEvent::Trade { trade, .. } => trades.push(trade.trade_id),
            MarketEvent::Candle { candle, closed, .. } => {
                assert!(closed);
                klines.push(candle.open_time.millis());
            }
            MarketEvent::Notice { notice, .. } => match notice {
                FeedNotice::Connected { .. } => connected += 1,
                FeedNotice::Replaced { reason } => replaced.push(reason),
                other => panic!("no {other:?} when rolling over"),
            },
            other => panic!("{other:?}"),
        }
    }
    // Trades after the last switch, too.
    let wanted = trades.len() + 20;
    while trades.len() < wanted {
        if let MarketEvent::Trade { trade, .. } = next(&mut events).await {
            trades.push(trade.trade_id);
        }
    }
    assert_eq!((connected, replaced.len()), (1, 3), "{replaced:?}");
    for (n, reason) in replaced.iter().enumerate() {
        let expected = format!("connection {} replaced by connection {}", n + 1, n + 2);
        assert!(reason.starts_with(&expected), "{reason}");
        assert!(reason.contains("continue the old connection's"), "{reason}");
    }
    assert!(trades.len() > 100, "{} trades", trades.len());
    for pair in trades.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "trade ids run on");
    }
    assert!(klines.len() > 10, "{} klines", klines.len());
    for pair in klines.windows(2) {
        assert_eq!(pair[1], pair[0] + 60_000, "each closed kline once");
    }
    assert!(connections.load(Ordering::SeqCst) >= 4);
}

#[tokio::test]
async fn a_silent_connection_is_replaced() {
    let url = quiet_server().await;
    let config = BinanceConfig {
        silence_timeout: Duration::from_millis(200),
        ..config(&url)
    };
    let mut events = feed(config);
    let mut seen = Vec::new();
    let mut reason = String::new();
    for _ in 0..4 {
        let event = next(&mut events).await;
        if let MarketEvent::Notice {
            notice: FeedNotice::Disconnected { reason: r },
            ..
        } = &event
        {
            reason.clone_from(r);
        }
        seen.push(describe(&event));
    }
    assert_eq!(
        seen,
        ["connected", "disconnected", "reconnecting 1", "connected"]
    );
    assert!(reason.contains("nothing received for 200ms"), "{reason}");
}

#[tokio::test]
async fn refused_connections_back_off() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    drop(listener);
    let backoff = config(&url).backoff;
    let mut events = feed(config(&url));
    for expected in 1..=3u32 {
        match next(&mut events).await {
            MarketEvent::Notice {
                notice: FeedNotice::Disconnected { reason },
                ..
            } => assert!(reason.contains(&url), "{reason}"),
            other => panic!("{other:?}"),
        }
        match next(&mut events).await {
            MarketEvent::Notice {
                notice: FeedNotice::Reconnecting { attempt, delay_ms },
                ..
            } => {
                assert_eq!(attempt, expected);
                assert!(u128::from(delay_ms) <= backoff.ceiling(attempt).as_millis());
            }
            other => panic!("{other:?}"),
        }
    }
}
