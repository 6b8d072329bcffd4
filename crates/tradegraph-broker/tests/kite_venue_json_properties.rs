//! Kite REST and order-update JSON from any text (issue 14's live venue): orders and trades
//! read with their ids and exact numbers, or an error naming the missing or bad field (the
//! item's position in a list); error envelopes read as written; never a panic (see
//! `fuzz_harness/kite_venue_json.rs`, which the cargo-fuzz target `kite_venue_json` runs too).
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "fuzz_harness/kite_venue_json.rs"]
mod harness;

use proptest::prelude::*;
use serde_json::{json, Value};

/// Any JSON value, a few levels deep.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,16}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A number as Kite sends it: mostly a JSON number or a numeric string, sometimes not one.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => (0i64..10_000_000, 0u32..3).prop_map(|(n, scale)| {
            serde_json::from_str::<Value>(&tradegraph_core::Decimal::new(n, scale).to_string()).unwrap()
        }),
        2 => (0i64..10_000_000, 0u32..3)
            .prop_map(|(n, scale)| Value::String(tradegraph_core::Decimal::new(n, scale).to_string())),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        1 => prop::sample::select(vec!["", "1e400", "NaN", "12,5", "0x10", "-0.05"])
            .prop_map(|s| Value::String(s.to_owned())),
        1 => prop::sample::select(vec![Value::Null, Value::Bool(true), json!([]), json!({})]),
    ]
}

/// An id as Kite sends it: a string, a number, sometimes empty or absent.
fn id() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => "[0-9]{6,16}".prop_map(|s| Some(Value::String(s))),
        1 => any::<u64>().prop_map(|n| Some(Value::from(n))),
        1 => Just(Some(Value::String(String::new()))),
        1 => Just(Some(Value::Null)),
        1 => Just(None),
    ]
}

/// Puts `field` in `object` when there is a value.
fn set(object: &mut Value, field: &str, value: Option<Value>) {
    if let Some(value) = value {
        object[field] = value;
    }
}

/// An order as `GET /orders` and the WebSocket's order updates describe it.
fn order() -> impl Strategy<Value = Value> {
    (
        id(),
        prop::sample::select(vec![
            "COMPLETE",
            "OPEN",
            "REJECTED",
            "CANCELLED",
            "TRIGGER PENDING",
            "UPDATE",
            "",
        ]),
        prop::option::of(prop::sample::select(vec!["tg0123456789abcdef", ""])),
        prop::collection::vec(number(), 5),
        prop::option::of("[ -~]{0,30}"),
    )
        .prop_map(|(order_id, status, tag, numbers, message)| {
            let mut o = json!({
                "status": status, "tradingsymbol": "BANKNIFTY25JANFUT", "exchange": "NFO",
                "transaction_type": "BUY", "order_type": "LIMIT", "product": "MIS",
                "validity": "DAY", "variety": "regular", "meta": {},
                "order_timestamp": "2026-12-05 10:00:00"
            });
            set(&mut o, "order_id", order_id);
            set(&mut o, "tag", tag.map(Value::from));
            set(&mut o, "status_message", message.map(Value::from));
            for (field, n) in harness::ORDER_NUMBERS.iter().zip(numbers) {
                o[*field] = n;
            }
            o
        })
}

/// A trade as `GET /orders/{id}/trades` describes it.
fn trade() -> impl Strategy<Value = Value> {
    (
        id(),
        id(),
        number(),
        number(),
        prop::option::of(prop::sample::select(vec![
            "2026-12-05 10:00:00",
            "2026-13-05 10:00:00",
            "",
            "10:00",
        ])),
    )
        .prop_map(|(trade_id, order_id, quantity, price, at)| {
            let mut t = json!({"quantity": quantity, "average_price": price, "exchange": "NFO"});
            set(&mut t, "trade_id", trade_id);
            set(&mut t, "order_id", order_id);
            set(&mut t, "fill_timestamp", at.map(Value::from));
            t
        })
}

/// Kite's error envelope.
fn error_body() -> impl Strategy<Value = String> {
    (
        prop::option::of(prop::sample::select(vec![
            "TokenException",
            "InputException",
            "OrderException",
            "NetworkException",
        ])),
        prop::option::of(any::<String>()),
    )
        .prop_map(|(kind, message)| {
            let mut e = json!({"status": "error", "data": null});
            set(&mut e, "error_type", kind.map(Value::from));
            set(&mut e, "message", message.map(Value::from));
            e.to_string()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn orders_read_with_their_numbers(o in order()) {
        let read = harness::check(&o.to_string());
        let complete = ["order_id", "status"].iter().all(|f| {
            o.get(*f).is_some_and(|v| v.as_str().is_none_or(|s| !s.is_empty()) && !v.is_null())
        });
        if !complete {
            prop_assert!(read.order.is_none(), "an order without its ids: {}", o);
        }
    }

    #[test]
    fn trades_read_with_their_numbers(t in trade()) {
        harness::check(&t.to_string());
    }

    #[test]
    fn a_well_formed_trade_is_read(id in "[0-9]{6,16}", qty in 1u32..10_000, paise in 1i64..10_000_000) {
        let price = tradegraph_core::Decimal::new(paise, 2);
        let t = json!({"trade_id": id, "order_id": "2501", "quantity": qty,
            "average_price": serde_json::from_str::<Value>(&price.to_string()).unwrap(),
            "fill_timestamp": "2026-12-05 10:00:00"});
        let trade = harness::check(&t.to_string()).trade;
        let trade = trade.unwrap_or_else(|| panic!("refused: {t}"));
        prop_assert_eq!(trade.average_price, price);
        prop_assert_eq!(trade.filled_at.map(|t| t.to_string()), Some("2026-12-05T04:30:00Z".to_owned()));
    }

    #[test]
    fn lists_read_item_by_item(items in prop::collection::vec(prop_oneof![order(), trade(), value()], 0..5)) {
        harness::check(&Value::Array(items).to_string());
    }

    #[test]
    fn error_envelopes_read_as_written(text in error_body()) {
        harness::check(&text);
    }

    #[test]
    fn any_text_is_read_or_refused(text in prop_oneof![
        any::<String>(),
        "[\\[\\]{}\":, a-z0-9_.\\\\-]{0,60}",
        value().prop_map(|v| v.to_string()),
        (order(), any::<prop::sample::Index>()).prop_map(|(o, at)| {
            let o = o.to_string();
            let end = at.index(o.len() + 1);
            o.get(..end).unwrap_or(&o).to_owned()
        }),
        (order(), value()).prop_map(|(mut o, v)| {
            o["quantity"] = v;
            o.to_string()
        }),
    ]) {
        harness::check(&text);
    }
}
