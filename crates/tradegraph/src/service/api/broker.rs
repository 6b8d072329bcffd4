//! `GET /api/v1/positions` and `GET /api/v1/orders`: the broker's word.

use crate::service::error::ApiError;
use crate::service::params::Items;
use crate::service::AppState;
use axum::extract::State;
use axum::Json;
use std::time::Duration;
use tradegraph_core::order::Order;
use tradegraph_core::position::Position;

/// How long the broker may take to answer.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

async fn timed<T>(
    what: &str,
    call: impl std::future::Future<Output = Result<T, tradegraph_broker::BrokerError>>,
) -> Result<T, ApiError> {
    match tokio::time::timeout(BROKER_TIMEOUT, call).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(ApiError::new(
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            format!("the broker did not answer for {what} within {BROKER_TIMEOUT:?}"),
        )),
    }
}

/// `GET /api/v1/positions`: the open positions, marked at the last price.
pub(crate) async fn positions(
    State(app): State<AppState>,
) -> Result<Json<Items<Position>>, ApiError> {
    let items = timed("its positions", app.bot.broker().positions()).await?;
    Ok(Json(Items { items }))
}

/// `GET /api/v1/orders`: the working orders (entries and the exits attached to a position;
/// an exit has its entry's client id as `parent`).
pub(crate) async fn orders(State(app): State<AppState>) -> Result<Json<Items<Order>>, ApiError> {
    let items = timed("its working orders", app.bot.broker().open_orders()).await?;
    Ok(Json(Items { items }))
}
