//! The aggregator against a reference model of the documented policy, on shuffled, duplicated,
//! late and out-of-session ticks.
//!
//! The model is deliberately naive: it decides each tick's fate from the policy's words (the
//! open minute is the latest minute accepted so far; ids must rise), then groups the accepted
//! ticks by bucket. The aggregator must emit exactly those candles, each once, in time order.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tradegraph_core::{Candle, Instrument, Timeframe, Timestamp, TradingSession};
use tradegraph_market::aggregate::{
    bucket_start, AggregatorPolicy, CandleAggregator, EmptyMinutes, TickOutcome,
};

const MINUTE: i64 = 60_000;

#[derive(Debug, Clone)]
struct Tick {
    ts: Timestamp,
    price: Decimal,
    volume: Decimal,
    id: Option<u64>,
}

/// Ticks in time order with rising ids, then delivered in a perturbed order with re-sends.
/// Times fall on a `step_ms` grid, so several ticks often share a time (the tie rules).
fn arrivals(
    start: Timestamp,
    span_minutes: i64,
    step_ms: i64,
    with_ids: bool,
) -> impl Strategy<Value = Vec<Tick>> {
    let tick = (
        (0..span_minutes * MINUTE / step_ms).prop_map(move |k| k * step_ms),
        1u32..100_000,
        0u32..1_000,
    );
    (
        prop::collection::vec(tick, 1..200),
        prop::collection::vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            0..40,
        ),
        prop::collection::vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            0..20,
        ),
    )
        .prop_map(move |(mut raw, swaps, resends)| {
            raw.sort_by_key(|r| r.0);
            let mut ticks: Vec<Tick> = raw
                .into_iter()
                .enumerate()
                .map(|(i, (offset, cents, vol))| Tick {
                    ts: start.add_millis(offset),
                    price: Decimal::new(i64::from(cents), 2),
                    volume: Decimal::new(i64::from(vol), 3),
                    id: with_ids.then_some(1_000 + i as u64),
                })
                .collect();
            for (a, b) in swaps {
                let (a, b) = (a.index(ticks.len()), b.index(ticks.len()));
                ticks.swap(a, b);
            }
            for (from, to) in resends {
                let copy = ticks[from.index(ticks.len())].clone();
                let at = to.index(ticks.len() + 1);
                ticks.insert(at, copy);
            }
            ticks
        })
}

fn minute_of(t: Timestamp) -> Timestamp {
    Timestamp::from_millis(t.millis().div_euclid(MINUTE) * MINUTE)
}

/// The policy, in words turned into code: what happens to each tick, in arrival order.
fn model_outcomes(session: &TradingSession, ticks: &[Tick]) -> Vec<TickOutcome> {
    let mut last_id = None;
    let mut open_minute: Option<Timestamp> = None;
    // The latest time an out-of-session tick showed over (once a minute was accepted).
    let mut shown_over: Option<Timestamp> = None;
    ticks
        .iter()
        .map(|tick| {
            if let (Some(id), Some(last)) = (tick.id, last_id) {
                if id <= last {
                    return TickOutcome::Duplicate;
                }
            }
            let minute = minute_of(tick.ts);
            if open_minute.is_some_and(|open| minute < open)
                || shown_over.is_some_and(|over| tick.ts < over)
            {
                return TickOutcome::Late;
            }
            if !session.is_open(tick.ts) {
                // After the close (or before the next open), it shows the time up to it over,
                // as a later tick in the session does.
                if open_minute.is_some() {
                    shown_over = Some(shown_over.map_or(tick.ts, |over| over.max(tick.ts)));
                }
                return TickOutcome::OutOfSession;
            }
            open_minute = Some(minute);
            if tick.id.is_some() {
                last_id = tick.id;
            }
            TickOutcome::Accepted
        })
        .collect()
}

/// Accepted ticks grouped into 1-minute candles: open is the earliest tick (ties: first to
/// arrive), close the latest (ties: last to arrive).
fn model_minutes(accepted: &[&Tick]) -> BTreeMap<Timestamp, Candle> {
    let mut by_minute: BTreeMap<Timestamp, Vec<&Tick>> = BTreeMap::new();
    for tick in accepted {
        by_minute.entry(minute_of(tick.ts)).or_default().push(tick);
    }
    by_minute
        .into_iter()
        .map(|(minute, ticks)| {
            let first = ticks.iter().min_by_key(|t| t.ts).unwrap();
            let last = ticks.iter().max_by_key(|t| t.ts).unwrap();
            let candle = Candle {
                open_time: minute,
                timeframe: Timeframe::M1,
                open: first.price,
                high: ticks.iter().map(|t| t.price).max().unwrap(),
                low: ticks.iter().map(|t| t.price).min().unwrap(),
                close: last.price,
                volume: ticks.iter().map(|t| t.volume).sum(),
                trades: ticks.len() as u64,
                quote_volume: None,
                taker_buy_volume: None,
                taker_buy_quote_volume: None,
            };
            (minute, candle)
        })
        .collect()
}

/// With [`EmptyMinutes::Fill`]: flat minutes between traded ones, within a session day.
fn fill(session: &TradingSession, minutes: &mut BTreeMap<Timestamp, Candle>, until: Timestamp) {
    let traded: Vec<Candle> = minutes.values().cloned().collect();
    for (i, candle) in traded.iter().enumerate() {
        let next = traded.get(i + 1).map_or(until, |c| c.open_time);
        let mut at = candle.open_time.add_millis(MINUTE);
        while at < next && session.is_open(at) {
            let mut flat = Candle::opening(at, Timeframe::M1, candle.close, Decimal::ZERO);
            flat.trades = 0;
            minutes.insert(at, flat);
            at = at.add_millis(MINUTE);
        }
    }
}

fn model_higher(
    session: &TradingSession,
    minutes: &BTreeMap<Timestamp, Candle>,
    tf: Timeframe,
    end: Timestamp,
) -> Vec<Candle> {
    let mut out: BTreeMap<Timestamp, Candle> = BTreeMap::new();
    for m in minutes.values() {
        let (start, _) = bucket_start(session, tf, m.open_time).unwrap();
        out.entry(start)
            .and_modify(|c| c.absorb(m))
            .or_insert_with(|| Candle {
                open_time: start,
                timeframe: tf,
                ..m.clone()
            });
    }
    // Only candles whose time is over by `end` are emitted.
    out.into_values()
        .filter(|c| bucket_start(session, tf, c.open_time).unwrap().1 <= end)
        .collect()
}

fn check(instrument: Instrument, empty: EmptyMinutes, ticks: Vec<Tick>, end: Timestamp) {
    let session = instrument.session.clone();
    let mut agg = CandleAggregator::with_policy(
        instrument.symbol,
        instrument.session,
        AggregatorPolicy {
            empty_minutes: empty,
            ..AggregatorPolicy::default()
        },
    );
    let mut out = Vec::new();
    let outcomes: Vec<TickOutcome> = ticks
        .iter()
        .map(|t| agg.on_price(t.ts, t.price, t.volume, t.id, &mut out))
        .collect();
    assert_eq!(
        outcomes,
        model_outcomes(&session, &ticks),
        "each tick's fate"
    );
    agg.advance(end, &mut out);

    let accepted: Vec<&Tick> = ticks
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == TickOutcome::Accepted)
        .map(|(t, _)| t)
        .collect();
    let mut minutes = model_minutes(&accepted);
    if empty == EmptyMinutes::Fill {
        fill(&session, &mut minutes, minute_of(end));
    }
    for tf in Timeframe::ALL {
        let emitted: Vec<Candle> = out.iter().filter(|c| c.timeframe == tf).cloned().collect();
        let expected = if tf == Timeframe::M1 {
            minutes.values().cloned().collect()
        } else {
            model_higher(&session, &minutes, tf, end)
        };
        assert_eq!(emitted, expected, "{tf:?} candles");
        for c in &emitted {
            assert!(c.is_consistent(), "OHLC invariant broken: {c:?}");
            assert_eq!(
                bucket_start(&session, tf, c.open_time).unwrap().0,
                c.open_time
            );
        }
    }
    let stats = agg.stats();
    assert_eq!(
        stats.accepted + stats.late + stats.duplicates + stats.out_of_session,
        ticks.len() as u64
    );
    assert_eq!(stats.emitted, out.len() as u64);
    let volume: Decimal = accepted.iter().map(|t| t.volume).sum();
    let emitted_volume: Decimal = out
        .iter()
        .filter(|c| c.timeframe == Timeframe::M1)
        .map(|c| c.volume)
        .sum();
    assert_eq!(volume, emitted_volume, "no accepted volume is lost");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn crypto_candles_follow_the_policy(
        ticks in arrivals("2024-01-01T22:30:00Z".parse().unwrap(), 150, 1_000, true),
        fill in any::<bool>(),
    ) {
        let empty = if fill { EmptyMinutes::Fill } else { EmptyMinutes::Skip };
        // Past midnight, so the daily candle closes too.
        check(Instrument::btc_usdt(), empty, ticks, "2024-01-02T02:00:00Z".parse().unwrap());
    }

    #[test]
    fn ticks_without_ids_follow_the_policy(
        ticks in arrivals("2024-01-01T10:00:00Z".parse().unwrap(), 30, 5_000, false),
        fill in any::<bool>(),
    ) {
        let empty = if fill { EmptyMinutes::Fill } else { EmptyMinutes::Skip };
        check(Instrument::btc_usdt(), empty, ticks, "2024-01-01T11:00:00Z".parse().unwrap());
    }

    #[test]
    fn nse_candles_follow_the_policy_across_two_sessions(
        // From Monday 14:30 IST to Tuesday 10:30 IST: the close, the night, the pre-open, the open.
        ticks in arrivals("2025-01-06T14:30:00+05:30".parse().unwrap(), 20 * 60, 1_000, true),
        fill in any::<bool>(),
    ) {
        let empty = if fill { EmptyMinutes::Fill } else { EmptyMinutes::Skip };
        check(Instrument::bank_nifty(), empty, ticks, "2025-01-07T15:30:00+05:30".parse().unwrap());
    }
}
