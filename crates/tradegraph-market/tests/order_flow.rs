//! Order flow: aggressor volume, CVD, imbalances and session VWAP, for Binance trades and Kite
//! ticks.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rust_decimal::Decimal;
use tradegraph_core::{Book, BookLevel, Instrument, Side, Symbol, Tick, Timestamp, Trade};
use tradegraph_market::flow::OrderFlowTracker;
use tradegraph_market::MarketEvent;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn trade(ts: &str, price: &str, qty: &str, aggressor: Side, id: u64) -> Trade {
    Trade {
        ts: t(ts),
        price: d(price),
        quantity: d(qty),
        aggressor,
        trade_id: id,
        first_trade_id: None,
        last_trade_id: None,
    }
}

fn kite_tick(ts: &str, price: &str, volume: &str, quote: Option<(&str, &str)>) -> Tick {
    let mut tick = Tick::new(t(ts), d(price), d(volume));
    if let Some((bid, ask)) = quote {
        tick.bid = Some(d(bid));
        tick.ask = Some(d(ask));
    }
    tick
}

#[test]
fn binance_trades_give_aggressor_volume_cvd_and_exact_vwap() {
    let mut flow = OrderFlowTracker::new(Instrument::btc_usdt().session);
    let trades = [
        trade("2024-01-01T23:59:00Z", "42000.10", "0.5", Side::Buy, 1),
        trade("2024-01-01T23:59:10Z", "42000.20", "0.25", Side::Sell, 2),
        trade("2024-01-01T23:59:20Z", "41999.90", "0.25", Side::Sell, 3),
    ];
    for tr in &trades {
        assert!(flow.on_trade(tr));
    }
    let f = flow.session();
    assert_eq!((f.buy_volume, f.sell_volume), (d("0.5"), d("0.5")));
    assert_eq!(f.cumulative_delta, Decimal::ZERO);
    // (42000.10*0.5 + 42000.20*0.25 + 41999.90*0.25) / 1
    assert_eq!(f.session_vwap, Some(d("42000.075")));

    // Midnight UTC starts a new session: delta and VWAP start again.
    flow.on_trade(&trade("2024-01-02T00:00:01Z", "42100", "2", Side::Buy, 4));
    let f = flow.session();
    assert_eq!(f.cumulative_delta, d("2"));
    assert_eq!(f.session_vwap, Some(d("42100")));
    assert_eq!(flow.stats().sessions, 2);
}

#[test]
fn windows_split_the_session_without_losing_volume() {
    let mut flow = OrderFlowTracker::new(Instrument::btc_usdt().session);
    flow.on_trade(&trade("2024-01-01T10:00:00Z", "100", "3", Side::Buy, 1));
    let first = flow.take_window();
    flow.on_trade(&trade("2024-01-01T10:01:00Z", "100", "1", Side::Sell, 2));
    flow.on_trade(&trade("2024-01-01T10:01:30Z", "100", "4", Side::Sell, 3));
    let second = flow.take_window();
    assert_eq!((first.buy_volume, first.sell_volume), (d("3"), d("0")));
    assert_eq!((second.buy_volume, second.sell_volume), (d("0"), d("5")));
    assert_eq!(second.delta(), d("-5"));
    assert_eq!(
        second.cumulative_delta,
        d("-2"),
        "the delta is the session's"
    );
    let empty = flow.take_window();
    assert_eq!((empty.buy_volume, empty.sell_volume), (d("0"), d("0")));
}

#[test]
fn kite_ticks_are_classified_by_quote_then_tick_rule() {
    let mut flow = OrderFlowTracker::new(Instrument::bank_nifty().session);
    let ticks = [
        // At the ask: bought.
        kite_tick(
            "2025-01-06T09:15:01+05:30",
            "51000.20",
            "30",
            Some(("51000.00", "51000.20")),
        ),
        // At the bid: sold.
        kite_tick(
            "2025-01-06T09:15:02+05:30",
            "51000.00",
            "60",
            Some(("51000.00", "51000.20")),
        ),
        // No quote, up-tick: bought.
        kite_tick("2025-01-06T09:15:03+05:30", "51000.10", "15", None),
        // No quote, unchanged: same as the last.
        kite_tick("2025-01-06T09:15:04+05:30", "51000.10", "15", None),
    ];
    for tick in &ticks {
        assert!(flow.on_tick(tick));
    }
    let f = flow.session();
    assert_eq!((f.buy_volume, f.sell_volume), (d("60"), d("60")));
    assert_eq!(f.cumulative_delta, Decimal::ZERO);
    assert_eq!(flow.stats().unclassified_volume, Decimal::ZERO);
}

/// A trade that takes the whole ask is a buy though the packet's own quote (the book after
/// it) has the bid at its price: the quote before the trade decides (it was taken for a sell).
#[test]
fn kite_ticks_are_classified_by_the_quote_before_their_trades() {
    let mut flow = OrderFlowTracker::new(Instrument::bank_nifty().session);
    flow.on_tick(&kite_tick(
        "2025-01-06T10:00:00+05:30",
        "100.00",
        "0",
        Some(("100.00", "100.05")),
    ));
    // The whole 100.05 ask taken, a buy's rest now bid at 100.05.
    flow.on_tick(&kite_tick(
        "2025-01-06T10:00:01+05:30",
        "100.05",
        "10",
        Some(("100.05", "100.10")),
    ));
    let f = flow.session();
    assert_eq!((f.buy_volume, f.sell_volume), (d("10"), d("0")));
}

#[test]
fn kite_totals_give_the_resting_imbalance_and_index_ticks_carry_no_volume() {
    let mut flow = OrderFlowTracker::new(Instrument::nifty_50().session);
    let mut tick = kite_tick("2025-01-06T10:00:00+05:30", "24000", "0", None);
    tick.total_buy_quantity = Some(d("300"));
    tick.total_sell_quantity = Some(d("100"));
    flow.on_tick(&tick);
    let f = flow.session();
    assert_eq!(f.resting_imbalance, Some(0.5));
    assert_eq!(f.session_vwap, None, "an index has no traded volume");
}

#[test]
fn ticks_outside_the_session_are_ignored_and_counted() {
    let mut flow = OrderFlowTracker::new(Instrument::bank_nifty().session);
    assert!(!flow.on_tick(&kite_tick("2025-01-06T09:10:00+05:30", "51000", "30", None)));
    assert!(!flow.on_tick(&kite_tick("2025-01-04T10:00:00+05:30", "51000", "30", None)));
    assert!(flow.on_tick(&kite_tick("2025-01-06T09:15:00+05:30", "51000", "30", None)));
    assert_eq!(flow.stats().out_of_session, 2);
    assert_eq!(
        flow.stats().unclassified_volume,
        d("30"),
        "the first tick has nothing to compare with"
    );
    assert_eq!(flow.session().session_vwap, Some(d("51000")));
}

#[test]
fn books_set_the_book_imbalance() {
    let mut flow = OrderFlowTracker::new(Instrument::btc_usdt().session);
    let level = |p: &str, q: &str| BookLevel {
        price: d(p),
        quantity: d(q),
        orders: None,
    };
    let book = Book {
        ts: t("2024-01-01T10:00:00Z"),
        bids: vec![level("99", "3"), level("98", "1")],
        asks: vec![level("101", "1")],
        update_id: Some(7),
    };
    flow.on_event(&MarketEvent::Book {
        symbol: Symbol::new("BTCUSDT"),
        book,
    });
    assert_eq!(flow.session().book_imbalance, Some(0.6));
}

#[test]
fn absurd_quantities_do_not_panic() {
    let mut flow = OrderFlowTracker::new(Instrument::btc_usdt().session);
    let huge = Decimal::MAX;
    for id in 0..3 {
        flow.on_trade(&Trade {
            ts: t("2024-01-01T10:00:00Z"),
            price: huge,
            quantity: huge,
            aggressor: Side::Buy,
            trade_id: id,
            first_trade_id: None,
            last_trade_id: None,
        });
    }
    assert_eq!(flow.session().buy_volume, Decimal::MAX, "saturates");
    assert_eq!(flow.stats().overflowed, 3);
}

proptest! {
    #[test]
    fn delta_and_vwap_agree_with_the_trades(
        trades in prop::collection::vec((1u32..1_000_000, 1u32..100_000, any::<bool>()), 1..200)
    ) {
        let mut flow = OrderFlowTracker::new(Instrument::btc_usdt().session);
        let start = t("2024-01-01T10:00:00Z");
        let (mut buy, mut sell, mut notional, mut volume) =
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        let mut windows = Decimal::ZERO;
        for (i, (cents, milli, is_buy)) in trades.iter().enumerate() {
            let price = Decimal::new(i64::from(*cents), 2);
            let qty = Decimal::new(i64::from(*milli), 3);
            let side = if *is_buy { Side::Buy } else { Side::Sell };
            flow.on_trade(&Trade { ts: start.add_millis(i as i64), price, quantity: qty, aggressor: side, trade_id: i as u64, first_trade_id: None, last_trade_id: None });
            if *is_buy { buy += qty } else { sell += qty }
            notional += price * qty;
            volume += qty;
            if i % 7 == 0 {
                windows += flow.take_window().delta();
            }
        }
        windows += flow.take_window().delta();
        let f = flow.session();
        prop_assert_eq!(f.cumulative_delta, buy - sell);
        prop_assert_eq!(windows, buy - sell, "windows add up to the session");
        prop_assert_eq!(f.session_vwap, Some(notional / volume));
        let vwap = f.session_vwap.unwrap();
        let lo = trades.iter().map(|t| Decimal::new(i64::from(t.0), 2)).min().unwrap();
        let hi = trades.iter().map(|t| Decimal::new(i64::from(t.0), 2)).max().unwrap();
        prop_assert!(lo <= vwap && vwap <= hi);
    }
}

#[test]
fn absurd_kite_totals_do_not_panic() {
    let mut flow = OrderFlowTracker::new(Instrument::nifty_50().session);
    for (buy, sell) in [
        (Decimal::MAX, d("-1")),
        (-Decimal::MAX, d("1")),
        (Decimal::MAX, Decimal::MAX),
    ] {
        let mut tick = kite_tick("2025-01-06T10:00:00+05:30", "24000", "0", None);
        tick.total_buy_quantity = Some(buy);
        tick.total_sell_quantity = Some(sell);
        flow.on_tick(&tick);
        assert_eq!(
            flow.session().resting_imbalance,
            None,
            "{buy} against {sell}"
        );
    }
}
