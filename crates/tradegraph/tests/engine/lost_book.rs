//! A live bot (the Binance broker on the local venue) that dies after the venue took its entry
//! and before the broker's book was saved: the book it restarts from has no trace of the entry
//! and the venue's order has no exits. The order journal's intent, written before the send,
//! still holds the entry's stop and target: the restart's reconciliation hands them back to the
//! broker, and the position is protected at the venue.

use super::support::*;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tradegraph::engine::Mode;
use tradegraph_broker::live::binance::{BinanceBroker, BinanceConfig};
use tradegraph_broker::live::venue::VenueBookSnapshot;
use tradegraph_broker::live::{Live, LiveTradingEnabled};
use tradegraph_core::redact::Secret;
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Decimal, Instrument};
use tradegraph_store::{
    BotStateStore, MemoryState, Saved, StateDoc, StateKey, StatePart, StoreError, Stores,
};
use tradegraph_testkit::venue::binance::{BinanceVenue, Failure};

/// The local venue's key and secret (shared by the live engine tests).
pub(super) const KEY: &str = "lost-book-api-key-0123456789";
pub(super) const SECRET: &str = "lost-book-secret-5e1f0a9b7c3d2e48";

/// The state store, holding the first save of the broker's book that tracks an order (the
/// journal's save after the entry's send) until the test drops the bot.
struct HeldOrderSave {
    inner: Arc<MemoryState>,
    held: Arc<Notify>,
}

#[async_trait]
impl BotStateStore for HeldOrderSave {
    async fn load(&self, key: &StateKey) -> Result<Option<StateDoc>, StoreError> {
        self.inner.load(key).await
    }

    async fn save(&self, doc: &StateDoc) -> Result<Saved, StoreError> {
        let tracks_an_order = doc.key.part == StatePart::Broker
            && doc.body["orders"]
                .as_array()
                .is_some_and(|orders| !orders.is_empty());
        if tracks_an_order {
            self.held.notify_one();
            std::future::pending::<()>().await;
        }
        self.inner.save(doc).await
    }
}

/// The Binance broker's settings on `venue`, polling every 50 ms.
pub(super) fn config(venue: &BinanceVenue) -> BinanceConfig {
    let mut config = BinanceConfig::new(
        Secret::new(KEY),
        Secret::new(SECRET),
        Instrument::btc_usdt(),
    )
    .with_urls(venue.url(), venue.ws_url());
    config.poll_every = Duration::from_millis(50);
    config
}

/// The Binance broker on `venue`, from `book`.
pub(super) async fn connect(
    venue: &BinanceVenue,
    book: Option<VenueBookSnapshot>,
) -> Live<BinanceBroker> {
    BinanceBroker::connect(
        config(venue),
        book,
        LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap()
}

/// The venue's working orders.
pub(super) fn working(venue: &BinanceVenue) -> Vec<tradegraph_testkit::venue::binance::OrderView> {
    venue
        .orders()
        .into_iter()
        .filter(|o| o.status == "NEW")
        .collect()
}

#[tokio::test]
async fn an_entry_whose_book_was_not_saved_gets_its_exits_after_the_restart() {
    let venue = BinanceVenue::start(KEY, SECRET).await.unwrap();
    venue.set_balance("USDT", Decimal::from(10_000));
    venue.set_price(Decimal::new(1005, 1));
    // The venue fails the exits' first tries: the bot dies before any reaches it.
    for _ in 0..3 {
        venue.fail_next("POST", "/api/v3/orderList/oco", Failure::ServerError);
    }
    let file = bars_file(
        &unique("LB"),
        "2024-03-04T00:00:00Z",
        &[flat(100.0, 15), flat(100.5, 31)].concat(),
    );
    let pm = || {
        ScriptedPm::at(&[(
            "2024-03-04T00:15:00Z",
            buy(5.0, 98.0, Some(120.0), None).unwrap(),
        )])
    };
    let durable = Arc::new(MemoryState::new());
    let held = Arc::new(Notify::new());
    let mut stores = Stores::memory();
    stores.state = Arc::new(HeldOrderSave {
        inner: durable.clone(),
        held: held.clone(),
    });
    stores.intents = durable.clone();
    let instrument = Instrument::btc_usdt();
    let engine = start_on(
        super::support::config(
            instrument.clone(),
            pm(),
            RiskLimits::default(),
            stores.clone(),
            Mode::Service,
        ),
        &file,
        connect(&venue, None).await,
    )
    .await;
    let run =
        tokio::spawn(async move { Box::pin(engine.run(std::future::pending(), |_| {})).await });
    tokio::time::timeout(Duration::from_secs(60), held.notified())
        .await
        .expect("the entry never went out");
    // The bot dies: the book saved is the one from before the entry.
    run.abort();
    let _ = run.await;
    let held_btc = venue.balance("BTC").0;
    assert!(held_btc > Decimal::ZERO, "the venue filled the entry");
    assert!(working(&venue).is_empty(), "no exit reached the venue");

    let key = StateKey::new(instrument.symbol.clone(), StatePart::Broker);
    let book = durable
        .load(&key)
        .await
        .unwrap()
        .map(|doc| serde_json::from_value::<VenueBookSnapshot>(doc.body).unwrap());
    assert!(
        book.as_ref().is_none_or(|b| b.orders.is_empty()),
        "the saved book knows nothing of the entry: {book:?}"
    );
    let mut stores = Stores::memory();
    stores.state = durable.clone();
    stores.intents = durable.clone();
    let restarted = start_on(
        super::support::config(
            instrument,
            pm(),
            RiskLimits::default(),
            stores,
            Mode::Service,
        ),
        &file,
        connect(&venue, book).await,
    )
    .await;
    assert_eq!(restarted.reconciled().found.len(), 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = working(&venue);
        if now.len() == 2 {
            assert!(now
                .iter()
                .all(|o| o.side == "SELL" && o.quantity == held_btc));
            assert!(
                now.iter().any(|o| o.stop_price == Decimal::from(98)),
                "{now:?}"
            );
            assert!(now.iter().any(|o| o.price == Decimal::from(120)), "{now:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the position has no exits at the venue 30 s after the restart: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(restarted);
}
