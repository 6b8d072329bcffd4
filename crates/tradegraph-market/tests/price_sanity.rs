//! Issue 12, item 10: prices that cannot be real (zero, negative, a candle whose high is below
//! its low) are replaced at the feed by a `Malformed` notice, and the stream goes on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod replay_support;

use replay_support::{replay_all, TempFile};
use tradegraph_core::{Symbol, Timestamp};
use tradegraph_market::{FeedNotice, MarketEvent};

/// `(origin, reason)` of a malformed notice.
fn malformed(event: &MarketEvent) -> Option<(&str, &str)> {
    match event {
        MarketEvent::Notice {
            notice: FeedNotice::Malformed { origin, reason },
            ..
        } => Some((origin, reason)),
        _ => None,
    }
}

#[tokio::test]
async fn replay_csv_negative_price_is_a_notice_not_a_tick() {
    let file = TempFile::with(
        "negative.csv",
        "timestamp,price,volume\n\
         2024-01-01T10:00:00Z,100,1\n\
         2024-01-01T10:00:01Z,-5,1\n\
         2024-01-01T10:00:02Z,101,1\n",
    );
    let (events, stats) = replay_all(file.path(), "X").await;
    assert_eq!(events.len(), 3, "{events:?}");
    let (origin, reason) = malformed(&events[1]).expect("the negative price is a notice");
    assert!(origin.ends_with("negative.csv:3"), "{origin}");
    assert!(reason.contains("price -5"), "{reason}");
    let prices: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Tick { tick, .. } => Some(tick.price.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(prices, ["100", "101"]);
    assert_eq!(stats.malformed(), 1);
}

#[tokio::test]
async fn replay_jsonl_zero_price_is_a_notice_not_a_trade() {
    let line = |price: &str, id: u64| {
        format!(
            r#"{{"type":"trade","symbol":"BTCUSDT","ts":"2024-01-01T10:00:0{id}Z","price":"{price}","quantity":"1","aggressor":"BUY","trade_id":{id}}}"#
        )
    };
    let contents = [line("100", 1), line("0", 2), line("101", 3)].join("\n");
    let file = TempFile::with("zero.jsonl", contents);
    let (events, stats) = replay_all(file.path(), "BTCUSDT").await;
    assert_eq!(events.len(), 3, "{events:?}");
    let (origin, reason) = malformed(&events[1]).expect("the zero price is a notice");
    assert!(origin.ends_with("zero.jsonl:2"), "{origin}");
    assert!(reason.contains("price 0"), "{reason}");
    assert!(matches!(&events[2], MarketEvent::Trade { trade, .. } if trade.trade_id == 3));
    assert_eq!(stats.malformed(), 1);
}

#[cfg(feature = "binance")]
#[test]
fn binance_kline_high_below_low_is_malformed_and_the_next_frame_decodes() {
    use tradegraph_market::feed::binance::{Decoded, Decoder};
    use tradegraph_market::MarketError;
    let kline = |high: &str, low: &str| {
        format!(
            r#"{{"stream":"btcusdt@kline_1m","data":{{"e":"kline","E":1672515782136,"s":"BTCUSDT","k":{{"t":1672515780000,"T":1672515839999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"100","c":"100","h":"{high}","l":"{low}","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}}}}"#
        )
    };
    let decoder = Decoder::new("BTCUSDT");
    let err = decoder
        .decode(&kline("90", "110"), Timestamp::EPOCH)
        .expect_err("high below low");
    let MarketError::Malformed { origin, reason } = err else {
        panic!("{err:?}")
    };
    assert_eq!(origin, "binance frame");
    assert!(
        reason.contains("high 90") && reason.contains("low 110"),
        "{reason}"
    );
    let err = decoder
        .decode(&kline("0", "0"), Timestamp::EPOCH)
        .expect_err("zero prices");
    assert!(err.to_string().contains("not positive"), "{err}");
    let ok = decoder
        .decode(&kline("110", "90"), Timestamp::EPOCH)
        .unwrap();
    assert!(
        matches!(ok, Decoded::Event(MarketEvent::Candle { .. })),
        "{ok:?}"
    );
}

#[cfg(feature = "kite")]
#[test]
fn kite_last_price_zero_is_a_notice_not_a_tick() {
    use tradegraph_market::feed::kite::{split, Converter, Message};
    let ltp = |price: u32| -> Vec<u8> {
        let packet = [408_065u32.to_be_bytes(), price.to_be_bytes()].concat();
        let mut out = 1u16.to_be_bytes().to_vec();
        out.extend_from_slice(&(packet.len() as u16).to_be_bytes());
        out.extend_from_slice(&packet);
        out
    };
    let mut converter = Converter::new("kite", &[(408_065, Symbol::new("INFY"))]);
    let mut events = Vec::new();
    for price in [149_555, 0, 149_600] {
        let bytes = ltp(price);
        let Ok(Message::Packets(packets)) = split(&bytes) else {
            panic!("a packet")
        };
        for packet in packets {
            converter.convert(&packet.unwrap(), Timestamp::from_millis(1), &mut events);
        }
    }
    assert_eq!(events.len(), 3, "{events:?}");
    let (origin, reason) = malformed(&events[1]).expect("the zero price is a notice");
    assert!(
        origin.contains("408065") && origin.contains("INFY"),
        "{origin}"
    );
    assert!(reason.contains("price 0"), "{reason}");
    let prices: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Tick { tick, .. } => Some(tick.price.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(prices, ["1495.55", "1496.00"]);
}

#[tokio::test]
async fn replay_jsonl_negative_tick_totals_are_notices_naming_the_field() {
    let tick = |ts: &str, field: &str, value: &str| {
        format!(
            r#"{{"type":"tick","symbol":"X","ts":"{ts}","price":"100","volume":"0","{field}":"{value}"}}"#
        )
    };
    let lines = [
        tick("2024-01-01T10:00:00Z", "total_buy_quantity", "5"),
        tick("2024-01-01T10:00:01Z", "total_sell_quantity", "-1"),
        tick("2024-01-01T10:00:02Z", "total_buy_quantity", "-2"),
        tick("2024-01-01T10:00:03Z", "day_volume", "-3"),
        tick("2024-01-01T10:00:04Z", "open_interest", "-4"),
    ];
    let file = TempFile::with("totals.jsonl", &(lines.join("\n") + "\n"));
    let (events, _) = replay_all(file.path(), "X").await;
    assert_eq!(events.len(), 5, "{events:?}");
    assert!(malformed(&events[0]).is_none(), "{:?}", events[0]);
    for (i, what) in [
        "tick total sell quantity -1",
        "tick total buy quantity -2",
        "tick day volume -3",
        "tick open interest -4",
    ]
    .iter()
    .enumerate()
    {
        let (origin, reason) = malformed(&events[i + 1]).expect("a notice");
        assert!(
            origin.ends_with(&format!("totals.jsonl:{}", i + 2)),
            "{origin}"
        );
        assert_eq!(reason, format!("{what} is negative"));
    }
}
