//! The aggregation policy, case by case (`src/aggregate/policy.md`).
#![allow(clippy::unwrap_used)]

use rust_decimal::Decimal;
use tradegraph_core::{Candle, Instrument, Side, Symbol, Timeframe, Timestamp, Trade};
use tradegraph_market::aggregate::{
    AggregatorPolicy, CandleAggregator, EmptyMinutes, JoinedCandles, TickOutcome,
};
use tradegraph_market::MarketEvent;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn btc() -> CandleAggregator {
    let i = Instrument::btc_usdt();
    CandleAggregator::new(i.symbol, i.session)
}

fn nifty(policy: AggregatorPolicy) -> CandleAggregator {
    let i = Instrument::nifty_50();
    CandleAggregator::with_policy(i.symbol, i.session, policy)
}

fn of(closed: &[Candle], tf: Timeframe) -> Vec<Candle> {
    closed
        .iter()
        .filter(|c| c.timeframe == tf)
        .cloned()
        .collect()
}

#[test]
fn one_tick_stream_makes_all_five_timeframes() {
    let mut agg = btc();
    let mut out = Vec::new();
    // Two hours of one trade a minute, price = minute number.
    let start = t("2024-01-01T22:00:00Z");
    for m in 0..120 {
        let ts = start.add_millis(m * 60_000 + 1_000);
        let price = Decimal::from(100 + m);
        agg.on_price(ts, price, d("1"), None, &mut out);
    }
    agg.advance(t("2024-01-02T00:00:00Z"), &mut out);

    let minutes = of(&out, Timeframe::M1);
    assert_eq!(minutes.len(), 120);
    let fives = of(&out, Timeframe::M5);
    assert_eq!(fives.len(), 24);
    assert_eq!(fives[0].open_time, start);
    assert_eq!(
        (fives[0].open, fives[0].high, fives[0].low, fives[0].close),
        (d("100"), d("104"), d("100"), d("104"))
    );
    assert_eq!(fives[0].volume, d("5"));
    assert_eq!(fives[0].trades, 5);
    assert_eq!(of(&out, Timeframe::M15).len(), 8);
    let hours = of(&out, Timeframe::H1);
    assert_eq!(hours.len(), 2);
    assert_eq!(hours[1].open_time, t("2024-01-01T23:00:00Z"));
    assert_eq!((hours[1].open, hours[1].close), (d("160"), d("219")));
    let days = of(&out, Timeframe::D1);
    assert_eq!(days.len(), 1, "the UTC day ended at midnight");
    assert_eq!(days[0].open_time, t("2024-01-01T00:00:00Z"));
    assert_eq!(days[0].volume, d("120"));
    // Shortest first: a candle that closes with others comes before them.
    let last_minute = out
        .iter()
        .position(|c| c.timeframe == Timeframe::M1 && c.open_time == t("2024-01-01T23:59:00Z"))
        .unwrap();
    let day = out
        .iter()
        .position(|c| c.timeframe == Timeframe::D1)
        .unwrap();
    assert!(last_minute < day);
    assert_eq!(agg.stats().emitted, out.len() as u64);
}

#[test]
fn nse_candles_follow_the_session_and_the_daily_candle_is_the_session() {
    let mut agg = nifty(AggregatorPolicy {
        empty_minutes: EmptyMinutes::Skip,
        ..AggregatorPolicy::default()
    });
    let mut out = Vec::new();
    assert_eq!(
        agg.on_price(
            t("2025-01-06T09:14:30+05:30"),
            d("24000"),
            d("1"),
            None,
            &mut out
        ),
        TickOutcome::OutOfSession,
        "pre-open"
    );
    agg.on_price(
        t("2025-01-06T09:15:00+05:30"),
        d("24010"),
        d("2"),
        None,
        &mut out,
    );
    agg.on_price(
        t("2025-01-06T10:14:59+05:30"),
        d("24020"),
        d("1"),
        None,
        &mut out,
    );
    agg.on_price(
        t("2025-01-06T10:15:00+05:30"),
        d("24030"),
        d("1"),
        None,
        &mut out,
    );
    agg.on_price(
        t("2025-01-06T15:29:59+05:30"),
        d("23990"),
        d("4"),
        None,
        &mut out,
    );
    assert_eq!(
        agg.on_price(
            t("2025-01-06T15:30:00+05:30"),
            d("1"),
            d("1"),
            None,
            &mut out
        ),
        TickOutcome::OutOfSession,
        "the close is exclusive"
    );
    agg.advance(t("2025-01-06T15:30:00+05:30"), &mut out);

    let hours = of(&out, Timeframe::H1);
    let starts: Vec<_> = hours.iter().map(|c| c.open_time).collect();
    assert_eq!(
        starts,
        [
            t("2025-01-06T09:15:00+05:30"),
            t("2025-01-06T10:15:00+05:30"),
            t("2025-01-06T15:15:00+05:30")
        ]
    );
    assert_eq!(hours[0].close, d("24020"));
    let days = of(&out, Timeframe::D1);
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].open_time, t("2025-01-06T09:15:00+05:30"));
    assert_eq!(
        (days[0].open, days[0].high, days[0].low, days[0].close),
        (d("24010"), d("24030"), d("23990"), d("23990"))
    );
    assert_eq!(days[0].volume, d("8"));
    assert_eq!(agg.stats().out_of_session, 2);
}

/// After the close, Kite keeps sending packets (depth, the closing price) stamped past it:
/// the first of them shows the session's last candles over, as any later tick does, so they
/// close then rather than when the stream goes quiet.
#[test]
fn a_tick_after_the_close_closes_the_last_candles_of_the_day() {
    let mut agg = nifty(AggregatorPolicy {
        empty_minutes: EmptyMinutes::Skip,
        ..AggregatorPolicy::default()
    });
    let mut out = Vec::new();
    agg.on_price(
        t("2025-01-06T15:29:59+05:30"),
        d("23990"),
        d("4"),
        None,
        &mut out,
    );
    assert!(out.is_empty());
    assert_eq!(
        agg.on_price(
            t("2025-01-06T15:30:00.500+05:30"),
            d("23991"),
            d("0"),
            None,
            &mut out
        ),
        TickOutcome::OutOfSession
    );
    for (tf, start) in [
        (Timeframe::M1, "2025-01-06T15:29:00+05:30"),
        (Timeframe::M5, "2025-01-06T15:25:00+05:30"),
        (Timeframe::M15, "2025-01-06T15:15:00+05:30"),
        (Timeframe::H1, "2025-01-06T15:15:00+05:30"),
        (Timeframe::D1, "2025-01-06T15:29:00+05:30"),
    ] {
        let closed = of(&out, tf);
        assert_eq!(closed.len(), 1, "{tf:?}: {out:?}");
        if tf != Timeframe::D1 {
            assert_eq!(closed[0].open_time, t(start), "{tf:?}");
        }
        assert_eq!(
            closed[0].close,
            d("23990"),
            "{tf:?}: the tick after the close is not in it"
        );
    }
    // More packets after the close change nothing.
    let before = out.len();
    agg.on_price(
        t("2025-01-06T15:31:00+05:30"),
        d("23992"),
        d("0"),
        None,
        &mut out,
    );
    assert_eq!(out.len(), before);
}

#[test]
fn ticks_out_of_order_within_the_minute_are_folded_by_time() {
    let mut agg = btc();
    let mut out = Vec::new();
    agg.on_price(t("2024-01-01T10:00:30Z"), d("101"), d("1"), None, &mut out);
    agg.on_price(t("2024-01-01T10:00:10Z"), d("100"), d("1"), None, &mut out);
    agg.on_price(t("2024-01-01T10:00:50Z"), d("103"), d("1"), None, &mut out);
    agg.on_price(t("2024-01-01T10:00:40Z"), d("99"), d("1"), None, &mut out);
    let c = agg.current(Timeframe::M1).unwrap();
    assert_eq!(
        (c.open, c.high, c.low, c.close, c.trades),
        (d("100"), d("103"), d("99"), d("103"), 4)
    );
}

#[test]
fn late_ticks_are_dropped_and_emitted_candles_never_change() {
    let mut agg = btc();
    let mut out = Vec::new();
    agg.on_price(t("2024-01-01T10:00:10Z"), d("100"), d("1"), None, &mut out);
    agg.on_price(t("2024-01-01T10:01:10Z"), d("101"), d("1"), None, &mut out);
    let emitted = out.clone();
    assert_eq!(
        agg.on_price(t("2024-01-01T10:00:59Z"), d("500"), d("9"), None, &mut out),
        TickOutcome::Late
    );
    assert_eq!(out, emitted);
    agg.advance(t("2024-01-01T10:02:00Z"), &mut out);
    assert_eq!(
        agg.on_price(t("2024-01-01T10:01:59Z"), d("500"), d("9"), None, &mut out),
        TickOutcome::Late,
        "after advance closed the minute"
    );
    assert_eq!(agg.stats().late, 2);
    assert!(of(&out, Timeframe::M1).iter().all(|c| c.high < d("500")));
}

#[test]
fn repeated_trade_ids_are_duplicates_even_when_late() {
    let mut agg = btc();
    let mut out = Vec::new();
    let sym = Symbol::new("BTCUSDT");
    let trade = |id: u64, ts: &str, price: &str| MarketEvent::Trade {
        symbol: sym.clone(),
        trade: Trade {
            ts: t(ts),
            price: d(price),
            quantity: d("0.5"),
            aggressor: Side::Buy,
            trade_id: id,
            first_trade_id: None,
            last_trade_id: None,
        },
    };
    let outcomes: Vec<_> = [
        trade(7, "2024-01-01T10:00:01Z", "100"),
        trade(8, "2024-01-01T10:00:02Z", "101"),
        trade(8, "2024-01-01T10:00:02Z", "101"),
        trade(9, "2024-01-01T10:01:00Z", "102"),
        trade(7, "2024-01-01T10:00:01Z", "100"),
    ]
    .iter()
    .map(|e| agg.on_event(e, &mut out).unwrap())
    .collect();
    use TickOutcome::*;
    assert_eq!(
        outcomes,
        [Accepted, Accepted, Duplicate, Accepted, Duplicate]
    );
    assert_eq!(of(&out, Timeframe::M1)[0].volume, d("1.0"));
    assert_eq!(agg.stats().duplicates, 2);
}

#[test]
fn quiet_minutes_are_filled_flat_or_skipped() {
    for (policy, expected) in [(EmptyMinutes::Fill, 4), (EmptyMinutes::Skip, 2)] {
        let i = Instrument::btc_usdt();
        let mut agg = CandleAggregator::with_policy(
            i.symbol,
            i.session,
            AggregatorPolicy {
                empty_minutes: policy,
                ..AggregatorPolicy::default()
            },
        );
        let mut out = Vec::new();
        agg.on_price(t("2024-01-01T10:00:10Z"), d("100"), d("1"), None, &mut out);
        agg.on_price(t("2024-01-01T10:03:10Z"), d("104"), d("1"), None, &mut out);
        agg.advance(t("2024-01-01T10:04:00Z"), &mut out);
        let minutes = of(&out, Timeframe::M1);
        assert_eq!(minutes.len(), expected, "{policy:?}");
        if policy == EmptyMinutes::Fill {
            let flat = &minutes[1];
            assert_eq!(flat.open_time, t("2024-01-01T10:01:00Z"));
            assert_eq!(
                (flat.open, flat.high, flat.low, flat.close),
                (d("100"), d("100"), d("100"), d("100"))
            );
            assert_eq!((flat.volume, flat.trades), (Decimal::ZERO, 0));
            assert_eq!(agg.stats().filled_minutes, 2);
        }
    }
}

/// The feed lost its connection: what happened until it is back is unknown, not quiet. No
/// flat minute is made up across the hole; the minutes after it are filled as usual.
#[test]
fn nothing_is_filled_across_a_hole_in_the_data() {
    let mut agg = btc();
    let mut out = Vec::new();
    agg.on_price(
        t("2024-01-01T10:00:10Z"),
        d("100"),
        d("1"),
        Some(1),
        &mut out,
    );
    agg.data_gap();
    agg.on_price(
        t("2024-01-01T10:05:10Z"),
        d("104"),
        d("1"),
        Some(9),
        &mut out,
    );
    agg.advance(t("2024-01-01T10:08:00Z"), &mut out);
    let minutes: Vec<(Timestamp, u64)> = of(&out, Timeframe::M1)
        .iter()
        .map(|c| (c.open_time, c.trades))
        .collect();
    assert_eq!(
        minutes,
        [
            (t("2024-01-01T10:00:00Z"), 1),
            (t("2024-01-01T10:05:00Z"), 1),
            (t("2024-01-01T10:06:00Z"), 0),
            (t("2024-01-01T10:07:00Z"), 0),
        ],
        "the hole 10:01-10:04 is not filled; the quiet after 10:05 is"
    );
    assert_eq!(agg.stats().filled_minutes, 2);
}

#[test]
fn nothing_is_filled_across_the_night() {
    let mut agg = nifty(AggregatorPolicy::default());
    let mut out = Vec::new();
    agg.on_price(
        t("2025-01-06T15:28:10+05:30"),
        d("24000"),
        d("1"),
        None,
        &mut out,
    );
    agg.on_price(
        t("2025-01-07T09:16:10+05:30"),
        d("24100"),
        d("1"),
        None,
        &mut out,
    );
    agg.advance(t("2025-01-07T09:17:00+05:30"), &mut out);
    let minutes = of(&out, Timeframe::M1);
    let times: Vec<_> = minutes.iter().map(|c| c.open_time).collect();
    assert_eq!(
        times,
        [
            t("2025-01-06T15:28:00+05:30"),
            t("2025-01-06T15:29:00+05:30"),
            t("2025-01-07T09:16:00+05:30")
        ],
        "the rest of the day is filled; the night and the next day's quiet open are not"
    );
    let days = of(&out, Timeframe::D1);
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].open_time, t("2025-01-06T09:15:00+05:30"));
}

#[test]
fn minute_candles_build_the_higher_timeframes() {
    let mut agg = btc();
    let mut out = Vec::new();
    let start = t("2024-01-01T10:00:00Z");
    for m in 0..5i64 {
        let mut c = Candle::opening(
            start.add_millis(m * 60_000),
            Timeframe::M1,
            Decimal::from(10 + m),
            d("2"),
        );
        c.high = Decimal::from(20 + m);
        c.low = Decimal::from(5 + m);
        c.close = Decimal::from(11 + m);
        assert_eq!(agg.on_minute_candle(&c, &mut out), TickOutcome::Accepted);
    }
    let five = of(&out, Timeframe::M5);
    assert_eq!(five.len(), 1, "the fifth minute completes the 5m candle");
    assert_eq!(
        (
            five[0].open,
            five[0].high,
            five[0].low,
            five[0].close,
            five[0].volume
        ),
        (d("10"), d("24"), d("5"), d("15"), d("10"))
    );
    let stale = Candle::opening(start, Timeframe::M1, d("1"), d("1"));
    assert_eq!(agg.on_minute_candle(&stale, &mut out), TickOutcome::Late);
}

/// Binance sends the final kline of a minute just after it ends. When no trade of the next
/// minute came first (a thin market), the kline is for the minute still open: it closes it,
/// as the exchange's complete candle, instead of being dropped as late (the minute would wait
/// for the next trade, or the next kline, up to a minute).
#[test]
fn the_exchanges_final_candle_of_the_open_minute_closes_it() {
    let mut agg = btc();
    let mut out = Vec::new();
    agg.on_price(
        t("2024-01-01T10:00:05Z"),
        d("100"),
        d("1"),
        Some(1),
        &mut out,
    );
    agg.on_price(
        t("2024-01-01T10:00:40Z"),
        d("101"),
        d("1"),
        Some(2),
        &mut out,
    );
    assert!(out.is_empty());
    let mut kline = Candle::opening(t("2024-01-01T10:00:00Z"), Timeframe::M1, d("99"), d("5"));
    kline.high = d("102");
    kline.low = d("98");
    kline.close = d("101");
    kline.trades = 7;
    assert_eq!(
        agg.on_minute_candle(&kline, &mut out),
        TickOutcome::Accepted
    );
    let minutes = of(&out, Timeframe::M1);
    assert_eq!(
        minutes,
        vec![kline.clone()],
        "the exchange's candle, closed"
    );
    // Its trades sent late are late; the next minute goes on as usual.
    assert_eq!(
        agg.on_price(
            t("2024-01-01T10:00:59Z"),
            d("97"),
            d("1"),
            Some(3),
            &mut out
        ),
        TickOutcome::Late
    );
    assert_eq!(
        agg.on_price(
            t("2024-01-01T10:01:02Z"),
            d("103"),
            d("1"),
            Some(4),
            &mut out
        ),
        TickOutcome::Accepted
    );
    assert_eq!(
        agg.on_minute_candle(&kline, &mut out),
        TickOutcome::Late,
        "sent again: late"
    );
}

#[test]
fn current_merges_the_open_minute_into_the_open_higher_candles() {
    let mut agg = btc();
    let mut out = Vec::new();
    agg.on_price(t("2024-01-01T10:00:10Z"), d("100"), d("1"), None, &mut out);
    agg.on_price(t("2024-01-01T10:01:10Z"), d("120"), d("1"), None, &mut out);
    agg.on_price(t("2024-01-01T10:01:20Z"), d("90"), d("1"), None, &mut out);
    let five = agg.current(Timeframe::M5).unwrap();
    assert_eq!(five.open_time, t("2024-01-01T10:00:00Z"));
    assert_eq!(
        (five.open, five.high, five.low, five.close, five.trades),
        (d("100"), d("120"), d("90"), d("90"), 3)
    );
    let day = agg.current(Timeframe::D1).unwrap();
    assert_eq!(day.open_time, t("2024-01-01T00:00:00Z"));
}

#[tokio::test]
async fn a_replayed_minute_file_gains_every_timeframe_as_events() {
    use futures::StreamExt;
    use tradegraph_market::aggregate::with_candles;
    use tradegraph_market::feed::replay::{Replay, ReplayConfig};
    let nifty = Instrument::nifty_50();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/data/nifty50-1m.csv"
    );
    let feed = Replay::new(ReplayConfig::new(path, nifty.symbol.clone()))
        .unwrap()
        .stream();
    let events: Vec<MarketEvent> = with_candles(
        feed,
        nifty.symbol.clone(),
        nifty.session.clone(),
        AggregatorPolicy::default(),
    )
    .collect()
    .await;
    let count = |tf: Timeframe| {
        events
            .iter()
            .filter(|e| matches!(e, MarketEvent::Candle { candle, closed: true, .. } if candle.timeframe == tf))
            .count()
    };
    // Five sessions of 375 minutes: each minute once, 75 five-minute, 25 fifteen-minute and 7
    // hourly candles (the last one cut at 15:30) a day, and one daily candle per session.
    assert_eq!(
        [
            Timeframe::M1,
            Timeframe::M5,
            Timeframe::M15,
            Timeframe::H1,
            Timeframe::D1
        ]
        .map(count),
        [1875, 375, 125, 35, 5]
    );
}

/// The closed candles of `events` as `(timeframe, open time, trades)`.
fn closed_candles(events: &[MarketEvent]) -> Vec<(Timeframe, String, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Candle {
                candle,
                closed: true,
                ..
            } => Some((
                candle.timeframe,
                candle.open_time.to_string(),
                candle.trades,
            )),
            _ => None,
        })
        .collect()
}

async fn through_with_candles(feed: Vec<MarketEvent>) -> Vec<MarketEvent> {
    use futures::StreamExt;
    let btc = Instrument::btc_usdt();
    tradegraph_market::aggregate::with_candles(
        futures::stream::iter(feed).boxed(),
        btc.symbol.clone(),
        btc.session.clone(),
        AggregatorPolicy::default(),
    )
    .collect()
    .await
}

fn trade_at(ts: &str, id: u64) -> MarketEvent {
    MarketEvent::Trade {
        symbol: "BTCUSDT".into(),
        trade: tradegraph_core::Trade::new(t(ts), d("100"), d("1"), tradegraph_core::Side::Buy, id),
    }
}

/// A disconnection in a feed given to `with_candles` is a hole: the minutes it covers are not
/// filled with flat candles (the quiet minutes of a connected feed are).
#[tokio::test]
async fn with_candles_fills_no_minute_across_a_disconnection() {
    let events = through_with_candles(vec![
        trade_at("2024-01-01T10:00:10Z", 1),
        MarketEvent::Notice {
            feed: "binance".into(),
            ts: t("2024-01-01T10:00:30Z"),
            notice: tradegraph_market::FeedNotice::Disconnected {
                reason: "closed by the server".into(),
            },
        },
        trade_at("2024-01-01T10:05:10Z", 2),
    ])
    .await;
    let minutes: Vec<_> = closed_candles(&events)
        .into_iter()
        .filter(|(tf, _, _)| *tf == Timeframe::M1)
        .collect();
    assert_eq!(
        minutes,
        [
            (Timeframe::M1, "2024-01-01T10:00:00Z".to_owned(), 1),
            (Timeframe::M1, "2024-01-01T10:05:00Z".to_owned(), 1),
        ]
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, MarketEvent::Notice { .. })),
        "passed through"
    );
}

/// An exchange's closed kline for a minute the trades already closed comes out once: as the
/// trades built it.
#[tokio::test]
async fn with_candles_yields_a_minute_once_when_its_kline_comes_late() {
    let mut kline = tradegraph_core::Candle::opening(
        t("2024-01-01T10:00:00Z"),
        Timeframe::M1,
        d("100"),
        d("5"),
    );
    kline.trades = 9;
    let events = through_with_candles(vec![
        trade_at("2024-01-01T10:00:10Z", 1),
        trade_at("2024-01-01T10:01:01Z", 2),
        MarketEvent::Candle {
            symbol: "BTCUSDT".into(),
            candle: kline,
            closed: true,
        },
    ])
    .await;
    let ten: Vec<_> = closed_candles(&events)
        .into_iter()
        .filter(|(tf, at, _)| *tf == Timeframe::M1 && at == "2024-01-01T10:00:00Z")
        .collect();
    assert_eq!(ten, [(Timeframe::M1, "2024-01-01T10:00:00Z".to_owned(), 1)]);
}

/// Started at 14:07 (a bot restarted mid-hour, nothing stored): with `JoinedCandles::Drop` the
/// 14:05 five-minute candle, the 14:00 quarter-hour and hour and the day in progress are not
/// emitted (each would be its last minutes only: a 6 % fall from 14:00 to 14:06 showed as a
/// 1 % bar to the breaker); the candles that begin after the start are.
#[test]
fn candles_joined_in_progress_are_dropped_when_asked() {
    let i = Instrument::btc_usdt();
    let policy = AggregatorPolicy {
        joined: JoinedCandles::Drop,
        ..AggregatorPolicy::default()
    };
    let mut agg = CandleAggregator::with_policy(i.symbol, i.session, policy);
    let mut out = Vec::new();
    let start = t("2024-01-01T14:07:00Z");
    for m in 0..60 {
        let ts = start.add_millis(m * 60_000 + 1_000);
        agg.on_price(ts, Decimal::from(100 + m), d("1"), None, &mut out);
    }
    agg.advance(t("2024-01-01T15:07:00Z"), &mut out);
    assert_eq!(of(&out, Timeframe::M1).len(), 60, "every minute seen");
    let fives = of(&out, Timeframe::M5);
    assert_eq!(fives[0].open_time, t("2024-01-01T14:10:00Z"), "{fives:#?}");
    let quarters = of(&out, Timeframe::M15);
    assert_eq!(quarters[0].open_time, t("2024-01-01T14:15:00Z"));
    let hours = of(&out, Timeframe::H1);
    assert!(
        hours.is_empty(),
        "the 14:00 hour began before the data: {hours:#?}"
    );
    assert!(of(&out, Timeframe::D1).is_empty());
    // 14:05, 14:00 (M15), 14:00 (H1); the day is still open.
    assert_eq!(agg.stats().joined_dropped, 3);
    // The same with the default policy: they come out, built from what was seen.
    let i = Instrument::btc_usdt();
    let mut agg = CandleAggregator::new(i.symbol, i.session);
    let mut out = Vec::new();
    for m in 0..60 {
        let ts = start.add_millis(m * 60_000 + 1_000);
        agg.on_price(ts, Decimal::from(100 + m), d("1"), None, &mut out);
    }
    agg.advance(t("2024-01-01T15:07:00Z"), &mut out);
    assert_eq!(
        of(&out, Timeframe::H1)[0].open_time,
        t("2024-01-01T14:00:00Z")
    );
    assert_eq!(agg.stats().joined_dropped, 0);
}
