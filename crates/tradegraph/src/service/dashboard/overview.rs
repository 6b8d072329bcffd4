//! `GET /api/v1/overview`: every bot of `[dashboard] peers` at a glance, asked by this bot.

use crate::service::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a peer may take to answer.
pub(crate) const PEER_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an overview is answered again from memory before the peers are asked anew.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(2);

/// The largest answer read from a peer.
const MAX_BYTES: usize = 1 << 20;

/// The overview last made, and the client that asks the peers: one overview is made at a
/// time (a second request waits for it and is answered from it), and an overview younger than
/// [`FRESH_FOR`] is answered as it is, so the peers are asked at most every 2 s whatever the
/// number of open overview pages.
#[derive(Default)]
pub(crate) struct OverviewCache {
    last: Mutex<Option<(Instant, Value)>>,
    client: OnceLock<Result<reqwest::Client, String>>,
}

impl OverviewCache {
    fn client(&self) -> Result<&reqwest::Client, String> {
        self.client
            .get_or_init(|| {
                tradegraph_llm::http_client_builder()
                    .map_err(|e| e.to_string())?
                    .timeout(PEER_TIMEOUT)
                    .user_agent("tradegraph-overview")
                    .build()
                    .map_err(|e| format!("the overview's HTTP client: {}", e.without_url()))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// `GET /api/v1/overview`: for each peer (`[dashboard] peers`, in order), its `address`, the
/// `dashboard` URL, whether it is `reachable` (else the `error`), and from its
/// `/api/v1/status` and `/api/v1/pnl/daily?days=1`: `instrument`, `mode`, `trading`,
/// `trading_reason`, `kill_switch`, `entries_paused`, `equity`, `today_pnl` (realized, `null`
/// when its trade log did not answer), `ready`, `failing` (the names of its failing checks),
/// `feed` (its state), `cycles`, `version`. Peers are asked at once, each within 2 s; the
/// answer is reused for 2 s (`asked_ms_ago` says how old it is).
pub(crate) async fn overview(State(app): State<AppState>) -> Json<Value> {
    let cache = &app.overview;
    let mut last = cache.last.lock().await;
    let (made, items) = match &*last {
        Some((made, items)) if made.elapsed() < FRESH_FOR => (*made, items.clone()),
        _ => {
            let items = match cache.client() {
                Ok(client) => {
                    let asks = app.peers.iter().map(|peer| one(client, peer.clone()));
                    Value::from(futures::future::join_all(asks).await)
                }
                Err(error) => Value::from(
                    app.peers
                        .iter()
                        .map(|peer| unreachable(peer, error.clone()))
                        .collect::<Vec<_>>(),
                ),
            };
            let made = Instant::now();
            *last = Some((made, items.clone()));
            (made, items)
        }
    };
    drop(last);
    Json(json!({
        "items": items,
        "timeout_ms": PEER_TIMEOUT.as_millis(),
        "asked_ms_ago": made.elapsed().as_millis(),
    }))
}

/// The base URL of `peer`: as given when it names a scheme, else plain `http://`.
fn base(peer: &str) -> String {
    if peer.starts_with("http://") || peer.starts_with("https://") {
        peer.trim_end_matches('/').to_owned()
    } else {
        format!("http://{peer}")
    }
}

/// `GET {peer}{path}` as JSON; the error says what failed, in words.
async fn get_json(client: &reqwest::Client, peer: &str, path: &str) -> Result<Value, String> {
    let answer =
        |what: String| format!("{peer} answered {path} with {what}; is it a tradegraph bot?");
    let response = client
        .get(format!("{}{path}", base(peer)))
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("{peer} did not answer {path} within {PEER_TIMEOUT:?}")
            } else {
                format!("cannot reach {peer}: {}", chain(&e.without_url()))
            }
        })?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(answer(format!("HTTP {status}")));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BYTES as u64)
    {
        return Err(answer(format!("more than {MAX_BYTES} bytes")));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| answer(format!("a body that broke off ({})", e.without_url())))?;
    if body.len() > MAX_BYTES {
        return Err(answer(format!("more than {MAX_BYTES} bytes")));
    }
    serde_json::from_slice(&body).map_err(|e| answer(format!("a body that is not JSON ({e})")))
}

/// `error` and its causes, as one line (reqwest's own text is only "error sending request").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text = format!("{text}: {e}");
        cause = e.source();
    }
    text
}

fn unreachable(peer: &str, error: String) -> Value {
    json!({
        "address": peer,
        "dashboard": format!("{}/", base(peer)),
        "reachable": false,
        "error": error,
    })
}

async fn one(client: &reqwest::Client, peer: String) -> Value {
    let (status, pnl) = tokio::join!(
        get_json(client, &peer, "/api/v1/status"),
        get_json(client, &peer, "/api/v1/pnl/daily?days=1"),
    );
    let status = match status {
        Ok(status) => status,
        Err(error) => return unreachable(&peer, error),
    };
    let today_pnl = pnl.ok().map(|p| {
        p["items"]
            .as_array()
            .and_then(|items| items.last())
            .map_or(json!("0"), |day| day["realized_pnl"].clone())
    });
    let failing: Vec<Value> = status["checks"]
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .filter(|c| c["state"] == "failing")
                .map(|c| c["name"].clone())
                .collect()
        })
        .unwrap_or_default();
    json!({
        "address": peer,
        "dashboard": format!("{}/", base(&peer)),
        "reachable": true,
        "error": null,
        "instrument": status["instrument"],
        "mode": status["mode"],
        "trading": status["trading"],
        "trading_reason": status["trading_reason"],
        "kill_switch": status["kill_switch"],
        "entries_paused": status["entries_paused"],
        "equity": status["equity"],
        "today_pnl": today_pnl,
        "ready": status["ready"],
        "failing": failing,
        "feed": status["feed"]["state"],
        "cycles": status["cycles"],
        "version": status["version"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_without_a_scheme_is_asked_over_plain_http() {
        assert_eq!(base("127.0.0.1:8001"), "http://127.0.0.1:8001");
        assert_eq!(base("https://bots.lan:8443/"), "https://bots.lan:8443");
    }
}
