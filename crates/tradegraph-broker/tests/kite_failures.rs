//! The Kite broker's failures: every typed reason, 429 then success, an answer lost after the
//! order was placed, and credentials never shown.
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod kite_support;

use kite_support::{
    assert_no_canary, bank, d, id, start, start_with, wait_until, Logs, KEY, TOKEN,
};
use tradegraph_broker::live::venue::VenueBroker;
use tradegraph_broker::live::VenueReason;
use tradegraph_broker::{AmendRefusal, Amendment, Broker, BrokerError};
use tradegraph_core::order::{OrderRequest, OrderSide, OrderStatus};
use tradegraph_testkit::venue::kite::Failure;

fn reject(status: u16, error_type: &'static str, message: &str) -> Failure {
    Failure::Reject {
        status,
        error_type,
        message: message.into(),
    }
}

#[tokio::test]
async fn every_kite_error_has_its_typed_reason() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    let market = |n: u32| {
        OrderRequest::market(
            id(&format!("tg00000000000000b{n}")),
            bank(),
            OrderSide::Buy,
            d("30"),
        )
    };
    // Refusals of the order itself: `Rejected` orders, with the reason's text.
    let refusals = [
        (
            reject(
                400,
                "OrderException",
                "Insufficient funds. Required margin is 95417.84 but available margin is 74251.80.",
            ),
            "insufficient balance",
        ),
        (
            reject(
                400,
                "InputException",
                "Markets are closed right now. Use GTT for placing long standing orders instead.",
            ),
            "the market is closed",
        ),
        (
            reject(400, "InputException", "Invalid `transaction_type`."),
            "venue error InputException: Invalid `transaction_type`.",
        ),
    ];
    for (n, (failure, text)) in refusals.into_iter().enumerate() {
        venue.fail_next("POST", "/orders/regular", failure);
        let order = broker
            .submit(market(u32::try_from(n).unwrap()))
            .await
            .unwrap();
        assert_eq!(order.status, OrderStatus::Rejected);
        assert!(
            order.reason.as_deref().unwrap().contains(text),
            "{:?}",
            order.reason
        );
    }
    // Lot and tick size are checked before anything is sent.
    let sent = venue.requests().len();
    let odd_lot = broker
        .submit(OrderRequest::market(
            id("tg00000000000000b7"),
            bank(),
            OrderSide::Buy,
            d("45"),
        ))
        .await
        .unwrap();
    assert_eq!(
        odd_lot.reason.as_deref(),
        Some("filter lot size failed: quantity 45 is not a whole number of lots of 30")
    );
    let off_grid = broker
        .submit(OrderRequest::limit(
            id("tg00000000000000b8"),
            bank(),
            OrderSide::Buy,
            d("30"),
            d("48100.02"),
        ))
        .await
        .unwrap();
    assert!(
        off_grid
            .reason
            .as_deref()
            .unwrap()
            .contains("filter tick size failed: limit price 48100.02"),
        "{:?}",
        off_grid.reason
    );
    assert_eq!(
        venue.requests().len(),
        sent,
        "refused locally, nothing sent"
    );
    // Failed requests: errors, nothing placed.
    let failures = [
        (
            reject(403, "TokenException", "Token is invalid or has expired."),
            "auth_expired",
        ),
        (
            reject(503, "NetworkException", "Gateway timed out."),
            "unavailable",
        ),
        (
            reject(500, "GeneralException", "Something went wrong."),
            "unavailable",
        ),
        // Longer than the broker waits inside a call.
        (
            Failure::RateLimited {
                retry_after_secs: 120,
            },
            "rate_limited",
        ),
    ];
    for (n, (failure, kind)) in failures.into_iter().enumerate() {
        venue.fail_next("POST", "/orders/regular", failure);
        let err = broker
            .submit(market(10 + u32::try_from(n).unwrap()))
            .await
            .unwrap_err();
        match &err {
            BrokerError::Venue { venue, reason } => {
                assert_eq!((venue.as_str(), reason.kind()), ("kite", kind))
            }
            other => panic!("{other}"),
        }
        assert_no_canary(&err.to_string());
    }
    assert!(venue.orders().is_empty());
    // The venue does not know an order any more.
    let working = broker
        .submit(OrderRequest::limit(
            id("tg00000000000000b9"),
            bank(),
            OrderSide::Buy,
            d("30"),
            d("48000"),
        ))
        .await
        .unwrap();
    venue.fail_next(
        "DELETE",
        &format!("/orders/regular/{}", working.id),
        reject(400, "OrderException", "Couldn't find that order."),
    );
    let err = broker.cancel(working.client_id()).await.unwrap_err();
    assert!(
        matches!(
            err,
            BrokerError::Venue {
                reason: VenueReason::UnknownOrder,
                ..
            }
        ),
        "{err}"
    );
    // An amendment off the grid is refused before it is sent; a good one is made.
    let refused = broker
        .amend(working.client_id(), Amendment::price(d("48000.01")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &refused,
            BrokerError::NotAmendable {
                reason: AmendRefusal::Venue(VenueReason::FilterFailed { filter, .. }),
                ..
            } if filter == "tick size"
        ),
        "{refused}"
    );
    // Kite's own refusal of an amendment is the typed venue reason too.
    venue.fail_next(
        "PUT",
        &format!("/orders/regular/{}", working.id),
        reject(
            400,
            "InputException",
            "Quantity should be multiples of lot size.",
        ),
    );
    let refused_there = broker
        .amend(working.client_id(), Amendment::price(d("48050")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &refused_there,
            BrokerError::NotAmendable {
                reason: AmendRefusal::Venue(VenueReason::FilterFailed { filter, .. }),
                ..
            } if filter == "lot size"
        ),
        "{refused_there}"
    );
    let amended = broker
        .amend(working.client_id(), Amendment::price(d("48050")))
        .await
        .unwrap();
    assert_eq!(
        amended.request.kind.limit_price(),
        Some(d("48000")),
        "the request stays as sent"
    );
    assert_eq!(venue.orders()[0].price, d("48050"));
    let cancelled = broker.cancel(working.client_id()).await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    logs.assert_clean();
}

#[tokio::test]
async fn an_order_kite_rejects_after_taking_it_ends_rejected_with_the_typed_reason() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    venue.reject_after_accepting(
        "Insufficient funds. Required margin is 95417.84 but available margin is 74251.80.",
    );
    let order = id("tg00000000000000c4");
    let taken = broker
        .submit(OrderRequest::market(
            order.clone(),
            bank(),
            OrderSide::Buy,
            d("30"),
        ))
        .await
        .unwrap();
    // Taken (`Pending`), or already rejected when the socket's update came first.
    assert!(
        matches!(taken.status, OrderStatus::Pending | OrderStatus::Rejected),
        "{taken:?}"
    );
    kite_support::wait_until("the rejection arrives", || async {
        broker
            .book()
            .order(&order)
            .is_some_and(|o| o.status == OrderStatus::Rejected)
    })
    .await;
    let rejected = broker.order(&order).await.unwrap().unwrap();
    let reason = rejected.reason.unwrap();
    assert!(
        reason.starts_with("insufficient balance for the order (Kite: Insufficient funds."),
        "{reason}"
    );
    assert!(broker.fills_since(0).await.unwrap().is_empty());
    logs.assert_clean();
}

#[tokio::test]
async fn a_429_is_waited_out_and_the_order_placed_once() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    venue.fail_next(
        "POST",
        "/orders/regular",
        Failure::RateLimited {
            retry_after_secs: 1,
        },
    );
    let order = broker
        .submit(OrderRequest::limit(
            id("tg00000000000000c1"),
            bank(),
            OrderSide::Buy,
            d("30"),
            d("48000"),
        ))
        .await
        .unwrap();
    assert!(
        matches!(order.status, OrderStatus::Pending | OrderStatus::Open),
        "{order:?}"
    );
    let posts: Vec<u16> = venue
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.status)
        .collect();
    assert_eq!(posts, [429, 200]);
    assert_eq!(venue.orders().len(), 1);
    logs.assert_clean();
}

#[tokio::test]
async fn an_order_whose_answer_was_lost_is_found_by_its_tag_not_sent_again() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    venue.fail_next("POST", "/orders/regular", Failure::LoseAnswer);
    let request = OrderRequest::limit(
        id("tg00000000000000c2"),
        bank(),
        OrderSide::Buy,
        d("30"),
        d("48000"),
    );
    let order = broker.submit(request.clone()).await.unwrap();
    assert_eq!(
        (order.status, order.id.as_str()),
        (OrderStatus::Open, venue.orders()[0].order_id.as_str())
    );
    broker.submit(request).await.unwrap();
    assert_eq!(venue.orders().len(), 1);
    logs.assert_clean();
}

#[tokio::test]
async fn credentials_go_in_the_headers_and_nowhere_else() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = start().await;
    broker
        .submit(OrderRequest::market(
            id("tg00000000000000c3"),
            bank(),
            OrderSide::Buy,
            d("30"),
        ))
        .await
        .unwrap();
    let account = broker.account().await.unwrap();
    assert_eq!(account.cash, d("1000000"));
    let positions = broker.positions().await.unwrap();
    assert_eq!(
        (positions[0].quantity, positions[0].average_entry()),
        (d("30"), Some(d("48200")))
    );
    let expected = format!("token {KEY}:{TOKEN}");
    for request in venue.requests() {
        assert_eq!(
            request.version.as_deref(),
            Some("3"),
            "{} {}",
            request.method,
            request.path
        );
        assert_eq!(request.authorization.as_deref(), Some(expected.as_str()));
        // Nowhere else: not in a form, nor in a query.
        assert_no_canary(&format!("{} {}", request.query, request.body));
    }
    // An expired token: an error naming the cause, with no credential in it.
    venue.fail_next(
        "GET",
        "/user/margins",
        reject(
            403,
            "TokenException",
            &format!("Incorrect `api_key` {KEY} or `access_token` {TOKEN}."),
        ),
    );
    let err = broker.account().await.unwrap_err().to_string();
    assert!(err.contains("log in again"), "{err}");
    assert_no_canary(&err);
    assert_no_canary(&format!("{broker:?}"));
    logs.assert_clean();
}

/// How many times Kite's list of orders lags in the test below.
const LAGGING: usize = 12;

/// Kite's list of today's orders, empty: an order it took is not listed yet (it lags).
fn unlisted() -> Failure {
    Failure::Body(r#"{"status":"success","data":[]}"#.to_owned())
}

/// An order sent with its answer lost, that Kite does not list yet, is of unknown outcome: it
/// is known as pending (so nothing is sent in its place, as a kill switch's next close attempt
/// would be) and never sent again; once Kite lists it, it is Kite's order.
#[tokio::test]
async fn an_order_whose_answer_was_lost_and_that_kite_does_not_list_yet_stays_pending() {
    let (venue, broker) = start().await;
    // No order update tells: only Kite's list of orders does.
    venue.silence_streams(true);
    venue.fail_next("POST", "/orders/regular", Failure::LoseAnswer);
    // Enough lagging lists for every look the broker takes (polls included) until the end.
    for _ in 0..LAGGING {
        venue.fail_next("GET", "/orders", unlisted());
    }
    let request = OrderRequest::market(id("tg00000000000000c9"), bank(), OrderSide::Buy, d("30"));
    broker.submit(request.clone()).await.unwrap_err();
    let kept = broker
        .order(&request.client_id)
        .await
        .unwrap()
        .expect("known, of unknown outcome");
    assert_eq!(kept.status, OrderStatus::Pending);
    // Working, maybe: among the open orders (a forced close looks there before sending one),
    // and not cancellable before Kite lists it.
    let open = broker.open_orders().await.unwrap();
    assert!(
        open.iter()
            .any(|o| o.client_id() == &request.client_id && o.status == OrderStatus::Pending),
        "{open:?}"
    );
    let err = broker.cancel(&request.client_id).await.unwrap_err();
    assert!(err.to_string().contains("does not list it yet"), "{err}");
    let again = broker.submit(request.clone()).await.unwrap();
    assert_eq!(again.status, OrderStatus::Pending);
    let posts = venue
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/orders/regular")
        .count();
    assert_eq!(posts, 1, "never posted a second time");
    // Once Kite lists it (the lagging lists used up), it is Kite's order.
    wait_until("Kite lists the order", || async {
        broker
            .order(&request.client_id)
            .await
            .unwrap()
            .is_some_and(|o| !o.id.as_str().is_empty())
    })
    .await;
    let listed = broker.order(&request.client_id).await.unwrap().unwrap();
    assert_eq!(listed.id.as_str(), venue.orders()[0].order_id);
    assert_ne!(listed.status, OrderStatus::Pending);
    assert_eq!(venue.orders().len(), 1);
}

/// An order whose placement failed (a 503: nothing done) and that Kite still does not list
/// once `unknown_outcome_after` has passed is taken as never received: rejected, with the reason, and
/// still never sent again under its id.
#[tokio::test]
async fn an_order_kite_never_lists_is_taken_as_never_received() {
    let (venue, broker) = start_with(|c| c.unknown_outcome_after = std::time::Duration::ZERO).await;
    venue.fail_next("POST", "/orders/regular", Failure::ServerError);
    let request = OrderRequest::market(id("tg0000000000000c10"), bank(), OrderSide::Buy, d("30"));
    broker.submit(request.clone()).await.unwrap_err();
    let gone = broker.order(&request.client_id).await.unwrap().unwrap();
    assert_eq!(gone.status, OrderStatus::Rejected, "{gone:?}");
    assert!(
        gone.reason
            .as_deref()
            .is_some_and(|r| r.contains("never reached kite")),
        "{gone:?}"
    );
    let again = broker.submit(request).await.unwrap();
    assert_eq!(again.status, OrderStatus::Rejected);
    assert!(venue.orders().is_empty());
    let posts = venue
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/orders/regular")
        .count();
    assert_eq!(posts, 1);
}
