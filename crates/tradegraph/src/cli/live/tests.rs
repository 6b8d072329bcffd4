#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::rules::{check_binance, check_kite, check_kite_feed};
use super::*;
use rust_decimal::Decimal;
use std::collections::HashMap;
use tradegraph_broker::live::binance::SymbolRules;
use tradegraph_broker::live::kite::KiteRules;
use tradegraph_broker::paper::{PaperBroker, PaperConfig};

const KEY: &str = "canary-key-0123456789abcdef";

fn settings(env: &[(&str, &str)]) -> Settings {
    let dir = std::env::temp_dir().join(format!(
        "tradegraph-live-{}-{}",
        std::process::id(),
        env.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::resolve(
        &crate::config::Flags::default(),
        &|k| env.get(k).cloned(),
        &dir,
    )
    .unwrap()
}

fn binance(extra: &[(&str, &str)]) -> Settings {
    let mut env = vec![
        ("TRADEGRAPH_FEED", "binance"),
        ("BINANCE_API_KEY", KEY),
        ("BINANCE_API_SECRET", "canary-secret-0123456789"),
    ];
    env.extend_from_slice(extra);
    settings(&env)
}

#[test]
fn binance_settings_with_keys_and_a_state_file_can_trade_live() {
    let s = binance(&[]);
    assert!(refusals(&s).is_empty(), "{:?}", refusals(&s));
    // The testnet's REST endpoint brings the testnet's WebSocket API.
    let s = binance(&[("BINANCE_API_URL", "https://testnet.binance.vision")]);
    assert!(refusals(&s).is_empty(), "{:?}", refusals(&s));
}

/// The market stream and the REST endpoint are one Binance environment: the testnet's REST
/// endpoint brings the testnet's streams, and a stream of the other environment (a
/// `BINANCE_WS_URL` left from trying the testnet) is refused, naming the setting.
#[test]
fn a_market_stream_of_another_binance_environment_is_refused() {
    let testnet = binance(&[("BINANCE_API_URL", "https://testnet.binance.vision")]);
    let FeedSettings::Binance { ws_url, .. } = &testnet.feed else {
        panic!("{:?}", testnet.feed);
    };
    assert_eq!(ws_url, "wss://stream.testnet.binance.vision");
    let production_on_testnet_prices =
        binance(&[("BINANCE_WS_URL", "wss://stream.testnet.binance.vision")]);
    let no = refusals(&production_on_testnet_prices);
    assert_eq!(
        no,
        ["BINANCE_WS_URL (`[feeds.binance] ws_url`) is wss://stream.testnet.binance.vision \
          (testnet's market streams) but BINANCE_API_URL is https://api.binance.com (production): \
          the bot would decide on one environment's prices and trade in the other; set \
          BINANCE_WS_URL to production's streams (wss://stream.binance.com:9443), or leave it unset"]
    );
    // The testnet's endpoint written otherwise is the testnet all the same.
    let testnet = binance(&[("BINANCE_API_URL", "https://TESTNET.binance.vision:443")]);
    let FeedSettings::Binance { ws_url, .. } = &testnet.feed else {
        panic!("{:?}", testnet.feed);
    };
    assert_eq!(ws_url, "wss://stream.testnet.binance.vision");
    assert!(
        refusals(&testnet)
            .iter()
            .all(|r| !r.contains("BINANCE_WS_URL (")),
        "{:?}",
        refusals(&testnet)
    );
    let testnet_on_production_prices = binance(&[
        ("BINANCE_API_URL", "https://testnet.binance.vision"),
        ("BINANCE_WS_URL", "wss://stream.binance.com:9443"),
    ]);
    let no = refusals(&testnet_on_production_prices);
    assert_eq!(no.len(), 1, "{no:?}");
    assert!(no[0].contains("production's market streams"), "{no:?}");
    // Production's market-data-only host is production; a local venue is not judged.
    let data_only = binance(&[("BINANCE_WS_URL", "wss://data-stream.binance.vision")]);
    assert!(
        refusals(&data_only).is_empty(),
        "{:?}",
        refusals(&data_only)
    );
    let local = binance(&[("BINANCE_WS_URL", "ws://127.0.0.1:9")]);
    assert!(refusals(&local).is_empty(), "{:?}", refusals(&local));
}

#[test]
fn a_state_kept_in_memory_is_refused_naming_the_setting() {
    let mut s = binance(&[]);
    s.stores.state_file = None;
    assert!(!s.state_is_durable());
    let no = refusals(&s);
    assert_eq!(no.len(), 1, "{no:?}");
    assert!(
        no[0].contains("state_file") && no[0].contains("memory"),
        "{no:?}"
    );
    s.stores.redis_url = Some("redis://127.0.0.1:1".into());
    assert!(s.state_is_durable());
    assert!(refusals(&s).is_empty());
}

#[test]
fn another_rest_endpoint_without_its_websocket_api_is_refused() {
    let s = binance(&[("BINANCE_API_URL", "http://127.0.0.1:9")]);
    let no = refusals(&s);
    assert_eq!(no.len(), 1, "{no:?}");
    assert!(no[0].contains("BINANCE_WS_API_URL"), "{no:?}");
    let s = binance(&[
        ("BINANCE_API_URL", "http://127.0.0.1:9"),
        ("BINANCE_WS_API_URL", "ws://127.0.0.1:9/ws-api/v3"),
    ]);
    assert!(refusals(&s).is_empty());
}

#[test]
fn a_key_shows_as_its_length_only() {
    let shown = banner::masked(&Secret::new(KEY));
    assert_eq!(shown, format!("*** ({} characters)", KEY.len()));
    assert!(!shown.contains(&KEY[..2]), "{shown}");
}

#[tokio::test]
async fn the_banner_shows_the_venue_the_balances_the_instrument_and_the_limits() {
    let s = binance(&[]);
    let broker = PaperBroker::new(PaperConfig::new(
        s.instrument.clone(),
        Decimal::from(12_345),
    ))
    .unwrap();
    let venue = format!(
        "binance at https://api.binance.com with key {}",
        banner::masked(&Secret::new(KEY))
    );
    let text = banner(&broker, &venue, &s).await;
    assert!(text.contains("LIVE TRADING"), "{text}");
    assert!(text.contains("with key *** (27 characters)"), "{text}");
    assert!(!text.contains("canary"), "{text}");
    assert!(text.contains("cash 12345"), "{text}");
    assert!(text.contains("BTCUSDT"), "{text}");
    let limits = &s.risk;
    assert!(
        text.contains(&format!("position {}% of equity", limits.max_position_pct))
            && text.contains(&format!("daily loss {}%", limits.max_daily_loss_pct)),
        "{text}"
    );
}

#[test]
fn an_instrument_off_the_venues_grid_is_refused_naming_the_setting() {
    let s = binance(&[]);
    let rules = SymbolRules {
        lot: Some(tradegraph_broker::live::binance::filters::LotFilter {
            step: s.instrument.lot_size,
            ..Default::default()
        }),
        price: Some(tradegraph_broker::live::binance::filters::PriceFilter {
            tick: s.instrument.tick_size,
            ..Default::default()
        }),
        ..SymbolRules::default()
    };
    check_binance(&s.instrument, &rules).unwrap();
    let mut coarse = s.instrument.clone();
    coarse.lot_size = s.instrument.lot_size * Decimal::from(10);
    check_binance(&coarse, &rules).unwrap();
    let mut off = s.instrument.clone();
    off.lot_size = Decimal::new(15, 6);
    off.tick_size = Decimal::new(5, 3);
    let e = check_binance(&off, &rules).unwrap_err().to_string();
    assert!(
        e.contains("`lot_size` is 0.000015") && e.contains("0.00001"),
        "{e}"
    );
    assert!(
        e.contains("`tick_size` is 0.005") && e.contains("0.01"),
        "{e}"
    );
    let kite = KiteRules {
        lot_size: 30,
        tick_size: Decimal::new(5, 2),
    };
    let mut bank = s.instrument.clone();
    bank.lot_size = Decimal::from(15);
    bank.tick_size = Decimal::new(5, 2);
    let e = check_kite(&bank, kite).unwrap_err().to_string();
    assert!(
        e.contains("`lot_size` is 15") && e.contains("Kite's quantity step"),
        "{e}"
    );
    bank.lot_size = Decimal::from(30);
    check_kite(&bank, kite).unwrap();
}

#[test]
fn a_kite_feed_on_another_contract_than_the_brokers_is_refused_naming_both() {
    let feed = [(260_105, "BANKNIFTY".into())];
    check_kite_feed("banknifty", &feed, "BANKNIFTY25JANFUT", 260_105).unwrap();
    let e = check_kite_feed("banknifty", &feed, "BANKNIFTY25FEBFUT", 12_345)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("260105") && e.contains("BANKNIFTY25FEBFUT"),
        "{e}"
    );
    assert!(
        e.contains("12345") && e.contains("banknifty = 12345"),
        "{e}"
    );
    assert!(check_kite_feed("banknifty", &[], "X", 1).is_err());
}

/// A live Kite bot's watcher sees its broker roll to the next month's future (the venue's
/// dump changed, read again by the broker) and names the contract; it waits while the broker
/// keeps the contract, and the stop says what to do.
#[tokio::test]
async fn the_roll_watcher_sees_the_broker_roll_to_the_next_contract() {
    use tradegraph_broker::live::kite::{KiteBroker, KiteConfig, KiteProduct};
    use tradegraph_core::redact::Secret;
    use tradegraph_testkit::venue::kite::KiteVenue;
    let venue = KiteVenue::start("kite-key", "kite-secret", "kite-token")
        .await
        .unwrap();
    venue.set_price(Decimal::from(48_200));
    let config = KiteConfig::new(
        Secret::new("kite-key"),
        Secret::new("kite-token"),
        "NFO",
        "BANKNIFTY",
    )
    .with_api_url(venue.url())
    .with_ws_url(venue.ws_url())
    .with_product(KiteProduct::Nrml);
    let broker = KiteBroker::connect(
        config,
        tradegraph_core::Symbol::new("BANKNIFTY"),
        None,
        tradegraph_broker::live::LiveTradingEnabled::i_understand_this_trades_real_money(),
    )
    .await
    .unwrap();
    let expiring = broker.tradingsymbol();
    let reader = broker.contract_reader();
    let every = std::time::Duration::from_millis(10);
    assert!(
        tokio::time::timeout(
            std::time::Duration::from_millis(100),
            rolled_away(&reader, &expiring, every)
        )
        .await
        .is_err(),
        "no roll while the broker keeps {expiring}"
    );
    let next = venue.roll_contract();
    broker.reread_instruments().await.unwrap();
    let seen = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        rolled_away(&reader, &expiring, every),
    )
    .await
    .expect("the roll seen");
    assert_eq!(seen, next);
    let message = rolled_message("banknifty", &expiring, &next);
    assert!(
        message.contains(&format!("from {expiring} to {next}"))
            && message.contains("banknifty = <")
            && message.contains("[feeds.kite.tokens]"),
        "{message}"
    );
}
