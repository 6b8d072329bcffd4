//! The venue's answers and events, in Binance's JSON (decimals as 8-place strings).

use super::orders::{VenueOrder, VenueTrade};
use super::rules::Rules;
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn f8(d: Decimal) -> String {
    format!("{d:.8}")
}

/// `GET /api/v3/order` (and the `RESULT` part of a new order's answer).
pub(crate) fn order(rules: &Rules, o: &VenueOrder) -> Value {
    let mut v = json!({
        "symbol": rules.symbol,
        "orderId": o.id,
        "orderListId": o.order_list_id,
        "clientOrderId": o.client_id,
        "price": f8(o.price),
        "origQty": f8(o.quantity),
        "executedQty": f8(o.executed),
        "cummulativeQuoteQty": f8(o.cum_quote),
        "status": o.status,
        "timeInForce": o.time_in_force,
        "type": o.kind,
        "side": o.side.as_str(),
        "stopPrice": f8(o.stop_price),
        "icebergQty": "0.00000000",
        "time": o.time,
        "updateTime": o.update_time,
        "isWorking": o.triggered || !(o.kind.starts_with("STOP") || o.kind.starts_with("TAKE")),
        "workingTime": o.time,
        "origQuoteOrderQty": "0.00000000",
        "selfTradePreventionMode": "EXPIRE_MAKER"
    });
    if o.trailing_delta > 0 {
        v["trailingDelta"] = json!(o.trailing_delta);
    }
    v
}

/// A new order's `FULL` answer: the order and the fills it made at once.
pub(crate) fn order_full(rules: &Rules, o: &VenueOrder, trades: &[VenueTrade]) -> Value {
    let mut v = order(rules, o);
    v["transactTime"] = json!(o.time);
    v["fills"] = trades
        .iter()
        .filter(|t| t.order_id == o.id)
        .map(|t| {
            json!({
                "price": f8(t.price),
                "qty": f8(t.qty),
                "commission": f8(t.commission),
                "commissionAsset": t.commission_asset,
                "tradeId": t.id
            })
        })
        .collect();
    v
}

/// `GET /api/v3/myTrades`.
pub(crate) fn trade(rules: &Rules, t: &VenueTrade) -> Value {
    json!({
        "symbol": rules.symbol,
        "id": t.id,
        "orderId": t.order_id,
        "orderListId": t.order_list_id,
        "price": f8(t.price),
        "qty": f8(t.qty),
        "quoteQty": f8(t.price * t.qty),
        "commission": f8(t.commission),
        "commissionAsset": t.commission_asset,
        "time": t.time,
        "isBuyer": t.is_buyer,
        "isMaker": t.is_maker,
        "isBestMatch": true
    })
}

/// An `executionReport` event (without the WebSocket API's `subscriptionId` envelope).
pub(crate) fn execution_report(
    rules: &Rules,
    o: &VenueOrder,
    execution: &str,
    trade: Option<&VenueTrade>,
    now: i64,
) -> String {
    // A cancel's event carries the cancel request's id in `c` and the order's in `C`.
    let (c, orig) = if execution == "CANCELED" {
        (format!("cancel{}", o.id), o.client_id.clone())
    } else {
        (o.client_id.clone(), String::new())
    };
    let mut v = json!({
        "e": "executionReport",
        "E": now,
        "s": rules.symbol,
        "c": c,
        "S": o.side.as_str(),
        "o": o.kind,
        "f": o.time_in_force,
        "q": f8(o.quantity),
        "p": f8(o.price),
        "P": f8(o.stop_price),
        "F": "0.00000000",
        "g": o.order_list_id,
        "C": orig,
        "x": execution,
        "X": o.status,
        "r": "NONE",
        "i": o.id,
        "l": f8(trade.map_or(Decimal::ZERO, |t| t.qty)),
        "z": f8(o.executed),
        "L": f8(trade.map_or(Decimal::ZERO, |t| t.price)),
        "n": f8(trade.map_or(Decimal::ZERO, |t| t.commission)),
        "N": trade.map(|t| t.commission_asset.clone()),
        "T": now,
        "t": trade.map_or(-1, |t| i64::try_from(t.id).unwrap_or(-1)),
        "v": 0,
        "I": now,
        "w": o.is_working(),
        "m": trade.is_some_and(|t| t.is_maker),
        "M": false,
        "O": o.time,
        "Z": f8(o.cum_quote),
        "Y": f8(trade.map_or(Decimal::ZERO, |t| t.qty * t.price)),
        "Q": "0.00000000",
        "W": o.time,
        "V": "EXPIRE_MAKER"
    });
    if o.trailing_delta > 0 {
        v["d"] = json!(o.trailing_delta);
    }
    v.to_string()
}

/// The WebSocket API's event envelope.
pub(crate) fn event(subscription: u64, event: &str) -> String {
    format!(r#"{{"subscriptionId":{subscription},"event":{event}}}"#)
}

/// An error body.
pub(crate) fn error(code: i64, msg: &str) -> Value {
    json!({ "code": code, "msg": msg })
}
