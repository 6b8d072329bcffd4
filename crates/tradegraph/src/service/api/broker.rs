//! `GET /api/v1/positions` and `GET /api/v1/orders`: the broker's word.
//!
//! A venue's broker is read at most once every [`VENUE_READ_FRESH`] per endpoint, whatever
//! the number of clients: one read goes out, the requests that come meanwhile wait for it and
//! share its answer, a failure as much as a success ([`VenueReads`]: a venue that fails is
//! not asked again by every client, nor is the bot's `broker` check failed by them). The venue's rate limits are the bot's too (its orders,
//! the kill switch's close), and a page anywhere can make the operator's browser ask. Its
//! positions come from its account read, which changes nothing at the venue (a Kite broker's
//! position read also fits the exits to the position, which is the engine's to do).

use crate::service::error::ApiError;
use crate::service::params::{Items, Page, PageEnd, PageQuery, Params};
use crate::service::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tradegraph_core::order::Order;
use tradegraph_core::position::Position;

/// How long the broker may take to answer.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a venue's answer is served again.
pub(crate) const VENUE_READ_FRESH: Duration = Duration::from_secs(2);

/// The venue's last answers, one read in flight at a time per endpoint.
#[derive(Default)]
pub(crate) struct VenueReads {
    positions: Shared<Vec<Position>>,
    open_orders: Shared<Vec<Order>>,
}

/// One endpoint's last answer (or failure) and when it came.
struct Shared<T>(tokio::sync::Mutex<Option<(Instant, Result<T, ApiError>)>>);

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Self(tokio::sync::Mutex::new(None))
    }
}

impl<T: Clone> Shared<T> {
    /// The last answer (or failure) when it is fresh, otherwise `read`'s, kept; a request that
    /// comes while a read is out waits for it, up to the broker's timeout.
    async fn get(
        &self,
        what: &str,
        read: impl std::future::Future<Output = Result<T, tradegraph_broker::BrokerError>>,
    ) -> Result<T, ApiError> {
        let Ok(mut last) = tokio::time::timeout(BROKER_TIMEOUT, self.0.lock()).await else {
            return Err(ApiError::new(
                axum::http::StatusCode::GATEWAY_TIMEOUT,
                format!("the broker did not answer for {what} within {BROKER_TIMEOUT:?}"),
            ));
        };
        if let Some((at, answer)) = last.as_ref() {
            if at.elapsed() < VENUE_READ_FRESH {
                return answer.clone();
            }
        }
        let answer = timed(what, read).await;
        *last = Some((Instant::now(), answer.clone()));
        answer
    }
}

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

/// `GET /api/v1/positions`: the open positions, marked at the last price (a venue's as its
/// account read gives them, at most [`VENUE_READ_FRESH`] old).
pub(crate) async fn positions(
    State(app): State<AppState>,
) -> Result<Json<Items<Position>>, ApiError> {
    let broker = app.bot.broker();
    let items = if app.bot.broker_is_remote() {
        let read = async { Ok(broker.account().await?.positions) };
        app.venue.positions.get("its positions", read).await?
    } else {
        timed("its positions", broker.positions()).await?
    };
    Ok(Json(Items { items }))
}

/// `?status=&limit=&before=&cursor=` of `GET /api/v1/orders`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrdersQuery {
    #[serde(default, deserialize_with = "empty_is_all")]
    status: Which,
    limit: Option<usize>,
    before: Option<String>,
    cursor: Option<String>,
}

/// Which orders `?status=` asks for (a bad value is a 400 naming it and the good ones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Which {
    Working,
    Finished,
    #[default]
    All,
}

/// `?status=` as [`Which`], an empty value being `all`.
fn empty_is_all<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Which, D::Error> {
    use serde::de::IntoDeserializer;
    let text = String::deserialize(deserializer)?;
    match text.trim() {
        "" => Ok(Which::All),
        given => Which::deserialize(given.into_deserializer()),
    }
}

impl Which {
    fn keeps(self, order: &Order) -> bool {
        match self {
            Self::Working => !order.status.is_terminal(),
            Self::Finished => order.status.is_terminal(),
            Self::All => true,
        }
    }
}

/// An orders page: the page, and whether the broker keeps finished orders at all.
#[derive(Debug, Serialize)]
pub(crate) struct OrdersPage {
    #[serde(flatten)]
    page: Page<Order>,
    /// `false` when the broker keeps no history: its working orders are all there is, and
    /// `status=finished` is empty because nothing is kept, not because nothing finished.
    history: bool,
}

/// `GET /api/v1/orders?status=working|finished|all&limit=&before=&cursor=`: the broker's
/// orders, newest first by the time it accepted them (the same millisecond by client order
/// id, highest first), paged like the logs: working ones (entries and the exits attached to a
/// position; an exit has its entry's client id as `parent`) and finished ones (filled,
/// cancelled, rejected, expired). `all` unless `status` says otherwise. How far back finished
/// orders go is the broker's: the paper account keeps the newest 64 at least (up to 128
/// before it lets older ones go); a broker that keeps no history answers its working orders
/// only, with `"history": false` (`true` otherwise), so a client knows an empty
/// `status=finished` means "not kept".
pub(crate) async fn orders(
    State(app): State<AppState>,
    Params(q): Params<OrdersQuery>,
) -> Result<Json<OrdersPage>, ApiError> {
    let page = PageQuery {
        limit: q.limit,
        before: q.before,
        cursor: q.cursor,
    };
    let n = page.limit()?;
    let end = page.end()?;
    let (kept, history) = match app.bot.kept_orders() {
        Some(kept) => (kept, true),
        None => (
            app.venue
                .open_orders
                .get("its working orders", app.bot.broker().open_orders())
                .await?,
            false,
        ),
    };
    Ok(Json(OrdersPage {
        page: page_of_orders(kept, q.status, n, end.as_ref()),
        history,
    }))
}

/// The page of `orders` that `which`, `n` and `end` ask for.
fn page_of_orders(
    orders: Vec<Order>,
    which: Which,
    n: usize,
    end: Option<&PageEnd>,
) -> Page<Order> {
    let before = |o: &Order| match end {
        None => true,
        Some(end) => {
            o.created_at < end.at
                || (o.created_at == end.at
                    && end
                        .key
                        .as_deref()
                        .is_some_and(|key| o.request.client_id.as_str() < key))
        }
    };
    let mut items: Vec<Order> = orders
        .into_iter()
        .filter(|o| which.keeps(o) && before(o))
        .collect();
    items.sort_by(|a, b| {
        b.created_at.cmp(&a.created_at).then_with(|| {
            b.request
                .client_id
                .as_str()
                .cmp(a.request.client_id.as_str())
        })
    });
    items.truncate(n);
    Page::new(items, n, |o| o.created_at, |o| o.request.client_id.as_str())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_core::order::{ClientOrderId, OrderId, OrderRequest, OrderSide, OrderStatus};
    use tradegraph_core::{Decimal, Timestamp};

    fn order(client: &str, at: i64, status: OrderStatus) -> Order {
        let request = OrderRequest::market(
            ClientOrderId::new(client).unwrap(),
            "BTCUSDT".into(),
            OrderSide::Buy,
            Decimal::ONE,
        );
        let mut o = Order::new(OrderId::new(client), request, Timestamp::from_millis(at));
        o.status = status;
        o
    }

    fn ids(page: &Page<Order>) -> Vec<&str> {
        page.items
            .iter()
            .map(|o| o.request.client_id.as_str())
            .collect()
    }

    #[test]
    fn orders_go_newest_first_by_status_and_pages_resume_after_the_last() {
        let orders = vec![
            order("a", 1, OrderStatus::Filled),
            order("b", 2, OrderStatus::Cancelled),
            order("c", 2, OrderStatus::Open),
            order("d", 3, OrderStatus::Rejected),
        ];
        let all = page_of_orders(orders.clone(), Which::All, 10, None);
        assert_eq!(ids(&all), ["d", "c", "b", "a"]);
        assert_eq!(all.next_cursor, None);
        let finished = page_of_orders(orders.clone(), Which::Finished, 10, None);
        assert_eq!(ids(&finished), ["d", "b", "a"]);
        let working = page_of_orders(orders.clone(), Which::Working, 10, None);
        assert_eq!(ids(&working), ["c"]);
        let mut seen = Vec::new();
        let mut end = None;
        loop {
            let page = page_of_orders(orders.clone(), Which::All, 1, end.as_ref());
            seen.extend(ids(&page).iter().map(|s| s.to_string()));
            let Some(cursor) = page.next_cursor else {
                break;
            };
            let query = PageQuery {
                cursor: Some(cursor),
                ..PageQuery::default()
            };
            end = query.end().unwrap();
        }
        assert_eq!(
            seen,
            ["d", "c", "b", "a"],
            "each once, the same millisecond too"
        );
        let which = |query: &str| {
            let uri: axum::http::Uri = format!("/api/v1/orders?{query}").parse().unwrap();
            axum::extract::Query::<OrdersQuery>::try_from_uri(&uri)
                .map(|q| q.0.status)
                .map_err(|e| e.body_text())
        };
        assert_eq!(which(""), Ok(Which::All));
        assert_eq!(which("status="), Ok(Which::All));
        assert_eq!(which("status=finished"), Ok(Which::Finished));
        let bad = which("status=done").unwrap_err();
        assert!(bad.contains("done") && bad.contains("finished"), "{bad}");
    }
}
