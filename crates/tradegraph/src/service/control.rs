//! The control endpoints: `POST`, each behind the bearer token, each a [`Command`] to the
//! engine, which carries it out, records it and answers.

use super::auth::{peer, require_token};
use super::error::ApiError;
use super::params::{body, Segments};
use super::AppState;
use crate::engine::{Command, ReplyKind};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KillSwitchBody {
    engaged: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseBody {
    paused: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    #[serde(default)]
    include_exits: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    /// The `last.at` of `GET /api/v1/reconciliation` the person read.
    at: Option<tradegraph_core::Timestamp>,
}

/// Sends `command` from the request's peer and turns the reply into a response: 200 done,
/// 404 no such approval, 409 refused (nothing changed), 429 too many commands wait, 502
/// failed, 503 the bot stopped.
async fn send(app: &AppState, command: Command, from: Option<std::net::SocketAddr>) -> Response {
    let source = from.map(|p| format!("http {p}"));
    let within = app.bot.answer_within();
    let reply = match tokio::time::timeout(within, app.bot.send(command, source)).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(e)) => return ApiError::unavailable(e.to_string()).into_response(),
        Err(_) => {
            return ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!("the bot did not answer within {} s; see GET /api/v1/operator-actions for what became of the command (carried out if the bot took it in time, otherwise recorded as not carried out)", within.as_secs()),
            )
            .into_response()
        }
    };
    let status =
        match reply.kind {
            ReplyKind::Done => return Json(
                serde_json::json!({"ok": true, "message": reply.message, "detail": reply.detail}),
            )
            .into_response(),
            ReplyKind::NotFound => StatusCode::NOT_FOUND,
            ReplyKind::Refused => StatusCode::CONFLICT,
            ReplyKind::Failed => StatusCode::BAD_GATEWAY,
            ReplyKind::Busy => StatusCode::TOO_MANY_REQUESTS,
        };
    ApiError::new(status, reply.message)
        .with_detail(reply.detail)
        .into_response()
}

/// Splits a request into its peer and its body.
async fn read(request: Request) -> Result<(Option<std::net::SocketAddr>, Bytes), ApiError> {
    let from = peer(&request);
    let bytes = axum::body::to_bytes(request.into_body(), 64 * 1024)
        .await
        .map_err(|e| {
            let inner = e.into_inner();
            if inner.is::<http_body_util::LengthLimitError>() {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the body is too large: at most 64 KiB",
                )
            } else {
                ApiError::bad_request(format!("the body could not be read: {inner}"))
            }
        })?;
    Ok((from, bytes))
}

async fn kill_switch(State(app): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (from, bytes) = read(request).await?;
    let b: KillSwitchBody = body(&bytes)?;
    let engaged = b
        .engaged
        .ok_or_else(|| ApiError::bad_request("give {\"engaged\": true} or {\"engaged\": false}"))?;
    Ok(send(&app, Command::KillSwitch { engaged }, from).await)
}

async fn pause(State(app): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (from, bytes) = read(request).await?;
    let b: PauseBody = body(&bytes)?;
    let paused = b
        .paused
        .ok_or_else(|| ApiError::bad_request("give {\"paused\": true} or {\"paused\": false}"))?;
    Ok(send(&app, Command::PauseEntries { paused }, from).await)
}

async fn close_all(State(app): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (from, bytes) = read(request).await?;
    let _: Empty = body(&bytes)?;
    Ok(send(&app, Command::CloseAll, from).await)
}

async fn cancel_all(State(app): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (from, bytes) = read(request).await?;
    let b: CancelBody = body(&bytes)?;
    let command = Command::CancelAll {
        include_exits: b.include_exits,
    };
    Ok(send(&app, command, from).await)
}

async fn approve(
    State(app): State<AppState>,
    Segments(id): Segments<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let (from, bytes) = read(request).await?;
    let _: Empty = body(&bytes)?;
    Ok(send(&app, Command::Approve { id }, from).await)
}

async fn reject(
    State(app): State<AppState>,
    Segments(id): Segments<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let (from, bytes) = read(request).await?;
    let b: RejectBody = body(&bytes)?;
    Ok(send(
        &app,
        Command::Reject {
            id,
            reason: b.reason,
        },
        from,
    )
    .await)
}

async fn confirm_reconciliation(
    State(app): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let (from, bytes) = read(request).await?;
    let b: ConfirmBody = body(&bytes)?;
    let seen = b.at.ok_or_else(|| {
        ApiError::bad_request(
            "give {\"at\": \"<last.at of GET /api/v1/reconciliation>\"}: the reconciliation \
             report you read and confirm (refused with 409 when a newer one holds the bot)",
        )
    })?;
    Ok(send(&app, Command::ConfirmReconciliation { seen }, from).await)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    /// The version to go back to (0: the template as shipped).
    to: Option<u32>,
}

/// An agent named in a path.
fn agent_in(name: &str) -> Result<tradegraph_agents::AgentName, ApiError> {
    name.parse()
        .map_err(|e: tradegraph_agents::UnknownAgent| ApiError::bad_request(e.to_string()))
}

/// A command on one version of an agent's prompt, from the path's agent and number (the body
/// empty).
async fn on_version(
    app: &AppState,
    (agent, version): (String, u32),
    request: Request,
    command: fn(tradegraph_agents::AgentName, u32) -> Command,
) -> Result<Response, ApiError> {
    let agent = agent_in(&agent)?;
    let (from, bytes) = read(request).await?;
    let _: Empty = body(&bytes)?;
    Ok(send(app, command(agent, version), from).await)
}

async fn approve_prompt(
    State(app): State<AppState>,
    Segments(path): Segments<(String, u32)>,
    request: Request,
) -> Result<Response, ApiError> {
    on_version(&app, path, request, |agent, version| {
        Command::ApprovePrompt { agent, version }
    })
    .await
}

async fn withdraw_prompt(
    State(app): State<AppState>,
    Segments(path): Segments<(String, u32)>,
    request: Request,
) -> Result<Response, ApiError> {
    on_version(&app, path, request, |agent, version| {
        Command::WithdrawPrompt { agent, version }
    })
    .await
}

async fn rollback_prompt(
    State(app): State<AppState>,
    Segments(agent): Segments<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let agent = agent_in(&agent)?;
    let (from, bytes) = read(request).await?;
    let b: RollbackBody = body(&bytes)?;
    let to = b.to.ok_or_else(|| {
        ApiError::bad_request(
            "give {\"to\": <version>}: a version in use before, or 0 for the template as shipped",
        )
    })?;
    Ok(send(&app, Command::RollbackPrompt { agent, to }, from).await)
}

/// The control routes, behind the token.
pub(crate) fn routes(app: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/kill-switch", post(kill_switch))
        .route("/api/v1/pause", post(pause))
        .route("/api/v1/close-all", post(close_all))
        .route("/api/v1/cancel-all", post(cancel_all))
        .route("/api/v1/approvals/{id}/approve", post(approve))
        .route("/api/v1/approvals/{id}/reject", post(reject))
        .route(
            "/api/v1/reconciliation/confirm",
            post(confirm_reconciliation),
        )
        .route(
            "/api/v1/prompts/versions/{agent}/{version}/approve",
            post(approve_prompt),
        )
        .route(
            "/api/v1/prompts/versions/{agent}/{version}/withdraw",
            post(withdraw_prompt),
        )
        .route(
            "/api/v1/prompts/versions/{agent}/rollback",
            post(rollback_prompt),
        )
        .route(
            "/api/v1/decisions/{id}/replay",
            post(super::api::logs::replay_asked),
        )
        .route_layer(from_fn_with_state(app.clone(), require_token))
}
