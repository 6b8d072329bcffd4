//! The router: the read API, the event stream, the control endpoints, health; JSON for
//! unknown paths and methods.

use super::error::ApiError;
use super::{api, control, dashboard, health, AppState};
use axum::http::{Method, Uri};
use axum::routing::get;
use axum::Router;

async fn unknown(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no endpoint {method} {}; GET /api/v1 lists them",
        uri.path()
    ))
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} does not take {method}; GET /api/v1 lists the endpoints and their methods",
            uri.path()
        ),
    )
}

/// `GET /metrics`: every `tradegraph_*` series in Prometheus text (the recorder is installed
/// by [`crate::telemetry::install`]; without it the text is empty).
pub(crate) async fn metrics() -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::telemetry::CONTENT_TYPE,
        )],
        crate::telemetry::render(),
    )
}

/// Every answer is read as the type it says (`nosniff`: an answer that echoes text of a
/// request or a model is never taken for a page) and, unless it says otherwise (the
/// dashboard's versioned files), is not kept by a browser or a proxy (positions, orders and
/// the agents' reasoning are the bot's now, and private).
async fn answer_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let headers = response.headers_mut();
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Every route, with `app` as state.
pub(crate) fn router(app: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(dashboard::routes())
        .merge(control::routes(&app))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics))
        .fallback(unknown)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::map_response(answer_headers))
        .with_state(app)
}
