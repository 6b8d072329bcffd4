//! Market events through the recording line format (issue 12, "beyond the list"): trades with
//! aggregate ids, ticks with the day's figures, candles with exchange volumes, books and
//! notices are written and read back unchanged, the replay parser reads each recorded line as
//! its event (or refuses it for a price any feed refuses), and any line reads as an event or
//! gives an error (see `fuzz_harness/event_roundtrip.rs`, which the cargo-fuzz target
//! `event_roundtrip` runs too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "fuzz_harness/event_roundtrip.rs"]
mod harness;

use proptest::prelude::*;
use rust_decimal::Decimal;
use tradegraph_core::{
    Book, BookLevel, Candle, DayStats, Side, Symbol, Tick, Timeframe, Timestamp, Trade,
};
use tradegraph_market::{FeedNotice, GapKind, MarketEvent};

fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        (Timestamp::MIN.millis()..=Timestamp::MAX.millis()),
        (1_500_000_000_000i64..2_000_000_000_000),
    ]
    .prop_map(Timestamp::from_millis)
}

fn decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Decimal::new(m, s)),
        (-(1i128 << 96) + 1..(1i128 << 96), 0u32..=28)
            .prop_map(|(m, s)| Decimal::from_i128_with_scale(m, s)),
        (1i64..10_000_000, 0u32..=4).prop_map(|(m, s)| Decimal::new(m, s)),
    ]
}

fn opt() -> impl Strategy<Value = Option<Decimal>> {
    prop::option::of(decimal())
}

fn symbol() -> impl Strategy<Value = Symbol> {
    prop_oneof!["[A-Z0-9]{1,12}", any::<String>()].prop_map(Symbol::from)
}

fn day() -> BoxedStrategy<DayStats> {
    (
        (opt(), opt(), opt(), opt(), opt()),
        (opt(), opt(), prop::option::of(timestamp()), opt(), opt()),
        prop::option::of(timestamp()),
    )
        .prop_map(
            |((open, high, low, close, change), (avg, last, last_time, oi_hi, oi_lo), at)| {
                DayStats {
                    open,
                    high,
                    low,
                    previous_close: close,
                    change_pct: change,
                    average_price: avg,
                    last_quantity: last,
                    last_trade_time: last_time,
                    oi_day_high: oi_hi,
                    oi_day_low: oi_lo,
                    exchange_time: at,
                }
            },
        )
        .boxed()
}

fn event() -> BoxedStrategy<MarketEvent> {
    prop_oneof![
        (
            symbol(),
            timestamp(),
            decimal(),
            decimal(),
            any::<bool>(),
            any::<u64>(),
            prop::option::of((any::<u64>(), any::<u64>()))
        )
            .prop_map(|(symbol, ts, price, qty, sell, id, agg)| {
                let side = if sell { Side::Sell } else { Side::Buy };
                let mut trade = Trade::new(ts, price, qty, side, id);
                if let Some((first, last)) = agg {
                    trade.first_trade_id = Some(first);
                    trade.last_trade_id = Some(last);
                }
                MarketEvent::Trade { symbol, trade }
            })
            .boxed(),
        (
            symbol(),
            timestamp(),
            decimal(),
            decimal(),
            (opt(), opt(), opt(), opt(), opt(), opt()),
            prop::option::of(day())
        )
            .prop_map(
                |(symbol, ts, price, volume, (bid, ask, dv, buy, sell, oi), day)| {
                    let mut tick = Tick::new(ts, price, volume);
                    tick.bid = bid;
                    tick.ask = ask;
                    tick.day_volume = dv;
                    tick.total_buy_quantity = buy;
                    tick.total_sell_quantity = sell;
                    tick.open_interest = oi;
                    tick.day = day.map(Box::new);
                    MarketEvent::Tick { symbol, tick }
                }
            )
            .boxed(),
        (
            symbol(),
            timestamp(),
            prop::collection::vec((decimal(), decimal(), prop::option::of(any::<u32>())), 0..6),
            any::<bool>(),
            prop::option::of(any::<u64>())
        )
            .prop_map(|(symbol, ts, levels, asks, update_id)| {
                let levels: Vec<BookLevel> = levels
                    .into_iter()
                    .map(|(price, quantity, orders)| BookLevel {
                        price,
                        quantity,
                        orders,
                    })
                    .collect();
                let (bids, asks) = if asks {
                    (Vec::new(), levels)
                } else {
                    (levels, Vec::new())
                };
                let book = Book {
                    ts,
                    bids,
                    asks,
                    update_id,
                };
                MarketEvent::Book { symbol, book }
            })
            .boxed(),
        (
            symbol(),
            timestamp(),
            prop::sample::select(Timeframe::ALL.to_vec()),
            [decimal(), decimal(), decimal(), decimal()],
            any::<u64>(),
            (opt(), opt(), opt()),
            any::<bool>()
        )
            .prop_map(
                |(symbol, at, tf, [open, high, low, close], trades, (q, v, qv), closed)| {
                    let mut candle = Candle::opening(at, tf, open, Decimal::ONE);
                    candle.high = high;
                    candle.low = low;
                    candle.close = close;
                    candle.trades = trades;
                    candle.quote_volume = q;
                    candle.taker_buy_volume = v;
                    candle.taker_buy_quote_volume = qv;
                    MarketEvent::Candle {
                        symbol,
                        candle,
                        closed,
                    }
                }
            ),
        (
            any::<String>(),
            timestamp(),
            prop_oneof![
                any::<String>().prop_map(|url| FeedNotice::Connected { url }),
                (any::<u32>(), any::<u64>())
                    .prop_map(|(attempt, delay_ms)| FeedNotice::Reconnecting { attempt, delay_ms }),
                (any::<String>(), timestamp(), timestamp()).prop_map(|(symbol, from, to)| {
                    FeedNotice::Gap {
                        symbol,
                        kind: GapKind::Time { from, to },
                    }
                }),
                (any::<String>(), any::<String>())
                    .prop_map(|(kind, payload)| FeedNotice::Message { kind, payload }),
            ]
        )
            .prop_map(|(feed, ts, notice)| MarketEvent::Notice { feed, ts, notice })
            .boxed(),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn events_survive_the_recording_line_format(event in event()) {
        harness::check_value(&event);
    }

    #[test]
    fn any_line_reads_as_an_event_or_an_error(text in prop_oneof![
        any::<String>(),
        event().prop_map(|e| serde_json::to_string(&e).unwrap()),
        (event(), any::<prop::sample::Index>(), any::<char>()).prop_map(|(e, at, c)| {
            let mut line: Vec<char> = serde_json::to_string(&e).unwrap().chars().collect();
            let i = at.index(line.len());
            line[i] = c;
            line.into_iter().collect()
        }),
        (event(), any::<prop::sample::Index>()).prop_map(|(e, cut)| {
            let line: Vec<char> = serde_json::to_string(&e).unwrap().chars().collect();
            line[..cut.index(line.len())].iter().collect()
        }),
        "\\{\"type\":\"(trade|tick|book|candle|notice)\",(\"[a-z_]{1,12}\":(\"[0-9.:TZ-]{0,24}\"|[0-9]{1,20}|null|true|\\{\\}),){0,8}\"x\":1\\}",
    ]) {
        harness::check_bytes(text.as_bytes());
    }
}
