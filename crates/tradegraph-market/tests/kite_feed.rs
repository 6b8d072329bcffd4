//! The Kite feed against a local WebSocket server speaking Kite's wire format: credentials in
//! the query, subscribe + mode, binary frames, heartbeats, pings, text messages, a malformed
//! frame, a dropped connection, silence, and a rejected handshake. No internet.
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod kite_support;

use futures::{SinkExt, StreamExt};
use kite_support::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::{sleep, timeout, Instant};
use tokio_tungstenite::tungstenite::Message;
use tradegraph_core::Timestamp;
use tradegraph_market::{FeedNotice, GapKind, MarketEvent};

#[tokio::test]
async fn streams_reports_reconnects_and_resubscribes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let server_seen = Arc::clone(&seen);
    let server = tokio::spawn(async move {
        let seen = server_seen;
        let mut ws = accept(&listener, &seen).await.unwrap();
        ws.send(frame(&[
            ltp(INFY, 149_555),
            full(FUT, 2_345_000, 1_000, 1_718_359_100),
        ]))
        .await
        .unwrap();
        ws.send(Message::binary(vec![0u8])).await.unwrap();
        ws.send(Message::Ping(vec![1, 2].into())).await.unwrap();
        await_pong(&mut ws, &seen).await;
        ws.send(Message::text(
            r#"{"type":"error","data":"Invalid token s3cret-access-token"}"#,
        ))
        .await
        .unwrap();
        // Messages so far: 1 frame, 2 heartbeat, 3 ping, 4 text; this is frame 5.
        ws.send(frame(&[
            vec![0; 10],
            full(FUT, 2_345_100, 1_300, 1_718_359_101),
        ]))
        .await
        .unwrap();
        drop(ws);
        let mut ws = accept(&listener, &seen).await.unwrap();
        ws.send(frame(&[full(FUT, 2_345_200, 1_500, 1_718_359_160)]))
            .await
            .unwrap();
        sleep(Duration::from_secs(30)).await;
    });

    let mut feed = feed(config(port, Duration::from_secs(5)));
    let is_last = |e: &MarketEvent| matches!(e, MarketEvent::Tick { tick, .. } if tick.day_volume == Some(1_500.into()));
    let events = until(&mut feed, is_last).await;
    assert_no_secrets(&events);

    let ticks: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Tick { symbol, tick } => Some((symbol.as_str(), tick)),
            _ => None,
        })
        .collect();
    let summary: Vec<String> = ticks
        .iter()
        .map(|(s, t)| format!("{s} {} {}", t.price, t.volume))
        .collect();
    assert_eq!(
        summary,
        [
            "INFY 1495.55 0",
            "NIFTY-FUT 23450.00 0",
            "NIFTY-FUT 23451.00 300",
            // After the reconnection the day volume is a new base: what traded while the link
            // was down is not this tick's.
            "NIFTY-FUT 23452.00 0"
        ]
    );
    assert_eq!(
        ticks[0].1.ts,
        Timestamp::from_millis(T0),
        "LTP packets take the clock's time"
    );
    assert_eq!(ticks[1].1.ts, Timestamp::from_secs(1_718_359_100));
    assert_eq!(
        ticks[1].1.bid.map(|p| p.to_string()).as_deref(),
        Some("23449.95")
    );
    assert_eq!(
        ticks[1].1.ask.map(|p| p.to_string()).as_deref(),
        Some("23450.05")
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, MarketEvent::Book { .. }))
            .count(),
        2
    );
    let book = timeout(Duration::from_secs(5), feed.next()).await.unwrap();
    assert!(
        matches!(book, Some(MarketEvent::Book { ref book, .. }) if book.bids.len() == 1),
        "{book:?}"
    );

    let notices: Vec<&FeedNotice> = events.iter().filter_map(notice).collect();
    let connected = |n: &&&FeedNotice| matches!(n, FeedNotice::Connected { url } if url.ends_with("?api_key=***&access_token=***"));
    assert_eq!(notices.iter().filter(connected).count(), 2, "{notices:#?}");
    assert!(notices.iter().any(|n| matches!(n, FeedNotice::Message { kind, payload } if kind == "error" && payload == "Invalid token ***")));
    assert!(notices.iter().any(|n| matches!(n, FeedNotice::Malformed { origin, reason } if origin == "frame 5 packet 1" && reason.contains("10 bytes"))));
    assert!(notices
        .iter()
        .any(|n| matches!(n, FeedNotice::Disconnected { .. })));
    assert!(notices
        .iter()
        .any(|n| matches!(n, FeedNotice::Reconnecting { attempt: 1, .. })));
    let gap = GapKind::Time {
        from: Timestamp::from_secs(1_718_359_101),
        to: Timestamp::from_secs(1_718_359_160),
    };
    assert!(notices.iter().any(
        |n| matches!(n, FeedNotice::Gap { symbol, kind } if symbol == "NIFTY-FUT" && *kind == gap)
    ));
    // INFY had data before the drop but none after: no gap for it yet.
    assert!(!notices
        .iter()
        .any(|n| matches!(n, FeedNotice::Gap { symbol, .. } if symbol == "INFY")));

    let seen = seen.lock().unwrap();
    assert_eq!(seen.pongs, 1, "the ping was answered");
    let subscribe = format!(r#"{{"a":"subscribe","v":[{INFY},{FUT}]}}"#);
    let mode = format!(r#"{{"a":"mode","v":["full",[{INFY},{FUT}]]}}"#);
    assert_eq!(
        seen.texts,
        [subscribe.clone(), mode.clone(), subscribe, mode],
        "subscribed twice"
    );
    server.abort();
}

#[tokio::test]
async fn silence_is_a_disconnect_heartbeats_are_not_and_dropping_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut ws = accept(&listener, &seen).await.unwrap();
        for _ in 0..12 {
            ws.send(Message::binary(vec![0u8])).await.unwrap();
            sleep(Duration::from_millis(100)).await;
        }
        // Then silence, with the connection open, until the feed gives up on it.
        let mut ws2 = accept(&listener, &seen).await.unwrap();
        drop(ws);
        // The feed is dropped: the connection ends.
        while let Some(Ok(_)) = ws2.next().await {}
        let _ = closed_tx.send(());
    });
    let started = Instant::now();
    let mut feed = feed(config(port, Duration::from_millis(400)));
    let is_disconnect =
        |e: &MarketEvent| matches!(notice(e), Some(FeedNotice::Disconnected { .. }));
    let events = until(&mut feed, is_disconnect).await;
    assert!(
        started.elapsed() >= Duration::from_millis(1_200),
        "heartbeats keep it alive"
    );
    let reason = format!("{:?}", events.last().and_then(notice));
    assert!(reason.contains("nothing received for 400ms"), "{reason}");
    let is_connected = |e: &MarketEvent| matches!(notice(e), Some(FeedNotice::Connected { .. }));
    until(&mut feed, is_connected).await;
    drop(feed);
    let closed = timeout(Duration::from_secs(2), closed_rx).await;
    assert!(
        matches!(closed, Ok(Ok(()))),
        "dropping the stream closes the connection"
    );
}

#[tokio::test]
async fn rejected_credentials_retry_with_growing_attempts_and_no_secret_in_reasons() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let server_seen = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let _ = accept(&listener, &server_seen).await;
        }
    });
    let mut config = config(port, Duration::from_secs(5));
    config.access_token = tradegraph_market::feed::kite::Secret::new("wrong-s3cret-access-token");
    let mut feed = feed(config);
    let second =
        |e: &MarketEvent| matches!(notice(e), Some(FeedNotice::Reconnecting { attempt: 2, .. }));
    let events = until(&mut feed, second).await;
    let shown = format!("{events:?}");
    assert!(!shown.contains("s3cret") && !shown.contains(KEY), "{shown}");
    assert!(shown.contains("403"), "{shown}");
    assert!(seen
        .lock()
        .unwrap()
        .queries
        .iter()
        .all(|q| q.contains("access_token=wrong-s3cret")));
}

#[tokio::test]
async fn a_server_that_closes_at_once_keeps_counting_until_a_frame_arrives() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    tokio::spawn(async move {
        // Three connections accepted and subscribed, then closed with nothing sent.
        for _ in 0..3 {
            drop(accept(&listener, &seen).await.unwrap());
        }
        // One heartbeat, then closed: the link was healthy.
        let mut ws = accept(&listener, &seen).await.unwrap();
        ws.send(Message::binary(vec![0u8])).await.unwrap();
        drop(ws);
        loop {
            drop(accept(&listener, &seen).await);
        }
    });
    let mut feed = feed(config(port, Duration::from_secs(5)));
    let mut reconnects = 0;
    let fifth_reconnect = |e: &MarketEvent| {
        if matches!(notice(e), Some(FeedNotice::Reconnecting { .. })) {
            reconnects += 1;
        }
        reconnects == 5
    };
    let events = until(&mut feed, fifth_reconnect).await;
    let attempts: Vec<u32> = events
        .iter()
        .filter_map(|e| match notice(e) {
            Some(FeedNotice::Reconnecting { attempt, .. }) => Some(*attempt),
            _ => None,
        })
        .collect();
    // Subscribing is not health: the count grows until a heartbeat arrives, then starts again.
    assert_eq!(attempts, [1, 2, 3, 1, 2]);
    let connected = events
        .iter()
        .filter(|e| matches!(notice(e), Some(FeedNotice::Connected { .. })))
        .count();
    assert_eq!(connected, 5, "each attempt connected and subscribed");
}
