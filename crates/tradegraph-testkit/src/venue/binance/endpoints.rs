//! The signed endpoints: place, query, cancel, cancel-replace, OCO, open orders, trades, account.

use super::auth::{get, Params};
use super::json;
use super::orders::{Side, VenueOrder};
use super::state::{refusal, Refusal, State};
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn mandatory(name: &str) -> Refusal {
    refusal(
        -1102,
        &format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
    )
}

fn dec(params: &Params, name: &str) -> Result<Option<Decimal>, Refusal> {
    match get(params, name) {
        None => Ok(None),
        Some(text) => text
            .parse::<Decimal>()
            .map(Some)
            .map_err(|_| refusal(-1100, &format!("Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."))),
    }
}

fn side(params: &Params, key: &str) -> Result<Side, Refusal> {
    match get(params, key) {
        Some("BUY") => Ok(Side::Buy),
        Some("SELL") => Ok(Side::Sell),
        Some(_) => Err(refusal(-1117, "Invalid side.")),
        None => Err(mandatory(key)),
    }
}

fn symbol(state: &State, params: &Params) -> Result<(), Refusal> {
    match get(params, "symbol") {
        Some(s) if s == state.rules.symbol => Ok(()),
        Some(_) => Err(refusal(-1121, "Invalid symbol.")),
        None => Err(mandatory("symbol")),
    }
}

/// One order's parameters, with a prefix for the legs of an order list (`above`, `below`).
struct Leg {
    kind: String,
    price: Option<Decimal>,
    stop: Option<Decimal>,
    trailing: u32,
    tif: String,
    client_id: String,
}

fn leg(params: &Params, prefix: &str, state: &State) -> Result<Leg, Refusal> {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            let mut c = k.chars();
            c.next().map_or(String::new(), |f| {
                format!("{prefix}{}{}", f.to_ascii_uppercase(), c.as_str())
            })
        }
    };
    let kind = get(params, &key("type"))
        .ok_or_else(|| mandatory(&key("type")))?
        .to_owned();
    let price = dec(params, &key("price"))?;
    let stop = dec(params, &key("stopPrice"))?;
    let trailing: u32 = match get(params, &key("trailingDelta")) {
        Some(t) => t.parse().map_err(|_| mandatory(&key("trailingDelta")))?,
        None => 0,
    };
    let tif = get(params, &key("timeInForce")).unwrap_or("").to_owned();
    let limit = kind.ends_with("LIMIT") && kind != "LIMIT_MAKER" || kind == "LIMIT";
    let stopped = kind.starts_with("STOP_LOSS") || kind.starts_with("TAKE_PROFIT");
    match kind.as_str() {
        "MARKET" | "LIMIT" | "LIMIT_MAKER" | "STOP_LOSS" | "STOP_LOSS_LIMIT" | "TAKE_PROFIT"
        | "TAKE_PROFIT_LIMIT" => {}
        _ => return Err(refusal(-1116, "Invalid orderType.")),
    }
    if (limit || kind == "LIMIT_MAKER") && price.is_none() {
        return Err(mandatory(&key("price")));
    }
    if limit && tif.is_empty() {
        return Err(mandatory(&key("timeInForce")));
    }
    if stopped && stop.is_none() && trailing == 0 {
        return Err(mandatory(&key("stopPrice")));
    }
    if !limit && kind != "LIMIT_MAKER" && price.is_some() {
        return Err(refusal(
            -1106,
            &format!("Parameter '{}' sent when not required.", key("price")),
        ));
    }
    let client_id = match get(
        params,
        &key(if prefix.is_empty() {
            "newClientOrderId"
        } else {
            "clientOrderId"
        }),
    ) {
        Some(c) => c.to_owned(),
        None => format!("web_{prefix}{}", state.next_order_id + 1),
    };
    Ok(Leg {
        kind,
        price,
        stop,
        trailing,
        tif,
        client_id,
    })
}

fn new_order(state: &mut State, side: Side, qty: Decimal, leg: &Leg, list: i64) -> VenueOrder {
    state.next_order_id += 1;
    VenueOrder {
        id: state.next_order_id,
        client_id: leg.client_id.clone(),
        side,
        kind: leg.kind.clone(),
        time_in_force: if leg.tif.is_empty() {
            "GTC".into()
        } else {
            leg.tif.clone()
        },
        quantity: qty,
        price: leg.price.unwrap_or_default(),
        stop_price: leg.stop.unwrap_or_default(),
        trailing_delta: leg.trailing,
        trail_best: Decimal::ZERO,
        triggered: false,
        status: "NEW",
        executed: Decimal::ZERO,
        cum_quote: Decimal::ZERO,
        order_list_id: list,
        time: state.now,
        update_time: state.now,
    }
}

fn validate(state: &State, side: Side, qty: Decimal, leg: &Leg) -> Result<(), Refusal> {
    if !state.trading {
        return Err(refusal(-2010, "Market is closed."));
    }
    if state
        .orders
        .iter()
        .any(|o| o.is_working() && o.client_id == leg.client_id)
    {
        return Err(refusal(-2010, "Duplicate order sent."));
    }
    state
        .rules
        .check(leg.kind == "MARKET", qty, leg.price, leg.stop, state.last)?;
    state
        .rules
        .check_trailing(side == Side::Buy, &leg.kind, leg.trailing)?;
    let stopped = leg.kind.starts_with("STOP_LOSS") || leg.kind.starts_with("TAKE_PROFIT");
    if stopped && leg.stop.is_some() {
        let probe = VenueOrder {
            trailing_delta: 0,
            ..new_order_probe(side, leg)
        };
        if probe.stop_reached(state.last) {
            return Err(refusal(-2010, "Order would immediately trigger."));
        }
    }
    if leg.kind == "LIMIT_MAKER" {
        let p = leg.price.unwrap_or_default();
        let crosses = match side {
            Side::Buy => state.last <= p,
            Side::Sell => state.last >= p,
        };
        if crosses {
            return Err(refusal(-2010, "Order would immediately match and take."));
        }
    }
    Ok(())
}

fn new_order_probe(side: Side, leg: &Leg) -> VenueOrder {
    VenueOrder {
        id: 0,
        client_id: String::new(),
        side,
        kind: leg.kind.clone(),
        time_in_force: String::new(),
        quantity: Decimal::ZERO,
        price: leg.price.unwrap_or_default(),
        stop_price: leg.stop.unwrap_or_default(),
        trailing_delta: leg.trailing,
        trail_best: Decimal::ZERO,
        triggered: false,
        status: "NEW",
        executed: Decimal::ZERO,
        cum_quote: Decimal::ZERO,
        order_list_id: -1,
        time: 0,
        update_time: 0,
    }
}

fn quantity(params: &Params) -> Result<Decimal, Refusal> {
    dec(params, "quantity")?.ok_or_else(|| mandatory("quantity"))
}

/// `POST /api/v3/order`.
pub(crate) fn place(state: &mut State, params: &Params) -> Result<Value, Refusal> {
    symbol(state, params)?;
    let side = side(params, "side")?;
    let qty = quantity(params)?;
    let leg = leg(params, "", state)?;
    validate(state, side, qty, &leg)?;
    let at = leg.price.or(leg.stop).unwrap_or(state.last);
    state.check_balance(side, qty, at)?;
    let order = new_order(state, side, qty, &leg, -1);
    let i = state.insert(order);
    let o = &state.orders[i];
    Ok(match get(params, "newOrderRespType") {
        Some("ACK") => {
            json!({"symbol": state.rules.symbol, "orderId": o.id, "orderListId": -1, "clientOrderId": o.client_id, "transactTime": o.time})
        }
        Some("RESULT") => json::order(&state.rules, o),
        _ => json::order_full(&state.rules, o, &state.trades),
    })
}

fn find(state: &State, params: &Params) -> Result<usize, Refusal> {
    symbol(state, params)?;
    let client = get(params, "origClientOrderId");
    let id = get(params, "orderId").and_then(|i| i.parse().ok());
    if client.is_none() && id.is_none() {
        return Err(refusal(
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        ));
    }
    state
        .find(client, id)
        .ok_or_else(|| refusal(-2013, "Order does not exist."))
}

/// `GET /api/v3/order`.
pub(crate) fn query(state: &State, params: &Params) -> Result<Value, Refusal> {
    let i = find(state, params)?;
    Ok(json::order(&state.rules, &state.orders[i]))
}

/// `DELETE /api/v3/order`.
pub(crate) fn cancel(state: &mut State, params: &Params) -> Result<Value, Refusal> {
    let i = find(state, params).map_err(|(s, code, m)| {
        if code == -2013 {
            refusal(-2011, "Unknown order sent.")
        } else {
            (s, code, m)
        }
    })?;
    if !state.orders[i].is_working() {
        return Err(refusal(-2011, "Unknown order sent."));
    }
    state.cancel(i);
    let o = &state.orders[i];
    let mut v = json::order(&state.rules, o);
    v["origClientOrderId"] = json!(o.client_id);
    v["clientOrderId"] = json!(format!("cancel{}", o.id));
    v["transactTime"] = json!(state.now);
    Ok(v)
}

/// `GET /api/v3/openOrders`.
pub(crate) fn open_orders(state: &State, params: &Params) -> Result<Value, Refusal> {
    if get(params, "symbol").is_some() {
        symbol(state, params)?;
    }
    Ok(state
        .orders
        .iter()
        .filter(|o| o.is_working())
        .map(|o| json::order(&state.rules, o))
        .collect())
}

/// `GET /api/v3/myTrades`.
pub(crate) fn my_trades(state: &State, params: &Params) -> Result<Value, Refusal> {
    symbol(state, params)?;
    let from: Option<u64> = get(params, "fromId").and_then(|f| f.parse().ok());
    let limit: usize = get(params, "limit")
        .and_then(|f| f.parse().ok())
        .unwrap_or(500)
        .min(1000);
    let order_id: Option<u64> = get(params, "orderId").and_then(|f| f.parse().ok());
    let matching: Vec<_> = state
        .trades
        .iter()
        .filter(|t| from.is_none_or(|f| t.id >= f) && order_id.is_none_or(|o| o == t.order_id))
        .collect();
    // From `fromId` on, the oldest first; without it, the most recent (as Binance answers).
    let skip = if from.is_some() {
        0
    } else {
        matching.len().saturating_sub(limit)
    };
    Ok(matching
        .into_iter()
        .skip(skip)
        .take(limit)
        .map(|t| json::trade(&state.rules, t))
        .collect())
}

/// `GET /api/v3/account`.
pub(crate) fn account(state: &State) -> Value {
    let balances: Vec<Value> = state
        .balances
        .keys()
        .map(|a| {
            let (free, locked) = state.free_locked(a);
            json!({"asset": a, "free": format!("{free:.8}"), "locked": format!("{locked:.8}")})
        })
        .collect();
    json!({
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
        "canTrade": true, "canWithdraw": true, "canDeposit": true, "brokered": false,
        "requireSelfTradePrevention": false, "preventSor": false,
        "updateTime": state.now, "accountType": "SPOT", "balances": balances,
        "permissions": ["SPOT"], "uid": 354937868
    })
}

/// `POST /api/v3/orderList/oco`.
pub(crate) fn oco(state: &mut State, params: &Params) -> Result<Value, Refusal> {
    symbol(state, params)?;
    let side = side(params, "side")?;
    let qty = quantity(params)?;
    let above = leg(params, "above", state)?;
    let below = leg(params, "below", state)?;
    let list_client = get(params, "listClientOrderId")
        .unwrap_or("list")
        .to_owned();
    let kinds_ok = match side {
        Side::Sell => {
            matches!(
                above.kind.as_str(),
                "LIMIT_MAKER" | "TAKE_PROFIT" | "TAKE_PROFIT_LIMIT"
            ) && matches!(below.kind.as_str(), "STOP_LOSS" | "STOP_LOSS_LIMIT")
        }
        Side::Buy => {
            matches!(
                below.kind.as_str(),
                "LIMIT_MAKER" | "TAKE_PROFIT" | "TAKE_PROFIT_LIMIT"
            ) && matches!(above.kind.as_str(), "STOP_LOSS" | "STOP_LOSS_LIMIT")
        }
    };
    if !kinds_ok {
        return Err(refusal(-1106, "Unsupported order combination"));
    }
    validate(state, side, qty, &above)?;
    validate(state, side, qty, &below)?;
    state.check_balance(side, qty, above.price.or(above.stop).unwrap_or(state.last))?;
    let list = state.next_list_id;
    state.next_list_id += 1;
    let a = new_order(state, side, qty, &above, list);
    let b = new_order(state, side, qty, &below, list);
    let (ia, ib) = (state.insert(b), state.insert(a));
    let orders: Vec<Value> = [ib, ia]
        .iter()
        .map(|&i| json!({"symbol": state.rules.symbol, "orderId": state.orders[i].id, "clientOrderId": state.orders[i].client_id}))
        .collect();
    let reports: Vec<Value> = [ib, ia]
        .iter()
        .map(|&i| json::order(&state.rules, &state.orders[i]))
        .collect();
    Ok(json!({
        "orderListId": list, "contingencyType": "OCO", "listStatusType": "EXEC_STARTED",
        "listOrderStatus": "EXECUTING", "listClientOrderId": list_client,
        "transactionTime": state.now, "symbol": state.rules.symbol,
        "orders": orders, "orderReports": reports
    }))
}

/// A cancel-replace that failed: the HTTP status and Binance's body (with `data`).
pub(crate) type ReplaceFailure = (u16, Value);

/// `POST /api/v3/order/cancelReplace` (mode `STOP_ON_FAILURE`), as Binance runs it: the
/// cancel first, then the new order checked (filters, balance, duplicates) and placed. A
/// failed cancel changes nothing (400 `-2022`); a new order refused after the cancel leaves
/// the old order cancelled (409 `-2021`, `data` saying which half did what).
pub(crate) fn cancel_replace(state: &mut State, params: &Params) -> Result<Value, ReplaceFailure> {
    let plain = |(s, c, m): Refusal| (s, json::error(c, &m));
    symbol(state, params).map_err(plain)?;
    if get(params, "cancelReplaceMode") != Some("STOP_ON_FAILURE") {
        return Err(plain(mandatory("cancelReplaceMode")));
    }
    let cancel_params: Params = params
        .iter()
        .filter_map(|(k, v)| match k.as_str() {
            "symbol" => Some((k.clone(), v.clone())),
            "cancelOrigClientOrderId" => Some(("origClientOrderId".into(), v.clone())),
            "cancelOrderId" => Some(("orderId".into(), v.clone())),
            _ => None,
        })
        .collect();
    let side = side(params, "side").map_err(plain)?;
    let qty = quantity(params).map_err(plain)?;
    let leg = leg(params, "", state).map_err(plain)?;
    let cancel_failed = |code: i64, msg: &str| {
        (
            400,
            json!({"code": -2022, "msg": "Order cancel-replace failed.", "data": {
                "cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                "cancelResponse": {"code": code, "msg": msg}, "newOrderResponse": null
            }}),
        )
    };
    let i = find(state, &cancel_params).map_err(|_| cancel_failed(-2011, "Unknown order sent."))?;
    if !state.orders[i].is_working() {
        return Err(cancel_failed(-2011, "Unknown order sent."));
    }
    state.cancel(i);
    let cancelled = json::order(&state.rules, &state.orders[i]);
    let at = leg.price.or(leg.stop).unwrap_or(state.last);
    if let Err((_, code, msg)) =
        validate(state, side, qty, &leg).and_then(|()| state.check_balance(side, qty, at))
    {
        return Err((
            409,
            json!({"code": -2021, "msg": "Order cancel-replace partially failed.", "data": {
                "cancelResult": "SUCCESS", "newOrderResult": "FAILURE",
                "cancelResponse": cancelled,
                "newOrderResponse": {"code": code, "msg": msg}
            }}),
        ));
    }
    let order = new_order(state, side, qty, &leg, -1);
    let j = state.insert(order);
    Ok(json!({
        "cancelResult": "SUCCESS", "newOrderResult": "SUCCESS",
        "cancelResponse": cancelled,
        "newOrderResponse": json::order_full(&state.rules, &state.orders[j], &state.trades)
    }))
}
