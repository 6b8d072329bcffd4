//! The generator as a whole: trades against books, ends, extremes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::MarketEvent;
use rust_decimal::Decimal;
use tradegraph_core::{Side, Timestamp};

fn events(config: SyntheticConfig) -> Vec<MarketEvent> {
    SyntheticGenerator::new(config).unwrap().collect()
}

#[test]
fn a_book_follows_its_trade_at_the_touch() {
    let config = SyntheticConfig::bank_nifty(5).with_max_events(5_000);
    let events = events(config);
    let mut books = 0;
    for pair in events.windows(2) {
        let (MarketEvent::Trade { trade, .. }, MarketEvent::Book { book, .. }) =
            (&pair[0], &pair[1])
        else {
            continue;
        };
        books += 1;
        assert_eq!(book.ts, trade.ts);
        assert_eq!(book.update_id, Some(trade.trade_id));
        assert_eq!(trade.trade_id % 10, 0, "every 10th trade (ids from 1)");
        let (bid, ask) = (book.bids[0].price, book.asks[0].price);
        // Bank Nifty's preset spread: two ticks of 0.05.
        assert_eq!(ask - bid, Decimal::new(10, 2));
        let touch = match trade.aggressor {
            Side::Buy => ask,
            Side::Sell => bid,
        };
        assert_eq!(trade.price, touch);
    }
    assert_eq!(books, events.len() / 11);
}

#[test]
fn the_stream_stops_at_the_end_and_at_max_events() {
    let end: Timestamp = "2025-01-06T00:10:00Z".parse().unwrap();
    let config = SyntheticConfig {
        book: None,
        ..SyntheticConfig::btc_usdt(9)
    }
    .with_end(end);
    let until_end = events(config.clone());
    assert!(until_end.iter().all(|e| e.ts() < end));
    let last = until_end.last().unwrap().ts();
    assert!(
        end.millis() - last.millis() < 10_000,
        "ends near {end}, last {last}"
    );

    let mut generator = SyntheticGenerator::new(config.with_max_events(3)).unwrap();
    assert_eq!(generator.size_hint(), (0, Some(3)));
    assert_eq!(generator.by_ref().count(), 3);
    assert_eq!(generator.emitted(), 3);
    assert_eq!(generator.next(), None);
}

#[test]
fn prices_stay_positive_in_a_wild_market_at_one_tick() {
    let wild = RegimeParams {
        drift: -5.0,
        volatility: 20.0,
        activity: 1.0,
    };
    let config = SyntheticConfig {
        start_price: Decimal::new(5, 2),
        regimes: RegimeConfig::constant(wild),
        overnight_gap: 1.0,
        mean_interval_ms: 60_000.0,
        ..SyntheticConfig::nifty_50(3)
    }
    .with_max_events(20_000);
    let mut lowest = Decimal::MAX;
    for event in events(config) {
        match event {
            MarketEvent::Trade { trade, .. } => {
                assert!(trade.price > Decimal::ZERO);
                lowest = lowest.min(trade.price);
            }
            MarketEvent::Book { book, .. } => {
                assert!(book.bids.iter().all(|l| l.price > Decimal::ZERO));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        lowest,
        Decimal::new(5, 2),
        "pinned at one tick, never below"
    );
}

#[test]
fn a_generator_reports_where_it_is() {
    let mut generator = SyntheticGenerator::new(SyntheticConfig::nifty_50(1)).unwrap();
    assert_eq!(generator.symbol().as_str(), "NIFTY50");
    assert_eq!(generator.regime(), Regime::Normal);
    assert_eq!(
        generator.now().to_string(),
        "2025-01-06T03:45:00Z",
        "09:15 in Kolkata"
    );
    assert!((generator.mid() - 24_000.0).abs() < 1e-6);
    generator.nth(999);
    assert!(generator.trading_elapsed().as_secs() > 100);
    assert!((generator.mid() - 24_000.0).abs() < 1_000.0);
}

#[test]
fn a_market_that_never_opens_yields_nothing() {
    let mut config = SyntheticConfig::nifty_50(1);
    let mut day = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let mut days = Vec::new();
    for _ in 0..800 {
        days.push(day);
        day = day.succ_opt().unwrap();
    }
    if let tradegraph_core::TradingSession::Exchange(nse) = &mut config.instrument.session {
        *nse = nse.clone().with_holidays(days);
    }
    assert_eq!(events(config).len(), 0);
}

#[test]
fn pacing_speeds_must_be_positive() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(Pacing::Speed(bad).validate().is_err(), "{bad}");
    }
    let generator = SyntheticGenerator::new(SyntheticConfig::btc_usdt(1)).unwrap();
    let clock = crate::SimulatedClock::new(Timestamp::EPOCH);
    assert!(generator.stream(clock, Pacing::Speed(-2.0)).is_err());
}
