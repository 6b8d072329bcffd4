#![allow(clippy::unwrap_used)]

use super::*;
use crate::order::{
    ClientOrderId, Fill, Liquidity, Order, OrderId, OrderRequest, OrderSide, OrderStatus,
};
use crate::{CoreError, Currency, Decimal, Symbol, Timestamp};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn fill(side: OrderSide, qty: &str, price: &str, fee: &str) -> Fill {
    Fill {
        seq: 0,
        order_id: OrderId::new("P-1"),
        client_id: ClientOrderId::new("c1").unwrap(),
        symbol: Symbol::new("BTCUSDT"),
        side,
        quantity: d(qty),
        price: d(price),
        fee: d(fee),
        charges: Vec::new(),
        liquidity: Liquidity::Taker,
        ts: Timestamp::from_millis(1),
    }
}

#[test]
fn partial_closes_in_thirds_reconcile_exactly() {
    let btc = Symbol::new("BTCUSDT");
    let mut book = Portfolio::new(Currency::Usdt, d("1000"));
    book.apply_fill(&fill(OrderSide::Buy, "3", "100", "0.3"))
        .unwrap();
    book.apply_fill(&fill(OrderSide::Buy, "3", "101", "0.303"))
        .unwrap();
    let r1 = book
        .apply_fill(&fill(OrderSide::Sell, "1", "103.37", "0.1"))
        .unwrap();
    let r2 = book
        .apply_fill(&fill(OrderSide::Sell, "2", "99.99", "0.2"))
        .unwrap();
    book.mark(&btc, d("100.01"), Timestamp::from_millis(2))
        .unwrap();
    let a = book.snapshot(Timestamp::from_millis(2));
    assert_eq!(a.reconciliation_gap(), Decimal::ZERO, "{a:?}");
    assert_eq!(a.realized_pnl, r1 + r2);
    assert_eq!(
        book.position(&btc)
            .unwrap()
            .average_entry()
            .unwrap()
            .round_dp(6),
        d("100.5")
    );
    // Closing the rest leaves no basis behind, however the thirds were rounded.
    book.apply_fill(&fill(OrderSide::Sell, "3", "100", "0.3"))
        .unwrap();
    let p = book.position(&btc).unwrap();
    assert!(p.is_flat() && p.cost_basis.is_zero() && p.opened_at.is_none());
    let a = book.snapshot(Timestamp::from_millis(3));
    assert_eq!(a.reconciliation_gap(), Decimal::ZERO);
    assert_eq!(a.equity, a.cash);
    assert!(a.positions.is_empty());
    // Realized: 1×(103.37−100.5) + 2×(99.99−100.5) + 3×(100−100.5) = 2.87 − 1.02 − 1.5.
    assert_eq!(a.realized_pnl.round_dp(8), d("0.35"));
}

#[test]
fn a_fill_through_zero_flips_the_position() {
    let mut p = Position::flat(Symbol::new("BTCUSDT"));
    p.apply(&fill(OrderSide::Buy, "2", "100", "0")).unwrap();
    let realized = p.apply(&fill(OrderSide::Sell, "5", "110", "0")).unwrap();
    assert_eq!(realized, d("20"));
    assert_eq!(p.quantity, d("-3"));
    assert_eq!(p.average_entry(), Some(d("110")));
    p.mark(d("100"), Timestamp::EPOCH).unwrap();
    assert_eq!(p.unrealized_pnl(), d("30"), "short 3 from 110, now 100");
    let realized = p.apply(&fill(OrderSide::Buy, "3", "105", "0")).unwrap();
    assert_eq!(realized, d("15"));
    assert!(p.is_flat());
}

#[test]
fn bad_fills_change_nothing() {
    let mut book = Portfolio::new(Currency::Usdt, d("1000"));
    let before = book.clone();
    assert!(book
        .apply_fill(&fill(OrderSide::Buy, "0", "100", "0"))
        .is_err());
    assert!(book
        .apply_fill(&fill(OrderSide::Buy, "1", "-1", "0"))
        .is_err());
    assert!(book
        .apply_fill(&fill(OrderSide::Buy, "1", "100", "-1"))
        .is_err());
    let huge = fill(OrderSide::Buy, "79228162514264337593543950335", "2", "0");
    assert!(matches!(
        book.apply_fill(&huge),
        Err(CoreError::Overflow { .. })
    ));
    assert_eq!(book, before);
}

#[test]
fn the_day_starts_at_the_previous_marks() {
    let btc = Symbol::new("BTCUSDT");
    let mut book = Portfolio::new(Currency::Usdt, d("1000"));
    assert!(book.start_day(Timestamp::from_millis(0)));
    book.apply_fill(&fill(OrderSide::Buy, "1", "100", "0"))
        .unwrap();
    book.mark(&btc, d("90"), Timestamp::from_millis(5)).unwrap();
    assert!(!book.start_day(Timestamp::from_millis(0)), "same day");
    assert_eq!(book.snapshot(Timestamp::EPOCH).daily_pnl(), d("-10"));
    assert!(book.start_day(Timestamp::from_millis(86_400_000)));
    let a = book.snapshot(Timestamp::EPOCH);
    assert_eq!(
        (a.day_start_equity, a.daily_pnl()),
        (d("990"), Decimal::ZERO)
    );
}

#[test]
fn orders_refuse_overfills_and_strangers() {
    let id = ClientOrderId::new("c1").unwrap();
    let req = OrderRequest::market(id, Symbol::new("BTCUSDT"), OrderSide::Buy, d("1"));
    let mut order = Order::new(OrderId::new("P-1"), req, Timestamp::EPOCH);
    order
        .record_fill(&fill(OrderSide::Buy, "0.4", "100", "0.1"))
        .unwrap();
    assert_eq!(order.status, OrderStatus::PartiallyFilled);
    assert!(order
        .record_fill(&fill(OrderSide::Buy, "0.7", "100", "0"))
        .is_err());
    assert!(order
        .record_fill(&fill(OrderSide::Sell, "0.1", "100", "0"))
        .is_err());
    order
        .record_fill(&fill(OrderSide::Buy, "0.6", "110", "0.1"))
        .unwrap();
    assert_eq!(order.status, OrderStatus::Filled);
    assert_eq!(order.average_fill_price, Some(d("106")));
    assert_eq!(order.fees, d("0.2"));
    assert_eq!(order.remaining(), Decimal::ZERO);
    let err = order
        .transition(OrderStatus::Cancelled, Timestamp::EPOCH)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "order c1: cannot go from FILLED to CANCELLED"
    );
}
