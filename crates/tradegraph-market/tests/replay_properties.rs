//! Properties of the replay parser and the recorder: no line panics the parser, valid CSV rows
//! and arbitrary events survive a round trip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod replay_support;

use futures::stream;
use proptest::collection::vec;
use proptest::prelude::*;
use replay_support::{replay_all, TempFile};
use rust_decimal::Decimal;
use tradegraph_core::{
    Book, BookLevel, Candle, DayStats, Side, Symbol, Tick, Timeframe, Timestamp, Trade,
};
use tradegraph_market::feed::record::{JsonlWriter, RecordConfig, Recorder};
use tradegraph_market::feed::replay::LineParser;
use tradegraph_market::{FeedNotice, GapKind, MarketEvent};

/// Years 1 to 9999: the timestamps RFC 3339 can write.
const FIRST_MS: i64 = -62_135_596_800_000;
const LAST_MS: i64 = 253_402_300_799_999;
const MANTISSA: i128 = (1 << 96) - 1;

fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        (FIRST_MS..=LAST_MS),
        (1_500_000_000_000i64..2_000_000_000_000),
        (1_500_000_000i64..2_000_000_000).prop_map(|s| s * 1000),
    ]
    .prop_map(Timestamp::from_millis)
}

fn decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (-MANTISSA..=MANTISSA, 0u32..=28),
        (-1_000_000_000i128..1_000_000_000, 0u32..=8),
    ]
    .prop_map(|(m, scale)| Decimal::from_i128_with_scale(m, scale))
}

fn non_negative() -> impl Strategy<Value = Decimal> {
    decimal().prop_map(|d| d.abs())
}

/// A price a feed lets through: above zero and at most `MAX_PRICE` (issue 12, item 10), at
/// every scale.
fn positive() -> impl Strategy<Value = Decimal> {
    let wide = (0u32..=28).prop_flat_map(|scale| {
        // The largest mantissa whose value stays within MAX_PRICE (10^12) at this scale.
        let top = 10i128
            .checked_pow(12 + scale)
            .map_or(MANTISSA, |t| t.min(MANTISSA));
        (1..=top, Just(scale))
    });
    prop_oneof![wide, (1i128..1_000_000_000, 0u32..=8)]
        .prop_map(|(m, scale)| Decimal::from_i128_with_scale(m, scale))
        .prop_map(|d| {
            assert!(d <= tradegraph_core::MAX_PRICE, "{d}");
            d
        })
}

/// Four prices sorted as a consistent candle's low, open, close, high.
fn candle_prices() -> impl Strategy<Value = [Decimal; 4]> {
    [positive(), positive(), positive(), positive()].prop_map(|mut prices| {
        prices.sort();
        prices
    })
}

fn symbol() -> impl Strategy<Value = Symbol> {
    prop_oneof!["[A-Z0-9_-]{1,16}", any::<String>()].prop_map(Symbol::from)
}

fn timeframe() -> impl Strategy<Value = Timeframe> {
    proptest::sample::select(Timeframe::ALL.to_vec())
}

fn level() -> impl Strategy<Value = BookLevel> {
    (
        positive(),
        non_negative(),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(|(price, quantity, orders)| BookLevel {
            price,
            quantity,
            orders,
        })
}

/// The day's figures a feed lets through: prices above zero, quantities not negative.
fn day_stats() -> impl Strategy<Value = DayStats> {
    let price = || proptest::option::of(positive());
    let quantity = || proptest::option::of(non_negative());
    let time = || proptest::option::of(timestamp());
    (
        (price(), price(), price(), price(), price()),
        proptest::option::of(decimal()),
        (quantity(), quantity(), quantity()),
        (time(), time()),
    )
        .prop_map(
            |(
                (open, high, low, previous_close, average_price),
                change_pct,
                (last_quantity, oi_day_high, oi_day_low),
                (last_trade_time, exchange_time),
            )| DayStats {
                open,
                high,
                low,
                previous_close,
                change_pct,
                average_price,
                last_quantity,
                last_trade_time,
                oi_day_high,
                oi_day_low,
                exchange_time,
            },
        )
}

fn tick() -> impl Strategy<Value = Tick> {
    // the quantities a feed lets through: not negative (a negative one is a malformed line)
    let quantity = || proptest::option::of(non_negative());
    let price = || proptest::option::of(positive());
    (
        (timestamp(), positive(), non_negative()),
        (
            price(),
            price(),
            quantity(),
            quantity(),
            quantity(),
            quantity(),
        ),
        proptest::option::of(day_stats().prop_map(Box::new)),
    )
        .prop_map(
            |((ts, price, volume), (bid, ask, day_volume, buy, sell, oi), day)| Tick {
                ts,
                price,
                volume,
                bid,
                ask,
                day_volume,
                total_buy_quantity: buy,
                total_sell_quantity: sell,
                open_interest: oi,
                day,
            },
        )
}

fn notice() -> impl Strategy<Value = FeedNotice> {
    let text = any::<String>;
    prop_oneof![
        text().prop_map(|url| FeedNotice::Connected { url }),
        text().prop_map(|reason| FeedNotice::Disconnected { reason }),
        (any::<u32>(), any::<u64>())
            .prop_map(|(attempt, delay_ms)| FeedNotice::Reconnecting { attempt, delay_ms }),
        (text(), any::<u64>(), any::<u64>()).prop_map(|(symbol, first_missing, last_missing)| {
            FeedNotice::Gap {
                symbol,
                kind: GapKind::TradeIds {
                    first_missing,
                    last_missing,
                },
            }
        }),
        (text(), timestamp(), timestamp()).prop_map(|(symbol, from, to)| FeedNotice::Gap {
            symbol,
            kind: GapKind::Time { from, to },
        }),
        (text(), text()).prop_map(|(origin, reason)| FeedNotice::Malformed { origin, reason }),
        (text(), text()).prop_map(|(kind, payload)| FeedNotice::Message { kind, payload }),
    ]
}

fn event() -> impl Strategy<Value = MarketEvent> {
    prop_oneof![
        (
            symbol(),
            timestamp(),
            positive(),
            non_negative(),
            any::<bool>(),
            any::<u64>(),
            proptest::option::of((any::<u64>(), any::<u64>()))
        )
            .prop_map(|(symbol, ts, price, quantity, sell, trade_id, ids)| {
                MarketEvent::Trade {
                    symbol,
                    trade: Trade {
                        ts,
                        price,
                        quantity,
                        aggressor: if sell { Side::Sell } else { Side::Buy },
                        trade_id,
                        // An aggregate trade's range: first not after last.
                        first_trade_id: ids.map(|(a, b)| a.min(b)),
                        last_trade_id: ids.map(|(a, b)| a.max(b)),
                    },
                }
            }),
        (symbol(), tick()).prop_map(|(symbol, tick)| MarketEvent::Tick { symbol, tick }),
        (
            symbol(),
            timestamp(),
            vec(level(), 0..=5),
            vec(level(), 0..=5),
            proptest::option::of(any::<u64>())
        )
            .prop_map(|(symbol, ts, bids, asks, update_id)| MarketEvent::Book {
                symbol,
                book: Book {
                    ts,
                    bids,
                    asks,
                    update_id,
                },
            }),
        (
            (
                symbol(),
                timestamp(),
                timeframe(),
                any::<bool>(),
                any::<u64>()
            ),
            candle_prices(),
            non_negative(),
            [
                proptest::option::of(non_negative()),
                proptest::option::of(non_negative()),
                proptest::option::of(non_negative()),
            ]
        )
            .prop_map(
                |(
                    (symbol, open_time, timeframe, closed, trades),
                    [low, open, close, high],
                    volume,
                    [quote_volume, taker_buy_volume, taker_buy_quote_volume],
                )| {
                    MarketEvent::Candle {
                        symbol,
                        candle: Candle {
                            open_time,
                            timeframe,
                            open,
                            high,
                            low,
                            close,
                            volume,
                            trades,
                            quote_volume,
                            taker_buy_volume,
                            taker_buy_quote_volume,
                        },
                        closed,
                    }
                }
            ),
        (any::<String>(), timestamp(), notice())
            .prop_map(|(feed, ts, notice)| MarketEvent::Notice { feed, ts, notice }),
    ]
}

/// The parsers a replay can use.
fn parsers() -> Vec<LineParser> {
    let csv = |header| LineParser::csv(header, "X".into(), Timeframe::M1).unwrap();
    vec![
        LineParser::jsonl(),
        csv("timestamp,open,high,low,close,volume"),
        csv("volume,timeframe,close,low,high,open,timestamp"),
        csv("timestamp,price,volume,bid,ask"),
        csv("ts,price"),
    ]
}

/// How a CSV row may write a timestamp.
fn write_timestamp(ts: Timestamp, as_millis: bool) -> String {
    if as_millis {
        ts.millis().to_string()
    } else {
        ts.to_string()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_line_panics_the_parsers(line in prop_oneof![
        any::<String>(),
        "[0-9TZ:.,\" eE+-]{0,80}",
        "\\{\"type\":\"(trade|tick|book|candle|notice)\".{0,60}\\}",
    ]) {
        for parser in parsers() {
            if let Err(e) = parser.parse(&line) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn no_header_panics_the_layout(header in "[a-zA-Z,\" ]{0,60}", line in any::<String>()) {
        if let Ok(parser) = LineParser::csv(&header, "X".into(), Timeframe::M5) {
            let _ = parser.parse(&line);
        }
    }

    #[test]
    fn valid_candle_rows_round_trip(
        ts in timestamp(),
        as_millis in any::<bool>(),
        [low, open, close, high] in candle_prices(),
        volume in non_negative(),
        timeframe in timeframe(),
        order in Just(vec![0usize, 1, 2, 3, 4, 5]).prop_shuffle(),
        extra in "[a-z]{0,8}",
    ) {
        let names = ["timestamp", "open", "high", "low", "close", "volume"];
        let values = [
            write_timestamp(ts, as_millis),
            open.to_string(),
            high.to_string(),
            low.to_string(),
            close.to_string(),
            volume.to_string(),
        ];
        let header: Vec<&str> = order.iter().map(|&k| names[k]).chain(["note"]).collect();
        let row: Vec<String> = order.iter().map(|&k| values[k].clone()).chain([extra]).collect();
        let parser = LineParser::csv(&header.join(","), "BTC".into(), timeframe).unwrap();
        let event = parser.parse(&row.join(",")).unwrap();
        let expected = MarketEvent::Candle {
            symbol: "BTC".into(),
            candle: Candle { open_time: ts, timeframe, open, high, low, close, volume, trades: 0, quote_volume: None, taker_buy_volume: None, taker_buy_quote_volume: None },
            closed: true,
        };
        prop_assert_eq!(event, expected);
    }

    #[test]
    fn valid_tick_rows_round_trip(
        ts in timestamp(),
        as_millis in any::<bool>(),
        price in positive(),
        volume in non_negative(),
        bid in proptest::option::of(positive()),
        ask in proptest::option::of(positive()),
        quoted in any::<bool>(),
    ) {
        let show = |v: Option<Decimal>| v.map_or_else(String::new, |v| v.to_string());
        let quote = |s: String| if quoted { format!("\"{s}\"") } else { s };
        let row = [write_timestamp(ts, as_millis), price.to_string(), volume.to_string(), show(bid), show(ask)]
            .map(quote)
            .join(" , ");
        let parser = LineParser::csv("timestamp,price,volume,bid,ask", "NIFTY".into(), Timeframe::M1).unwrap();
        let mut tick = Tick::new(ts, price, volume);
        tick.bid = bid;
        tick.ask = ask;
        prop_assert_eq!(parser.parse(&row).unwrap(), MarketEvent::Tick { symbol: "NIFTY".into(), tick });
    }

    #[test]
    fn events_survive_jsonl(events in vec(event(), 1..8)) {
        let parser = LineParser::jsonl();
        let written = tokio_runtime().block_on(async {
            let mut writer = JsonlWriter::new(Vec::new());
            for event in &events {
                writer.write(event).await.unwrap();
            }
            writer.flush().await.unwrap();
            writer.into_inner()
        });
        let text = String::from_utf8(written).unwrap();
        prop_assert_eq!(text.lines().count(), events.len());
        for (line, event) in text.lines().zip(&events) {
            prop_assert_eq!(&parser.parse(line).unwrap(), event);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn recordings_replay_to_the_same_events(events in vec(event(), 0..40)) {
        let file = TempFile::new("prop.jsonl");
        let replayed = tokio_runtime().block_on(async {
            Recorder::create(RecordConfig::new(file.path()))
                .unwrap()
                .record(stream::iter(events.clone()))
                .await
                .unwrap();
            replay_all(file.path(), "X").await
        });
        prop_assert_eq!(replayed.1.malformed(), 0);
        prop_assert_eq!(replayed.0, events);
    }
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
