//! Properties of the Kite parser: no input panics it, and valid packets survive an
//! encode/decode round trip through an encoder written from the documented layout.
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use tradegraph_market::feed::kite::{split, KitePacket, Message, PacketKind};

fn put(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// The wire integer of a price: the mantissa at the token's scale.
fn raw(d: rust_decimal::Decimal) -> u32 {
    u32::try_from(d.mantissa()).unwrap()
}

fn secs(t: Option<tradegraph_core::Timestamp>) -> u32 {
    u32::try_from(t.unwrap().secs()).unwrap()
}

/// Kite's layout, written from `fixtures/kite/LAYOUT.md` (ignored bytes as zeros).
fn encode(p: &KitePacket) -> Vec<u8> {
    let mut out = Vec::new();
    put(&mut out, p.token);
    put(&mut out, raw(p.last_price));
    match p.kind {
        PacketKind::Ltp => {}
        PacketKind::IndexQuote | PacketKind::IndexFull => {
            for v in [p.ohlc.high, p.ohlc.low, p.ohlc.open, p.ohlc.close] {
                put(&mut out, raw(v));
            }
            put(&mut out, 0);
            if p.kind == PacketKind::IndexFull {
                put(&mut out, secs(p.exchange_timestamp));
            }
        }
        PacketKind::Quote | PacketKind::Full => {
            put(&mut out, p.last_quantity);
            put(&mut out, raw(p.average_price));
            for v in [p.volume, p.total_buy_quantity, p.total_sell_quantity] {
                put(&mut out, v);
            }
            for v in [p.ohlc.open, p.ohlc.high, p.ohlc.low, p.ohlc.close] {
                put(&mut out, raw(v));
            }
            if p.kind == PacketKind::Full {
                put(&mut out, secs(p.last_trade_time));
                for v in [p.oi, p.oi_day_high, p.oi_day_low] {
                    put(&mut out, v);
                }
                put(&mut out, secs(p.exchange_timestamp));
                for level in p.bids.iter().chain(&p.asks) {
                    put(&mut out, level.quantity);
                    put(&mut out, raw(level.price));
                    out.extend_from_slice(&level.orders.to_be_bytes());
                    out.extend_from_slice(&[0, 0]);
                }
            }
        }
    }
    out
}

fn frame(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = u16::try_from(packets.len()).unwrap().to_be_bytes().to_vec();
    for p in packets {
        out.extend_from_slice(&u16::try_from(p.len()).unwrap().to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// A valid packet's bytes: any field values, ignored bytes zero.
fn packet_bytes() -> impl Strategy<Value = Vec<u8>> {
    let len = prop::sample::select(vec![8usize, 28, 32, 44, 184]);
    (
        len,
        any::<u32>(),
        prop::sample::select(vec![1u32, 2, 3, 4, 5, 6, 7, 8, 9, 12]),
    )
        .prop_flat_map(|(len, token, segment)| {
            (
                Just(len),
                Just((token & !0xff) | segment),
                prop::collection::vec(any::<u8>(), len),
            )
        })
        .prop_map(|(len, token, mut bytes)| {
            bytes[0..4].copy_from_slice(&token.to_be_bytes());
            if len == 28 || len == 32 {
                bytes[24..28].fill(0);
            }
            if len == 184 {
                for i in 0..10 {
                    bytes[64 + 12 * i + 10..64 + 12 * i + 12].fill(0);
                }
            }
            bytes
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(Message::Packets(packets)) = split(&bytes) {
            let declared = usize::from(packets.declared());
            prop_assert!(packets.count() <= declared + 1);
        }
    }

    #[test]
    fn plausible_frames_never_panic(
        count in 0u16..6,
        parts in prop::collection::vec((0u16..200, prop::collection::vec(any::<u8>(), 0..200)), 0..6),
    ) {
        let mut bytes = count.to_be_bytes().to_vec();
        for (len, body) in parts {
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(&body);
        }
        if let Ok(Message::Packets(packets)) = split(&bytes) {
            for item in packets {
                if let Err(e) = item {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
        }
    }

    #[test]
    fn valid_packets_round_trip(packets in prop::collection::vec(packet_bytes(), 1..8)) {
        let bytes = frame(&packets);
        let Ok(Message::Packets(decoded)) = split(&bytes) else { panic!("not a packet message") };
        let decoded: Vec<KitePacket> = decoded.map(Result::unwrap).collect();
        prop_assert_eq!(decoded.len(), packets.len());
        for (p, original) in decoded.iter().zip(&packets) {
            prop_assert_eq!(&encode(p), original);
            prop_assert_eq!(Some(*p), KitePacket::decode(original));
        }
    }
}
