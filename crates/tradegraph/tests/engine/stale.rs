//! A live feed's silences: one that goes quiet is reported stale, whatever it says of its
//! connection (after a reconnection that brings no data, and from the start when no data ever
//! comes); one that lost its connection makes up no candles.

use super::support::*;
use futures::channel::mpsc;
use std::time::{Duration, Instant};
use tradegraph::engine::{paper_broker, BotHandle, Engine, FeedState, Mode};
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Side, Timestamp, Trade};
use tradegraph_market::{FeedNotice, MarketEvent, SimulatedClock};
use tradegraph_store::Stores;

/// A service-mode bot on a feed the test writes, stale after 1 s of silence; its handle and
/// the feed's sender. The bot runs until the test ends.
async fn live(name: &str) -> (BotHandle, mpsc::UnboundedSender<MarketEvent>, String) {
    let (handle, feed, symbol, _) = live_on(name, Stores::memory()).await;
    (handle, feed, symbol)
}

async fn live_on(
    name: &str,
    stores: Stores,
) -> (
    BotHandle,
    mpsc::UnboundedSender<MarketEvent>,
    String,
    Stores,
) {
    let symbol = unique(name);
    let mut config = config(
        btc_as(&symbol),
        ScriptedPm::at(&[]),
        RiskLimits::default(),
        stores.clone(),
        Mode::Service,
    );
    config.stale_after = Duration::from_secs(1);
    let broker = paper_broker(&config).unwrap();
    let (tx, rx) = mpsc::unbounded();
    let engine = Box::pin(Engine::start(config, SimulatedClock::default(), rx, broker))
        .await
        .unwrap();
    let handle = engine.handle();
    tokio::spawn(async move {
        let _ = Box::pin(engine.run(std::future::pending(), |_| {})).await;
    });
    (handle, tx, symbol, stores)
}

async fn until_feed(handle: &BotHandle, state: FeedState, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while handle.status().feed.state != state {
        assert!(
            Instant::now() < deadline,
            "{what}: the feed is {:?}",
            handle.status().feed
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn connected() -> MarketEvent {
    MarketEvent::Notice {
        feed: "test".into(),
        ts: Timestamp::from_secs(1_700_000_000),
        notice: FeedNotice::Connected {
            url: "wss://feed.test/ws".into(),
        },
    }
}

#[tokio::test]
async fn a_reconnection_that_brings_no_data_is_stale_again() {
    let (handle, feed, symbol) = live("SR").await;
    feed.unbounded_send(MarketEvent::Trade {
        symbol: symbol.as_str().into(),
        trade: Trade::new(
            Timestamp::from_secs(1_700_000_000),
            "100".parse().unwrap(),
            "1".parse().unwrap(),
            Side::Buy,
            1,
        ),
    })
    .unwrap();
    until_feed(&handle, FeedState::Connected, "data").await;
    until_feed(&handle, FeedState::Stale, "the first silence").await;
    feed.unbounded_send(connected()).unwrap();
    until_feed(&handle, FeedState::Connected, "the reconnection").await;
    until_feed(
        &handle,
        FeedState::Stale,
        "the silence after the reconnection",
    )
    .await;
}

#[tokio::test]
async fn a_feed_that_connects_and_never_delivers_is_stale() {
    let (handle, feed, _) = live("SN").await;
    feed.unbounded_send(connected()).unwrap();
    until_feed(&handle, FeedState::Connected, "the connection").await;
    until_feed(&handle, FeedState::Stale, "the silence").await;
}

fn trade(symbol: &str, at: &str, id: u64) -> MarketEvent {
    MarketEvent::Trade {
        symbol: symbol.into(),
        trade: Trade::new(
            at.parse().unwrap(),
            "100".parse().unwrap(),
            "1".parse().unwrap(),
            Side::Buy,
            id,
        ),
    }
}

fn notice(notice: FeedNotice) -> MarketEvent {
    MarketEvent::Notice {
        feed: "test".into(),
        ts: Timestamp::from_secs(1_700_000_000),
        notice,
    }
}

/// While the feed is down, no minute closes on made-up time, and the minutes it missed are
/// not filled with flat candles (decision cycles would run on them): they close, and the
/// minutes after the hole go on, once data shows them over.
#[tokio::test]
async fn a_feed_down_makes_up_no_candles() {
    let (handle, feed, symbol, stores) = live_on("SG", Stores::memory()).await;
    let minutes = || async {
        stores
            .hot
            .recent_candles(&symbol.as_str().into(), tradegraph_core::Timeframe::M1, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.open_time.to_string(), c.trades))
            .collect::<Vec<_>>()
    };
    feed.unbounded_send(trade(&symbol, "2024-01-01T10:00:59Z", 1))
        .unwrap();
    until_feed(&handle, FeedState::Connected, "data").await;
    feed.unbounded_send(notice(FeedNotice::Disconnected {
        reason: "reset by peer".into(),
    }))
    .unwrap();
    until_feed(&handle, FeedState::Disconnected, "the outage").await;
    // Seconds past the quiet grace: a quiet market's minute would have closed by now.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert!(minutes().await.is_empty(), "{:?}", minutes().await);
    feed.unbounded_send(connected()).unwrap();
    feed.unbounded_send(trade(&symbol, "2024-01-01T10:05:10Z", 2))
        .unwrap();
    feed.unbounded_send(trade(&symbol, "2024-01-01T10:06:01Z", 3))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while minutes().await.len() < 2 {
        assert!(Instant::now() < deadline, "{:?}", minutes().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut seen = minutes().await;
    seen.sort();
    assert_eq!(
        seen,
        [
            ("2024-01-01T10:00:00Z".to_owned(), 1),
            ("2024-01-01T10:05:00Z".to_owned(), 1)
        ]
    );
}
