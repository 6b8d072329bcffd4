//! The HTTP service of `tradegraph run --workers redis`: the ingest's status, the workers'
//! heartbeats and load, the instrument's queue, cancelling the cycle in flight, health and
//! metrics.

use super::SharedIngestStatus;
use crate::engine::{CheckState, FeedState};
use crate::service::error::ApiError;
use crate::service::{ApiToken, HealthBoard};
use crate::telemetry::names;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_core::Symbol;
use tradegraph_store::queue::{CancelChannel, RunQueue, WorkerInfo};

/// What the service reads of the queue: the workers and the instrument's jobs.
#[derive(Debug, Clone, Serialize)]
pub struct WorkersView {
    /// The workers heard from lately, with their load.
    pub workers: Vec<WorkerInfo>,
    /// The instrument's jobs not acknowledged yet.
    pub pending: u64,
    /// The instrument's jobs set aside after too many deliveries.
    pub dead_letters: u64,
}

/// A queue the service reads and cancels through.
trait Queue: RunQueue + CancelChannel {}
impl<T: RunQueue + CancelChannel + ?Sized> Queue for T {}

#[derive(Clone)]
struct App {
    queue: Arc<dyn Queue>,
    symbol: Symbol,
    status: SharedIngestStatus,
    token: Arc<ApiToken>,
    /// The periodic checks' results (`redis`, `mongodb`).
    health: HealthBoard,
    /// The workers whose gauges `/metrics` set last (a worker gone has them zeroed once).
    gauged: Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
}

/// The service of an ingesting process.
pub struct IngestService {
    app: App,
}

impl IngestService {
    /// The service of `symbol`'s ingest, reading `status` and `queue`, its control endpoint
    /// behind `token`.
    pub fn new<Q: RunQueue + CancelChannel + 'static>(
        queue: Arc<Q>,
        symbol: Symbol,
        status: SharedIngestStatus,
        token: ApiToken,
    ) -> Self {
        Self {
            app: App {
                queue,
                symbol,
                status,
                token: Arc::new(token),
                health: HealthBoard::new(),
                gauged: Arc::default(),
            },
        }
    }

    /// Reads `board` (where the periodic [`checks`](crate::service::checks) record theirs)
    /// for `/readyz`.
    #[must_use]
    pub fn with_health(mut self, board: HealthBoard) -> Self {
        self.app.health = board;
        self
    }

    /// The routes:
    /// - `GET /healthz`: alive;
    /// - `GET /readyz`: 200 once the queue answers, no job waits to be published, the feed
    ///   is neither disconnected nor stale and no check of the [health board](Self::with_health)
    ///   fails; 503 naming what fails;
    /// - `GET /api/v1/status`: the ingest's status;
    /// - `GET /api/v1/workers`: the workers heard from, their instruments, capacity and jobs
    ///   done, and this instrument's pending jobs and dead letters;
    /// - `POST /api/v1/cycle/cancel` (bearer token): cancels the instrument's cycle in flight
    ///   on whichever worker runs it;
    /// - `GET /metrics`: Prometheus text, the workers' gauges refreshed at each scrape.
    pub fn router(self) -> Router {
        Router::new()
            .route(
                "/healthz",
                get(|| async { Json(serde_json::json!({"status": "ok"})) }),
            )
            .route("/readyz", get(readyz))
            .route("/api/v1/status", get(status))
            .route("/api/v1/workers", get(workers))
            .route("/api/v1/cycle/cancel", post(cancel))
            .route("/metrics", get(metrics))
            .fallback(|uri: axum::http::Uri| async move {
                ApiError::not_found(format!(
                    "no endpoint {}: this process ingests for the workers; its endpoints are \
                     /healthz, /readyz, /api/v1/status, /api/v1/workers, \
                     POST /api/v1/cycle/cancel and /metrics",
                    uri.path()
                ))
            })
            .with_state(self.app)
    }
}

/// The queue's answers take at most this long for the service.
const QUEUE_WAIT: Duration = Duration::from_secs(2);

async fn view(app: &App) -> Result<WorkersView, ApiError> {
    let read = async {
        Ok::<_, tradegraph_store::StoreError>(WorkersView {
            workers: app.queue.workers().await?,
            pending: app.queue.pending(&app.symbol).await?,
            dead_letters: app.queue.dead_letter_count(&app.symbol).await?,
        })
    };
    match tokio::time::timeout(QUEUE_WAIT, read).await {
        Ok(Ok(view)) => Ok(view),
        Ok(Err(e)) => Err(ApiError::unavailable(format!(
            "the run queue did not answer: {e}"
        ))),
        Err(_) => Err(ApiError::unavailable(format!(
            "the run queue did not answer within {QUEUE_WAIT:?}"
        ))),
    }
}

async fn status(State(app): State<App>) -> Json<super::IngestStatus> {
    Json(app.status.get())
}

async fn workers(State(app): State<App>) -> Result<Json<WorkersView>, ApiError> {
    Ok(Json(view(&app).await?))
}

async fn readyz(State(app): State<App>) -> Result<Json<serde_json::Value>, ApiError> {
    let status = app.status.get();
    let view = view(&app).await?;
    if let Some(error) = status.publish_error {
        return Err(ApiError::unavailable(format!(
            "{} decision cycles wait to be published: {error}",
            status.unpublished
        )));
    }
    let mut failing: Vec<String> = app
        .health
        .checks()
        .into_iter()
        .filter(|c| c.state == CheckState::Failing)
        .map(|c| format!("{}: {}", c.name, c.message))
        .collect();
    if [FeedState::Disconnected, FeedState::Stale]
        .iter()
        .any(|s| s.as_str() == status.feed)
    {
        // no decision cycle is published while the feed brings nothing
        failing.insert(0, format!("feed: {}", status.feed));
    }
    if !failing.is_empty() {
        return Err(ApiError::unavailable(format!(
            "not ready: {}",
            failing.join("; ")
        )));
    }
    Ok(Json(serde_json::json!({
        "status": "ready",
        "workers": view.workers.len(),
        "pending": view.pending,
    })))
}

async fn cancel(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let presented = crate::service::auth::bearer(&headers);
    if !presented.is_some_and(|t| app.token.matches(t)) {
        tracing::warn!(
            token = if presented.is_some() {
                "wrong"
            } else {
                "missing"
            },
            "control endpoint refused: no valid bearer token"
        );
        return Err(ApiError::unauthorized());
    }
    let heard = tokio::time::timeout(QUEUE_WAIT, app.queue.cancel(&app.symbol))
        .await
        .map_err(|_| ApiError::unavailable("the run queue did not answer"))?
        .map_err(|e| ApiError::unavailable(format!("the run queue did not answer: {e}")))?;
    tracing::warn!(symbol = %app.symbol, workers = heard, "cancellation of the cycle in flight requested");
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "instrument": app.symbol.to_string(),
            "heard_by": heard,
            "note": if heard == 0 {
                "no worker listens: nothing is cancelled"
            } else {
                "the worker running this instrument's cycle stops it, if one is in flight"
            },
        })),
    ))
}

async fn metrics(State(app): State<App>) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Ok(view) = view(&app).await {
        #[allow(clippy::cast_precision_loss)]
        {
            metrics::gauge!(names::workers::WORKERS_ALIVE).set(view.workers.len() as f64);
            let now: std::collections::BTreeSet<String> =
                view.workers.iter().map(|w| w.id.to_string()).collect();
            let gone: Vec<String> = {
                let mut gauged = app
                    .gauged
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let gone = gauged.difference(&now).cloned().collect();
                gauged.clone_from(&now);
                gone
            };
            // a gone worker's series stay (a recorder keeps them): at zero, so that sums
            // over workers count the ones there
            for id in gone {
                metrics::gauge!(names::workers::WORKER_INSTRUMENTS, "worker" => id.clone())
                    .set(0.0);
                metrics::gauge!(names::workers::WORKER_CAPACITY, "worker" => id.clone()).set(0.0);
                metrics::gauge!(names::workers::WORKER_JOBS_DONE, "worker" => id).set(0.0);
            }
            for worker in &view.workers {
                let id = worker.id.to_string();
                metrics::gauge!(names::workers::WORKER_INSTRUMENTS, "worker" => id.clone())
                    .set(worker.instruments.len() as f64);
                metrics::gauge!(names::workers::WORKER_CAPACITY, "worker" => id.clone())
                    .set(f64::from(worker.capacity));
                metrics::gauge!(names::workers::WORKER_JOBS_DONE, "worker" => id)
                    .set(worker.done as f64);
            }
            let instrument = app.symbol.to_string();
            metrics::gauge!(names::workers::QUEUE_PENDING_JOBS, "instrument" => instrument.clone())
                .set(view.pending as f64);
            metrics::gauge!(names::workers::QUEUE_DEAD_LETTERS, "instrument" => instrument)
                .set(view.dead_letters as f64);
        }
    }
    crate::service::router::metrics().await.into_response()
}
