//! Kite REST and order-update JSON: what `KiteOrder::from_value`, `KiteTrade::from_value`
//! (and their lists, `orders_of` and `trades_of`) and `KiteError::from_body` make of any text,
//! against a model built from the text as plain JSON.
//!
//! Shared by the property test `tests/kite_venue_json_properties.rs` and the cargo-fuzz target
//! `fuzz/fuzz_targets/kite_venue_json.rs` (which includes this file by path). A violated
//! property panics with what was violated.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use serde_json::Value;
use std::str::FromStr;
use tradegraph_broker::live::kite::{orders_of, trades_of, KiteError, KiteOrder, KiteTrade};
use tradegraph_core::Decimal;

/// The decimal fields of an order, in the order `from_value` reads them.
pub const ORDER_NUMBERS: [&str; 5] = [
    "quantity",
    "filled_quantity",
    "price",
    "trigger_price",
    "average_price",
];

/// The decimal fields of a trade.
pub const TRADE_NUMBERS: [&str; 2] = ["quantity", "average_price"];

/// What was read from one text.
#[derive(Debug, Default)]
pub struct Read {
    /// The order, when the text is one.
    pub order: Option<KiteOrder>,
    /// The trade, when the text is one.
    pub trade: Option<KiteTrade>,
    /// The error envelope (always read).
    pub error: Option<KiteError>,
}

/// Runs every reader on `text` and checks each answer against the model.
pub fn check(text: &str) -> Read {
    let error = check_error(text);
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return Read {
            error: Some(error),
            ..Read::default()
        };
    };
    let order = check_order(&value);
    let trade = check_trade(&value);
    check_lists(&value);
    Read {
        order,
        trade,
        error: Some(error),
    }
}

/// A JSON string or number as text, the way Kite's ids may come.
fn text_of(value: &Value, field: &str) -> Option<String> {
    match value.get(field) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The model of a number field: absent, `null` and `""` are 0; a number or numeric string is
/// its exact decimal; anything else is `None` (refused).
fn number(value: &Value, field: &str) -> Option<Decimal> {
    match value.get(field) {
        None | Some(Value::Null) => Some(Decimal::ZERO),
        Some(Value::String(s)) if s.is_empty() => Some(Decimal::ZERO),
        Some(Value::String(s)) => Decimal::from_str(s).ok(),
        Some(Value::Number(n)) => {
            let t = n.to_string();
            Decimal::from_str(&t)
                .or_else(|_| Decimal::from_scientific(&t))
                .ok()
        }
        Some(_) => None,
    }
}

/// An error names a field (in backticks) that the model finds missing or bad.
fn assert_names_a_bad_field(e: &str, value: &Value, required: &[&str], numbers: &[&str]) {
    let bad_required = required
        .iter()
        .any(|f| e.contains(&format!("`{f}`")) && text_of(value, f).is_none_or(|t| t.is_empty()));
    let bad_number = numbers
        .iter()
        .any(|f| e.contains(&format!("`{f}`")) && number(value, f).is_none());
    assert!(
        bad_required || bad_number,
        "the error `{e}` does not name a field that is missing or bad: {value}"
    );
}

/// `KiteOrder::from_value`: an order only with a non-empty `order_id` and `status` and every
/// number readable, carrying them exactly; otherwise an error naming the field.
pub fn check_order(value: &Value) -> Option<KiteOrder> {
    match KiteOrder::from_value(value) {
        Ok(order) => {
            assert_eq!(
                Some(&order.order_id),
                text_of(value, "order_id").as_ref(),
                "{value}"
            );
            assert_eq!(
                Some(&order.status),
                text_of(value, "status").as_ref(),
                "{value}"
            );
            assert!(
                !order.order_id.is_empty() && !order.status.is_empty(),
                "{value}"
            );
            let optional = |f: &str| text_of(value, f).filter(|s| !s.is_empty());
            assert_eq!(order.tag, optional("tag"), "{value}");
            assert_eq!(order.status_message, optional("status_message"), "{value}");
            assert_eq!(
                order.tradingsymbol,
                optional("tradingsymbol").unwrap_or_default()
            );
            let numbers = [
                order.quantity,
                order.filled_quantity,
                order.price,
                order.trigger_price,
                order.average_price,
            ];
            for (field, read) in ORDER_NUMBERS.iter().zip(numbers) {
                assert_eq!(Some(read), number(value, field), "`{field}` of {value}");
            }
            Some(order)
        }
        Err(e) => {
            assert_names_a_bad_field(&e, value, &["order_id", "status"], &ORDER_NUMBERS);
            None
        }
    }
}

/// `KiteTrade::from_value`: a trade only with a non-empty `trade_id` and `order_id` and
/// readable numbers, carrying them exactly; otherwise an error naming the field.
pub fn check_trade(value: &Value) -> Option<KiteTrade> {
    match KiteTrade::from_value(value) {
        Ok(trade) => {
            assert_eq!(
                Some(&trade.trade_id),
                text_of(value, "trade_id").as_ref(),
                "{value}"
            );
            assert_eq!(
                Some(&trade.order_id),
                text_of(value, "order_id").as_ref(),
                "{value}"
            );
            assert!(
                !trade.trade_id.is_empty() && !trade.order_id.is_empty(),
                "{value}"
            );
            for (field, read) in TRADE_NUMBERS
                .iter()
                .zip([trade.quantity, trade.average_price])
            {
                assert_eq!(Some(read), number(value, field), "`{field}` of {value}");
            }
            if trade.filled_at.is_some() {
                let stamped = ["fill_timestamp", "exchange_timestamp"]
                    .iter()
                    .any(|k| value.get(*k).and_then(Value::as_str).is_some());
                assert!(stamped, "a fill time from nowhere: {value}");
            }
            Some(trade)
        }
        Err(e) => {
            assert_names_a_bad_field(&e, value, &["trade_id", "order_id"], &TRADE_NUMBERS);
            None
        }
    }
}

/// `orders_of` and `trades_of`: a list item by item (an error naming the first bad item by
/// position), nothing for `null`, an error for anything else.
pub fn check_lists(value: &Value) {
    let orders = orders_of(value);
    let trades = trades_of(value);
    match value {
        Value::Null => {
            assert_eq!(orders.map(|o| o.len()), Ok(0));
            assert_eq!(trades.map(|t| t.len()), Ok(0));
        }
        Value::Array(items) => {
            let first_bad = |read: &dyn Fn(&Value) -> bool| items.iter().position(|i| !read(i));
            match (orders, first_bad(&|i| KiteOrder::from_value(i).is_ok())) {
                (Ok(list), None) => assert_eq!(list.len(), items.len(), "{value}"),
                (Err(e), Some(at)) => {
                    assert!(e.starts_with(&format!("order {at}: ")), "{e} for {value}")
                }
                (got, bad) => panic!("orders_of {got:?} with item {bad:?} bad: {value}"),
            }
            match (trades, first_bad(&|i| KiteTrade::from_value(i).is_ok())) {
                (Ok(list), None) => assert_eq!(list.len(), items.len(), "{value}"),
                (Err(e), Some(at)) => {
                    assert!(e.starts_with(&format!("trade {at}: ")), "{e} for {value}")
                }
                (got, bad) => panic!("trades_of {got:?} with item {bad:?} bad: {value}"),
            }
        }
        _ => {
            assert!(orders.is_err_and(|e| e.starts_with("expected a list of orders")));
            assert!(trades.is_err_and(|e| e.starts_with("expected a list of trades")));
        }
    }
}

/// `KiteError::from_body`: Kite's `message` and `error_type` when the body is JSON with a
/// string `message`; otherwise the body's first 200 characters as the message.
pub fn check_error(text: &str) -> KiteError {
    let error = KiteError::from_body(text);
    let model: Option<Value> = serde_json::from_str(text).ok();
    let field = |name: &str| {
        model
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
    };
    assert_eq!(
        error.error_type,
        field("error_type").unwrap_or(""),
        "{text}"
    );
    match field("message") {
        Some(message) => assert_eq!(error.message, message, "{text}"),
        None => {
            let start: String = text.chars().take(200).collect();
            assert_eq!(error.message, start, "{text}");
        }
    }
    error
}
