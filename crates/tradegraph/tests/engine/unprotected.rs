//! A live bot whose open position loses its exits at the venue (the OCO cancelled by hand on
//! Binance's website, a stop Kite refused, a day order that lapsed) is told: the critical
//! `position_unprotected` alert once the position has had no exit working for a minute, and
//! its recovery once it is flat (or protected) again. The replay is paced (a minute a second)
//! so that the venue's own work keeps up with the bot's minutes, as it does live.

use super::lost_book::{connect, working, KEY, SECRET};
use super::support::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use tradegraph::engine::{AlertEvent, AlertKind, BotEvent, Engine, Mode, Severity};
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Decimal, Instrument, Timeframe};
use tradegraph_market::feed::replay::{Replay, ReplayConfig, ReplaySpeed};
use tradegraph_market::SimulatedClock;
use tradegraph_store::{MemoryState, Stores};
use tradegraph_testkit::venue::binance::BinanceVenue;

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {what} within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The next `position_unprotected` alert on `heard` (failing after 30 s).
async fn next_unprotected(heard: &mut Receiver<BotEvent>) -> AlertEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline, heard.recv())
            .await
            .expect("no position_unprotected alert within 30 s")
            .expect("the engine's events");
        if let BotEvent::Alert(alert) = event {
            if alert.kind == AlertKind::PositionUnprotected {
                return alert;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_whose_exits_are_gone_at_the_venue_raises_an_alert_and_its_recovery() {
    let venue = BinanceVenue::start(KEY, SECRET).await.unwrap();
    venue.set_balance("USDT", Decimal::from(10_000));
    venue.set_price(Decimal::new(1005, 1));
    let symbol = unique("UP");
    let file = bars_file(
        &symbol,
        "2024-03-04T00:00:00Z",
        &[flat(100.0, 5), flat(100.5, 120)].concat(),
    );
    let mut stores = Stores::memory();
    let state = Arc::new(MemoryState::new());
    stores.state = state.clone();
    stores.intents = state;
    let mut config = config(
        Instrument::btc_usdt(),
        ScriptedPm::at(&[(
            "2024-03-04T00:05:00Z",
            buy(5.0, 98.0, Some(120.0), None).unwrap(),
        )]),
        RiskLimits::default(),
        stores,
        Mode::Service,
    );
    config.decision_every = Timeframe::M5;
    let (events, mut heard) = tokio::sync::broadcast::channel(16_384);
    config.events = Some(events);
    let broker = connect(&venue, None).await;
    // A minute a second.
    let clock = SimulatedClock::default();
    let replay = Replay::new(ReplayConfig {
        clock: clock.clone(),
        speed: ReplaySpeed::Multiple(60.0),
        ..ReplayConfig::new(file.clone(), config.instrument.symbol.clone())
    })
    .unwrap();
    let engine = Box::pin(Engine::start(config, clock, replay.stream(), broker))
        .await
        .unwrap();
    let run =
        tokio::spawn(async move { Box::pin(engine.run(std::future::pending(), |_| {})).await });

    // The entry fills and its OCO works: the position is protected.
    until("OCO at the venue", || working(&venue).len() == 2).await;
    let oco = working(&venue);
    assert!(oco.iter().all(|o| o.side == "SELL"), "{oco:?}");
    let held = venue.balance("BTC");
    // Someone cancels the OCO on Binance's website (one DELETE takes the list).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let query = format!(
        "symbol=BTCUSDT&orderId={}&recvWindow=5000&timestamp={now}",
        oco[0].id
    );
    let signature = venue.sign(&query);
    let cancelled = reqwest::Client::new()
        .delete(format!(
            "{}/api/v3/order?{query}&signature={signature}",
            venue.url()
        ))
        .header("X-MBX-APIKEY", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        cancelled.status().as_u16(),
        200,
        "{:?}",
        cancelled.text().await
    );
    assert!(working(&venue).is_empty());
    // Nothing said so far: the exits worked until now.
    while let Ok(event) = heard.try_recv() {
        if let BotEvent::Alert(alert) = event {
            assert_ne!(alert.kind, AlertKind::PositionUnprotected, "{alert:?}");
        }
    }

    let raised = next_unprotected(&mut heard).await;
    assert!(!raised.recovered, "{raised:?}");
    assert_eq!(raised.severity, Severity::Critical);
    assert!(
        raised.key.starts_with("position_unprotected:"),
        "one key per trade: {}",
        raised.key
    );
    assert!(raised.message.contains("UNPROTECTED"), "{}", raised.message);
    assert!(
        raised.message.contains("stop at 98") && raised.message.contains("target at 120"),
        "{}",
        raised.message
    );
    assert!(working(&venue).is_empty(), "the exits stayed gone");

    // Sold by hand: flat, the alert recovers.
    venue.place_by_hand(true, held.0 + held.1).unwrap();
    let recovered = next_unprotected(&mut heard).await;
    assert!(recovered.recovered, "{recovered:?}");
    assert_eq!(recovered.key, raised.key);
    assert!(
        recovered.message.contains("closed"),
        "{}",
        recovered.message
    );
    run.abort();
    let _ = run.await;
    std::fs::remove_file(file).unwrap();
}

/// On paper the exits are the paper broker's orders: a position held with them working raises
/// nothing, minute after minute.
#[tokio::test]
async fn a_position_whose_exits_work_raises_nothing() {
    let symbol = unique("UQ");
    let file = bars_file(
        &symbol,
        "2024-03-04T00:00:00Z",
        &[flat(100.0, 15), flat(100.5, 45)].concat(),
    );
    let stores = Stores::memory();
    let mut config = config(
        btc_as(&symbol),
        ScriptedPm::at(&[(
            "2024-03-04T00:15:00Z",
            buy(5.0, 98.0, Some(120.0), None).unwrap(),
        )]),
        RiskLimits::default(),
        stores.clone(),
        Mode::Service,
    );
    let (events, mut heard) = tokio::sync::broadcast::channel(16_384);
    config.events = Some(events);
    let run = finish(start(config, &file).await, stores).await;
    std::fs::remove_file(file).unwrap();
    assert!(!flat_at_end(&run), "the position was held to the end");
    // Held 45 minutes (the watch asks the broker each one), never without its exits.
    while let Ok(event) = heard.try_recv() {
        if let BotEvent::Alert(alert) = event {
            assert_ne!(alert.kind, AlertKind::PositionUnprotected, "{alert:?}");
        }
    }
}
