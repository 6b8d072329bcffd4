//! The synthetic feed: determinism, sessions, the tick grid, regimes, books and the clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{NaiveDate, NaiveTime};
use futures::StreamExt;
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use tradegraph_core::{Book, Instrument, Timestamp, Trade, TradingSession};
use tradegraph_market::feed::synthetic::{Pacing, Regime, SyntheticConfig, SyntheticGenerator};
use tradegraph_market::{Clock, MarketEvent, SimulatedClock};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn events(config: &SyntheticConfig) -> Vec<MarketEvent> {
    SyntheticGenerator::new(config.clone()).unwrap().collect()
}

fn trades(events: &[MarketEvent]) -> Vec<&Trade> {
    events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Trade { trade, .. } => Some(trade),
            _ => None,
        })
        .collect()
}

fn presets(seed: u64) -> [SyntheticConfig; 3] {
    [
        SyntheticConfig::btc_usdt(seed),
        SyntheticConfig::bank_nifty(seed),
        SyntheticConfig::nifty_50(seed),
    ]
}

fn ln_price(trade: &Trade) -> f64 {
    f64::try_from(trade.price).unwrap().ln()
}

#[test]
fn the_same_seed_gives_the_same_events_and_another_seed_others() {
    for config in presets(2025) {
        let config = config.with_max_events(20_000);
        let first = events(&config);
        assert_eq!(first.len(), 20_000);
        assert_eq!(events(&config), first, "{}", config.instrument.symbol);
        let other = events(&config.clone().with_seed(2026));
        assert_ne!(other, first);
        let same_prices = trades(&first)
            .iter()
            .zip(trades(&other))
            .filter(|(a, b)| a.price == b.price && a.ts == b.ts)
            .count();
        assert!(same_prices < 100, "{same_prices} identical trades");
    }
}

#[test]
fn instruments_sharing_a_seed_get_independent_markets() {
    let times = |config: SyntheticConfig| {
        let events = events(&config.with_max_events(1_000));
        trades(&events).iter().map(|t| t.ts).collect::<Vec<_>>()
    };
    let nifty = times(SyntheticConfig::nifty_50(42));
    let bank_nifty = times(SyntheticConfig::bank_nifty(42));
    let shared = nifty
        .iter()
        .zip(&bank_nifty)
        .filter(|(a, b)| a == b)
        .count();
    assert!(shared < 50, "{shared} trades at the same time");
}

#[test]
fn trades_sit_on_the_grid_with_consecutive_ids_and_ordered_times() {
    for config in presets(11) {
        let instrument = config.instrument.clone();
        let config = SyntheticConfig {
            first_trade_id: 1_000,
            ..config
        }
        .with_max_events(50_000);
        let events = events(&config);
        let mut previous: Option<&Trade> = None;
        for event in &events {
            assert_eq!(event.symbol(), Some(&instrument.symbol));
            let MarketEvent::Trade { trade, .. } = event else {
                continue;
            };
            assert!(trade.price > Decimal::ZERO);
            assert!(
                (trade.price % instrument.tick_size).is_zero(),
                "{}",
                trade.price
            );
            assert!(trade.quantity > Decimal::ZERO);
            assert!(
                (trade.quantity % instrument.lot_size).is_zero(),
                "{}",
                trade.quantity
            );
            assert!(instrument.session.is_open(trade.ts));
            match previous {
                Some(p) => {
                    assert_eq!(trade.trade_id, p.trade_id + 1);
                    assert!(trade.ts >= p.ts);
                }
                None => assert_eq!(trade.trade_id, 1_000),
            }
            previous = Some(trade);
        }
    }
}

/// Wednesday 12 to Tuesday 18 March 2025: Friday 14 is Holi, then the weekend.
#[test]
fn nse_trades_happen_only_in_sessions_across_a_holiday_and_a_weekend() {
    let kolkata = |trade: &Trade| trade.ts.add_millis(330 * 60_000).to_datetime().naive_utc();
    for instrument in [Instrument::bank_nifty(), Instrument::nifty_50()] {
        let config = SyntheticConfig {
            mean_interval_ms: 500.0,
            ..SyntheticConfig::for_instrument(&instrument, 3)
        }
        .with_start(t("2025-03-12T00:00:00Z"))
        .with_end(t("2025-03-19T00:00:00Z"));
        let events = events(&config);
        let trades = trades(&events);
        assert!(trades.len() > 100_000, "{}", trades.len());
        let mut days = BTreeSet::new();
        for trade in &trades {
            assert!(
                instrument.session.is_open(trade.ts),
                "{} at {}",
                instrument.symbol,
                trade.ts
            );
            let local = kolkata(trade);
            assert!(local.time() >= NaiveTime::from_hms_opt(9, 15, 0).unwrap());
            assert!(local.time() < NaiveTime::from_hms_opt(15, 30, 0).unwrap());
            days.insert(local.date());
        }
        let day = |d| NaiveDate::from_ymd_opt(2025, 3, d).unwrap();
        assert_eq!(days, BTreeSet::from([day(12), day(13), day(17), day(18)]));
        // Each session is used from near its open to near its close.
        for pair in trades.windows(2) {
            if kolkata(pair[0]).date() != kolkata(pair[1]).date() {
                assert!(kolkata(pair[0]).time() > NaiveTime::from_hms_opt(15, 29, 0).unwrap());
                assert!(kolkata(pair[1]).time() < NaiveTime::from_hms_opt(9, 16, 0).unwrap());
            }
        }
    }
}

#[test]
fn prices_gap_overnight_by_the_configured_amount() {
    let config = SyntheticConfig {
        mean_interval_ms: 20_000.0,
        book: None,
        ..SyntheticConfig::nifty_50(8)
    }
    .with_end(t("2025-12-31T00:00:00Z"));
    let gap = config.overnight_gap;
    let TradingSession::Exchange(nse) = &config.instrument.session else {
        panic!("NSE session");
    };
    let events = events(&config);
    let trades = trades(&events);
    let (mut normalized, mut nights) = (0.0, 0);
    for pair in trades.windows(2) {
        if nse.local_date(pair[0].ts) != nse.local_date(pair[1].ts) {
            let closed_days = (pair[1].ts.millis() - pair[0].ts.millis()) as f64 / 86_400_000.0;
            let r = ln_price(pair[1]) - ln_price(pair[0]);
            normalized += r * r / (gap * gap * closed_days);
            nights += 1;
        }
    }
    // 243 sessions from 6 January to 30 December 2025; the squared gaps average about one in units of the model.
    assert!((240..245).contains(&nights), "{nights} nights");
    let ratio = normalized / f64::from(nights);
    assert!((0.75..1.35).contains(&ratio), "gap variance ratio {ratio}");
}

/// Realized volatility of each regime's stretches, from the trades alone (labelled with the
/// regime they were drawn in). The seed is fixed: the figures are the same on every run.
#[test]
fn regimes_change_realized_volatility_and_activity() {
    let mut config = SyntheticConfig {
        book: None,
        ..SyntheticConfig::btc_usdt(77)
    };
    config.regimes.mean_duration_ms = 20.0 * 60_000.0;
    let mut generator = SyntheticGenerator::new(config.clone()).unwrap();
    let mut sum_sq = [0.0f64; 3];
    let mut time_ms = [0.0f64; 3];
    let mut count = [0u32; 3];
    let mut previous: Option<(f64, f64)> = None;
    let mut switches = 0;
    let mut last_regime = generator.regime();
    for _ in 0..400_000 {
        let regime = generator.regime();
        if regime != last_regime {
            switches += 1;
            last_regime = regime;
        }
        let Some(MarketEvent::Trade { trade, .. }) = generator.next() else {
            panic!("trades only");
        };
        let elapsed = generator.trading_elapsed().as_secs_f64() * 1_000.0;
        let log_price = ln_price(&trade);
        if let Some((p, e)) = previous {
            let i = regime.index();
            sum_sq[i] += (log_price - p).powi(2);
            time_ms[i] += elapsed - e;
            count[i] += 1;
        }
        previous = Some((log_price, elapsed));
    }
    let year_ms = 365.0 * 86_400_000.0;
    let realized = |r: Regime| (sum_sq[r.index()] / time_ms[r.index()] * year_ms).sqrt();
    let rate = |r: Regime| f64::from(count[r.index()]) / time_ms[r.index()];
    // About 11 hours of trading with a 20-minute mean per regime.
    assert!(switches >= 10, "{switches} switches");
    assert!(time_ms.iter().all(|ms| *ms > 3_600_000.0), "{time_ms:?}");
    for regime in Regime::ALL {
        let expected = config.regimes.params(regime).volatility;
        let got = realized(regime);
        assert!(
            (got / expected - 1.0).abs() < 0.1,
            "{regime}: realized {got:.3}, configured {expected}"
        );
    }
    let (calm, turbulent) = (realized(Regime::Calm), realized(Regime::Turbulent));
    assert!(
        turbulent > 2.5 * calm,
        "calm {calm:.3}, turbulent {turbulent:.3}"
    );
    assert!(rate(Regime::Turbulent) > 3.0 * rate(Regime::Calm));
}

fn check_book(book: &Book, instrument: &Instrument) {
    assert_eq!(
        (book.bids.len(), book.asks.len()),
        (Book::DEPTH, Book::DEPTH)
    );
    assert!(book.best_bid().unwrap().price < book.best_ask().unwrap().price);
    assert!(
        book.bids.windows(2).all(|w| w[0].price > w[1].price),
        "{book:?}"
    );
    assert!(
        book.asks.windows(2).all(|w| w[0].price < w[1].price),
        "{book:?}"
    );
    for level in book.bids.iter().chain(&book.asks) {
        assert!(level.price > Decimal::ZERO);
        assert!((level.price % instrument.tick_size).is_zero());
        assert!(level.quantity > Decimal::ZERO);
        assert!((level.quantity % instrument.lot_size).is_zero());
    }
}

#[test]
fn book_snapshots_are_consistent_with_the_trades() {
    for config in presets(4) {
        let instrument = config.instrument.clone();
        let events = events(&config.with_max_events(22_000));
        let mut last_trade: Option<&Trade> = None;
        let mut books = 0;
        for event in &events {
            match event {
                MarketEvent::Trade { trade, .. } => last_trade = Some(trade),
                MarketEvent::Book { book, .. } => {
                    check_book(book, &instrument);
                    let trade = last_trade.unwrap();
                    assert_eq!(book.ts, trade.ts);
                    let (bid, ask) = (book.bids[0].price, book.asks[0].price);
                    assert!(trade.price == bid || trade.price == ask);
                    books += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(books, 2_000);
    }
}

#[tokio::test]
async fn the_clock_is_never_behind_a_yielded_event() {
    let config = SyntheticConfig::bank_nifty(21).with_max_events(30_000);
    let clock = SimulatedClock::new(Timestamp::EPOCH);
    let mut feed = SyntheticGenerator::new(config)
        .unwrap()
        .stream(clock.clone(), Pacing::AsFastAsPossible)
        .unwrap();
    let mut n = 0;
    while let Some(event) = feed.next().await {
        assert_eq!(clock.now(), event.ts(), "moved exactly to the event");
        n += 1;
    }
    assert_eq!(n, 30_000);
}

#[tokio::test(start_paused = true)]
async fn paced_streams_follow_trading_time_and_skip_the_night() {
    // Nifty 50 from Monday 14:30 to Tuesday 10:15 in Kolkata: two trading hours, 18 closed.
    let config = SyntheticConfig {
        book: None,
        mean_interval_ms: 2_000.0,
        ..SyntheticConfig::nifty_50(5)
    }
    .with_start(t("2025-01-06T14:30:00+05:30"))
    .with_end(t("2025-01-07T10:15:00+05:30"));
    let clock = SimulatedClock::new(config.start);
    let speed = 600.0;
    let mut feed = SyntheticGenerator::new(config)
        .unwrap()
        .stream(clock.clone(), Pacing::Speed(speed))
        .unwrap();
    let started = tokio::time::Instant::now();
    let mut first: Option<(Timestamp, tokio::time::Instant)> = None;
    let mut last = None;
    while let Some(event) = feed.next().await {
        assert!(clock.now() >= event.ts());
        first.get_or_insert((event.ts(), tokio::time::Instant::now()));
        last = Some(event.ts());
    }
    let (first_ts, first_at) = first.unwrap();
    assert!(first_at - started < std::time::Duration::from_millis(1));
    // Two hours of trading at 600x: 12 seconds, not the 3 minutes the whole span would take.
    let trading = (last.unwrap().millis() - first_ts.millis()) as f64 / 1_000.0 - 17.75 * 3_600.0;
    let waited = (tokio::time::Instant::now() - first_at).as_secs_f64();
    assert!(
        (waited - trading / speed).abs() < 0.05,
        "waited {waited} s for {trading} s"
    );
    assert!((11.5..12.1).contains(&waited), "{waited}");
}
