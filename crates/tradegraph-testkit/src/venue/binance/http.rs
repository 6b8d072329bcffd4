//! The REST side: every request logged, scripted failures, bans, weight, key, signature and
//! timestamp checks, then the endpoint.

use super::auth::{self, Params};
use super::endpoints;
use super::json;
use super::{Failure, Recorded, Shared};
use axum::body::Body;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The request weight of each endpoint (Binance's documented weights).
fn weight(method: &Method, path: &str) -> u32 {
    match (method.as_str(), path) {
        ("GET", "/api/v3/exchangeInfo") => 20,
        ("GET", "/api/v3/account") => 20,
        ("GET", "/api/v3/myTrades") => 20,
        ("GET", "/api/v3/klines") => 2,
        ("GET", "/api/v3/openOrders") => 6,
        ("GET", "/api/v3/order") => 4,
        _ => 1,
    }
}

fn respond(status: u16, body: &Value, used: u32, retry_after: Option<u64>) -> Response {
    // A scripted raw body (`Failure::Body`) goes out as it is.
    let text = match body {
        Value::String(raw) => raw.clone(),
        other => other.to_string(),
    };
    let mut response = Response::new(Body::from(text));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    headers.insert("x-mbx-used-weight-1m", HeaderValue::from(used));
    if let Some(secs) = retry_after {
        headers.insert("retry-after", HeaderValue::from(secs));
    }
    response
}

/// Every request comes here.
pub(crate) async fn handle(
    Extract(shared): Extract<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let arrived = Instant::now();
    let server_ms = shared.now_ms();
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    if method == Method::GET && path == "/api/v3/klines" {
        // A download interrupted after N pages: later pages wait until released.
        loop {
            let held = {
                let control = shared.lock_control();
                control
                    .hold_klines_after
                    .is_some_and(|n| control.klines_served >= n)
            };
            if !held {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let key = headers
        .get("x-mbx-apikey")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, value, used, retry) = answer(
        &shared,
        server_ms,
        &method,
        &path,
        &query,
        &body,
        key.as_deref(),
    );
    let mut control = shared.lock_control();
    let cut = std::mem::take(&mut control.cut_body);
    if status == 200 && path == "/api/v3/klines" && !cut {
        control.klines_served += 1;
    }
    control.log.push(Recorded {
        method: method.to_string(),
        path,
        query,
        body,
        api_key: key,
        status,
        at: arrived,
        server_ms,
        used_weight: used,
    });
    drop(control);
    let response = respond(status, &value, used, retry);
    if !cut {
        return response;
    }
    // Half of the body, then the connection breaks (the stream fails: no end of the body).
    let (parts, _) = response.into_parts();
    let text = value.to_string();
    let half = text.as_bytes()[..text.len() / 2].to_vec();
    let first = futures::stream::once(async move { Ok::<_, std::io::Error>(half) });
    let broken = futures::stream::once(async {
        // Late enough for the headers and the first half to reach the client.
        tokio::time::sleep(Duration::from_millis(100)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the venue cut the answer",
        ))
    });
    Response::from_parts(
        parts,
        Body::from_stream(futures::StreamExt::chain(first, broken)),
    )
}

fn answer(
    shared: &Shared,
    now: i64,
    method: &Method,
    path: &str,
    query: &str,
    body: &str,
    key: Option<&str>,
) -> (u16, Value, u32, Option<u64>) {
    let mut control = shared.lock_control();
    // A ban (after 429s were ignored, or a scripted 418) refuses everything until it ends.
    if let Some(until) = control.banned_until {
        if Instant::now() < until {
            let left = until
                .saturating_duration_since(Instant::now())
                .as_secs()
                .max(1);
            let msg = format!("Way too much request weight used; IP banned until {}. Please use WebSocket Streams for live updates to avoid bans.", now + i64::try_from(left * 1000).unwrap_or(0));
            return (418, json::error(-1003, &msg), control.used, Some(left));
        }
    }
    if let Some(until) = control.retry_after_until {
        if Instant::now() < until {
            // Sending again before Retry-After: Binance bans the client (418).
            control.banned_until = Some(until + Duration::from_secs(2));
            return (
                418,
                json::error(-1003, "Way too much request weight used; IP banned."),
                control.used,
                Some(2),
            );
        }
    }
    // The weight counts per minute of the venue's clock.
    let minute = now.div_euclid(60_000);
    if control.minute != minute {
        control.minute = minute;
        control.used = 0;
    }
    control.used += weight(method, path);
    let used = control.used;
    if used > super::WEIGHT_LIMIT {
        // Over the minute's limit: 429 until the next minute; sending before then bans.
        let left_ms = u64::try_from(60_000 - now.rem_euclid(60_000)).unwrap_or(60_000);
        let secs = left_ms.div_ceil(1000);
        control.retry_after_until = Some(Instant::now() + Duration::from_millis(left_ms));
        let msg = format!("Too much request weight used; current limit is {} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.", super::WEIGHT_LIMIT);
        return (429, json::error(-1003, &msg), used, Some(secs));
    }
    let scripted = control
        .failures
        .iter()
        .position(|(m, p, _)| m == method.as_str() && p == path)
        .and_then(|i| control.failures.remove(i))
        .map(|(_, _, f)| f);
    let secret = control.secret.clone();
    let api_key = control.api_key.clone();
    let mut lose_answer = false;
    match scripted {
        Some(Failure::Reject { code, msg }) => return (400, json::error(code, &msg), used, None),
        Some(Failure::RateLimited { retry_after_secs }) => {
            control.retry_after_until = Some(later(retry_after_secs));
            return (429, json::error(-1003, "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."), used, Some(retry_after_secs));
        }
        Some(Failure::Banned { retry_after_secs }) => {
            control.banned_until = Some(later(retry_after_secs));
            return (
                418,
                json::error(-1003, "Way too much request weight used; IP banned."),
                used,
                Some(retry_after_secs),
            );
        }
        Some(Failure::ServerError) => {
            return (
                503,
                json::error(
                    -1001,
                    "Internal error; unable to process your request. Please try again.",
                ),
                used,
                None,
            )
        }
        Some(Failure::LoseAnswer) => lose_answer = true,
        Some(Failure::Body(text)) => return (200, Value::String(text), used, None),
        Some(Failure::CutBody) => control.cut_body = true,
        Some(Failure::Pass) | None => {}
    }
    drop(control);
    let public = matches!(
        path,
        "/api/v3/time" | "/api/v3/exchangeInfo" | "/api/v3/ping" | "/api/v3/klines"
    );
    let params: Params = auth::parse(&format!("{query}&{body}"));
    if !public {
        match key {
            None => {
                return (
                    401,
                    json::error(-2014, "API-key format invalid."),
                    used,
                    None,
                )
            }
            Some(k) if k != api_key => {
                return (
                    401,
                    json::error(-2015, "Invalid API-key, IP, or permissions for action."),
                    used,
                    None,
                )
            }
            Some(_) => {}
        }
        if let Err((s, c, m)) = auth::check_signature(&secret, query, body)
            .and_then(|()| auth::check_timestamp(&params, now))
        {
            return (s, json::error(c, &m), used, None);
        }
    }
    let mut state = shared.lock_state();
    state.now = now;
    let mut replace_failed = None;
    let result = match (method.as_str(), path) {
        ("GET", "/api/v3/ping") => Ok(serde_json::json!({})),
        ("GET", "/api/v3/klines") => {
            super::klines::answer(&state.rules.symbol, &state.klines, &params)
        }
        ("GET", "/api/v3/time") => Ok(serde_json::json!({ "serverTime": now })),
        ("GET", "/api/v3/exchangeInfo") => {
            let mut info = state.rules.exchange_info();
            info["serverTime"] = serde_json::json!(now);
            Ok(info)
        }
        ("GET", "/api/v3/account") => Ok(endpoints::account(&state)),
        ("POST", "/api/v3/order") => endpoints::place(&mut state, &params),
        ("GET", "/api/v3/order") => endpoints::query(&state, &params),
        ("DELETE", "/api/v3/order") => endpoints::cancel(&mut state, &params),
        ("GET", "/api/v3/openOrders") => endpoints::open_orders(&state, &params),
        ("GET", "/api/v3/myTrades") => endpoints::my_trades(&state, &params),
        ("POST", "/api/v3/orderList/oco") => endpoints::oco(&mut state, &params),
        ("POST", "/api/v3/order/cancelReplace") => {
            match endpoints::cancel_replace(&mut state, &params) {
                Ok(v) => Ok(v),
                Err(failed) => {
                    replace_failed = Some(failed);
                    Ok(Value::Null)
                }
            }
        }
        _ => Err((
            404,
            -1000,
            format!("no endpoint {method} {path} at this test venue"),
        )),
    };
    drop(state);
    if lose_answer {
        // Executed, but the answer is lost: Binance's "execution status unknown".
        return (503, json::error(-1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown."), used, None);
    }
    if let Some((status, body)) = replace_failed {
        return (status, body, used, None);
    }
    match result {
        Ok(v) => (200, v, used, None),
        Err((s, c, m)) => (s, json::error(c, &m), used, None),
    }
}

/// `secs` from now; a century when that is past what an [`Instant`] holds (a test asking for
/// an absurd `Retry-After`).
fn later(secs: u64) -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_secs(secs))
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}
