//! Temporary files and a mixed feed for `replay.rs`, `record.rs` and `replay_properties.rs`.
#![allow(dead_code, unreachable_pub)]

use futures::StreamExt;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tradegraph_core::{Book, BookLevel, Candle, Side, Tick, Timeframe, Timestamp, Trade};
use tradegraph_market::feed::replay::{Replay, ReplayConfig, ReplayStats};
use tradegraph_market::{FeedNotice, GapKind, MarketEvent, SimulatedClock};

/// A file in the temporary directory, removed on drop.
pub struct TempFile(pub PathBuf);

impl TempFile {
    /// A fresh path ending in `name` (nothing is created).
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("tradegraph-replay-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir.join(name))
    }

    /// A file holding `contents`.
    pub fn with(name: &str, contents: impl AsRef<[u8]>) -> Self {
        let file = Self::new(name);
        std::fs::write(&file.0, contents).unwrap();
        file
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

pub fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

pub fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// Every kind of event and notice, with decimals of up to 28 digits.
pub fn mixed_events() -> Vec<MarketEvent> {
    let t0 = ts("2025-01-01T00:00:00.123Z");
    let level = |p: &str, q: &str, orders| BookLevel {
        price: d(p),
        quantity: d(q),
        orders,
    };
    let mut full_tick = Tick::new(t0.add_millis(5), d("51234.05"), d("30"));
    full_tick.bid = Some(d("51234.00"));
    full_tick.ask = Some(d("51234.10"));
    full_tick.day_volume = Some(d("1234567"));
    full_tick.total_buy_quantity = Some(d("0.0000000000000000000000000001"));
    full_tick.total_sell_quantity = Some(d("79228162514264337593543950335"));
    // every digit a decimal holds (a negative open interest is refused as malformed)
    full_tick.open_interest = Some(d("7.9228162514264337593543950335"));
    let notice = |ms, notice| MarketEvent::Notice {
        feed: "binance".into(),
        ts: t0.add_millis(ms),
        notice,
    };
    vec![
        notice(
            0,
            FeedNotice::Connected {
                url: "ws://127.0.0.1:9/stream?streams=a/b".into(),
            },
        ),
        MarketEvent::Trade {
            symbol: "BTCUSDT".into(),
            trade: Trade {
                ts: t0,
                price: d("93512.10000000"),
                quantity: d("0.00123000"),
                aggressor: Side::Sell,
                trade_id: u64::MAX,
                first_trade_id: None,
                last_trade_id: None,
            },
        },
        MarketEvent::Tick {
            symbol: "BANKNIFTY".into(),
            tick: Tick::new(
                t0.add_millis(1),
                d("3.1415926535897932384626433832"),
                Decimal::ZERO,
            ),
        },
        MarketEvent::Tick {
            symbol: "BANKNIFTY-FUT".into(),
            tick: full_tick,
        },
        MarketEvent::Book {
            symbol: "BANKNIFTY-FUT".into(),
            book: Book {
                ts: t0.add_millis(5),
                bids: vec![
                    level("51234.00", "30", Some(2)),
                    level("51233.95", "15", Some(0)),
                ],
                asks: vec![level("51234.10", "45", None)],
                update_id: Some(160),
            },
        },
        MarketEvent::Book {
            symbol: "BTCUSDT".into(),
            book: Book::default(),
        },
        MarketEvent::Candle {
            symbol: "BTCUSDT".into(),
            candle: Candle {
                open_time: ts("2025-01-01T00:00:00Z"),
                timeframe: Timeframe::M1,
                open: d("93500.00"),
                high: d("93520.00"),
                low: d("93490.00"),
                close: d("93512.10"),
                volume: d("12.50000000"),
                trades: 101,
                quote_volume: None,
                taker_buy_volume: None,
                taker_buy_quote_volume: None,
            },
            closed: false,
        },
        MarketEvent::Candle {
            symbol: "NIFTY 50 \"quoted\"\n".into(),
            candle: Candle::opening(
                ts("2024-12-02T03:45:00Z"),
                Timeframe::D1,
                d("24045.25"),
                d("1"),
            ),
            closed: true,
        },
        notice(
            7,
            FeedNotice::Disconnected {
                reason: "line\nbreak, \"quotes\", ünïcode 🚀".into(),
            },
        ),
        notice(
            8,
            FeedNotice::Reconnecting {
                attempt: u32::MAX,
                delay_ms: u64::MAX,
            },
        ),
        notice(
            9,
            FeedNotice::Gap {
                symbol: "BTCUSDT".into(),
                kind: GapKind::TradeIds {
                    first_missing: 3,
                    last_missing: 4,
                },
            },
        ),
        notice(
            10,
            FeedNotice::Gap {
                symbol: "BTCUSDT".into(),
                kind: GapKind::Time {
                    from: t0,
                    to: t0.add_millis(60_000),
                },
            },
        ),
        notice(
            11,
            FeedNotice::Malformed {
                origin: "frame 12".into(),
                reason: "{not json".into(),
            },
        ),
        notice(
            12,
            FeedNotice::Message {
                kind: "order".into(),
                payload: r#"{"order_id":"1"}"#.into(),
            },
        ),
    ]
}

/// Everything a replay of `path` yields, with its stats.
pub async fn replay_all(path: &Path, symbol: &str) -> (Vec<MarketEvent>, ReplayStats) {
    let replay = Replay::new(ReplayConfig::new(path, symbol)).unwrap();
    let stats = replay.stats();
    let events = replay.stream().collect().await;
    (events, stats)
}

/// A replay of `path` on `clock`, checking at every event that the clock has reached the
/// event's `known_at` and has not gone past what was handed out so far.
pub async fn replay_checking_clock(config: ReplayConfig) -> Vec<MarketEvent> {
    let clock: SimulatedClock = config.clock.clone();
    let mut events = Replay::new(config).unwrap().stream();
    let mut seen = Vec::new();
    let mut latest = Timestamp::from_millis(i64::MIN);
    while let Some(event) = events.next().await {
        use tradegraph_market::Clock;
        let now = clock.now();
        assert!(
            event.known_at() <= now,
            "{event:?} is known at {} but the clock says {now}",
            event.known_at()
        );
        latest = latest.max(event.known_at());
        assert_eq!(
            now,
            latest.max(Timestamp::EPOCH),
            "the clock ran ahead of the events"
        );
        seen.push(event);
    }
    seen
}
