//! `GET /healthz` (the process answers) and `GET /readyz` (ready to trade, the failing checks
//! named), from the engine's own checks (`engine`, `feed`, `broker`, `state_store`) and those
//! on the [`HealthBoard`] (the periodic [checks](super::checks): `redis`, `mongodb`, `llm`).
//! Each check has one owner, so each is listed once.

use super::AppState;
use crate::engine::{Check, CheckId, CheckState, HealthChange, HealthReport};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use tradegraph_core::Timestamp;

/// Health checks beyond the engine's own (`engine`, `feed`, `broker`, `state_store`): Redis,
/// MongoDB, the model providers, ... whoever checks them (the
/// [`Checker`](super::checks::Checker)) sets them here, and `/readyz` and `/api/v1/status`
/// include them. Clones share the board.
///
/// ```
/// use tradegraph::engine::{Check, CheckId, CheckState};
/// use tradegraph::service::HealthBoard;
/// use tradegraph::core::Timestamp;
/// let board = HealthBoard::new();
/// let now = Timestamp::from_secs(1_704_103_200);
/// assert_eq!(board.set(Check::new(CheckId::Redis, CheckState::Ok, "PONG in 1 ms", now)), None);
/// let before = board.set(Check::new(CheckId::Redis, CheckState::Failing, "connection refused", now));
/// assert_eq!(before, Some(CheckState::Ok));
/// assert_eq!(board.checks().len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct HealthBoard(Arc<RwLock<BTreeMap<&'static str, Check>>>);

impl HealthBoard {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a check (replacing the one of the same name); returns the state it had, if any.
    pub fn set(&self, check: Check) -> Option<CheckState> {
        let mut checks = self.0.write().unwrap_or_else(PoisonError::into_inner);
        checks
            .insert(check.name.as_str(), check)
            .map(|before| before.state)
    }

    /// Records what check `name` found at `at`, for the bot of `instrument`, as
    /// [`Check::next`] says (its `since` kept while its state is unchanged, the gauge set, a
    /// change logged); returns the change, if it is one.
    ///
    /// ```
    /// use tradegraph::engine::{CheckId, CheckState};
    /// use tradegraph::service::HealthBoard;
    /// use tradegraph::core::Timestamp;
    /// let board = HealthBoard::new();
    /// let (t0, t1) = (Timestamp::from_secs(1_704_103_200), Timestamp::from_secs(1_704_103_210));
    /// assert!(board.record(CheckId::Redis, CheckState::Ok, "PONG in 1 ms", t0, "BTCUSDT").is_none());
    /// assert!(board.record(CheckId::Redis, CheckState::Ok, "PONG in 2 ms", t1, "BTCUSDT").is_none());
    /// assert_eq!((board.checks()[0].since, board.checks()[0].message.as_str()), (t0, "PONG in 2 ms"));
    /// let change = board.record(CheckId::Redis, CheckState::Failing, "refused", t1, "BTCUSDT");
    /// assert_eq!(change.map(|c| c.state), Some(CheckState::Failing));
    /// ```
    pub fn record(
        &self,
        name: CheckId,
        state: CheckState,
        message: impl Into<String>,
        at: Timestamp,
        instrument: &str,
    ) -> Option<HealthChange> {
        let mut checks = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let (check, change) = Check::next(
            checks.get(name.as_str()),
            name,
            state,
            message,
            at,
            instrument,
        );
        checks.insert(name.as_str(), check);
        change
    }

    /// Removes a check.
    pub fn remove(&self, name: CheckId) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name.as_str());
    }

    /// Every check on the board, sorted by name.
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
