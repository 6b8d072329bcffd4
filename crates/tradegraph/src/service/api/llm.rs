//! `GET /api/v1/llm/usage` and `GET /api/v1/alerts`.

use crate::service::params::{limit, Items, Params};
use crate::service::{error::ApiError, AppState};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;

/// `GET /api/v1/llm/usage`: the model calls, tokens and cost of this run, in all and by
/// provider, with the budget and each provider's health (`configured: false` in rule mode).
pub(crate) async fn usage(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(match &app.llm {
        Some(llm) => {
            let books = llm.accounting();
            serde_json::json!({
                "configured": true,
                "run": books.run,
                "providers": books.providers,
                "budget": books.budget,
                "health": llm.health(),
            })
        }
        None => serde_json::json!({
            "configured": false,
            "reason": "no LLM provider is configured: the agents run in rule mode",
        }),
    })
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AlertsQuery {
    limit: Option<usize>,
}

/// `GET /api/v1/alerts?limit=`: the newest alerts on the event stream, newest first.
pub(crate) async fn alerts(
    State(app): State<AppState>,
    Params(q): Params<AlertsQuery>,
) -> Result<Json<Items<serde_json::Value>>, ApiError> {
    let n = limit(q.limit, 50, 200)?;
    let items = app
        .hub
        .alerts(n)
        .iter()
        .rev()
        .map(|a| {
            let mut v: serde_json::Value = serde_json::from_str(&a.json).unwrap_or_default();
            v["id"] = serde_json::json!(a.id);
            v
        })
        .collect();
    Ok(Json(Items { items }))
}
