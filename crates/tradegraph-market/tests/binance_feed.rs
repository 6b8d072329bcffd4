//! The Binance feed against a local WebSocket server speaking Binance's combined-stream format.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures::{SinkExt, StreamExt};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::{frame::coding::CloseCode, CloseFrame};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tradegraph_market::feed::binance::{BinanceConfig, BinanceFeed, TradeStream};
use tradegraph_market::feed::{Backoff, Feed};
use tradegraph_market::{FeedNotice, GapKind, MarketEvent, SystemClock};

type Ws = WebSocketStream<TcpStream>;

/// Serves each connection with `handler(index, socket)`; returns the base URL and the request
/// targets (path and query) in connection order.
async fn serve<F, Fut>(handler: F) -> (String, mpsc::UnboundedReceiver<String>)
where
    F: Fn(usize, Ws) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let (targets, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for index in 0.. {
            let (tcp, _) = listener.accept().await.unwrap();
            let targets = targets.clone();
            // The callback's error type is tungstenite's.
            #[allow(clippy::result_large_err)]
            let callback = move |request: &Request, response: Response| {
                let _ = targets.send(request.uri().to_string());
                Ok(response)
            };
            let ws = tokio_tungstenite::accept_hdr_async(tcp, callback)
                .await
                .unwrap();
            tokio::spawn(handler(index, ws));
        }
    });
    (url, received)
}

fn trade(id: u64, maker: bool) -> Message {
    Message::text(format!(
        r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":1735689600123,"s":"BTCUSDT","t":{id},"p":"93512.10","q":"0.00123000","T":1735689600122,"m":{maker},"M":true}}}}"#
    ))
}

const KLINE: &str = r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1735689660001,"s":"BTCUSDT","k":{"t":1735689600000,"T":1735689659999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"93500.00","c":"93512.10","h":"93520.00","l":"93490.00","v":"12.5","n":101,"x":true,"q":"1168901.25","V":"6.1","Q":"570423.00","B":"0"}}}"#;
const DEPTH: &str = r#"{"stream":"btcusdt@depth5@100ms","data":{"lastUpdateId":160,"bids":[["93512.00","1.5"],["93511.90","0.2"]],"asks":[["93512.10","0.7"]]}}"#;

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

/// A short description of an event, for comparing sequences.
fn describe(event: &MarketEvent) -> String {
    match event {
        MarketEvent::Trade { symbol, trade } => format!(
            "trade {symbol} {} {:?} {} {}",
            trade.trade_id, trade.aggressor, trade.price, trade.quantity
        ),
        MarketEvent::Candle { candle, closed, .. } => {
            format!(
                "candle {} {} closed={closed}",
                candle.timeframe, candle.close
            )
        }
        MarketEvent::Book { book, .. } => {
            format!(
                "book {:?} {}x{}",
                book.update_id,
                book.bids.len(),
                book.asks.len()
            )
        }
        MarketEvent::Notice { notice, .. } => match notice {
            FeedNotice::Connected { .. } => "connected".into(),
            FeedNotice::Disconnected { .. } => "disconnected".into(),
            FeedNotice::Reconnecting { attempt, .. } => format!("reconnecting {attempt}"),
            FeedNotice::Gap {
                kind:
                    GapKind::TradeIds {
                        first_missing,
                        last_missing,
                    },
                ..
            } => format!("gap {first_missing}..={last_missing}"),
            FeedNotice::Malformed { .. } => "malformed".into(),
            FeedNotice::Message { kind, .. } => format!("message {kind}"),
            other => format!("{other:?}"),
        },
        other => format!("{other:?}"),
    }
}

async fn next(events: &mut Feed) -> MarketEvent {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .expect("the feed never ends")
}

#[tokio::test]
async fn streams_answers_pings_reports_trouble_and_reconnects() {
    let (pong_tx, pong_rx) = oneshot::channel();
    let pong_tx = std::sync::Mutex::new(Some(pong_tx));
    let (url, mut targets) = serve(move |index, mut ws| {
        let pong_tx = pong_tx.lock().unwrap().take();
        async move {
            if index == 0 {
                for frame in [trade(1, true), Message::text(KLINE), Message::text(DEPTH)] {
                    ws.send(frame).await.unwrap();
                }
                ws.send(Message::Ping(b"ping-42"[..].into())).await.unwrap();
                while let Some(Ok(message)) = ws.next().await {
                    if let Message::Pong(payload) = message {
                        let _ = pong_tx.unwrap().send(payload.to_vec());
                        break;
                    }
                }
                ws.send(Message::text("{not json")).await.unwrap();
                ws.send(Message::text(r#"{"result":null,"id":1}"#))
                    .await
                    .unwrap();
                ws.send(Message::text(r#"{"code":2,"msg":"Invalid request"}"#))
                    .await
                    .unwrap();
                for frame in [trade(2, false), trade(5, false)] {
                    ws.send(frame).await.unwrap();
                }
                let close = CloseFrame {
                    code: CloseCode::Normal,
                    reason: "bye".into(),
                };
                let _ = ws.close(Some(close)).await;
            } else {
                ws.send(trade(8, true)).await.unwrap();
                while ws.next().await.is_some() {}
            }
        }
    })
    .await;

    let mut events = feed(config(&url));
    let mut seen = Vec::new();
    let mut malformed = None;
    let mut disconnect_reason = None;
    while seen
        .last()
        .is_none_or(|last: &String| !last.starts_with("trade BTCUSDT 8"))
    {
        let event = next(&mut events).await;
        if let MarketEvent::Notice { feed, notice, .. } = &event {
            assert_eq!(feed, "binance");
            match notice {
                FeedNotice::Malformed { origin, reason } => {
                    malformed = Some((origin.clone(), reason.clone()))
                }
                FeedNotice::Disconnected { reason } => disconnect_reason = Some(reason.clone()),
                _ => {}
            }
        }
        seen.push(describe(&event));
    }
    assert_eq!(
        seen,
        [
            "connected",
            "trade BTCUSDT 1 Sell 93512.10 0.00123000",
            "candle 1min 93512.10 closed=true",
            "book Some(160) 2x1",
            "malformed",
            "message error",
            "trade BTCUSDT 2 Buy 93512.10 0.00123000",
            "gap 3..=4",
            "trade BTCUSDT 5 Buy 93512.10 0.00123000",
            "disconnected",
            "reconnecting 1",
            "connected",
            "gap 6..=7",
            "trade BTCUSDT 8 Sell 93512.10 0.00123000",
        ]
    );
    assert_eq!(pong_rx.await.unwrap(), b"ping-42");
    let (origin, reason) = malformed.unwrap();
    assert_eq!(origin, "binance connection 1 frame 4");
    assert!(reason.contains("frame: `{not json`"), "{reason}");
    assert!(reason.contains("#1"), "{reason}");
    let reason = disconnect_reason.unwrap();
    assert!(reason.contains("1000 bye"), "{reason}");
    let expected = "/stream?streams=btcusdt@trade/btcusdt@kline_1m/btcusdt@depth5@100ms";
    assert_eq!(targets.recv().await.unwrap(), expected);
    assert_eq!(targets.recv().await.unwrap(), expected, "resubscribed");
}

#[tokio::test]
async fn aggregate_trades_only() {
    let (url, mut targets) = serve(|_, mut ws| async move {
        for (a, f, l) in [(10, 100, 104), (11, 105, 105), (13, 108, 110)] {
            let frame = format!(
                r#"{{"stream":"btcusdt@aggTrade","data":{{"e":"aggTrade","E":1,"s":"BTCUSDT","a":{a},"p":"93512.10","q":"0.5","f":{f},"l":{l},"T":2,"m":false,"M":true}}}}"#
            );
            ws.send(Message::text(frame)).await.unwrap();
        }
        while ws.next().await.is_some() {}
    })
    .await;
    let config = BinanceConfig {
        trade_stream: TradeStream::AggTrade,
        depth: false,
        klines: false,
        ..config(&url)
    };
    let mut events = feed(config);
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(describe(&next(&mut events).await));
    }
    assert_eq!(
        seen,
        [
            "connected",
            "trade BTCUSDT 10 Buy 93512.10 0.5",
            "trade BTCUSDT 11 Buy 93512.10 0.5",
            "gap 12..=12",
            "trade BTCUSDT 13 Buy 93512.10 0.5",
        ]
    );
    assert_eq!(
        targets.recv().await.unwrap(),
        "/stream?streams=btcusdt@aggTrade"
    );
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let (closed_tx, closed_rx) = oneshot::channel();
    let closed_tx = std::sync::Mutex::new(Some(closed_tx));
    let (url, _targets) = serve(move |_, mut ws| {
        let closed_tx = closed_tx.lock().unwrap().take();
        async move {
            ws.send(trade(1, true)).await.unwrap();
            while let Some(Ok(_)) = ws.next().await {}
            let _ = closed_tx.unwrap().send(());
        }
    })
    .await;
    let mut events = feed(config(&url));
    assert_eq!(describe(&next(&mut events).await), "connected");
    drop(events);
    tokio::time::timeout(Duration::from_secs(5), closed_rx)
        .await
        .expect("the server sees the connection end")
        .unwrap();
}
