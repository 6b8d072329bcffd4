//! The contract roll while running: the instruments dump read again, a flat broker switching to
//! the next month's future, a broker with a position managing it in the expiring contract and
//! refusing new entries there, naming the roll.
#![cfg(feature = "kite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod kite_support;

use kite_support::{bank, config, d, id, wait_until, Logs, KEY, SECRET, TOKEN};
use tradegraph_broker::live::kite::KiteBroker;
use tradegraph_broker::live::venue::VenueBroker;
use tradegraph_broker::live::Live;
use tradegraph_broker::Broker;
use tradegraph_core::order::{OrderRequest, OrderSide, OrderStatus};
use tradegraph_testkit::venue::kite::KiteVenue;

/// A venue at 48 200 and a broker trading BANKNIFTY's nearest-month future on it.
async fn by_underlying() -> (KiteVenue, Live<KiteBroker>) {
    by_underlying_with(|settings| settings).await
}

/// [`by_underlying`] with the settings `edit` gives.
async fn by_underlying_with(
    edit: impl FnOnce(
        tradegraph_broker::live::kite::KiteConfig,
    ) -> tradegraph_broker::live::kite::KiteConfig,
) -> (KiteVenue, Live<KiteBroker>) {
    let venue = KiteVenue::start(KEY, SECRET, TOKEN).await.unwrap();
    venue.set_price(d("48200"));
    let mut settings = edit(config(&venue));
    settings.tradingsymbol = "BANKNIFTY".into();
    let broker = KiteBroker::connect(
        settings,
        bank(),
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    wait_until("the order-update socket is up", || async {
        venue.subscribers() == 1
    })
    .await;
    (venue, broker)
}

fn dump_reads(venue: &KiteVenue) -> usize {
    venue
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/instruments/"))
        .count()
}

fn symbol_of(venue: &KiteVenue, tag: &str) -> String {
    venue
        .orders()
        .into_iter()
        .find(|o| o.tag.as_deref() == Some(tag))
        .unwrap()
        .tradingsymbol
}

#[tokio::test]
async fn a_flat_broker_rolls_to_the_next_month_when_the_dump_changes() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = by_underlying().await;
    let expiring = venue.tradingsymbol();
    assert_eq!(broker.tradingsymbol(), expiring);
    let buy = |n: &str| OrderRequest::market(id(n), bank(), OrderSide::Buy, d("30"));
    broker.submit(buy("tg00000000000000f1")).await.unwrap();
    assert_eq!(symbol_of(&venue, "tg00000000000000f1"), expiring);
    assert_eq!(dump_reads(&venue), 1, "the dump is read once a trading day");
    let close = OrderRequest::market(id("tg00000000000000f2"), bank(), OrderSide::Sell, d("30"))
        .reduce_only();
    broker.submit(close).await.unwrap();
    wait_until("the position is flat", || async {
        broker.book().last_seq() == 2
    })
    .await;

    let next = venue.roll_contract();
    broker.reread_instruments().await.unwrap();
    assert_eq!(
        (broker.tradingsymbol(), broker.pending_roll()),
        (next.clone(), None)
    );
    let placed = broker.submit(buy("tg00000000000000f3")).await.unwrap();
    assert_ne!(placed.status, OrderStatus::Rejected, "{placed:?}");
    assert_eq!(symbol_of(&venue, "tg00000000000000f3"), next);
    assert!(logs.text().contains("contract rolled"), "{}", logs.text());
    logs.assert_clean();
}

#[tokio::test]
async fn with_a_position_the_expiring_contract_is_managed_and_new_entries_are_refused() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) = by_underlying().await;
    let expiring = venue.tradingsymbol();
    let buy = |n: &str| OrderRequest::market(id(n), bank(), OrderSide::Buy, d("30"));
    broker.submit(buy("tg00000000000000f4")).await.unwrap();
    wait_until("the entry fills", || async {
        broker.book().last_seq() == 1
    })
    .await;

    let next = venue.roll_contract();
    broker.reread_instruments().await.unwrap();
    assert_eq!(broker.tradingsymbol(), expiring);
    assert_eq!(broker.pending_roll(), Some(next.clone()));
    // The roll day with a position in the expiring contract is an alert, logged as an error.
    let alert = broker.roll_alert().expect("an alert while the roll waits");
    assert!(
        alert.contains(&expiring) && alert.contains("by hand"),
        "{alert}"
    );
    assert!(logs.text().contains("ERROR") && logs.text().contains("roll day with a position"));
    // A new entry is refused, naming the roll; nothing reaches Kite.
    let orders = venue.orders().len();
    let refused = broker.submit(buy("tg00000000000000f5")).await.unwrap();
    assert_eq!(refused.status, OrderStatus::Rejected);
    let reason = refused.reason.unwrap();
    assert!(
        reason.contains("contract roll") && reason.contains(&expiring) && reason.contains(&next),
        "{reason}"
    );
    assert_eq!(venue.orders().len(), orders);
    // The position is still closed in the expiring contract.
    let close = OrderRequest::market(id("tg00000000000000f6"), bank(), OrderSide::Sell, d("30"))
        .reduce_only();
    let closed = broker.submit(close).await.unwrap();
    assert_ne!(closed.status, OrderStatus::Rejected, "{closed:?}");
    assert_eq!(symbol_of(&venue, "tg00000000000000f6"), expiring);
    wait_until("the close fills", || async {
        broker.book().last_seq() == 2
    })
    .await;
    let fills = broker.fills_since(1).await.unwrap();
    assert_eq!(fills[0].client_id, id("tg00000000000000f6"));
    // Flat: the next order rolls first and goes to the new contract.
    let placed = broker.submit(buy("tg00000000000000f7")).await.unwrap();
    assert_ne!(placed.status, OrderStatus::Rejected, "{placed:?}");
    assert_eq!(symbol_of(&venue, "tg00000000000000f7"), next);
    assert_eq!(
        (broker.tradingsymbol(), broker.pending_roll()),
        (next, None)
    );
    assert_eq!(broker.roll_alert(), None);
    logs.assert_clean();
}

/// With `refuse_entry_that_rolls` (a bot whose feed streams the expiring contract), the entry
/// that finds the roll due once the position closed is refused, naming both contracts, and
/// nothing reaches Kite; the broker has rolled, and the next entry goes to the new contract.
#[tokio::test]
async fn the_entry_that_rolls_is_refused_when_asked() {
    // Every test of this file logs to its own capture (one without a subscriber beside the
    // others can leave the callsites disabled for them).
    let logs = Logs::default();
    let _guard = logs.capture();
    let (venue, broker) =
        by_underlying_with(|settings| settings.with_entry_that_rolls_refused()).await;
    let expiring = venue.tradingsymbol();
    let buy = |n: &str| OrderRequest::market(id(n), bank(), OrderSide::Buy, d("30"));
    broker.submit(buy("tg00000000000000g1")).await.unwrap();
    wait_until("the entry fills", || async {
        broker.book().last_seq() == 1
    })
    .await;
    let next = venue.roll_contract();
    broker.reread_instruments().await.unwrap();
    let close = OrderRequest::market(id("tg00000000000000g2"), bank(), OrderSide::Sell, d("30"))
        .reduce_only();
    broker.submit(close).await.unwrap();
    wait_until("the close fills", || async {
        broker.book().last_seq() == 2
    })
    .await;
    let orders = venue.orders().len();
    let refused = broker.submit(buy("tg00000000000000g3")).await.unwrap();
    assert_eq!(refused.status, OrderStatus::Rejected, "{refused:?}");
    let reason = refused.reason.unwrap();
    assert!(
        reason.contains("contract roll") && reason.contains(&expiring) && reason.contains(&next),
        "{reason}"
    );
    assert_eq!(venue.orders().len(), orders, "nothing reached Kite");
    assert_eq!(broker.tradingsymbol(), next);
    let placed = broker.submit(buy("tg00000000000000g4")).await.unwrap();
    assert_ne!(placed.status, OrderStatus::Rejected, "{placed:?}");
    assert_eq!(symbol_of(&venue, "tg00000000000000g4"), next);
    logs.assert_clean();
}
