use super::returns::{self, Running};
use super::*;
use rust_decimal::Decimal;
use tradegraph_core::order::{ClientOrderId, Liquidity, OrderId};
use tradegraph_core::Instrument;

const DAY: i64 = 86_400_000;

fn curve(step: i64, equity: &[i64]) -> Vec<EquityPoint> {
    equity
        .iter()
        .enumerate()
        .map(|(i, e)| EquityPoint {
            ts: Timestamp::from_millis(step * i as i64),
            equity: Decimal::from(*e),
            drawdown_pct: 0.0,
        })
        .collect()
}

fn daily(equity: &[i64]) -> Metrics {
    let points = curve(DAY, equity);
    let year = Annualization::of_curve(&Instrument::btc_usdt().session, &points);
    compute(&points, &[], &[], year)
}

fn trade(pnl: i64) -> TradeOutcome {
    let mut t = tradegraph_agents::learning::TradeOutcome {
        trade_id: format!("t{pnl}"),
        instrument: Instrument::btc_usdt().symbol,
        side: tradegraph_core::Side::Buy,
        opened_at: Timestamp::from_millis(0),
        closed_at: Timestamp::from_millis(1),
        entry_price: Decimal::ONE,
        exit_price: Decimal::ONE,
        pnl: Decimal::from(pnl),
        quantity: Decimal::ONE,
        fees: Decimal::ZERO,
        return_pct: 0.0,
        signals: Default::default(),
        situation: Default::default(),
        prompts: Default::default(),
    };
    t.pnl = Decimal::from(pnl);
    t
}

fn fill(seq: u64, ts: i64, side: OrderSide, quantity: i64, price: i64, fee: &str) -> Fill {
    Fill {
        seq,
        order_id: OrderId::new(format!("o{seq}")),
        client_id: ClientOrderId::new(format!("c{seq}")).unwrap(),
        symbol: Instrument::btc_usdt().symbol,
        side,
        quantity: Decimal::from(quantity),
        price: Decimal::from(price),
        fee: fee.parse().unwrap(),
        charges: Vec::new(),
        liquidity: Liquidity::Taker,
        ts: Timestamp::from_millis(ts),
    }
}

use tradegraph_core::order::OrderSide;

#[test]
fn an_empty_or_one_point_curve_has_no_figures_and_no_nan_in_json() {
    for equity in [&[][..], &[100][..]] {
        let m = daily(equity);
        assert_eq!(m.total_return, None);
        assert_eq!(m.annual_return, None);
        assert_eq!(m.annual_volatility, None);
        assert_eq!(m.sharpe, None);
        assert_eq!(m.sortino, None);
        assert_eq!(m.calmar, None);
        assert_eq!(m.max_drawdown, None);
        assert_eq!(m.max_drawdown_bars, 0);
        assert_eq!(m.suspicious(), None);
        assert_eq!(
            m.annualization.periods_per_year, 525_600.0,
            "one minute by default"
        );
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
        let back: Metrics = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }
    assert_eq!(daily(&[100]).start_equity, Some(Decimal::from(100)));
}

#[test]
fn a_flat_curve_has_no_volatility_and_no_ratios() {
    let m = daily(&[100, 100, 100, 100]);
    assert_eq!(m.total_return, Some(0.0));
    assert_eq!(m.annual_return, Some(0.0));
    assert_eq!(m.annual_volatility, Some(0.0));
    assert_eq!(m.sharpe, None, "no dispersion: empyrical gives NaN");
    assert_eq!(m.sortino, None, "no downside: empyrical gives NaN");
    assert_eq!(m.downside_risk, Some(0.0));
    assert_eq!(m.max_drawdown, Some(0.0));
    assert_eq!(m.calmar, None, "no drawdown");
    assert!(!m.underwater_at_end);
}

#[test]
fn a_steady_rise_has_a_sharpe_but_no_sortino_or_calmar() {
    let m = daily(&[100, 101, 103, 104, 107]);
    assert!(m.sharpe.unwrap() > 0.0);
    assert_eq!(m.sortino, None, "no losing period: empyrical gives inf");
    assert_eq!(m.calmar, None);
    assert_eq!(m.max_drawdown, Some(0.0));
    assert_eq!((m.max_drawdown_bars, m.max_drawdown_millis), (0, 0));
}

#[test]
fn the_drawdown_lasts_from_its_peak_to_its_recovery_or_the_end() {
    // peak 120 at 1, recovered at 4 (3 bars); then peak 130 at 5, below to the end (4 bars)
    let m = daily(&[100, 120, 90, 110, 120, 130, 129, 100, 125, 126]);
    assert_eq!(m.max_drawdown, Some(-0.25));
    assert_eq!(m.max_drawdown_bars, 4);
    assert_eq!(m.max_drawdown_millis, 4 * DAY);
    assert!(m.underwater_at_end);
    let recovered = daily(&[100, 120, 90, 110, 119, 121]);
    assert_eq!(recovered.max_drawdown_bars, 4);
    assert!(!recovered.underwater_at_end);
    assert_eq!(recovered.max_drawdown, Some(-0.25));
}

#[test]
fn a_wiped_out_account_gives_no_return_past_zero() {
    let m = daily(&[100, 50, 0, 0]);
    assert_eq!(m.returns, 2, "no return from zero equity");
    assert_eq!(m.total_return, Some(-1.0));
    assert_eq!(m.max_drawdown, Some(-1.0));
    let json = serde_json::to_string(&m).unwrap();
    assert!(!json.contains("NaN"), "{json}");
}

#[test]
fn the_trade_figures_come_from_the_closed_trades_and_the_fills() {
    let points = curve(60_000, &[1_000, 1_000, 1_010, 1_020, 1_000, 1_000]);
    let trades = [trade(30), trade(-10), trade(50), trade(0), trade(-20)];
    let fills = [
        fill(1, 60_000, OrderSide::Buy, 2, 100, "0.2"),
        fill(2, 3 * 60_000, OrderSide::Sell, 2, 110, "0.22"),
    ];
    let year = Annualization::new(&Instrument::btc_usdt().session, 60_000);
    let m = compute(&points, &trades, &fills, year);
    assert_eq!((m.trades, m.wins, m.losses), (5, 2, 2));
    assert_eq!(m.win_rate, Some(0.4));
    assert!((m.profit_factor.unwrap() - 80.0 / 30.0).abs() < 1e-12);
    assert_eq!(m.expectancy, Some(Decimal::from(10)));
    assert_eq!(m.average_win, Some(Decimal::from(40)));
    assert_eq!(m.average_loss, Some(Decimal::from(-15)));
    assert_eq!(m.fees_paid, "0.42".parse::<Decimal>().unwrap());
    assert_eq!(m.traded_notional, Decimal::from(420));
    // points at 120 000 and 180 000 hold the position (bought at the open at 60 000, sold at
    // the open at 180 000: after the points stamped then, the bars' closes)
    assert_eq!(m.exposure, Some(2.0 / 6.0));
    let mean = (1_000.0 * 4.0 + 1_010.0 + 1_020.0) / 6.0;
    assert!((m.turnover.unwrap() - 420.0 / mean).abs() < 1e-12);
}

/// An equity point is a bar's close, taken before the fills stamped at that time (the next
/// bar's open): a position bought at the next open and stopped inside the bar after is held
/// at one point only.
#[test]
fn exposure_counts_the_points_a_position_was_held_at() {
    let points = curve(60_000, &[1_000, 1_000, 1_010, 1_000, 1_000, 1_000]);
    let fills = [
        // decided at the close of the bar ending at 60 000, filled at the next open
        fill(1, 60_000, OrderSide::Buy, 2, 100, "0.2"),
        // a stop inside the bar ending at 180 000
        fill(2, 179_999, OrderSide::Sell, 2, 99, "0.2"),
    ];
    let year = Annualization::new(&Instrument::btc_usdt().session, 60_000);
    let m = compute(&points, &[trade(-2)], &fills, year);
    assert_eq!(m.exposure, Some(1.0 / 6.0));
}

#[test]
fn no_losing_trade_has_no_profit_factor_and_no_trades_no_rates() {
    let points = curve(60_000, &[1_000, 1_001]);
    let year = Annualization::new(&Instrument::btc_usdt().session, 60_000);
    let m = compute(&points, &[trade(5), trade(7)], &[], year);
    assert_eq!(m.profit_factor, None);
    assert_eq!(m.average_loss, None);
    assert_eq!(m.win_rate, Some(1.0));
    let none = compute(&points, &[], &[], year);
    assert_eq!(
        (none.win_rate, none.expectancy, none.average_win),
        (None, None, None)
    );
    assert_eq!(none.exposure, Some(0.0));
    assert_eq!(none.turnover, Some(0.0));
}

#[test]
fn annualization_follows_the_interval_and_the_session() {
    let crypto = Instrument::btc_usdt().session;
    let nse = Instrument::nifty_50().session;
    assert_eq!(
        Annualization::new(&crypto, 3_600_000).periods_per_year,
        8_760.0
    );
    assert_eq!(Annualization::new(&crypto, DAY).periods_per_year, 365.0);
    assert_eq!(
        Annualization::new(&nse, 15 * 60_000).periods_per_year,
        252.0 * 25.0
    );
    assert_eq!(Annualization::new(&nse, DAY).periods_per_year, 252.0);
    assert_eq!(Annualization::new(&nse, 0).interval_millis, 60_000);
    // The median gap: a night between two sessions does not change it.
    let mut points = curve(60_000, &[1, 2, 3, 4, 5]);
    points[4].ts = Timestamp::from_millis(DAY);
    assert_eq!(
        Annualization::of_curve(&nse, &points).interval_millis,
        60_000
    );
    assert_eq!(
        Annualization::new(&nse, 60_000).describe(),
        "94500 periods a year (1-minute bars, 252 trading days of 375 minutes)"
    );
    let json = serde_json::to_value(Annualization::new(&crypto, 60_000)).unwrap();
    assert_eq!(
        json["basis"],
        serde_json::json!({"kind": "around_the_clock", "days": 365})
    );
}

#[test]
fn a_high_sharpe_over_a_short_span_is_suspicious_and_over_a_long_one_not() {
    let rising: Vec<i64> = (0..60).map(|i| 1_000 + 3 * i + (i % 3)).collect();
    let m = daily(&rising);
    assert!(m.sharpe.unwrap() > 3.0, "{:?}", m.sharpe);
    let warning = m.suspicious().expect("two months of a Sharpe above 3");
    assert!(
        warning.contains("Sharpe ratio of") && warning.contains("59.0 days"),
        "{warning}"
    );
    let long: Vec<i64> = (0..200).map(|i| 1_000 + 3 * i + (i % 3)).collect();
    let m = daily(&long);
    assert!(m.sharpe.unwrap() > 3.0);
    assert_eq!(m.suspicious(), None, "over six months");
    let calm = daily(&[100, 101, 100, 102, 99, 101]);
    assert!(calm.sharpe.unwrap() < 3.0);
    assert_eq!(calm.suspicious(), None);
}

#[test]
fn the_running_figures_equal_the_whole_curves() {
    let points: Vec<i64> = (0..500)
        .map(|i| 10_000 + (i * 7_919 % 113) - 56 + i / 10)
        .collect();
    let curve = curve(60_000, &points);
    let mut running = Running::default();
    for p in &points {
        running.push(*p as f64);
    }
    let r = returns::simple_returns(&curve);
    let (a, b) = (
        running.sharpe(525_600.0).unwrap(),
        returns::sharpe(&r, 525_600.0).unwrap(),
    );
    assert!((a - b).abs() <= 1e-9 * b.abs(), "{a} vs {b}");
    let dd = returns::drawdown(&curve).max.unwrap();
    assert!((running.worst_drawdown() + dd).abs() < 1e-15);
    let mut flat = Running::default();
    for _ in 0..5 {
        flat.push(100.0);
    }
    assert_eq!(flat.sharpe(525_600.0), None);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn finite_or_none(x: Option<f64>) -> bool {
        x.is_none_or(f64::is_finite)
    }

    proptest! {
        /// Any curve (zero, negative, huge or tiny equity, repeated or unordered timestamps)
        /// gives metrics without a panic, a NaN or an infinity, and they survive JSON.
        #[test]
        fn any_curve_gives_finite_metrics(
            raw in proptest::collection::vec((any::<i64>(), 0u32..=12, -5i64..100_000_000), 0..60),
            nse in any::<bool>(),
        ) {
            let mut ts = 0i64;
            let points: Vec<EquityPoint> = raw
                .iter()
                .map(|(mantissa, scale, step)| {
                    ts = ts.saturating_add(*step);
                    EquityPoint {
                        ts: Timestamp::from_millis(ts),
                        equity: Decimal::new(*mantissa, *scale),
                        drawdown_pct: 0.0,
                    }
                })
                .collect();
            let session = if nse { Instrument::nifty_50().session } else { Instrument::btc_usdt().session };
            let year = Annualization::of_curve(&session, &points);
            prop_assert!(year.periods_per_year.is_finite() && year.periods_per_year > 0.0);
            let m = compute(&points, &[], &[], year);
            for x in [m.total_return, m.annual_return, m.annual_volatility, m.sharpe, m.sortino,
                      m.downside_risk, m.calmar, m.max_drawdown, m.exposure, m.turnover] {
                prop_assert!(finite_or_none(x), "{m:?}");
            }
            prop_assert!(m.max_drawdown.is_none_or(|d| d <= 0.0));
            let json = serde_json::to_string(&m).unwrap();
            prop_assert!(!json.contains("NaN") && !json.contains("inf"), "{}", json);
            let back: Metrics = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.sharpe.is_some(), m.sharpe.is_some());
            prop_assert_eq!(back.max_drawdown_bars, m.max_drawdown_bars);
            prop_assert_eq!(back.annualization.basis, m.annualization.basis);
        }
    }
}

#[test]
fn a_session_across_midnight_has_its_real_length() {
    use chrono::NaiveTime;
    use tradegraph_core::instrument::{ExchangeSession, TradingSession};
    // 18:00 to 03:00 the next morning: nine hours, 540 one-minute bars a day.
    let night = TradingSession::Exchange(ExchangeSession {
        open: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
        close: NaiveTime::from_hms_opt(3, 0, 0).unwrap(),
        ..ExchangeSession::nse()
    });
    let year = Annualization::new(&night, 60_000);
    assert_eq!(year.periods_per_year, 252.0 * 540.0);
    assert_eq!(
        year.basis,
        Basis::Session {
            days: 252,
            minutes: 540
        }
    );
}

#[test]
fn absurd_timestamps_never_overflow_the_drawdown_durations() {
    let mut points = curve(60_000, &[100, 90, 80]);
    points[0].ts = Timestamp::from_millis(i64::MIN);
    points[1].ts = Timestamp::from_millis(0);
    points[2].ts = Timestamp::from_millis(i64::MAX);
    let dd = returns::drawdown(&points);
    assert_eq!(dd.longest_bars, 2);
    assert_eq!(dd.longest_millis, i64::MAX);
    let year = Annualization::new(&Instrument::btc_usdt().session, 60_000);
    let m = compute(&points, &[], &[], year);
    assert_eq!(m.max_drawdown_millis, i64::MAX);
    assert_eq!(m.span_millis(), i64::MAX);
}

#[test]
fn equal_non_zero_returns_have_no_sharpe_by_choice() {
    // 1% a day, every day: the two-pass std of equal floats can come out a hair above zero,
    // where empyrical would give a huge finite Sharpe; ours is None (metrics.md says so).
    let equity: Vec<i64> = (0..50)
        .map(|i| (1_000_000.0 * 1.01f64.powi(i)) as i64)
        .collect();
    let r = vec![0.01; 50];
    assert_eq!(returns::sharpe(&r, 365.0), None);
    assert_eq!(returns::sortino(&r, 365.0), None);
    assert!(daily(&equity).total_return.unwrap() > 0.0);
}

#[test]
fn fees_by_kind_add_up_the_fills_charges() {
    use tradegraph_core::order::{Charge, ChargeKind};
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    let mut buy = fill(1, 60_000, OrderSide::Buy, 30, 52_000, "90.33");
    buy.charges = vec![
        Charge::new(ChargeKind::Brokerage, d("20")),
        Charge::new(ChargeKind::StampDuty, d("31.20")),
        Charge::new(ChargeKind::Gst, d("39.13")),
    ];
    let mut sell = fill(2, 120_000, OrderSide::Sell, 30, 52_200, "820");
    sell.charges = vec![
        Charge::new(ChargeKind::Brokerage, d("20")),
        Charge::new(ChargeKind::Stt, d("783")),
        Charge::new(ChargeKind::Gst, d("17")),
    ];
    let points = curve(60_000, &[1_000_000, 1_000_000, 1_005_000]);
    let year = Annualization::new(&Instrument::bank_nifty().session, 60_000);
    let m = compute(&points, &[], &[buy, sell], year);
    assert_eq!(
        m.fees_by_kind,
        vec![
            (ChargeKind::Brokerage, d("40")),
            (ChargeKind::Stt, d("783")),
            (ChargeKind::StampDuty, d("31.20")),
            (ChargeKind::Gst, d("56.13")),
        ]
    );
    let sum: Decimal = m.fees_by_kind.iter().map(|(_, v)| *v).sum();
    assert_eq!(sum, m.fees_paid);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(
        json["fees_by_kind"][0],
        serde_json::json!(["brokerage", "40"])
    );
}
