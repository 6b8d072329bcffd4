//! `GET /api/v1/status`, `GET /api/v1/approvals`, `GET /api/v1/reconciliation` and
//! `GET /api/v1/prompts/versions`.

use crate::service::error::ApiError;
use crate::service::params::{Items, Params};
use crate::service::{health, AppState};
use axum::extract::State;
use axum::Json;

/// `GET /api/v1/status`: the bot's [`BotStatus`](crate::engine::BotStatus), with its uptime,
/// the age of the feed's last event, and every health check (the engine's and the board's)
/// with `ready`.
pub(crate) async fn status(State(app): State<AppState>) -> Json<serde_json::Value> {
    let status = app.bot.status();
    let report = health::report(&app);
    let now = report.at;
    let uptime_s = (now.millis() - status.started_at.millis()).max(0) / 1000;
    let feed_age_ms = status
        .feed
        .last_event_at
        .map(|at| (now.millis() - at.millis()).max(0));
    let mut body = serde_json::to_value(&status).unwrap_or_default();
    body["uptime_s"] = serde_json::json!(uptime_s);
    body["feed"]["age_ms"] = serde_json::json!(feed_age_ms);
    body["ready"] = serde_json::json!(report.ready);
    body["checks"] = serde_json::json!(report.checks);
    body["llm"] = match &app.llm {
        Some(llm) => serde_json::json!({"configured": true, "providers": llm.health()}),
        None => serde_json::json!({"configured": false, "providers": []}),
    };
    Json(body)
}

/// `GET /api/v1/approvals`: the orders waiting for an operator's approval.
pub(crate) async fn approvals(
    State(app): State<AppState>,
) -> Json<Items<crate::engine::ApprovalView>> {
    Json(Items {
        items: app.bot.status().pending_approvals,
    })
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VersionsQuery {
    agent: Option<tradegraph_agents::AgentName>,
}

/// `GET /api/v1/prompts/versions?agent=`: the analysts' prompt versions (all, or one
/// agent's), each with its amendment, evidence (record, lessons, shadow evaluation) and
/// history, oldest first.
pub(crate) async fn prompt_versions(
    State(app): State<AppState>,
    Params(q): Params<VersionsQuery>,
) -> Result<Json<Items<tradegraph_agents::learning::PromptVersion>>, ApiError> {
    let versions = app.bot.prompt_versions();
    let items = match q.agent {
        Some(agent) => versions.versions(agent).to_vec(),
        None => versions.all().cloned().collect(),
    };
    Ok(Json(Items { items }))
}

/// `GET /api/v1/reconciliation`: the last reconciliation with the broker (its discrepancies),
/// whether it holds the bot in `reducing`, and the last confirmation.
pub(crate) async fn reconciliation(
    State(app): State<AppState>,
) -> Json<crate::engine::Reconciliation> {
    Json(app.bot.status().reconciliation)
}
