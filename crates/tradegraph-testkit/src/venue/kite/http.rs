//! The REST side: every request logged, scripted failures, the version and authorization
//! headers checked, then the endpoint.

use super::book::{number, KiteFail};
use super::{gtt, Failure, Recorded, Shared};
use axum::body::Body;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use ring::digest;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// An answer: status, body, content type, `Retry-After`.
struct Answer {
    status: u16,
    body: String,
    csv: bool,
    retry_after: Option<u64>,
}

impl Answer {
    fn ok(data: Value) -> Self {
        Self {
            status: 200,
            body: json!({"status": "success", "data": data}).to_string(),
            csv: false,
            retry_after: None,
        }
    }

    fn fail(fail: &KiteFail) -> Self {
        Self {
            status: fail.status,
            body: fail.body().to_string(),
            csv: false,
            retry_after: None,
        }
    }
}

fn fail(status: u16, error_type: &'static str, message: &str) -> KiteFail {
    KiteFail {
        status,
        error_type,
        message: message.to_owned(),
    }
}

/// A form-encoded body as a map (the last value of a repeated field wins).
pub(crate) fn form(text: &str) -> HashMap<String, String> {
    super::super::form::pairs(text).into_iter().collect()
}

/// Every request comes here.
pub(crate) async fn handle(
    Extract(shared): Extract<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (authorization, version) = (header("authorization"), header("x-kite-version"));
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let historical = method == Method::GET && path.starts_with("/instruments/historical/");
    if historical {
        // A download interrupted after N windows: later ones wait until released.
        loop {
            let held = {
                let control = shared.lock_control();
                control
                    .hold_history_after
                    .is_some_and(|n| control.history_served >= n)
            };
            if !held {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    let answer = answer(
        &shared,
        &method,
        &path,
        &query,
        &body,
        authorization.as_deref(),
        version.as_deref(),
    );
    let mut control = shared.lock_control();
    if historical && answer.status == 200 {
        control.history_served += 1;
    }
    control.log.push(Recorded {
        method: method.to_string(),
        path,
        query,
        body,
        authorization,
        version,
        status: answer.status,
        at: Instant::now(),
    });
    drop(control);
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = if answer.csv {
        "text/csv"
    } else {
        "application/json"
    };
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static(kind));
    if let Some(secs) = answer.retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    response
}

fn answer(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: &str,
    body: &str,
    authorization: Option<&str>,
    version: Option<&str>,
) -> Answer {
    let mut control = shared.lock_control();
    let scripted = control
        .failures
        .iter()
        .position(|(m, p, _)| m == method.as_str() && p == path)
        .and_then(|i| control.failures.remove(i))
        .map(|(_, _, f)| f);
    let mut lose_answer = false;
    let mut garbled = None;
    match scripted {
        Some(Failure::Reject {
            status,
            error_type,
            message,
        }) => return Answer::fail(&fail(status, error_type, &message)),
        Some(Failure::RateLimited { retry_after_secs }) => {
            let mut answer = Answer::fail(&fail(429, "NetworkException", "Too many requests"));
            answer.retry_after = Some(retry_after_secs);
            return answer;
        }
        Some(Failure::ServerError) => {
            return Answer::fail(&fail(
                503,
                "NetworkException",
                "Service unavailable: please try again.",
            ))
        }
        Some(Failure::LoseAnswer) => lose_answer = true,
        Some(Failure::ExecuteThenBody(text)) => garbled = Some(text),
        Some(Failure::Body(text)) => {
            return Answer {
                status: 200,
                body: text,
                csv: false,
                retry_after: None,
            }
        }
        Some(Failure::Pass) | None => {}
    }
    if version != Some("3") {
        return Answer::fail(&KiteFail::input(
            "Missing or invalid `X-Kite-Version` header: send 3.",
        ));
    }
    let form = form(body);
    if path == "/session/token" && method == Method::POST {
        return Answer::from_result(login(&mut control, &form));
    }
    let expected = format!("token {}:{}", control.api_key, control.access_token);
    if authorization != Some(expected.as_str()) {
        return Answer::fail(&fail(
            403,
            "TokenException",
            "Incorrect `api_key` or `access_token`.",
        ));
    }
    drop(control);
    let mut state = shared.lock_state();
    let before = state.book.orders.clone();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let result = match (method.as_str(), parts.as_slice()) {
        ("GET", ["orders"]) => Ok(Value::Array(
            state
                .book
                .orders
                .iter()
                .filter(|o| !state.unlisted.contains(&o.order_id))
                .map(|o| o.to_json(&state.exchange, &state.tradingsymbol))
                .collect(),
        )),
        ("GET", ["orders", id]) => state
            .book
            .orders
            .iter()
            .find(|o| o.order_id == *id && !state.unlisted.contains(&o.order_id))
            .map(|o| json!([o.to_json(&state.exchange, &state.tradingsymbol)]))
            .ok_or_else(|| fail(404, "OrderException", "Couldn't find that order.")),
        ("GET", ["orders", id, "trades"]) => trades(&state, id),
        ("POST", ["orders", "regular"]) => {
            let symbol_ok = form
                .get("tradingsymbol")
                .is_some_and(|s| super::dump::lists(&state.dump, s))
                && form.get("exchange") == Some(&state.exchange);
            if symbol_ok {
                let placed = state.book.place(&form);
                if let (Ok(id), true) = (placed.as_ref(), state.lag_orders) {
                    state.unlisted.insert(id.clone());
                }
                placed.map(|id| json!({"order_id": id}))
            } else {
                Err(KiteFail::input("Invalid `tradingsymbol` or `exchange`."))
            }
        }
        ("PUT", ["orders", "regular", id]) => state
            .book
            .modify(id, &form)
            .map(|()| json!({"order_id": id})),
        ("DELETE", ["orders", "regular", id]) => {
            state.book.cancel(id).map(|()| json!({"order_id": id}))
        }
        ("POST", ["gtt", "triggers"]) => {
            gtt::place(&mut state, &form).map(|id| json!({"trigger_id": id}))
        }
        ("PUT", ["gtt", "triggers", id]) => {
            gtt::modify(&mut state, id, &form).map(|id| json!({"trigger_id": id}))
        }
        ("GET", ["gtt", "triggers"]) => Ok(gtt::list(&state)),
        ("GET", ["gtt", "triggers", id]) => gtt::get(&state, id),
        ("DELETE", ["gtt", "triggers", id]) => {
            gtt::delete(&mut state, id).map(|id| json!({"trigger_id": id}))
        }
        ("GET", ["instruments", "historical", token, interval]) => super::history::answer(
            &state.candles,
            state.days_by_date,
            token,
            interval,
            &super::super::form::pairs(query),
        ),
        ("GET", ["portfolio", "positions"]) => Ok(positions(&state)),
        ("GET", ["user", "margins"]) => Ok(margins(&state)),
        ("GET", ["instruments", exchange]) if *exchange == state.exchange => {
            return Answer {
                status: 200,
                body: state.dump.clone(),
                csv: true,
                retry_after: None,
            }
        }
        _ => Err(fail(
            404,
            "GeneralException",
            &format!("no route {method} {path} at this test venue"),
        )),
    };
    state.publish(&before);
    if let Some(body) = garbled {
        return Answer {
            status: 200,
            body,
            csv: false,
            retry_after: None,
        };
    }
    if lose_answer {
        return Answer::fail(&fail(
            504,
            "NetworkException",
            "Gateway timeout: the outcome is unknown.",
        ));
    }
    Answer::from_result(result)
}

impl Answer {
    fn from_result(result: Result<Value, KiteFail>) -> Self {
        match result {
            Ok(data) => Self::ok(data),
            Err(f) => Self::fail(&f),
        }
    }
}

/// `POST /session/token`: the checksum is hex SHA-256 of api key + request token + secret.
fn login(control: &mut super::Control, form: &HashMap<String, String>) -> Result<Value, KiteFail> {
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if get("api_key") != control.api_key {
        return Err(fail(403, "TokenException", "Invalid `api_key`."));
    }
    if get("request_token") != control.request_token || control.request_token.is_empty() {
        return Err(fail(
            403,
            "TokenException",
            "Token is invalid or has expired.",
        ));
    }
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(control.api_key.as_bytes());
    ctx.update(control.request_token.as_bytes());
    ctx.update(control.api_secret.as_bytes());
    let expected: String = ctx
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if get("checksum") != expected {
        return Err(fail(403, "TokenException", "Invalid `checksum`."));
    }
    // A request token is used once; the day's access token is new.
    control.request_token.clear();
    control.access_token = format!("access-{}", &expected[..24]);
    Ok(json!({
        "user_type": "individual", "email": "test@example.com", "user_name": "Test User",
        "user_id": "AB1234", "broker": "ZERODHA", "api_key": control.api_key,
        "access_token": control.access_token, "public_token": "public-0001",
        "login_time": "2026-12-05 09:00:00",
    }))
}

fn trades(state: &super::State, id: &str) -> Result<Value, KiteFail> {
    let order = state
        .book
        .orders
        .iter()
        .find(|o| o.order_id == id)
        .ok_or_else(|| fail(404, "OrderException", "Couldn't find that order."))?;
    Ok(Value::Array(
        order
            .trades
            .iter()
            .filter(|(trade_id, _, _)| !state.book.hidden_trades.contains(trade_id))
            .map(|(trade_id, quantity, price)| {
                json!({
                    "trade_id": trade_id, "order_id": order.order_id, "exchange": state.exchange,
                    "tradingsymbol": order.tradingsymbol, "transaction_type": order.side,
                    "product": order.product, "quantity": number(*quantity),
                    "average_price": number(*price), "fill_timestamp": state.book.trade_times.get(trade_id).cloned().unwrap_or_default(),
                })
            })
            .collect(),
    ))
}

/// The net positions, one row per contract and product traded today (as Kite keeps them).
fn positions(state: &super::State) -> Value {
    let last = state.book.price.unwrap_or_default();
    let mut traded: Vec<(&str, &str)> = Vec::new();
    for o in state.book.orders.iter().filter(|o| !o.trades.is_empty()) {
        let key = (o.tradingsymbol.as_str(), o.product.as_str());
        if !traded.contains(&key) {
            traded.push(key);
        }
    }
    let net: Vec<Value> = traded
        .into_iter()
        .map(|(symbol, product)| {
            let (quantity, average) = state.book.net_of(Some(symbol), Some(product));
            json!({
                "tradingsymbol": symbol, "exchange": state.exchange, "product": product,
                "quantity": number(quantity), "average_price": number(average),
                "last_price": number(last), "realised": 0, "unrealised": number((last - average) * quantity),
            })
        })
        .collect();
    json!({"net": net, "day": net})
}

fn margins(state: &super::State) -> Value {
    // the margin the open position blocks: SPAN four fifths, exposure one fifth
    let (quantity, _) = state.book.net_in(None);
    let last = state.book.price.unwrap_or_default();
    let blocked =
        (quantity.abs() * last * state.margin_pct / rust_decimal::Decimal::ONE_HUNDRED).round_dp(2);
    let span = (blocked * rust_decimal::Decimal::new(8, 1)).round_dp(2);
    let exposure = blocked - span;
    let net = state.cash - blocked;
    json!({
        "equity": {
            "enabled": true, "net": number(net),
            "available": {"adhoc_margin": 0, "cash": number(state.cash), "opening_balance": number(state.cash), "live_balance": number(net), "collateral": 0, "intraday_payin": 0},
            "utilised": {"debits": number(blocked), "exposure": number(exposure), "m2m_realised": 0, "m2m_unrealised": 0, "option_premium": 0, "payout": 0, "span": number(span), "holding_sales": 0, "turnover": 0},
        },
        "commodity": {"enabled": false, "net": 0, "available": {"cash": 0}, "utilised": {}},
    })
}
