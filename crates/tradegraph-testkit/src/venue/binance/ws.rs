//! The WebSocket API (`/ws-api/v3`): `userDataStream.subscribe.signature`, then the account's
//! events as `{"subscriptionId": n, "event": {...}}`.

use super::auth;
use super::json;
use super::Shared;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((tcp, _)) = listener.accept().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = connection(tcp, shared).await;
        });
    }
}

fn reply(id: &Value, status: u16, result: Value) -> Message {
    let body = if status == 200 {
        json!({"id": id, "status": status, "result": result})
    } else {
        json!({"id": id, "status": status, "error": result})
    };
    Message::text(body.to_string())
}

/// The signed subscription's check: the parameters but `signature`, sorted by name, as a query
/// string, signed with HMAC-SHA256.
fn check(shared: &Shared, params: &Value) -> Result<(), (i64, String)> {
    let obj = params
        .as_object()
        .ok_or((-1102, "params missing".to_owned()))?;
    let (key, secret) = {
        let c = shared.lock_control();
        (c.api_key.clone(), c.secret.clone())
    };
    if obj.get("apiKey").and_then(Value::as_str) != Some(key.as_str()) {
        return Err((
            -2015,
            "Invalid API-key, IP, or permissions for action.".into(),
        ));
    }
    let mut pairs: Vec<(String, String)> = obj
        .iter()
        .filter(|(k, _)| k.as_str() != "signature")
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect();
    pairs.sort();
    let payload = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let given = obj.get("signature").and_then(Value::as_str).unwrap_or("");
    if auth::sign(&secret, &payload) != given {
        return Err((-1022, "Signature for this request is not valid.".into()));
    }
    let params: auth::Params = pairs;
    auth::check_timestamp(&params, shared.now_ms()).map_err(|(_, c, m)| (c, m))
}

async fn connection(
    tcp: TcpStream,
    shared: Arc<Shared>,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let mut closed = shared.drops.subscribe();
    let mut stalled = shared.stalls.subscribe();
    if shared.lock_control().refuse_streams {
        return Ok(());
    }
    let ws = tokio_tungstenite::accept_async(tcp).await?;
    shared.lock_control().stream_connections += 1;
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let mut subscription: Option<u64> = None;
    loop {
        tokio::select! {
            _ = closed.changed() => {
                let _ = sink.close().await;
                return Ok(());
            }
            _ = stalled.changed() => {
                // Half-open: the socket stays, nothing more goes either way.
                let _ = closed.changed().await;
                return Ok(());
            }
            event = rx.recv(), if subscription.is_some() => {
                let Some(event) = event else { return Ok(()) };
                sink.send(Message::text(json::event(subscription.unwrap_or(0), &event))).await?;
            }
            message = source.next() => {
                let text = match message {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Ping(p))) => { sink.send(Message::Pong(p)).await?; continue; }
                    Some(Ok(Message::Close(_))) | None => return Ok(()),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e),
                };
                let request: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let id = request.get("id").cloned().unwrap_or(Value::Null);
                match request.get("method").and_then(Value::as_str) {
                    Some("userDataStream.subscribe.signature") => {
                        match check(&shared, request.get("params").unwrap_or(&Value::Null)) {
                            Ok(()) => {
                                let n = {
                                    let mut c = shared.lock_control();
                                    c.subscriptions += 1;
                                    c.subscriptions - 1
                                };
                                subscription = Some(n);
                                shared.lock_state().subscribers.push(tx.clone());
                                sink.send(reply(&id, 200, json!({"subscriptionId": n}))).await?;
                            }
                            Err((code, msg)) => {
                                sink.send(reply(&id, 400, json!({"code": code, "msg": msg}))).await?;
                            }
                        }
                    }
                    Some("ping") => sink.send(reply(&id, 200, json!({}))).await?,
                    _ => sink.send(reply(&id, 400, json!({"code": -1000, "msg": "unknown method at this test venue"}))).await?,
                }
            }
        }
    }
}
