//! Packet and converter tests: layouts, scales, volumes, depth, timestamps and gaps; every
//! field of a packet in its events (`fields`); unknown tokens (`unknown`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fields;
mod unknown;

use super::*;
use crate::{FeedNotice, GapKind, MarketEvent};
use rust_decimal::Decimal;
use tradegraph_core::Timestamp;

const NFO: u32 = (52226 << 8) | 2;

fn full(volume: u32, exchange_secs: u32) -> KitePacket {
    let mut bytes = [0u8; 184];
    bytes[0..4].copy_from_slice(&NFO.to_be_bytes());
    bytes[4..8].copy_from_slice(&5_123_455u32.to_be_bytes());
    bytes[16..20].copy_from_slice(&volume.to_be_bytes());
    bytes[48..52].copy_from_slice(&77u32.to_be_bytes());
    bytes[60..64].copy_from_slice(&exchange_secs.to_be_bytes());
    // best bid at 51234.50 x 10, second ask level empty.
    bytes[64..68].copy_from_slice(&10u32.to_be_bytes());
    bytes[68..72].copy_from_slice(&5_123_450u32.to_be_bytes());
    bytes[64 + 60..64 + 64].copy_from_slice(&4u32.to_be_bytes());
    bytes[64 + 64..64 + 68].copy_from_slice(&5_123_460u32.to_be_bytes());
    KitePacket::decode(&bytes).unwrap()
}

#[test]
fn ticks_carry_volume_deltas_depth_and_exchange_time() {
    let mut c = Converter::new("kite", &[(NFO, "BANKNIFTY-FUT".into())]);
    let mut out = Vec::new();
    let rx = Timestamp::from_secs(5);
    c.convert(&full(1000, 1_718_359_199), rx, &mut out);
    c.convert(&full(1250, 1_718_359_200), rx, &mut out);
    c.convert(&full(40, 0), rx, &mut out);
    let ticks: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Tick { tick, .. } => Some(tick.clone()),
            _ => None,
        })
        .collect();
    let volumes: Vec<_> = ticks.iter().map(|t| t.volume).collect();
    assert_eq!(volumes, [Decimal::ZERO, Decimal::from(250), Decimal::ZERO]);
    assert_eq!(ticks[1].ts, Timestamp::from_secs(1_718_359_200));
    assert_eq!(
        ticks[2].ts, rx,
        "exchange time 0 falls back to the receive time"
    );
    assert_eq!(ticks[0].bid.unwrap().to_string(), "51234.50");
    assert_eq!(ticks[0].ask.unwrap().to_string(), "51234.60");
    assert_eq!(ticks[0].open_interest, Some(Decimal::from(77)));
    let MarketEvent::Book { book, symbol } = &out[1] else {
        panic!("{out:?}")
    };
    assert_eq!(
        (symbol.as_str(), book.bids.len(), book.asks.len()),
        ("BANKNIFTY-FUT", 1, 1)
    );
}

#[test]
fn a_gap_precedes_the_first_data_after_a_disconnection() {
    let mut c = Converter::new("kite", &[(NFO, "F".into())]);
    let mut out = Vec::new();
    c.convert(&full(1, 100), Timestamp::EPOCH, &mut out);
    c.disconnected();
    c.disconnected();
    out.clear();
    c.convert(&full(2, 160), Timestamp::EPOCH, &mut out);
    let MarketEvent::Notice {
        notice: FeedNotice::Gap { symbol, kind },
        ..
    } = &out[0]
    else {
        panic!("{out:?}")
    };
    assert_eq!(symbol, "F");
    assert_eq!(
        kind,
        &GapKind::Time {
            from: Timestamp::from_secs(100),
            to: Timestamp::from_secs(160)
        }
    );
    out.clear();
    c.convert(&full(3, 161), Timestamp::EPOCH, &mut out);
    assert!(out.iter().all(|e| !matches!(e, MarketEvent::Notice { .. })));
}

/// What traded while the link was down is not one tick's: the day volume the first packet
/// after a reconnection brings is a new base, not a delta of 400 000 in one minute.
#[test]
fn the_first_volume_after_a_disconnection_is_a_new_base() {
    let mut c = Converter::new("kite", &[(NFO, "F".into())]);
    let mut out = Vec::new();
    c.convert(&full(1_000_000, 100), Timestamp::EPOCH, &mut out);
    c.disconnected();
    c.convert(&full(1_400_000, 400), Timestamp::EPOCH, &mut out);
    c.convert(&full(1_400_250, 401), Timestamp::EPOCH, &mut out);
    let volumes: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Tick { tick, .. } => Some(tick.volume),
            _ => None,
        })
        .collect();
    assert_eq!(volumes, [Decimal::ZERO, Decimal::ZERO, Decimal::from(250)]);
}

#[test]
fn lengths_pick_layouts_and_segments_pick_scales() {
    assert_eq!(KitePacket::decode(&[0; 10]), None);
    assert_eq!(KitePacket::decode(&[]), None);
    let cds = [0, 0x04, 0xd2, 0x03, 0x31, 0xbe, 0x7e, 0xd3];
    let p = KitePacket::decode(&cds);
    assert_eq!(
        p.map(|p| p.last_price.to_string()),
        Some("83.4567891".into())
    );
    assert_eq!(p.map(|p| p.change()), Some(None));
    assert_eq!((price_scale(6), price_scale(12), price_scale(9)), (4, 4, 2));
}

#[test]
fn full_packets_fill_depth() {
    let mut bytes = [0u8; 184];
    bytes[3] = 2; // NFO
    bytes[64 + 12 * 5..64 + 12 * 5 + 12]
        .copy_from_slice(&[0, 0, 0, 7, 0, 0, 1, 0, 0, 3, 0xab, 0xcd]);
    let p = KitePacket::decode(&bytes);
    let ask = p.map(|p| p.asks[0]);
    assert_eq!(
        ask.map(|a| (a.quantity, a.price.to_string(), a.orders)),
        Some((7, "2.56".into(), 3))
    );
    assert_eq!(
        p.map(|p| p.exchange_timestamp),
        Some(Some(Timestamp::EPOCH))
    );
    assert_eq!(p.and_then(|p| p.change()), Some(0.0));
}
