//! `GET /api/v1/graph`: the compiled trading graph the engine runs.

use crate::service::AppState;
use axum::extract::State;
use axum::Json;

/// `GET /api/v1/graph`: the trading graph as the engine compiled it (from `graphs/trading.yaml`
/// or `[graph] file`): `name`, `nodes` (in declaration order: `name`, `map`, `timeout_ms`,
/// `retry`, `routes`, `output_schema`), `edges` (`from`, `to`, `kind`: `static`, `route`,
/// `goto`, `send`, `join`, `loop_back`, `loop_exit`; `start` and `end` are the graph's ends),
/// `cycles`, `interrupt_before`, `interrupt_after` and `limits`. The node names are those of
/// the `node_started` and `node_finished` events.
pub(crate) async fn graph(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::to_value(app.bot.graph()).unwrap_or_default())
}
