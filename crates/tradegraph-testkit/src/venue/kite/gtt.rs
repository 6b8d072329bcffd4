//! GTTs (`/gtt/triggers`): `single` and `two-leg` (OCO) triggers whose legs are LIMIT orders,
//! placed when the price reaches a trigger value.

use super::book::KiteFail;
use super::State;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::str::FromStr;

/// A GTT as the test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GttView {
    /// Kite's trigger id.
    pub id: u64,
    /// `single` or `two-leg`.
    pub kind: String,
    /// `active`, `triggered`, `deleted`.
    pub status: String,
    /// The trigger values.
    pub trigger_values: Vec<Decimal>,
    /// The legs' limit prices.
    pub prices: Vec<Decimal>,
    /// The legs' quantities.
    pub quantities: Vec<Decimal>,
    /// The legs' products (`NRML`, `CNC`).
    pub products: Vec<String>,
    /// The order ids placed by the legs that triggered.
    pub placed: Vec<Option<String>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Gtt {
    id: u64,
    kind: String,
    status: String,
    condition: Value,
    trigger_values: Vec<Decimal>,
    orders: Vec<Value>,
    placed: Vec<Option<String>>,
    /// `YYYY-MM-DD HH:MM:SS`, India's time, as Kite shows it.
    created_at: String,
}

impl Gtt {
    pub(crate) fn view(&self) -> GttView {
        GttView {
            id: self.id,
            kind: self.kind.clone(),
            status: self.status.clone(),
            trigger_values: self.trigger_values.clone(),
            prices: self
                .orders
                .iter()
                .map(|o| dec(o.get("price")).unwrap_or_default())
                .collect(),
            quantities: self
                .orders
                .iter()
                .map(|o| dec(o.get("quantity")).unwrap_or_default())
                .collect(),
            products: self
                .orders
                .iter()
                .map(|o| {
                    o.get("product")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect(),
            placed: self.placed.clone(),
        }
    }

    fn to_json(&self) -> Value {
        let orders: Vec<Value> = self
            .orders
            .iter()
            .zip(&self.placed)
            .map(|(o, placed)| {
                let mut o = o.clone();
                o["result"] = match placed {
                    Some(id) => json!({"order_result": {"order_id": id, "status": "success", "rejection_reason": ""}}),
                    None => Value::Null,
                };
                o
            })
            .collect();
        json!({"id": self.id, "type": self.kind, "status": self.status, "condition": self.condition, "orders": orders, "created_at": self.created_at, "updated_at": self.created_at})
    }
}

fn dec(value: Option<&Value>) -> Option<Decimal> {
    match value? {
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        Value::String(s) => Decimal::from_str(s).ok(),
        _ => None,
    }
}

/// A trigger's form, checked as Kite does: its type, condition, trigger values and legs.
struct Checked {
    kind: String,
    condition: Value,
    values: Vec<Decimal>,
    orders: Vec<Value>,
}

fn check(state: &State, form: &HashMap<String, String>) -> Result<Checked, KiteFail> {
    let kind = form.get("type").cloned().unwrap_or_default();
    let legs = match kind.as_str() {
        "single" => 1,
        "two-leg" => 2,
        _ => return Err(KiteFail::input("Invalid `type`.")),
    };
    let parse = |name: &str| -> Result<Value, KiteFail> {
        form.get(name)
            .and_then(|t| serde_json::from_str(t).ok())
            .ok_or_else(|| KiteFail::input(format!("Invalid `{name}`.")))
    };
    let condition = parse("condition")?;
    let orders = parse("orders")?;
    let symbol = condition.get("tradingsymbol").and_then(Value::as_str);
    if !symbol.is_some_and(|s| super::dump::lists(&state.dump, s)) {
        return Err(KiteFail::input("Invalid `tradingsymbol` in `condition`."));
    }
    let values: Vec<Decimal> = condition
        .get("trigger_values")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| dec(Some(v))).collect())
        .unwrap_or_default();
    let orders: Vec<Value> = orders.as_array().cloned().unwrap_or_default();
    if values.len() != legs || orders.len() != legs {
        return Err(KiteFail::input(format!(
            "A {kind} trigger needs {legs} trigger values and {legs} orders."
        )));
    }
    let last =
        dec(condition.get("last_price")).ok_or_else(|| KiteFail::input("Invalid `last_price`."))?;
    if legs == 2 && !(values[0] < last && last < values[1]) {
        return Err(KiteFail::input(
            "The trigger values of a two-leg trigger must be on either side of the last price.",
        ));
    }
    for order in &orders {
        if order.get("order_type").and_then(Value::as_str) != Some("LIMIT") {
            return Err(KiteFail::input("GTT orders must be LIMIT orders."));
        }
        // Kite documents GTTs for delivery (CNC) and carry-forward (NRML) products only; an
        // intraday (MIS) GTT is refused here rather than assumed to work.
        if !matches!(
            order.get("product").and_then(Value::as_str),
            Some("CNC" | "NRML")
        ) {
            return Err(KiteFail::input(
                "GTT orders can only be placed with the CNC or NRML product.",
            ));
        }
        let quantity = dec(order.get("quantity")).unwrap_or_default();
        if quantity <= Decimal::ZERO || !(quantity % state.book.lot_size).is_zero() {
            return Err(KiteFail::input(format!(
                "Quantity should be a multiple of lot size {}",
                state.book.lot_size
            )));
        }
        let price = dec(order.get("price")).unwrap_or_default();
        if price <= Decimal::ZERO || !(price % state.book.tick_size).is_zero() {
            return Err(KiteFail::input(format!(
                "Price {price} is not a multiple of tick size {}",
                state.book.tick_size
            )));
        }
    }
    Ok(Checked {
        kind,
        condition,
        values,
        orders,
    })
}

/// `POST /gtt/triggers`: checks the trigger as Kite does and keeps it; returns its id.
pub(crate) fn place(state: &mut State, form: &HashMap<String, String>) -> Result<u64, KiteFail> {
    let checked = check(state, form)?;
    let id = 100_000 + state.gtts.len() as u64 + 1;
    state.gtts.push(Gtt {
        id,
        kind: checked.kind,
        status: "active".into(),
        condition: checked.condition,
        trigger_values: checked.values,
        placed: vec![None; checked.orders.len()],
        orders: checked.orders,
        created_at: super::clock::ist_now(),
    });
    Ok(id)
}

/// `PUT /gtt/triggers/{id}`: an active trigger takes new values and legs, checked as a new
/// one is; returns its id.
pub(crate) fn modify(
    state: &mut State,
    id: &str,
    form: &HashMap<String, String>,
) -> Result<u64, KiteFail> {
    let i = find(state, id)?;
    if state.gtts[i].status != "active" {
        return Err(KiteFail::input(format!(
            "The trigger is {} and cannot be modified.",
            state.gtts[i].status
        )));
    }
    let checked = check(state, form)?;
    let gtt = &mut state.gtts[i];
    if checked.kind != gtt.kind {
        return Err(KiteFail::input("The type of a trigger cannot be modified."));
    }
    gtt.condition = checked.condition;
    gtt.trigger_values = checked.values;
    gtt.placed = vec![None; checked.orders.len()];
    gtt.orders = checked.orders;
    Ok(gtt.id)
}

/// `GET /gtt/triggers`: every GTT, newest first (as Kite lists them).
pub(crate) fn list(state: &State) -> Value {
    Value::Array(state.gtts.iter().rev().map(Gtt::to_json).collect())
}

/// `GET /gtt/triggers/{id}`.
pub(crate) fn get(state: &State, id: &str) -> Result<Value, KiteFail> {
    find(state, id).map(|i| state.gtts[i].to_json())
}

/// `DELETE /gtt/triggers/{id}`.
pub(crate) fn delete(state: &mut State, id: &str) -> Result<u64, KiteFail> {
    let i = find(state, id)?;
    let gtt = &mut state.gtts[i];
    if gtt.status != "active" {
        return Err(KiteFail::input(format!(
            "The trigger is {} and cannot be deleted.",
            gtt.status
        )));
    }
    gtt.status = "deleted".into();
    Ok(gtt.id)
}

fn find(state: &State, id: &str) -> Result<usize, KiteFail> {
    state
        .gtts
        .iter()
        .position(|g| g.id.to_string() == id)
        .ok_or_else(|| KiteFail {
            status: 404,
            error_type: "InputException",
            message: "Invalid trigger id.".into(),
        })
}

/// Triggers the active GTTs `price` reaches: the leg's LIMIT order is placed (and matched).
pub(crate) fn trigger(state: &mut State, price: Decimal) {
    for i in 0..state.gtts.len() {
        let gtt = &state.gtts[i];
        if gtt.status != "active" {
            continue;
        }
        let leg = match gtt.trigger_values.as_slice() {
            [low, _] if price <= *low => Some(0),
            [_, high] if price >= *high => Some(1),
            [single] => {
                let last = dec(gtt.condition.get("last_price")).unwrap_or_default();
                let crossed = if *single < last {
                    price <= *single
                } else {
                    price >= *single
                };
                crossed.then_some(0)
            }
            _ => None,
        };
        let Some(leg) = leg else { continue };
        let order = gtt.orders[leg].clone();
        let text = |name: &str| match order.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        };
        let form: HashMap<String, String> = [
            "transaction_type",
            "quantity",
            "product",
            "order_type",
            "price",
            "exchange",
            "tradingsymbol",
        ]
        .into_iter()
        .map(|k| (k.to_owned(), text(k)))
        .collect();
        let placed = state.book.place(&form).ok();
        let gtt = &mut state.gtts[i];
        gtt.status = "triggered".into();
        gtt.placed[leg] = placed;
    }
}
