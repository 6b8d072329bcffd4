//! Parsed market events into the candle aggregator and the paper broker (issue 12, "beyond the
//! list"): Binance frames, Kite binary messages and replay lines, generated around real prices
//! and with hostile values mixed in, go through the feeds' parsers, every event into the
//! aggregator of its instrument and into [`Broker::on_market`], with orders placed in between.
//! After every step: candles lie within their own range, start their bucket, and each
//! timeframe's open times rise; the broker's cash, positions and orders are what its fills say
//! and its equity reconciles (see `fuzz_harness/market_events.rs`, which the cargo-fuzz target
//! `market_events` runs too).
//!
//! [`Broker::on_market`]: tradegraph_broker::Broker::on_market
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "fuzz_harness/market_events.rs"]
mod harness;

use harness::{chunk, run, Order, BANKNIFTY_TOKEN, START_MS};
use proptest::prelude::*;
use tradegraph_core::{Decimal, Side, Timestamp, Trade};
use tradegraph_market::MarketEvent;

/// A price as the wire writes it: mostly near `base_cents`, sometimes hostile.
fn price_text(base_cents: i64) -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (-400i64..400).prop_map(move |bps| cents(base_cents + base_cents * bps / 10_000)),
        1 => prop::sample::select(vec![
            "0", "0.00", "-1.5", "1e3", "", "79228162514264337593543950335", "0.0000000000000000000000000001",
            "42000.123456789", "NaN", "4 2",
        ])
        .prop_map(str::to_owned),
    ]
}

fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// A time in milliseconds: mostly just after `now`, sometimes late, sometimes absurd.
fn time_ms(now: i64) -> impl Strategy<Value = i64> {
    prop_oneof![
        12 => (0i64..90_000).prop_map(move |d| now + d),
        2 => (0i64..3_600_000).prop_map(move |d| now - d),
        1 => prop::sample::select(vec![i64::MIN, -1, 0, 253_402_300_800_000, i64::MAX]),
    ]
}

fn binance_frame(now: i64) -> impl Strategy<Value = String> {
    let btc = 4_200_000i64;
    prop_oneof![
        (time_ms(now), price_text(btc), 1u32..5_000, any::<bool>(), 1u64..1_000_000).prop_map(
            |(t, p, q, m, id)| format!(
                r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":{t},"s":"BTCUSDT","t":{id},"p":"{p}","q":"0.{q:05}","T":{t},"m":{m},"M":true}}}}"#
            )
        ),
        (time_ms(now), price_text(btc), 1u32..5_000, any::<bool>(), 1u64..1_000_000, 0u64..5).prop_map(
            |(t, p, q, m, id, n)| format!(
                r#"{{"stream":"btcusdt@aggTrade","data":{{"e":"aggTrade","E":{t},"s":"BTCUSDT","a":{id},"p":"{p}","q":"0.{q:05}","f":{id},"l":{},"T":{t},"m":{m},"M":true}}}}"#,
                id + n
            )
        ),
        (
            time_ms(now),
            prop::sample::select(vec!["1m", "1m", "1m", "5m", "1h", "3m"]),
            [price_text(btc), price_text(btc), price_text(btc), price_text(btc)],
            any::<bool>(),
            0u64..500
        )
            .prop_map(|(t, i, [o, h, l, c], x, n)| {
                let t = t.saturating_sub(t.rem_euclid(60_000));
                format!(
                    r#"{{"stream":"btcusdt@kline_{i}","data":{{"e":"kline","E":{t},"s":"BTCUSDT","k":{{"t":{t},"T":{},"s":"BTCUSDT","i":"{i}","f":1,"L":2,"o":"{o}","c":"{c}","h":"{h}","l":"{l}","v":"1.5","n":{n},"x":{x},"q":"0","V":"0","Q":"0","B":"0"}}}}}}"#,
                    t.saturating_add(59_999)
                )
            }),
        (price_text(btc), price_text(btc)).prop_map(|(b, a)| format!(
            r#"{{"stream":"btcusdt@depth5@100ms","data":{{"lastUpdateId":7,"bids":[["{b}","1.0"]],"asks":[["{a}","2.0"]]}}}}"#
        )),
        ".{0,40}",
    ]
}

/// A Kite binary message of one to three packets of the Bank Nifty index (or another token).
fn kite_message(now: i64) -> impl Strategy<Value = Vec<u8>> {
    let packet = (
        prop::sample::select(vec![8usize, 28, 32, 44, 184, 17]),
        prop_oneof![9 => Just(BANKNIFTY_TOKEN), 1 => any::<u32>()],
        prop_oneof![9 => 4_750_000u32..4_850_000, 1 => any::<u32>()],
        0u32..1_000_000,
        0i64..120,
    )
        .prop_map(move |(len, token, price, volume, dt)| {
            let mut p = vec![0u8; len];
            let mut put = |at: usize, v: u32| {
                if at + 4 <= p.len() {
                    p[at..at + 4].copy_from_slice(&v.to_be_bytes());
                }
            };
            let secs = u32::try_from(now / 1000 + dt).unwrap_or(0);
            put(0, token);
            put(4, price);
            if len == 28 || len == 32 {
                for at in [8, 12, 16, 20] {
                    put(at, price);
                }
                put(28, secs);
            } else if len >= 44 {
                put(8, 1);
                put(12, price);
                put(16, volume);
                for at in [28, 32, 36, 40] {
                    put(at, price);
                }
                put(44, secs);
                put(60, secs);
                for level in 0..10 {
                    put(64 + level * 12, 10);
                    let step = u32::try_from(level).unwrap() * 5;
                    put(
                        68 + level * 12,
                        if level < 5 {
                            price.wrapping_sub(step)
                        } else {
                            price.wrapping_add(step)
                        },
                    );
                }
            }
            p
        });
    prop::collection::vec(packet, 1..4).prop_map(|packets| {
        let mut out = u16::try_from(packets.len()).unwrap().to_be_bytes().to_vec();
        for p in packets {
            out.extend_from_slice(&u16::try_from(p.len()).unwrap().to_be_bytes());
            out.extend_from_slice(&p);
        }
        out
    })
}

fn rfc3339(ms: i64) -> String {
    Timestamp::from_millis(ms).to_string()
}

fn replay_line(now: i64) -> impl Strategy<Value = (u8, String)> {
    let btc = 4_200_000i64;
    let nifty = 4_800_000i64;
    prop_oneof![
        (
            time_ms(now),
            price_text(btc),
            price_text(btc),
            price_text(btc)
        )
            .prop_map(|(t, p, b, a)| (3, format!("{t},{p},0.5,{b},{a}"))),
        (
            time_ms(now),
            any::<bool>(),
            (
                btc - 40_000..btc + 40_000,
                btc - 40_000..btc + 40_000,
                0i64..2_000
            ),
            prop::option::weighted(0.1, price_text(btc)),
        )
            .prop_map(|(t, millis, (open, close, wick), hostile)| {
                let t = t.saturating_sub(t.rem_euclid(60_000));
                let ts = if millis { t.to_string() } else { rfc3339(t) };
                let high = hostile.unwrap_or_else(|| cents(open.max(close) + wick));
                let low = cents(open.min(close) - wick);
                (
                    4,
                    format!("{ts},{},{high},{low},{},3", cents(open), cents(close)),
                )
            }),
        (time_ms(now), [price_text(nifty), price_text(nifty)]).prop_map(|(t, [x, y])| {
            let t = t.saturating_sub(t.rem_euclid(60_000));
            (11, format!("{t},{x},{x},{y},{y},0"))
        }),
        (time_ms(now), 4_100_000i64..4_300_000, 1u64..1_000_000).prop_map(|(t, c, id)| {
            let trade = Trade::new(
                Timestamp::from_millis(t),
                Decimal::new(c, 2),
                Decimal::new(3, 3),
                Side::Buy,
                id,
            );
            let event = MarketEvent::Trade {
                symbol: "BTCUSDT".into(),
                trade,
            };
            (2, serde_json::to_string(&event).unwrap())
        }),
        ".{0,60}".prop_map(|line| (2, line)),
    ]
}

fn order() -> impl Strategy<Value = Order> {
    (
        (any::<u8>(), any::<u8>(), 0u8..5, 0u8..5),
        (-300i16..300, 0u8..40, 0u8..60, 0u8..4),
        prop::option::weighted(0.15, any::<u8>()),
    )
        .prop_map(
            |((instrument, side, kind, lots), (offset_bps, sl, tp, tif), resubmit)| Order {
                instrument,
                side,
                kind,
                lots,
                offset_bps,
                exits: (sl, tp),
                tif,
                resubmit,
            },
        )
}

/// One step of a session, encoded as the harness reads it.
fn step(now: i64) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        5 => binance_frame(now).prop_map(|f| chunk(0, f.as_bytes())),
        4 => kite_message(now).prop_map(|m| chunk(1, &m)),
        4 => replay_line(now).prop_map(|(tag, line)| chunk(tag, line.as_bytes())),
        4 => order().prop_map(|o| chunk(5, &o.encode())),
        1 => (0u8..30).prop_map(|minutes| chunk(6, &[minutes])),
    ]
}

/// A session: steps whose times move on from the start, a minute or so at a time.
fn session() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0i64..40, 1..80).prop_flat_map(|clock| {
        let mut now = START_MS;
        let steps: Vec<_> = clock
            .into_iter()
            .map(|seconds| {
                now += seconds * 1_500;
                step(now)
            })
            .collect();
        steps.prop_map(|chunks| chunks.concat())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sessions_keep_candles_and_books_consistent(input in session()) {
        run(&input);
    }

    #[test]
    fn arbitrary_bytes_never_break_an_invariant(input in prop::collection::vec(any::<u8>(), 0..2_000)) {
        run(&input);
    }
}

/// The generators reach the code under test: events, candles, orders and fills all happen.
#[test]
fn a_plain_session_trades_and_closes_candles() {
    let mut input = Vec::new();
    let frame = |t: i64, price: &str, id: u64| {
        format!(
            r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":{t},"s":"BTCUSDT","t":{id},"p":"{price}","q":"0.01","T":{t},"m":false,"M":true}}}}"#
        )
    };
    input.extend(chunk(0, frame(START_MS, "42000.00", 1).as_bytes()));
    let buy = Order::decode(&[0, 0, 0, 1, 0, 0, 10, 10, 0]);
    input.extend(chunk(5, &buy.encode()));
    input.extend(chunk(0, frame(START_MS + 61_000, "41000.00", 2).as_bytes()));
    input.extend(chunk(
        0,
        frame(START_MS + 122_000, "43000.00", 3).as_bytes(),
    ));
    let stats = run(&input);
    assert_eq!(stats.events, 3);
    assert_eq!(stats.orders, 1);
    // The entry, then its stop-loss (10 × 10 bp = 1 % below 42 000) at 41 000.
    assert_eq!(stats.fills, 2, "{stats:?}");
    assert!(stats.candles >= 2, "{stats:?}");
}

/// "The books reconcile exactly at every step" (the paper broker's fill rules), and issue 12
/// item 10 has the broker refuse absurd prices. A trade at (or near) the largest decimal, with a
/// position of a few thousandths of a BTC open, is neither refused nor booked exactly: the
/// position's value, about 10^25, leaves no room for the cash's cents, and the equity is rounded
/// (long 0.001 BTC marked at 79 228 162 514 264 337 593 543 950 335: off by 0.01). A defect found
/// by the fuzz target `market_events`; the fix belongs in the paper broker.
#[test]
fn an_absurd_price_keeps_the_books_exact() {
    use tradegraph_broker::{Broker, PaperBroker, PaperConfig};
    use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide, OrderStatus};
    use tradegraph_core::Instrument;

    let btc = Instrument::btc_usdt();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let at = |ms: i64| Timestamp::from_millis(START_MS + ms);
    let trade = |ms, price: Decimal| Trade::new(at(ms), price, Decimal::ONE, Side::Buy, 1);
    let absurd = [Decimal::MAX, Decimal::MAX / Decimal::from(3)];
    for side in [OrderSide::Buy, OrderSide::Sell] {
        for thousandths in [1, 7] {
            for price in absurd {
                let config = PaperConfig::new(btc.clone(), Decimal::from(100_000));
                let broker = PaperBroker::new(config).unwrap();
                broker
                    .on_trade(&btc.symbol, &trade(0, Decimal::new(4_261_041, 2)))
                    .unwrap();
                let id = ClientOrderId::new("open-1").unwrap();
                let size = Decimal::new(thousandths, 3);
                let open = OrderRequest::market(id, btc.symbol.clone(), side, size);
                let placed = runtime.block_on(broker.submit(open)).unwrap();
                assert_eq!(placed.status, OrderStatus::Filled);
                let refused = broker.on_trade(&btc.symbol, &trade(1_000, price)).is_err();
                let account = runtime.block_on(broker.account()).unwrap();
                assert!(
                    refused || account.reconciliation_gap().is_zero(),
                    "{side:?} {size} BTC marked at {price}: booked, and the books are off by {}",
                    account.reconciliation_gap()
                );
            }
        }
    }
}

/// The smallest input the `sessions_keep_candles_and_books_consistent` property found (in CI)
/// that had the aggregator emit a 5-minute candle twice: a replayed minute in 1970, a tick 55
/// years later (a week of quiet minutes filled, the rest a gap), then the replayed candle of
/// that tick's minute, which filled a second week from where the first stopped.
#[test]
fn a_minute_55_years_after_the_last_emits_each_candle_once() {
    let mut input = Vec::new();
    input.extend(chunk(
        4,
        b"1970-01-01T00:00:00Z,41600.00,41600.00,41600.00,41600.00,3",
    ));
    input.extend(chunk(3, b"1736136240000,42000.00,0.5,42000.00,42000.00"));
    input.extend(chunk(
        4,
        b"2025-01-06T04:04:00Z,41600.00,41600.00,41600.00,41600.00,3",
    ));
    let stats = run(&input);
    assert_eq!(stats.events, 3, "{stats:?}");
    // The 1970 minute, a week filled, and its 5m, 15m, 1h and daily candles.
    assert!(stats.candles > 7 * 24 * 60, "{stats:?}");
}
