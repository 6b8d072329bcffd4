//! Reconciliation against the paper broker (a real broker): an order placed on it directly,
//! not through the bot's order journal, is an order the bot does not know; the bot starts held
//! in `reducing` and its entries are refused while exits would go on.

use super::support::*;
use tradegraph::engine::{Command, Discrepancy, Engine, Mode, ReplyKind, Trading};
use tradegraph_broker::Broker;
use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide};
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Decimal, Tick, Timestamp};
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::SimulatedClock;
use tradegraph_store::Stores;

#[tokio::test]
async fn an_order_placed_on_the_broker_directly_holds_entries() {
    let symbol = unique("RC");
    let instrument = btc_as(&symbol);
    let stores = Stores::memory();
    let buy_at_15 = ScriptedPm::at(&[(
        "2024-03-04T00:15:00Z",
        buy(5.0, 95.0, Some(130.0), None).unwrap(),
    )]);
    let config = config(
        instrument.clone(),
        buy_at_15,
        RiskLimits::default(),
        stores.clone(),
        Mode::Service,
    );
    let broker = tradegraph::engine::paper_broker(&config).unwrap();
    broker
        .on_tick(
            &instrument.symbol,
            &Tick::new(Timestamp::EPOCH, Decimal::from(100), Decimal::ONE),
        )
        .unwrap();
    let manual = ClientOrderId::new("manual-1").unwrap();
    let request = OrderRequest::limit(
        manual.clone(),
        instrument.symbol.clone(),
        OrderSide::Buy,
        Decimal::ONE,
        Decimal::from(50),
    );
    broker.submit(request).await.unwrap();

    let data = bars_file(
        &format!("{symbol}-bars"),
        "2024-03-04T00:00:00Z",
        &flat(100.0, 20),
    );
    let clock = SimulatedClock::default();
    let replay = Replay::new(ReplayConfig {
        clock: clock.clone(),
        ..ReplayConfig::new(data.clone(), instrument.symbol.clone())
    })
    .unwrap();
    let engine = Box::pin(Engine::start(config, clock, replay.stream(), broker))
        .await
        .unwrap();
    let held = engine.reconciliation();
    assert!(held.is_held(), "{held:?}");
    assert!(
        matches!(
            held.holding_for(),
            [Discrepancy::UnknownOrder { client_id, .. }] if client_id == &manual
        ),
        "{held:?}"
    );
    let status = engine.handle().status();
    assert_eq!(status.trading, Trading::Reducing);
    let run = finish(engine, stores).await;
    let entry = run
        .cycles
        .iter()
        .find(|c| c.as_of == "2024-03-04T00:15:00Z".parse().unwrap())
        .expect("00:15 decided");
    assert!(
        entry.verdict.as_ref().is_some_and(|v| v.entry().is_some()),
        "the guard approved the entry: {:?}",
        entry.verdict
    );
    assert!(
        run.broker_fills.is_empty(),
        "held: no entry sent: {:?}",
        run.broker_fills
    );
    std::fs::remove_file(&data).ok();
}

/// A paper broker at 100 and a bot config in service mode for `symbol`.
fn service_bot(
    stores: &Stores,
) -> (
    tradegraph::engine::BotConfig,
    tradegraph_broker::PaperBroker,
) {
    let instrument = btc_as(&unique("RR"));
    let config = config(
        instrument.clone(),
        ScriptedPm::cycles(Vec::new()),
        RiskLimits::default(),
        stores.clone(),
        Mode::Service,
    );
    let broker = tradegraph::engine::paper_broker(&config).unwrap();
    broker
        .on_tick(
            &instrument.symbol,
            &Tick::new(Timestamp::EPOCH, Decimal::from(100), Decimal::ONE),
        )
        .unwrap();
    (config, broker)
}

/// Runs `engine` on its feed while `body` runs, then stops it.
async fn running<B, F>(
    engine: Engine<SimulatedClock, F, B>,
    body: impl std::future::Future<Output = ()>,
) where
    B: tradegraph::engine::Execution,
    F: futures::Stream<Item = tradegraph_market::MarketEvent> + Send + Unpin,
{
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = Box::pin(engine.run(
        async {
            stopped.await.ok();
        },
        |_| {},
    ));
    let test = async move {
        body.await;
        stop.send(()).unwrap();
    };
    let (summary, ()) = tokio::join!(run, test);
    summary.unwrap();
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn after_a_reconnect_the_ledger_reads_the_fills_before_the_views_are_compared() {
    let stores = Stores::memory();
    let (config, paper) = service_bot(&stores);
    let symbol = config.instrument.symbol.clone();
    let (broker, dials) = super::wrapped::Wrapped::new(paper);
    let (_feed, events) = futures::channel::mpsc::unbounded();
    let engine = Box::pin(Engine::start(
        config,
        SimulatedClock::default(),
        events,
        broker,
    ))
    .await
    .unwrap();
    assert!(
        !engine.reconciliation().is_held(),
        "{:?}",
        engine.reconciliation()
    );
    // The bot's own order, through its journal, filled at the broker; the ledger has not read
    // its fill yet when the venue's order-update link comes back.
    let own = OrderRequest::market(
        ClientOrderId::new("rc-own-1").unwrap(),
        symbol,
        OrderSide::Buy,
        Decimal::ONE,
    );
    engine.broker().submit(own).await.unwrap();
    dials
        .reconnections
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let bot = engine.handle();
    running(engine, async move {
        wait_for("a reconciliation after the reconnect", || {
            bot.status()
                .reconciliation
                .last()
                .is_some_and(|r| r.trigger == tradegraph::engine::ReconcileTrigger::Reconnect)
        })
        .await;
        let after = bot.status().reconciliation;
        assert!(
            !after.is_held(),
            "the bot's own fill is no discrepancy: {after:#?}"
        );
    })
    .await;
}

#[tokio::test]
async fn fills_the_broker_booked_before_the_start_are_saved_before_the_ledger_reads_them() {
    let stores = Stores::memory();
    let (config, paper) = service_bot(&stores);
    let symbol = config.instrument.symbol.clone();
    // Booked by the broker before the bot started (a venue broker's catch-up at connect), and
    // never saved: the bot's state holds no broker part yet.
    let before = OrderRequest::market(
        ClientOrderId::new("rc-before-1").unwrap(),
        symbol.clone(),
        OrderSide::Buy,
        Decimal::ONE,
    );
    paper.submit(before).await.unwrap();
    let (_feed, events) = futures::channel::mpsc::unbounded::<tradegraph_market::MarketEvent>();
    let engine = Box::pin(Engine::start(
        config,
        SimulatedClock::default(),
        events,
        paper,
    ))
    .await
    .unwrap();
    assert_eq!(
        engine.ledger().cursor(),
        1,
        "the ledger read the fill at start"
    );
    let key = tradegraph_store::StateKey::new(symbol, tradegraph_store::StatePart::Broker);
    let saved = stores.state.load(&key).await.unwrap();
    let saved = saved.expect("the broker's state is saved before the ledger reads its fills");
    let fills = saved.body["fills"].as_array().map_or(0, Vec::len);
    assert_eq!(
        fills, 1,
        "the saved paper account holds the fill: {}",
        saved.body
    );
}

#[tokio::test]
async fn a_held_bot_still_stops_out_and_closes_all() {
    let stores = Stores::memory();
    let (config, paper) = service_bot(&stores);
    let symbol = config.instrument.symbol.clone();
    // A position the bot did not open (it holds the bot), with its stop-loss at 90.
    let manual = OrderRequest::market(
        ClientOrderId::new("rc-manual-1").unwrap(),
        symbol.clone(),
        OrderSide::Buy,
        Decimal::ONE,
    )
    .with_exits(tradegraph_core::order::Exits::stop(Decimal::from(90)));
    paper.submit(manual).await.unwrap();
    let (feed, events) = futures::channel::mpsc::unbounded();
    let engine = Box::pin(Engine::start(
        config,
        SimulatedClock::default(),
        events,
        paper,
    ))
    .await
    .unwrap();
    assert!(engine.reconciliation().is_held());
    let bot = engine.handle();
    let position = |bot: &tradegraph::engine::BotHandle| {
        let broker = bot.broker().clone();
        async move {
            let positions = broker.positions().await.unwrap();
            positions.iter().map(|p| p.quantity).sum::<Decimal>()
        }
    };
    running(engine, async move {
        // The price falls through the stop: it fills though the bot is held.
        let tick = Tick::new(
            "2024-03-04T00:00:01Z".parse().unwrap(),
            Decimal::from(85),
            Decimal::ONE,
        );
        feed.unbounded_send(tradegraph_market::MarketEvent::Tick {
            symbol: symbol.clone(),
            tick,
        })
        .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !position(&bot).await.is_zero() {
            assert!(
                std::time::Instant::now() < deadline,
                "the stop did not fill"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Another position (through the bot's journal): close-all goes on under the hold.
        let again = OrderRequest::market(
            ClientOrderId::new("rc-own-2").unwrap(),
            symbol.clone(),
            OrderSide::Buy,
            Decimal::ONE,
        );
        bot.broker().submit(again).await.unwrap();
        assert_eq!(position(&bot).await, Decimal::ONE);
        let reply = bot.send(Command::CloseAll, None).await.unwrap();
        assert_eq!(reply.kind, ReplyKind::Done, "{reply:?}");
        assert!(position(&bot).await.is_zero(), "{reply:?}");
        let status = bot.status();
        assert!(status.reconciliation.is_held(), "still held: {status:?}");
        assert_eq!(status.trading, Trading::Reducing);
    })
    .await;
}

#[tokio::test]
async fn an_exits_fill_is_told_the_bots_from_the_brokers_book_without_asking_the_venue() {
    let stores = Stores::memory();
    let (config, paper) = service_bot(&stores);
    let symbol = config.instrument.symbol.clone();
    let (broker, dials) = super::wrapped::Wrapped::new(paper);
    let (_feed, events) = futures::channel::mpsc::unbounded();
    let engine = Box::pin(Engine::start(
        config,
        SimulatedClock::default(),
        events,
        broker,
    ))
    .await
    .unwrap();
    // The bot's entry with its stop, through the journal; the stop then fills at the broker:
    // a fill of an order (the exit) that is not an intent itself.
    let entry = OrderRequest::market(
        ClientOrderId::new("rc-exit-1").unwrap(),
        symbol.clone(),
        OrderSide::Buy,
        Decimal::ONE,
    )
    .with_exits(tradegraph_core::order::Exits {
        stop_loss: Some(Decimal::from(90)),
        ..Default::default()
    });
    engine.broker().submit(entry).await.unwrap();
    engine
        .broker()
        .inner()
        .paper
        .on_tick(
            &symbol,
            &Tick::new(
                Timestamp::from_millis(60_000),
                Decimal::from(85),
                Decimal::ONE,
            ),
        )
        .unwrap();
    let exit_fills = engine
        .broker()
        .fills_since(0)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.client_id.as_str() != "rc-exit-1")
        .count();
    assert_eq!(exit_fills, 1, "the stop filled");
    let before = dials.order_calls.load(std::sync::atomic::Ordering::SeqCst);
    dials
        .reconnections
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let bot = engine.handle();
    let counted = dials.clone();
    running(engine, async move {
        wait_for("a reconciliation after the reconnect", || {
            bot.status()
                .reconciliation
                .last()
                .is_some_and(|r| r.trigger == tradegraph::engine::ReconcileTrigger::Reconnect)
        })
        .await;
        let after = bot.status().reconciliation;
        assert!(!after.is_held(), "the exit is the bot's: {after:#?}");
        assert_eq!(
            counted
                .order_calls
                .load(std::sync::atomic::Ordering::SeqCst),
            before,
            "no request to the venue for an order its book tracks"
        );
    })
    .await;
}

#[tokio::test]
async fn a_new_discrepancy_soon_after_a_confirmation_raises_its_own_alert() {
    let stores = Stores::memory();
    let (mut config, paper) = service_bot(&stores);
    let (events_tx, mut alerts) = tokio::sync::broadcast::channel(64);
    config.events = Some(events_tx);
    let symbol = config.instrument.symbol.clone();
    let manual = |id: &str| {
        OrderRequest::limit(
            ClientOrderId::new(id).unwrap(),
            symbol.clone(),
            OrderSide::Buy,
            Decimal::ONE,
            Decimal::from(50),
        )
    };
    paper.submit(manual("rc-alert-1")).await.unwrap();
    // The same paper broker (its state is shared), to place an order behind the bot's back.
    let behind = paper.clone();
    let (broker, dials) = super::wrapped::Wrapped::new(paper);
    let (_feed, events) = futures::channel::mpsc::unbounded();
    let engine = Box::pin(Engine::start(
        config,
        SimulatedClock::default(),
        events,
        broker,
    ))
    .await
    .unwrap();
    let seen = engine.reconciliation().last().unwrap().at;
    let bot = engine.handle();
    running(engine, async move {
        let reply = bot
            .send(Command::ConfirmReconciliation { seen }, None)
            .await
            .unwrap();
        assert_eq!(reply.kind, ReplyKind::Done, "{reply:?}");
        // Another order the bot did not send, found at the next reconnect, well within the
        // alerts' cool-down.
        behind.submit(manual("rc-alert-2")).await.unwrap();
        dials
            .reconnections
            .store(1, std::sync::atomic::Ordering::SeqCst);
        wait_for("a reconciliation after the reconnect", || {
            bot.status().reconciliation.is_held()
        })
        .await;
    })
    .await;
    let mut keys = Vec::new();
    while let Ok(event) = alerts.try_recv() {
        if let tradegraph::engine::BotEvent::Alert(alert) = event {
            if alert.kind == tradegraph::engine::AlertKind::Reconciliation {
                keys.push(alert.key);
            }
        }
    }
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_ne!(
        keys[0], keys[1],
        "two keys: the cool-down cannot swallow the second"
    );
}
