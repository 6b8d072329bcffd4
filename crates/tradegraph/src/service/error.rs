//! [`ApiError`]: every error answer is JSON, `{"error": "<what failed and what to do>"}`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An error answer: a status and a message saying what failed and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) detail: serde_json::Value,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            detail: serde_json::Value::Null,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "this endpoint needs `Authorization: Bearer <token>` with the bot's API token \
             (TRADEGRAPH_API_TOKEN, or the token `tradegraph run` printed at start)",
        )
    }

    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    pub(crate) fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({"error": self.message, "status": self.status.as_u16()});
        if !self.detail.is_null() {
            body["detail"] = self.detail;
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<tradegraph_store::StoreError> for ApiError {
    fn from(e: tradegraph_store::StoreError) -> Self {
        Self::unavailable(format!("the store did not answer: {e}"))
    }
}

impl From<tradegraph_broker::BrokerError> for ApiError {
    fn from(e: tradegraph_broker::BrokerError) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            format!("the broker did not answer: {e}"),
        )
    }
}
