//! `advance` moves the aggregator's time on for good: a candle it emits is never re-opened and
//! emitted a second time by data that comes later (found by the `market_events` property test
//! of issue 12, "beyond the list").
#![allow(clippy::unwrap_used)]

use tradegraph_core::{Candle, Decimal, Instrument, Timeframe, Timestamp};
use tradegraph_market::aggregate::{AggregatorPolicy, CandleAggregator, EmptyMinutes, TickOutcome};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn aggregator(empty_minutes: EmptyMinutes) -> CandleAggregator {
    let btc = Instrument::btc_usdt();
    CandleAggregator::with_policy(
        btc.symbol,
        btc.session,
        AggregatorPolicy {
            empty_minutes,
            ..AggregatorPolicy::default()
        },
    )
}

/// Each bucket of each timeframe once.
fn assert_each_once(candles: &[Candle]) {
    for tf in Timeframe::ALL {
        let opens: Vec<Timestamp> = candles
            .iter()
            .filter(|c| c.timeframe == tf)
            .map(|c| c.open_time)
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        let twice: Vec<String> = opens
            .iter()
            .filter(|at| !seen.insert(**at))
            .map(ToString::to_string)
            .collect();
        assert!(twice.is_empty(), "{tf} candles emitted twice: {twice:?}");
    }
}

/// Without filling, a tick older than an `advance` that emitted its 5-minute candle is late;
/// it used to open a minute inside that candle and have it emitted again.
#[test]
fn a_tick_before_an_advance_does_not_reopen_an_emitted_candle() {
    let mut agg = aggregator(EmptyMinutes::Skip);
    let mut out = Vec::new();
    let price = Decimal::from(42_000);
    agg.on_price(
        t("2024-01-01T10:00:10Z"),
        price,
        Decimal::ONE,
        None,
        &mut out,
    );
    agg.advance(t("2024-01-01T10:06:00Z"), &mut out);
    assert!(out.iter().any(|c| c.timeframe == Timeframe::M5));
    let outcome = agg.on_price(
        t("2024-01-01T10:03:00Z"),
        price,
        Decimal::ONE,
        None,
        &mut out,
    );
    assert_eq!(outcome, TickOutcome::Late);
    agg.advance(t("2024-01-01T10:20:00Z"), &mut out);
    assert_each_once(&out);
}

/// At most a week of quiet minutes is filled; the rest of a longer silence is a gap. An
/// `advance` after such a silence used to emit the candles of the last filled minute, and the
/// next data resumed filling inside them and emitted them again.
#[test]
fn a_silence_longer_than_the_fill_limit_emits_each_candle_once() {
    let mut agg = aggregator(EmptyMinutes::Fill);
    let mut out = Vec::new();
    let price = Decimal::from(42_000);
    agg.on_price(
        t("2024-01-01T00:00:10Z"),
        price,
        Decimal::ONE,
        Some(1),
        &mut out,
    );
    agg.advance(t("2024-03-01T00:00:00Z"), &mut out);
    agg.on_price(
        t("2024-03-01T00:00:30Z"),
        price,
        Decimal::ONE,
        Some(2),
        &mut out,
    );
    agg.advance(t("2024-03-01T00:02:00Z"), &mut out);
    assert_each_once(&out);
    let filled = out.iter().filter(|c| c.timeframe == Timeframe::M1).count();
    assert_eq!(
        filled,
        1 + 7 * 24 * 60 + 2,
        "the first minute, a week filled, then the last one and the quiet one after it"
    );
}

/// A silence longer than the fill limit ended by a trade, then by the exchange's final candle
/// of that trade's minute: the final candle replaces the minute the trade opened, and used to
/// fill the next week of quiet minutes from where the first fill stopped, emitting the
/// candles of that fill's last minute again (found by the `market_events` property test).
#[test]
fn a_final_candle_after_a_long_silence_does_not_fill_it_again() {
    let mut agg = aggregator(EmptyMinutes::Fill);
    let mut out = Vec::new();
    let price = Decimal::from(42_000);
    let minute = |at: &str| Candle::opening(t(at), Timeframe::M1, price, Decimal::ONE);
    agg.on_minute_candle(&minute("2024-01-01T00:00:00Z"), &mut out);
    agg.on_price(
        t("2024-03-01T04:04:00Z"),
        price,
        Decimal::ONE,
        None,
        &mut out,
    );
    agg.on_minute_candle(&minute("2024-03-01T04:04:00Z"), &mut out);
    assert_each_once(&out);
    let minutes = out.iter().filter(|c| c.timeframe == Timeframe::M1).count();
    assert_eq!(
        minutes,
        1 + 7 * 24 * 60 + 1,
        "the first minute, a week filled, then the final candle"
    );
}

/// `(timeframe, open time)` of each candle, in the order emitted.
fn emitted(out: &[Candle]) -> Vec<(Timeframe, String)> {
    out.iter()
        .map(|c| (c.timeframe, c.open_time.to_string()))
        .collect()
}

/// A later price shows the longer candles it is past over: they come out then, after the
/// minute that closes, before anything of the new minute (without filling quiet minutes, or
/// after a hole in the data).
#[test]
fn a_price_past_a_longer_candle_emits_it_at_once() {
    for (policy, gap) in [(EmptyMinutes::Skip, false), (EmptyMinutes::Fill, true)] {
        let mut agg = aggregator(policy);
        let mut out = Vec::new();
        let price = Decimal::from(42_000);
        agg.on_price(
            t("2024-01-01T10:00:10Z"),
            price,
            Decimal::ONE,
            None,
            &mut out,
        );
        if gap {
            agg.data_gap();
        }
        agg.on_price(
            t("2024-01-01T10:07:10Z"),
            price,
            Decimal::ONE,
            None,
            &mut out,
        );
        assert_eq!(
            emitted(&out),
            [
                (Timeframe::M1, "2024-01-01T10:00:00Z".to_owned()),
                (Timeframe::M5, "2024-01-01T10:00:00Z".to_owned()),
            ],
            "{policy:?}, gap {gap}"
        );
        let open = agg.current(Timeframe::M5).unwrap();
        assert_eq!(
            open.open_time,
            t("2024-01-01T10:05:00Z"),
            "the 10:05 candle is open"
        );
    }
}

/// A hole in the data holds until a price comes: a timer's `advance` that had nothing to
/// fill does not end it, and the minutes of the outage are never filled with flat candles.
#[test]
fn a_hole_in_the_data_holds_across_advances_until_a_price() {
    let mut agg = aggregator(EmptyMinutes::Fill);
    let mut out = Vec::new();
    let price = Decimal::from(42_000);
    agg.on_price(
        t("2024-01-01T10:00:10Z"),
        price,
        Decimal::ONE,
        None,
        &mut out,
    );
    agg.advance(t("2024-01-01T10:01:05Z"), &mut out);
    agg.data_gap();
    agg.advance(t("2024-01-01T10:01:30Z"), &mut out);
    agg.advance(t("2024-01-01T10:04:00Z"), &mut out);
    assert!(
        out.iter().all(|c| c.trades > 0),
        "no flat minute inside the outage: {:?}",
        emitted(&out)
    );
    // the next price ends the hole: quiet minutes after it are filled again
    agg.on_price(
        t("2024-01-01T10:04:20Z"),
        price,
        Decimal::ONE,
        None,
        &mut out,
    );
    agg.advance(t("2024-01-01T10:07:00Z"), &mut out);
    let flat: Vec<String> = out
        .iter()
        .filter(|c| c.timeframe == Timeframe::M1 && c.trades == 0)
        .map(|c| c.open_time.to_string())
        .collect();
    assert_eq!(flat, ["2024-01-01T10:05:00Z", "2024-01-01T10:06:00Z"]);
}
