//! Kite's order and trade payloads (`GET /orders`, `/orders/{id}/trades`, and the order
//! updates of the WebSocket, which share the postback format), read with exact decimals.

use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use tradegraph_core::order::OrderStatus;
use tradegraph_core::Timestamp;

/// One order as Kite reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KiteOrder {
    /// Kite's order id.
    pub order_id: String,
    /// `OPEN`, `COMPLETE`, `CANCELLED`, `REJECTED`, `TRIGGER PENDING`, `UPDATE`, ...
    pub status: String,
    /// Why it was rejected or cancelled, when Kite says.
    pub status_message: Option<String>,
    /// Our client order id.
    pub tag: Option<String>,
    /// The trading symbol.
    pub tradingsymbol: String,
    /// `BUY` or `SELL`.
    pub transaction_type: String,
    /// `MARKET`, `LIMIT`, `SL`, `SL-M`.
    pub order_type: String,
    /// `MIS`, `NRML`, `CNC` (empty when Kite did not say).
    pub product: String,
    /// Ordered.
    pub quantity: Decimal,
    /// Filled so far.
    pub filled_quantity: Decimal,
    /// The limit price (0 when none).
    pub price: Decimal,
    /// The trigger price (0 when none).
    pub trigger_price: Decimal,
    /// The average fill price (0 before a fill).
    pub average_price: Decimal,
}

/// One trade (a fill) of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KiteTrade {
    /// Kite's trade id: fills are deduplicated on it.
    pub trade_id: String,
    /// The order.
    pub order_id: String,
    /// How much.
    pub quantity: Decimal,
    /// At what price.
    pub average_price: Decimal,
    /// When it filled (`fill_timestamp`, else `exchange_timestamp`; India's time), when Kite
    /// said.
    pub filled_at: Option<Timestamp>,
}

/// A time as Kite writes it (`2026-12-05 10:00:00`, India's time).
///
/// ```
/// use tradegraph_broker::live::kite::kite_time;
/// let t = kite_time("2026-12-05 10:00:00").unwrap();
/// assert_eq!(t.to_string(), "2026-12-05T04:30:00Z");
/// assert!(kite_time("").is_none());
/// ```
pub fn kite_time(text: &str) -> Option<Timestamp> {
    let (date, time) = text.trim().split_once(' ')?;
    let offset = tradegraph_core::time::IST_OFFSET_MINUTES;
    let (hours, minutes) = (offset / 60, offset % 60);
    Timestamp::from_str(&format!("{date}T{time}+{hours:02}:{minutes:02}")).ok()
}

/// A number Kite sent (a JSON number or a numeric string), exactly: the JSON text, not a
/// float. `null` and absent are 0.
pub(crate) fn decimal(value: Option<&Value>, field: &str) -> Result<Decimal, String> {
    match value {
        None | Some(Value::Null) => Ok(Decimal::ZERO),
        Some(Value::Number(n)) => {
            let text = n.to_string();
            Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .map_err(|_| format!("`{field}` {text} is not a decimal number"))
        }
        Some(Value::String(s)) if s.is_empty() => Ok(Decimal::ZERO),
        Some(Value::String(s)) => Decimal::from_str(s)
            .map_err(|_| format!("`{field}` `{}` is not a decimal number", short(s))),
        Some(other) => Err(format!("`{field}` is {other}, not a number")),
    }
}

fn text(value: &Value, field: &str) -> Option<String> {
    match value.get(field) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// A JSON string or number as text.
pub(crate) fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The field `field` of an object as text, when present and not empty.
pub(crate) fn text_of(value: &Value, field: &str) -> Option<String> {
    value
        .get(field)
        .and_then(value_text)
        .filter(|s| !s.is_empty())
}

fn required(value: &Value, field: &str) -> Result<String, String> {
    text(value, field)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("Kite payload lacks `{field}`"))
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

impl KiteOrder {
    /// Reads one order object.
    ///
    /// ```
    /// use tradegraph_broker::live::kite::KiteOrder;
    /// let json = serde_json::json!({"order_id": "2501", "status": "COMPLETE", "tag": "tg0123456789abcdef",
    ///     "tradingsymbol": "BANKNIFTY25JANFUT", "transaction_type": "BUY", "order_type": "MARKET",
    ///     "quantity": 30, "filled_quantity": 30, "price": 0, "trigger_price": 0, "average_price": 48210.05});
    /// let order = KiteOrder::from_value(&json).unwrap();
    /// assert_eq!(order.average_price.to_string(), "48210.05");
    /// ```
    ///
    /// # Errors
    /// What is missing or not a number.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        Ok(Self {
            order_id: required(value, "order_id")?,
            status: required(value, "status")?,
            status_message: text(value, "status_message").filter(|s| !s.is_empty()),
            tag: text(value, "tag").filter(|s| !s.is_empty()),
            tradingsymbol: text(value, "tradingsymbol").unwrap_or_default(),
            transaction_type: text(value, "transaction_type").unwrap_or_default(),
            order_type: text(value, "order_type").unwrap_or_default(),
            product: text(value, "product").unwrap_or_default(),
            quantity: decimal(value.get("quantity"), "quantity")?,
            filled_quantity: decimal(value.get("filled_quantity"), "filled_quantity")?,
            price: decimal(value.get("price"), "price")?,
            trigger_price: decimal(value.get("trigger_price"), "trigger_price")?,
            average_price: decimal(value.get("average_price"), "average_price")?,
        })
    }

    /// Our status for Kite's: `COMPLETE` filled, `CANCELLED` (and Kite's exchange
    /// cancellations) cancelled, `REJECTED` rejected, anything else working (partially filled
    /// once something filled).
    pub fn order_status(&self) -> OrderStatus {
        match self.status.as_str() {
            "COMPLETE" => OrderStatus::Filled,
            "REJECTED" => OrderStatus::Rejected,
            s if s.starts_with("CANCELLED") => OrderStatus::Cancelled,
            _ if self.filled_quantity > Decimal::ZERO => OrderStatus::PartiallyFilled,
            _ => OrderStatus::Open,
        }
    }
}

impl KiteTrade {
    /// Reads one trade object.
    ///
    /// # Errors
    /// What is missing or not a number.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        Ok(Self {
            trade_id: required(value, "trade_id")?,
            order_id: required(value, "order_id")?,
            quantity: decimal(value.get("quantity"), "quantity")?,
            average_price: decimal(value.get("average_price"), "average_price")?,
            filled_at: ["fill_timestamp", "exchange_timestamp"]
                .iter()
                .find_map(|k| value.get(*k).and_then(Value::as_str).and_then(kite_time)),
        })
    }
}

/// The `data` of a successful answer `{"status":"success","data":..}`.
///
/// # Errors
/// When the body is not Kite's success envelope.
pub fn success_data(body: &str) -> Result<Value, String> {
    let mut value: Value = serde_json::from_str(body)
        .map_err(|e| format!("the answer is not JSON ({e}): {}", short(body)))?;
    if value.get("status").and_then(Value::as_str) != Some("success") {
        return Err(format!("the answer is not a success: {}", short(body)));
    }
    Ok(value
        .get_mut("data")
        .map(Value::take)
        .unwrap_or(Value::Null))
}

/// The orders of a `data` array (`GET /orders`, `/orders/{id}`).
///
/// # Errors
/// The first order that cannot be read, by position.
pub fn orders_of(data: &Value) -> Result<Vec<KiteOrder>, String> {
    each(data, "order", KiteOrder::from_value)
}

/// The trades of a `data` array (`GET /orders/{id}/trades`).
///
/// # Errors
/// The first trade that cannot be read, by position.
pub fn trades_of(data: &Value) -> Result<Vec<KiteTrade>, String> {
    each(data, "trade", KiteTrade::from_value)
}

fn each<T>(
    data: &Value,
    what: &str,
    read: impl Fn(&Value) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match data {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| read(item).map_err(|e| format!("{what} {i}: {e}")))
            .collect(),
        Value::Null => Ok(Vec::new()),
        other => Err(format!("expected a list of {what}s, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numbers_are_exact_and_statuses_map() {
        let body = r#"{"status":"success","data":[
            {"order_id":"1","status":"OPEN","tag":"tgabc","quantity":60,"filled_quantity":30,"price":48200.05,"trigger_price":0,"average_price":48199.95},
            {"order_id":"2","status":"TRIGGER PENDING","tag":null,"quantity":30,"filled_quantity":0,"trigger_price":47900.1},
            {"order_id":"3","status":"REJECTED","status_message":"Insufficient funds","quantity":30,"filled_quantity":0},
            {"order_id":"4","status":"CANCELLED AMO","quantity":30,"filled_quantity":0},
            {"order_id":"5","status":"COMPLETE","quantity":"30","filled_quantity":"30","average_price":"0.1"}]}"#;
        let orders = orders_of(&success_data(body).unwrap()).unwrap();
        assert_eq!(orders[0].price, Decimal::from_str("48200.05").unwrap());
        assert_eq!(
            orders[0].average_price,
            Decimal::from_str("48199.95").unwrap()
        );
        let statuses: Vec<_> = orders.iter().map(KiteOrder::order_status).collect();
        assert_eq!(
            statuses,
            [
                OrderStatus::PartiallyFilled,
                OrderStatus::Open,
                OrderStatus::Rejected,
                OrderStatus::Cancelled,
                OrderStatus::Filled
            ]
        );
        assert_eq!(
            (orders[1].tag.clone(), orders[1].trigger_price.to_string()),
            (None, "47900.1".into())
        );
        assert_eq!(
            orders[2].status_message.as_deref(),
            Some("Insufficient funds")
        );
        let bad =
            orders_of(&serde_json::json!([{"order_id": "9", "status": "OPEN", "price": "x"}]))
                .unwrap_err();
        assert!(bad.contains("order 0") && bad.contains("`price`"), "{bad}");
        assert!(success_data(r#"{"status":"error","message":"m"}"#).is_err());
    }

    #[test]
    fn trades_need_their_ids() {
        let trades = trades_of(&serde_json::json!([{"trade_id": "T1", "order_id": "1", "quantity": 10, "average_price": 100.05}])).unwrap();
        assert_eq!(trades[0].average_price.to_string(), "100.05");
        assert!(trades_of(&serde_json::json!([{"order_id": "1"}]))
            .unwrap_err()
            .contains("trade_id"));
    }
}
