//! Issue 12, item 7: Kite events drop no field. Each packet is written byte by byte from
//! Zerodha's layout (`tests/fixtures/kite/LAYOUT.md`, as `kiteconnect`'s `_parse_binary` reads
//! it), and every field `kiteconnect` hands its callback must reach the events.

use super::super::{Converter, KitePacket};
use crate::MarketEvent;
use rust_decimal::Decimal;
use tradegraph_core::{Book, BookLevel, DayStats, Symbol, Tick, Timestamp};

/// NFO, a derivative: prices over 100.
const FUT: u32 = (52_226 << 8) | 2;
/// NSE INFY, an equity.
const INFY: u32 = 408_065;
/// NIFTY 50, segment 9 (indices).
const NIFTY: u32 = 256_265;
const RECEIVED: Timestamp = Timestamp::from_secs(1_718_359_300);

fn put(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn events(token: u32, symbol: &str, packet: &[u8]) -> (KitePacket, Vec<MarketEvent>) {
    let packet = KitePacket::decode(packet).unwrap();
    let mut converter = Converter::new("kite", &[(token, Symbol::new(symbol))]);
    let mut out = Vec::new();
    converter.convert(&packet, RECEIVED, &mut out);
    (packet, out)
}

/// The day's change as `kiteconnect` computes it (f64) agrees with the exact one.
fn assert_change_matches_kiteconnect(tick: &Tick, packet: &KitePacket) {
    let exact = tick.day.as_ref().and_then(|d| d.change_pct).unwrap();
    let theirs = packet.change().unwrap();
    let ours: f64 = exact.try_into().unwrap();
    assert!(
        (ours - theirs).abs() <= 1e-12 * theirs.abs().max(1.0),
        "{ours} vs {theirs}"
    );
}

#[test]
fn kite_events_drop_no_field_of_a_full_packet() {
    let mut p = [0u8; 184];
    put(&mut p, 0, FUT);
    put(&mut p, 4, 5_135_550); // last price 51355.50
    put(&mut p, 8, 75); // last traded quantity
    put(&mut p, 12, 5_120_012); // average traded price 51200.12
    put(&mut p, 16, 1_250_000); // volume traded today
    put(&mut p, 20, 310_000); // total buy quantity
    put(&mut p, 24, 295_500); // total sell quantity
    put(&mut p, 28, 5_100_000); // open 51000.00
    put(&mut p, 32, 5_140_000); // high 51400.00
    put(&mut p, 36, 5_090_050); // low 50900.50
    put(&mut p, 40, 5_110_000); // close (previous day) 51100.00
    put(&mut p, 44, 1_718_359_198); // last trade time
    put(&mut p, 48, 2_400_000); // oi
    put(&mut p, 52, 2_450_000); // oi day high
    put(&mut p, 56, 2_300_000); // oi day low
    put(&mut p, 60, 1_718_359_199); // exchange timestamp

    // Depth: 5 bids then 5 asks of (quantity u32, price u32, orders u16, 2 bytes padding).
    for i in 0..10u32 {
        let at = 64 + 12 * i as usize;
        let price = if i < 5 {
            5_135_500 - 5 * i
        } else {
            5_135_600 + 5 * (i - 5)
        };
        put(&mut p, at, 25 * (i + 1));
        put(&mut p, at + 4, price);
        p[at + 8..at + 10].copy_from_slice(&(i as u16 + 1).to_be_bytes());
        p[at + 10..at + 12].copy_from_slice(&[0xff, 0xff]); // padding: ignored
    }
    let (packet, out) = events(FUT, "NIFTY-FUT", &p);

    let exchange = Timestamp::from_secs(1_718_359_199);
    let level = |i: u32, price: &str| BookLevel {
        price: d(price),
        quantity: Decimal::from(25 * (i + 1)),
        orders: Some(i + 1),
    };
    let expected_tick = Tick {
        ts: exchange,
        price: d("51355.50"),
        volume: Decimal::ZERO, // the first packet: no volume since a previous one
        bid: Some(d("51355.00")),
        ask: Some(d("51356.00")),
        day_volume: Some(Decimal::from(1_250_000)),
        total_buy_quantity: Some(Decimal::from(310_000)),
        total_sell_quantity: Some(Decimal::from(295_500)),
        open_interest: Some(Decimal::from(2_400_000)),
        day: Some(Box::new(DayStats {
            open: Some(d("51000.00")),
            high: Some(d("51400.00")),
            low: Some(d("50900.50")),
            previous_close: Some(d("51100.00")),
            change_pct: Some(d("0.5")),
            average_price: Some(d("51200.12")),
            last_quantity: Some(Decimal::from(75)),
            last_trade_time: Some(Timestamp::from_secs(1_718_359_198)),
            oi_day_high: Some(Decimal::from(2_450_000)),
            oi_day_low: Some(Decimal::from(2_300_000)),
            exchange_time: Some(exchange),
        })),
    };
    let expected_book = Book {
        ts: exchange,
        bids: vec![
            level(0, "51355.00"),
            level(1, "51354.95"),
            level(2, "51354.90"),
            level(3, "51354.85"),
            level(4, "51354.80"),
        ],
        asks: vec![
            level(5, "51356.00"),
            level(6, "51356.05"),
            level(7, "51356.10"),
            level(8, "51356.15"),
            level(9, "51356.20"),
        ],
        update_id: None,
    };
    let symbol = Symbol::new("NIFTY-FUT");
    assert_eq!(
        out,
        [
            MarketEvent::Tick {
                symbol: symbol.clone(),
                tick: expected_tick.clone(),
            },
            MarketEvent::Book {
                symbol,
                book: expected_book,
            },
        ]
    );
    assert_change_matches_kiteconnect(&expected_tick, &packet);
}

#[test]
fn kite_events_drop_no_field_of_a_quote_packet() {
    let mut p = [0u8; 44];
    put(&mut p, 0, INFY);
    put(&mut p, 4, 150_000); // last price 1500.00
    put(&mut p, 8, 10); // last traded quantity
    put(&mut p, 12, 149_012); // average traded price 1490.12
    put(&mut p, 16, 5_000_000); // volume traded today
    put(&mut p, 20, 120_345); // total buy quantity
    put(&mut p, 24, 98_765); // total sell quantity
    put(&mut p, 28, 148_000); // open 1480.00
    put(&mut p, 32, 151_000); // high 1510.00
    put(&mut p, 36, 147_550); // low 1475.50
    put(&mut p, 40, 125_000); // close (previous day) 1250.00
    let (packet, out) = events(INFY, "INFY", &p);

    let expected = Tick {
        ts: RECEIVED, // a quote packet has no exchange time
        price: d("1500.00"),
        volume: Decimal::ZERO,
        bid: None,
        ask: None,
        day_volume: Some(Decimal::from(5_000_000)),
        total_buy_quantity: Some(Decimal::from(120_345)),
        total_sell_quantity: Some(Decimal::from(98_765)),
        open_interest: None,
        day: Some(Box::new(DayStats {
            open: Some(d("1480.00")),
            high: Some(d("1510.00")),
            low: Some(d("1475.50")),
            previous_close: Some(d("1250.00")),
            change_pct: Some(Decimal::from(20)),
            average_price: Some(d("1490.12")),
            last_quantity: Some(Decimal::from(10)),
            ..DayStats::default()
        })),
    };
    assert_eq!(
        out,
        [MarketEvent::Tick {
            symbol: Symbol::new("INFY"),
            tick: expected.clone(),
        }]
    );
    assert_change_matches_kiteconnect(&expected, &packet);
}

#[test]
fn kite_events_drop_no_field_of_an_index_packet() {
    // Index layout: high, low, open, close (in that order), then Kite's own "price change"
    // (which kiteconnect ignores) and, in full mode, the exchange timestamp.
    let mut full = [0u8; 32];
    put(&mut full, 0, NIFTY);
    put(&mut full, 4, 2_405_935); // last price 24059.35
    put(&mut full, 8, 2_407_395); // high 24073.95
    put(&mut full, 12, 2_402_775); // low 24027.75
    put(&mut full, 16, 2_404_525); // open 24045.25
    put(&mut full, 20, 2_400_000); // close (previous day) 24000.00
    put(&mut full, 24, 999_999); // Kite's price change: not used
    put(&mut full, 28, 1_718_359_180); // exchange timestamp
    let (packet, out) = events(NIFTY, "NIFTY 50", &full);

    let exchange = Timestamp::from_secs(1_718_359_180);
    let day = DayStats {
        open: Some(d("24045.25")),
        high: Some(d("24073.95")),
        low: Some(d("24027.75")),
        previous_close: Some(d("24000.00")),
        // 59.35 * 100 / 24000, exact to 28 digits.
        change_pct: Some(d("0.2472916666666666666666666667")),
        exchange_time: Some(exchange),
        ..DayStats::default()
    };
    let tick = |ts, day| Tick {
        day: Some(Box::new(day)),
        ..Tick::new(ts, d("24059.35"), Decimal::ZERO)
    };
    let expected = tick(exchange, day);
    assert_eq!(
        out,
        [MarketEvent::Tick {
            symbol: Symbol::new("NIFTY 50"),
            tick: expected.clone(),
        }]
    );
    assert_change_matches_kiteconnect(&expected, &packet);

    // The 28-byte quote layout: the same without the exchange time.
    let (_, out) = events(NIFTY, "NIFTY 50", &full[..28]);
    let quote = DayStats {
        exchange_time: None,
        ..day
    };
    assert_eq!(
        out,
        [MarketEvent::Tick {
            symbol: Symbol::new("NIFTY 50"),
            tick: tick(RECEIVED, quote),
        }]
    );
}

#[test]
fn kite_prices_not_known_yet_are_none_not_zero() {
    // Before the first trade Kite sends zeros for the day's open, high, low, average price
    // and times; a zero close leaves the change unknown (kiteconnect says 0).
    let mut p = [0u8; 184];
    put(&mut p, 0, INFY);
    put(&mut p, 4, 150_000);
    put(&mut p, 8, 0);
    put(&mut p, 48, 5); // oi of an equity: not open interest
    let (_, out) = events(INFY, "INFY", &p);
    let MarketEvent::Tick { tick, .. } = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(tick.ts, RECEIVED);
    assert_eq!(tick.open_interest, None);
    assert_eq!(
        tick.day.as_deref(),
        Some(&DayStats {
            last_quantity: Some(Decimal::ZERO),
            ..DayStats::default()
        })
    );

    // An LTP packet carries nothing of the day.
    let mut ltp = [0u8; 8];
    put(&mut ltp, 0, INFY);
    put(&mut ltp, 4, 150_000);
    let (_, out) = events(INFY, "INFY", &ltp);
    assert!(matches!(&out[..], [MarketEvent::Tick { tick, .. }] if tick.day.is_none()));
}
