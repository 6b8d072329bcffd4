//! `GET /healthz` (the process answers) and `GET /readyz` (ready to trade, the failing checks
//! named), from the engine's own checks and those on the [`HealthBoard`].

use super::AppState;
use crate::engine::{Check, CheckState, HealthReport};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

/// Health checks beyond the engine's own (`engine`, `feed`, `state_store`): Redis, MongoDB,
/// the LLM providers, the broker, ... whoever checks them sets them here, by name, and
/// `/readyz` and `/api/v1/status` include them. Clones share the board.
///
/// ```
/// use tradegraph::engine::{Check, CheckState};
/// use tradegraph::service::HealthBoard;
/// use tradegraph::core::Timestamp;
/// let board = HealthBoard::new();
/// let now = Timestamp::from_secs(1_704_103_200);
/// assert_eq!(board.set(Check::new("redis", CheckState::Ok, "PONG in 1 ms", now)), None);
/// let before = board.set(Check::new("redis", CheckState::Failing, "connection refused", now));
/// assert_eq!(before, Some(CheckState::Ok));
/// assert_eq!(board.checks().len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct HealthBoard(Arc<RwLock<BTreeMap<String, Check>>>);

impl HealthBoard {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a check (replacing the one of the same name); returns the state it had, if any.
    pub fn set(&self, check: Check) -> Option<CheckState> {
        let mut checks = self.0.write().unwrap_or_else(PoisonError::into_inner);
        checks
            .insert(check.name.clone(), check)
            .map(|before| before.state)
    }

    /// Removes a check.
    pub fn remove(&self, name: &str) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }

    /// Every check on the board, by name.
    pub fn checks(&self) -> Vec<Check> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }
}

/// The report now: the engine's checks, then the board's.
pub(crate) fn report(app: &AppState) -> HealthReport {
    let mut checks = app.bot.status().checks;
    checks.extend(app.health.checks());
    HealthReport::new(crate::engine::wall_now(), checks)
}

/// `GET /healthz`: 200 while the process answers.
pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "alive"}))
}

/// `GET /readyz`: 200 when no check fails, 503 naming those that do.
pub(crate) async fn readyz(State(app): State<AppState>) -> Response {
    let report = report(&app);
    let failing: Vec<String> = report
        .failing()
        .map(|c| format!("{}: {}", c.name, c.message))
        .collect();
    let status = if report.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "ready": report.ready,
        "failing": failing,
        "checks": report.checks,
        "at": report.at,
    });
    (status, Json(body)).into_response()
}
