//! The splitting of a period into windows.

use super::*;
use crate::backtest::metrics::Period;
use proptest::prelude::*;
use tradegraph_core::{Symbol, Timeframe, Timestamp};

proptest! {
    #[test]
    fn reading_any_file_never_panics_and_names_it(bytes in proptest::collection::vec(any::<u8>(), 0..400), csv in any::<bool>()) {
        let dir = std::env::temp_dir().join(format!("tg-walk-prop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(if csv { "bars.csv" } else { "bars.jsonl" });
        std::fs::write(&path, &bytes).unwrap();
        let read = bar_times(&path, &Symbol::from("BTCUSDT"), Period::default());
        std::fs::remove_dir_all(&dir).unwrap();
        match read {
            Ok(times) => prop_assert!(times.len() <= bytes.len()),
            Err(e) => prop_assert!(e.to_string().contains("bars."), "{e}"),
        }
    }

    #[test]
    fn windows_cover_every_bar_once(gaps in proptest::collection::vec(1i64..5_000_000, 1..300), n in 2usize..8) {
        let mut t = 1_700_000_000_000i64;
        let times: Vec<Timestamp> = gaps.iter().map(|g| { t += g; Timestamp::from_millis(t) }).collect();
        if let Ok(windows) = split(&times, n, 1, Timeframe::M1, &crypto()) {
            prop_assert_eq!(windows.len(), n);
            prop_assert_eq!(windows.iter().map(|w| w.bars).sum::<u64>(), times.len() as u64);
            for w in windows.windows(2) {
                prop_assert_eq!(w[0].to, w[1].from);
            }
            for ts in &times {
                let inside = windows.iter().filter(|w| *ts >= w.from && *ts < w.to).count();
                prop_assert_eq!(inside, 1, "{} in one window", ts);
            }
            for w in &windows {
                let held = times.iter().filter(|t| **t >= w.from && **t < w.to).count();
                prop_assert_eq!(w.bars, held as u64, "window {} counts its [from, to)", w.index);
            }
        }
    }

    #[test]
    fn minute_bars_split_on_cycle_edges_count_what_each_window_runs(bars in 20i64..3_000, n in 2usize..8, cycle in proptest::sample::select(vec![Timeframe::M1, Timeframe::M5, Timeframe::M15, Timeframe::H1])) {
        let times: Vec<Timestamp> = (0..bars).map(|i| Timestamp::from_millis(1_700_000_040_000 + i * 60_000)).collect();
        let step = cycle.millis();
        if let Ok(windows) = split(&times, n, 1, cycle, &crypto()) {
            for w in &windows {
                let held = times.iter().filter(|t| **t >= w.from && **t < w.to).count();
                prop_assert_eq!(w.bars, held as u64);
            }
            for w in &windows[1..] {
                prop_assert_eq!(w.from.millis().rem_euclid(step), 0, "window {} starts on a cycle edge", w.index);
            }
        }
    }
}

/// Around the clock, in UTC: decision candles on UTC multiples.
fn crypto() -> tradegraph_core::TradingSession {
    tradegraph_core::Instrument::btc_usdt().session
}

fn minutes(n: i64) -> Vec<Timestamp> {
    (0..n).map(|i| Timestamp::from_millis(i * 60_000)).collect()
}

#[test]
fn a_bar_on_an_edge_is_counted_in_the_window_that_runs_it() {
    // 5 bars, 2 windows: the edge falls on the third bar, which the second window runs
    let windows = split(&minutes(5), 2, 1, Timeframe::M1, &crypto()).unwrap();
    assert_eq!(windows[0].to, Timestamp::from_millis(120_000));
    assert_eq!(
        windows.iter().map(|w| w.bars).collect::<Vec<_>>(),
        vec![2, 3]
    );
}

#[test]
fn inner_edges_fall_on_the_decision_timeframe() {
    // 100 one-minute bars from minute 3, 3 windows, 15-minute cycles
    let times: Vec<Timestamp> = (3..103)
        .map(|i| Timestamp::from_millis(i * 60_000))
        .collect();
    let windows = split(&times, 3, 1, Timeframe::M15, &crypto()).unwrap();
    assert_eq!(windows[0].from, times[0]);
    assert_eq!(windows[1].from, Timestamp::from_millis(30 * 60_000));
    assert_eq!(windows[2].from, Timestamp::from_millis(60 * 60_000));
    assert_eq!(windows.iter().map(|w| w.bars).sum::<u64>(), 100);
    assert_eq!(windows[0].bars, 27);
}

#[test]
fn no_bars_says_split_needs_a_file_of_bars() {
    let e = split(&[], 2, 1, Timeframe::M1, &crypto())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no one-minute bars"), "{e}");
    assert!(e.contains("--split needs a file of bars"), "{e}");
    assert!(!e.contains("1970"), "{e}");
}

/// On an exchange's session the decision candles start at the open (NSE's hourly candles at
/// 09:15, 10:15, ... IST): a window's edge inside a session falls on one of those, so no
/// window's first decision is made on a partial candle.
#[test]
fn inner_edges_fall_on_the_sessions_decision_candles() {
    let nifty = tradegraph_core::Instrument::nifty_50();
    // five sessions of minute bars, 09:15 to 15:29 IST (03:45 to 09:59 UTC)
    let monday: Timestamp = "2025-01-06T03:45:00Z".parse().unwrap();
    let times: Vec<Timestamp> = (0..5)
        .flat_map(|day| (0..375).map(move |m| monday.add_millis(day * 86_400_000 + m * 60_000)))
        .collect();
    let windows = split(&times, 2, 600, Timeframe::H1, &nifty.session).unwrap();
    let edge = windows[1].from;
    let (candle, _) =
        tradegraph_market::aggregate::bucket_start(&nifty.session, Timeframe::H1, edge).unwrap();
    assert_eq!(
        candle, edge,
        "window 2 starts on an hourly candle of the session"
    );
    assert_eq!(
        windows.iter().map(|w| w.bars).sum::<u64>(),
        times.len() as u64
    );
}

/// A recording of ticks holds no bars: its plan over a period does not say 0 bars (which would
/// cap a run of unpriced models at 0 calls), it says it cannot tell.
#[test]
fn a_recording_of_ticks_plans_no_bars() {
    use tradegraph_core::{Decimal, Tick};
    use tradegraph_market::MarketEvent;
    let dir = std::env::temp_dir().join(format!("tg-walk-ticks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ticks.jsonl");
    let lines: Vec<String> = (0..50)
        .map(|i| {
            let tick = Tick::new(
                Timestamp::from_millis(1_700_000_000_000 + i * 1_000),
                Decimal::from(100 + i),
                Decimal::ONE,
            );
            serde_json::to_string(&MarketEvent::Tick {
                symbol: Symbol::from("NIFTY50"),
                tick,
            })
            .unwrap()
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let period = Period {
        from: Some(Timestamp::from_millis(1_700_000_000_000)),
        to: None,
    };
    let scan = DataScan::bars(&path, &Symbol::from("NIFTY50"), period).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(scan.records, 50);
    assert_eq!(scan.run_bars(), None);
}

/// A window count beyond what the bars can fill, however large, is refused before any window
/// is made, naming how many they hold.
#[test]
fn more_windows_than_the_bars_can_fill_are_refused_however_many() {
    for n in [usize::MAX, usize::MAX / 16, 10_000_000_000, 11] {
        let e = split(&minutes(100), n, 10, Timeframe::M1, &crypto()).unwrap_err();
        assert!(
            matches!(
                e,
                WalkError::TooManyWindows {
                    bars: 100,
                    most: 10,
                    min: 10,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string().contains("100 bars hold at most 10 windows;"),
            "{e}"
        );
    }
    assert_eq!(
        split(&minutes(100), 5, 10, Timeframe::M1, &crypto())
            .unwrap()
            .len(),
        5
    );
}

/// On NSE a daily decision cycle is a 375-minute session, not 1,440 minutes: 40 sessions of
/// minute bars split in two hold 20 daily cycles a window (they were refused as holding fewer
/// than 14,400 bars), and the plan counts at least the cycles a backtest runs.
#[test]
fn nse_windows_and_plans_count_sessions_not_calendar_minutes() {
    let nifty = tradegraph_core::Instrument::nifty_50();
    let session = &nifty.session;
    let start = "2024-01-01T03:45:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .millis();
    let times: Vec<Timestamp> = (0..90 * 1440)
        .map(|i| Timestamp::from_millis(start + i * 60_000))
        .filter(|t| session.is_open(*t))
        .take(40 * 375)
        .collect();
    assert_eq!(times.len(), 40 * 375);
    let min = super::MIN_CYCLES_PER_WINDOW * bars_per_cycle(Timeframe::D1, session);
    let windows = split(&times, 2, min, Timeframe::D1, session).unwrap();
    assert_eq!(windows.iter().map(|w| w.bars).sum::<u64>(), 40 * 375);
    // Hourly: seven candles a session (09:15 .. 15:15, the last a quarter hour): 280 cycles;
    // the plan never counts fewer.
    let hourly = (times.len() as u64).div_ceil(bars_per_cycle(Timeframe::H1, session));
    assert!(hourly >= 280, "{hourly}");
    let daily = (times.len() as u64).div_ceil(bars_per_cycle(Timeframe::D1, session));
    assert_eq!(daily, 40);
}
