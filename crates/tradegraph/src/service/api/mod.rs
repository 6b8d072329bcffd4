//! The read API, under `/api/v1`: JSON, no token needed.

pub(crate) mod broker;
mod charts;
mod llm;
pub(crate) mod logs;
mod status;

use super::AppState;
use axum::routing::get;
use axum::{Json, Router};

/// Every endpoint the router serves, for `GET /api/v1` (the service test `read_api` checks
/// it against the routes).
pub(crate) const ENDPOINTS: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/status", "instrument, mode, trading state, kill switch, feed, cycles, equity, checks, uptime, version"),
    ("GET", "/api/v1/positions", "open positions"),
    ("GET", "/api/v1/orders", "orders, newest first; ?status=working|finished|all&limit=&before=&cursor= (exits carry their entry as `parent`)"),
    ("GET", "/api/v1/trades", "trades, newest first; ?limit=&before=&cursor="),
    ("GET", "/api/v1/equity", "equity curve, a point per minute; ?limit="),
    ("GET", "/api/v1/pnl/daily", "realized P&L by day; ?days="),
    ("GET", "/api/v1/decisions", "decisions, newest first; ?limit=&before=&cursor="),
    ("GET", "/api/v1/decisions/{id}", "one decision: every agent (with the prompt's hash and the model's answer when a model was asked), the debate, the guard, the orders; ?run= (this bot's run unless set)"),
    ("GET", "/api/v1/decisions/{id}/replay", "the decision's model answers read again as recorded, through each agent's schema (no model call): whether every report comes out as recorded; ?run="),
    ("GET", "/api/v1/prompts/{hash}", "a prompt an agent's model was sent, as a decision names it (`prompt_hash`): agent, version, system and user messages"),
    ("GET", "/api/v1/prompts/versions", "the analysts' prompt versions: amendment, evidence (record, lessons, shadow evaluation) and history of each; ?agent="),
    ("GET", "/api/v1/candles", "candles with indicators; ?timeframe=5m&limit=&before="),
    ("GET", "/api/v1/llm/usage", "model calls, tokens and cost by agent, provider and day; ?days="),
    ("GET", "/api/v1/alerts", "recent alerts; ?limit="),
    ("GET", "/api/v1/lessons", "lessons, newest first; ?limit=&agent="),
    ("GET", "/api/v1/approvals", "orders waiting for approval"),
    ("GET", "/api/v1/reconciliation", "the last reconciliation with the broker: discrepancies, and whether entries are held until a person confirms"),
    ("GET", "/api/v1/operator-actions", "what operators did, newest first; ?limit=&before=&cursor="),
    ("GET", "/api/v1/events", "server-sent events; ?types=; Last-Event-ID"),
    ("GET", "/api/v1/graph", "the compiled trading graph: nodes and edges"),
    ("GET", "/api/v1/overview", "every bot of [dashboard] peers: status, equity, today's P&L, health"),
    ("POST", "/api/v1/kill-switch", "{\"engaged\": true|false} (token)"),
    ("POST", "/api/v1/pause", "{\"paused\": true|false}: pause or resume new entries (token)"),
    ("POST", "/api/v1/close-all", "close the open position now (token)"),
    ("POST", "/api/v1/cancel-all", "{\"include_exits\": false}: cancel working orders (token)"),
    ("POST", "/api/v1/approvals/{id}/approve", "send the order waiting for approval (token)"),
    ("POST", "/api/v1/approvals/{id}/reject", "{\"reason\": \"...\"}: refuse it (token)"),
    ("POST", "/api/v1/reconciliation/confirm", "{\"at\": last.at}: a person checked the discrepancies of that report: entries are allowed again (token; 409 when a newer report holds the bot)"),
    ("POST", "/api/v1/prompts/versions/{agent}/{version}/approve", "adopt a proposed, rejected or withdrawn prompt version: the agent's prompt carries its amendment from the next cycle (token)"),
    ("POST", "/api/v1/prompts/versions/{agent}/{version}/withdraw", "withdraw a pending proposal: it is not evaluated and no longer holds back the next one (token)"),
    ("POST", "/api/v1/prompts/versions/{agent}/rollback", "{\"to\": n}: go back to a version in use before, 0 for the template as shipped (token)"),
    ("POST", "/api/v1/decisions/{id}/replay", "the decision's prompts sent to the bot's model again, word for word: whether it answers the same (token; spends model calls; 409 without a model); ?run="),
    ("GET", "/healthz", "the process answers"),
    ("GET", "/readyz", "ready to trade; 503 names the failing checks"),
    ("GET", "/metrics", "every tradegraph_* series, Prometheus text"),
    ("GET", "/", "the dashboard (HTML)"),
    ("GET", "/overview", "the overview of every bot of [dashboard] peers (HTML)"),
    ("GET", "/assets/{version}/{path}", "the dashboard's scripts and styles (cached for good)"),
];

async fn index() -> Json<serde_json::Value> {
    let endpoints: Vec<_> = ENDPOINTS
        .iter()
        .map(|(method, path, what)| serde_json::json!({"method": method, "path": path, "what": what}))
        .collect();
    Json(serde_json::json!({"endpoints": endpoints}))
}

/// The read routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1", get(index))
        .route("/api/v1/status", get(status::status))
        .route("/api/v1/approvals", get(status::approvals))
        .route("/api/v1/reconciliation", get(status::reconciliation))
        .route("/api/v1/positions", get(broker::positions))
        .route("/api/v1/orders", get(broker::orders))
        .route("/api/v1/trades", get(logs::trades))
        .route("/api/v1/decisions", get(logs::decisions))
        .route("/api/v1/decisions/{id}", get(logs::decision))
        .route("/api/v1/decisions/{id}/replay", get(logs::replay))
        .route("/api/v1/prompts/versions", get(status::prompt_versions))
        .route("/api/v1/prompts/{hash}", get(logs::prompt))
        .route("/api/v1/lessons", get(logs::lessons))
        .route("/api/v1/operator-actions", get(logs::operator_actions))
        .route("/api/v1/equity", get(charts::equity))
        .route("/api/v1/pnl/daily", get(charts::pnl_daily))
        .route("/api/v1/candles", get(charts::candles))
        .route("/api/v1/llm/usage", get(llm::usage))
        .route("/api/v1/alerts", get(llm::alerts))
        .route("/api/v1/events", get(super::events::events))
}
