#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use tradegraph_core::order::{Leg, Liquidity, OrderId, OrderRequest, OrderStatus};
use tradegraph_core::{Currency, Timestamp};

fn id(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn venue() -> VenueView {
    VenueView {
        open_orders: Vec::new(),
        positions: Vec::new(),
        account: Account::flat(Currency::Usdt, dec("1000"), Timestamp::EPOCH),
        fills: Vec::new(),
    }
}

fn bot() -> BotView {
    BotView {
        symbol: "BTCUSDT".into(),
        ours: [id("tg-ours")].into_iter().collect(),
        untold: HashSet::new(),
        ledger_position: Decimal::ZERO,
        ledger_cursor: 0,
        readable: u64::MAX,
        step: dec("0.00001"),
        price: Some(dec("40000")),
    }
}

fn limit(client: &str, symbol: &str, side: OrderSide, qty: &str, price: &str) -> Order {
    let request = OrderRequest::limit(id(client), symbol.into(), side, dec(qty), dec(price));
    let mut order = Order::new(
        OrderId::new(format!("v-{client}")),
        request,
        Timestamp::EPOCH,
    );
    order.status = OrderStatus::Open;
    order
}

fn fill(seq: u64, client: &str, side: OrderSide, qty: &str) -> Fill {
    Fill {
        seq,
        order_id: OrderId::new(format!("v-{client}")),
        client_id: id(client),
        symbol: "BTCUSDT".into(),
        side,
        quantity: dec(qty),
        price: dec("40000"),
        fee: Decimal::ZERO,
        charges: Vec::new(),
        liquidity: Liquidity::Taker,
        ts: Timestamp::EPOCH,
    }
}

fn position(qty: &str) -> Position {
    let mut p = Position::flat("BTCUSDT".into());
    p.quantity = dec(qty);
    p
}

#[test]
fn agreeing_views_have_no_discrepancy() {
    let mut v = venue();
    v.open_orders
        .push(limit("tg-ours", "BTCUSDT", OrderSide::Buy, "0.01", "30000"));
    let mut exit = limit("tg-exit", "BTCUSDT", OrderSide::Sell, "0.01", "50000");
    exit.parent = Some(id("tg-ours"));
    v.open_orders.push(exit);
    v.positions.push(position("0.01"));
    v.fills.push(fill(1, "tg-ours", OrderSide::Buy, "0.01"));
    let mut b = bot();
    b.ledger_position = dec("0.01");
    b.ledger_cursor = 1;
    assert_eq!(compare(&v, &b), Vec::new());
}

#[test]
fn an_order_the_bot_did_not_send_is_unknown_and_other_symbols_are_ignored() {
    let mut v = venue();
    v.open_orders.push(limit(
        "manual-1",
        "BTCUSDT",
        OrderSide::Sell,
        "0.01",
        "50000",
    ));
    v.open_orders
        .push(limit("manual-2", "ETHUSDT", OrderSide::Sell, "1", "5000"));
    // An exit attached to an order the bot does not know is not the bot's either.
    let mut exit = limit("manual-exit", "BTCUSDT", OrderSide::Sell, "0.01", "50000");
    exit.parent = Some(id("manual-0"));
    v.open_orders.push(exit);
    let found = compare(&v, &bot());
    let ids: Vec<_> = found
        .iter()
        .map(|d| match d {
            Discrepancy::UnknownOrder { client_id, .. } => client_id.as_str().to_owned(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, ["manual-1", "manual-exit"]);
    assert_eq!(found[0].kind(), "unknown_order");
}

#[test]
fn a_position_one_step_or_more_apart_differs_and_less_than_a_step_does_not() {
    let mut v = venue();
    v.positions.push(position("0.010005"));
    let mut b = bot();
    b.ledger_position = dec("0.01");
    assert!(compare(&v, &b).is_empty(), "half a step apart is rounding");
    // One lot apart (a Kite lot of 15 the bot does not know about, or one Binance step).
    v.positions[0].quantity = dec("0.01001");
    assert_eq!(
        compare(&v, &b),
        vec![Discrepancy::PositionMismatch {
            broker: dec("0.01001"),
            ledger: dec("0.01"),
            step: dec("0.00001"),
        }],
        "one step apart is a difference"
    );
    let mut lots = bot();
    lots.step = dec("15");
    v.positions[0].quantity = dec("15");
    lots.ledger_position = Decimal::ZERO;
    assert_eq!(compare(&v, &lots)[0].kind(), "position_mismatch", "one lot");
    // Without a step, any difference counts and equality does not.
    lots.step = Decimal::ZERO;
    lots.ledger_position = dec("15");
    assert!(compare(&v, &lots).is_empty());
    lots.ledger_position = dec("14.9");
    assert_eq!(compare(&v, &lots)[0].kind(), "position_mismatch");
    v.positions[0].quantity = dec("0.02");
    assert_eq!(
        compare(&v, &b),
        vec![Discrepancy::PositionMismatch {
            broker: dec("0.02"),
            ledger: dec("0.01"),
            step: dec("0.00001"),
        }]
    );
    // A short the ledger does not have at all.
    v.positions[0].quantity = dec("-0.5");
    b.ledger_position = Decimal::ZERO;
    assert_eq!(compare(&v, &b)[0].kind(), "position_mismatch");
}

#[test]
fn a_fill_of_an_unknown_order_and_a_fill_the_ledger_missed_are_found() {
    let mut v = venue();
    v.fills.push(fill(3, "manual-1", OrderSide::Sell, "0.5"));
    v.fills.push(fill(4, "tg-ours", OrderSide::Buy, "0.01"));
    let mut b = bot();
    b.ledger_cursor = 3;
    let found = compare(&v, &b);
    assert_eq!(
        found,
        vec![
            Discrepancy::UnknownFill {
                seq: 3,
                client_id: id("manual-1"),
                quantity: dec("-0.5"),
            },
            Discrepancy::MissedFill {
                seq: 4,
                client_id: id("tg-ours"),
                ledger_cursor: 3,
            },
        ]
    );
    // A fill the ledger may not read yet (beyond the broker's saved state) is not missed.
    b.readable = 3;
    assert_eq!(compare(&v, &b).len(), 1);
    // A fill whose origin cannot be told is skipped.
    b.untold.insert(id("manual-1"));
    assert!(compare(&v, &b).is_empty());
}

#[test]
fn cash_below_what_working_entries_need_is_found() {
    let mut v = venue();
    // 0.02 × 30000 = 600 ≤ 1000: fine.
    v.open_orders
        .push(limit("tg-ours", "BTCUSDT", OrderSide::Buy, "0.02", "30000"));
    assert!(compare(&v, &bot()).is_empty());
    // A market buy at the last price (0.01 × 40000 = 400) on top: 1000 needed.
    let market = OrderRequest::market(
        ClientOrderId::derive(
            &"BTCUSDT".into(),
            &tradegraph_core::order::DecisionId::new("d"),
            Leg::Entry,
        ),
        "BTCUSDT".into(),
        OrderSide::Buy,
        dec("0.01"),
    );
    let mut m = Order::new(OrderId::new("v-m"), market, Timestamp::EPOCH);
    m.status = OrderStatus::PartiallyFilled;
    let mut b = bot();
    b.ours.insert(m.request.client_id.clone());
    v.open_orders.push(m);
    assert!(compare(&v, &b).is_empty(), "exactly enough");
    v.account.cash = dec("999.99");
    assert_eq!(
        compare(&v, &b),
        vec![Discrepancy::CashShort {
            cash: dec("999.99"),
            needed: dec("1000"),
        }]
    );
    // Sells and exits need no cash.
    v.open_orders.truncate(0);
    v.open_orders
        .push(limit("tg-ours", "BTCUSDT", OrderSide::Sell, "1", "30000"));
    v.positions.push(position("1"));
    b.ledger_position = dec("1");
    assert!(compare(&v, &b).is_empty());
}
