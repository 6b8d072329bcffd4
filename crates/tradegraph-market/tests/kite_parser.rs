//! Cross-check against Zerodha's own parser: every packet of `fixtures/kite/frames.jsonl`
//! (parsed by kiteconnect 5.2.2) must decode to exactly kiteconnect's values, and every
//! malformed message must be reported (naming the packet and why) without a panic.
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use tradegraph_core::Timestamp;
use tradegraph_market::feed::kite::{split, Depth, FrameError, KitePacket, Message};

const FRAMES: &str = include_str!("fixtures/kite/frames.jsonl");

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Our packets and problems for a message.
fn parse(bytes: &[u8]) -> (Vec<KitePacket>, Vec<FrameError>) {
    match split(bytes) {
        Ok(Message::Heartbeat) => (vec![], vec![]),
        Ok(Message::Packets(packets)) => {
            let (ok, err): (Vec<_>, Vec<_>) = packets.partition(Result::is_ok);
            let ok = ok.into_iter().map(Result::unwrap).collect();
            (ok, err.into_iter().map(|e| e.unwrap_err()).collect())
        }
        Err(e) => (vec![], vec![e]),
    }
}

/// `mantissa / 10^scale` as f64: the float kiteconnect computes as `u32 / divisor`.
fn float(d: Decimal) -> f64 {
    d.mantissa() as f64 / 10f64.powi(d.scale() as i32)
}

fn price(ctx: &str, ours: Decimal, theirs: &Value) {
    let f = theirs
        .as_f64()
        .unwrap_or_else(|| panic!("{ctx}: not a number: {theirs}"));
    assert_eq!(float(ours).to_bits(), f.to_bits(), "{ctx}: {ours} vs {f}");
    // The shortest text of kiteconnect's float is the exact decimal.
    let exact = Decimal::from_str(&theirs.to_string()).unwrap();
    assert_eq!(ours, exact, "{ctx}: exact decimal");
}

fn int(ctx: &str, ours: u64, theirs: &Value) {
    assert_eq!(Some(ours), theirs.as_u64(), "{ctx}");
}

fn time(ctx: &str, ours: Option<Timestamp>, theirs: &Value) {
    let theirs = Timestamp::from_str(theirs.as_str().unwrap()).unwrap();
    assert_eq!(ours, Some(theirs), "{ctx}");
}

fn depth(ctx: &str, ours: &[Depth; 5], theirs: &Value) {
    let theirs = theirs.as_array().unwrap();
    assert_eq!(theirs.len(), 5, "{ctx}");
    for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
        let ctx = format!("{ctx}[{i}]");
        int(
            &format!("{ctx}.quantity"),
            o.quantity.into(),
            &t["quantity"],
        );
        price(&format!("{ctx}.price"), o.price, &t["price"]);
        int(&format!("{ctx}.orders"), o.orders.into(), &t["orders"]);
        assert_eq!(
            t.as_object().unwrap().len(),
            3,
            "{ctx}: unchecked keys in {t}"
        );
    }
}

/// Every key kiteconnect gives, compared; an unknown key fails.
fn compare(ctx: &str, p: &KitePacket, theirs: &Value) {
    for (key, v) in theirs.as_object().unwrap() {
        let ctx = format!("{ctx}.{key}");
        match key.as_str() {
            "tradable" => assert_eq!(Some(p.is_tradable()), v.as_bool(), "{ctx}"),
            "mode" => assert_eq!(Some(p.kind.mode().as_str()), v.as_str(), "{ctx}"),
            "instrument_token" => int(&ctx, p.token.into(), v),
            "last_price" => price(&ctx, p.last_price, v),
            "last_traded_quantity" => int(&ctx, p.last_quantity.into(), v),
            "average_traded_price" => price(&ctx, p.average_price, v),
            "volume_traded" => int(&ctx, p.volume.into(), v),
            "total_buy_quantity" => int(&ctx, p.total_buy_quantity.into(), v),
            "total_sell_quantity" => int(&ctx, p.total_sell_quantity.into(), v),
            "ohlc" => {
                price(&format!("{ctx}.open"), p.ohlc.open, &v["open"]);
                price(&format!("{ctx}.high"), p.ohlc.high, &v["high"]);
                price(&format!("{ctx}.low"), p.ohlc.low, &v["low"]);
                price(&format!("{ctx}.close"), p.ohlc.close, &v["close"]);
                assert_eq!(v.as_object().unwrap().len(), 4, "{ctx}");
            }
            "change" => {
                let ours = p
                    .change()
                    .unwrap_or_else(|| panic!("{ctx}: we have no change"));
                assert_eq!(
                    ours.to_bits(),
                    v.as_f64().unwrap().to_bits(),
                    "{ctx}: {ours} vs {v}"
                );
            }
            "last_trade_time" => time(&ctx, p.last_trade_time, v),
            "exchange_timestamp" => time(&ctx, p.exchange_timestamp, v),
            "oi" => int(&ctx, p.oi.into(), v),
            "oi_day_high" => int(&ctx, p.oi_day_high.into(), v),
            "oi_day_low" => int(&ctx, p.oi_day_low.into(), v),
            "depth" => {
                depth(&format!("{ctx}.buy"), &p.bids, &v["buy"]);
                depth(&format!("{ctx}.sell"), &p.asks, &v["sell"]);
            }
            other => panic!("{ctx}: kiteconnect key `{other}` is not checked"),
        }
    }
}

fn fixtures() -> Vec<Value> {
    let all: Vec<Value> = FRAMES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(all.len() >= 30, "only {} fixtures", all.len());
    all
}

#[test]
fn every_packet_kiteconnect_parses_decodes_to_the_same_values() {
    let mut packets = 0;
    for fixture in fixtures() {
        let Some(theirs) = fixture["parsed"].as_array() else {
            continue;
        };
        let name = fixture["name"].as_str().unwrap();
        let (ours, errors) = parse(&hex(fixture["hex"].as_str().unwrap()));
        assert_eq!(ours.len(), theirs.len(), "{name}: packet count");
        for (i, (p, t)) in ours.iter().zip(theirs).enumerate() {
            compare(&format!("{name}[{i}]"), p, t);
            packets += 1;
        }
        // kiteconnect silently drops packets of unknown length; we report them.
        for e in &errors {
            assert!(matches!(e, FrameError::UnknownLength { .. }), "{name}: {e}");
        }
    }
    assert!(packets >= 25, "only {packets} packets compared");
}

/// Name, packets we keep, the problems we report. Where we differ from kiteconnect it is on
/// purpose: we never accept a packet whose length runs past the message (kiteconnect clamps
/// and may accept it), and one bad packet does not cost the valid ones (kiteconnect loses the
/// whole message on a `struct.error`).
const MALFORMED: &[(&str, usize, &[&str])] = &[
    (
        "malformed_zero_packet_frame",
        0,
        &["message declares 0 packets (2 bytes)"],
    ),
    (
        "malformed_zero_packet_frame_with_trailing_packet",
        0,
        &["message declares 0 packets (12 bytes)"],
    ),
    (
        "malformed_truncated_full_packet",
        0,
        &["packet 1 of 1: length 184 but only 100 bytes remain"],
    ),
    (
        "malformed_length_field_larger_than_remaining_ltp",
        0,
        &["packet 1 of 1: length 12 but only 8 bytes remain"],
    ),
    (
        "malformed_length_field_swallows_next_packet",
        0,
        &[
            "packet 1 of 2: 18 bytes is not a Kite packet length (8, 28, 32, 44 or 184)",
            "packet 2 of 2: message ends at byte 22 before the packet's 2-byte length",
        ],
    ),
    (
        "malformed_packet_count_exceeds_packets",
        1,
        &["packet 2 of 2: message ends at byte 12 before the packet's 2-byte length"],
    ),
    (
        "malformed_unknown_length_10",
        0,
        &["packet 1 of 1: 10 bytes is not a Kite packet length (8, 28, 32, 44 or 184)"],
    ),
    (
        "malformed_packet_shorter_than_token",
        0,
        &["packet 1 of 1: 3 bytes is not a Kite packet length (8, 28, 32, 44 or 184)"],
    ),
    (
        "malformed_zero_length_packet_then_valid",
        1,
        &["packet 1 of 2: 0 bytes is not a Kite packet length (8, 28, 32, 44 or 184)"],
    ),
    (
        "malformed_odd_trailing_byte_after_packets",
        1,
        &["1 bytes after the 1 declared packets"],
    ),
];

#[test]
fn every_malformed_message_is_reported_with_the_packet_and_why() {
    let all = fixtures();
    let malformed: Vec<&Value> = all.iter().filter(|f| f["parsed"].is_null()).collect();
    assert_eq!(
        malformed.len(),
        MALFORMED.len(),
        "a malformed fixture has no expectation here"
    );
    for fixture in malformed {
        let name = fixture["name"].as_str().unwrap();
        let (_, kept, reasons) = MALFORMED
            .iter()
            .find(|(n, ..)| *n == name)
            .unwrap_or_else(|| panic!("{name}: no expectation"));
        let (ours, errors) = parse(&hex(fixture["hex"].as_str().unwrap()));
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(&shown, reasons, "{name}");
        assert_eq!(ours.len(), *kept, "{name}: packets kept");
        // What we keep is what kiteconnect would parse from those bytes alone.
        if let Some(returned) = fixture["kiteconnect"]["returned"].as_array() {
            for (i, (p, t)) in ours.iter().zip(returned).enumerate() {
                compare(&format!("{name}[{i}]"), p, t);
            }
        }
    }
}

#[test]
fn text_messages_give_what_kiteconnect_hands_its_callbacks() {
    let lines = include_str!("fixtures/kite/text_messages.jsonl");
    for line in lines.lines().filter(|l| !l.trim().is_empty()) {
        let fixture: Value = serde_json::from_str(line).unwrap();
        let name = fixture["name"].as_str().unwrap();
        let text = fixture["text"].as_str().unwrap();
        let message = tradegraph_market::feed::kite::parse_text(text).unwrap();
        let sent: Value = serde_json::from_str(text).unwrap();
        assert_eq!(Some(message.kind.as_str()), sent["type"].as_str(), "{name}");
        for callback in fixture["kiteconnect_callbacks"].as_array().unwrap() {
            match callback["callback"].as_str().unwrap() {
                "on_order_update" => {
                    let payload: Value = serde_json::from_str(&message.payload).unwrap();
                    assert_eq!(payload, callback["args"], "{name}");
                }
                "on_error" => {
                    assert_eq!(
                        Some(message.payload.as_str()),
                        callback["args"]["reason"].as_str(),
                        "{name}"
                    );
                }
                other => panic!("{name}: callback {other} not checked"),
            }
        }
    }
}
