//! Unit tests of the paper broker, one or more per fill rule. The property test over random
//! sequences is in `tests/paper_props.rs`.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::BrokerError;
use tradegraph_core::money::Bps;
use tradegraph_core::order::{
    ChargeKind, ClientOrderId, Exits, Liquidity, OrderKind, OrderRequest, OrderSide, OrderStatus,
    TimeInForce,
};
use tradegraph_core::{
    Candle, Decimal, Instrument, Side, Symbol, Tick, Timeframe, Timestamp, Trade,
};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn id(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

fn btc() -> Symbol {
    Symbol::new("BTCUSDT")
}

/// BTC with 100 000 USDT, 10 bp fees, no slippage unless asked.
fn paper(slippage: u32) -> PaperEngine {
    let config =
        PaperConfig::new(Instrument::btc_usdt(), d("100000")).slippage(Bps::whole(slippage));
    PaperEngine::new(config).unwrap()
}

fn tick(e: &mut PaperEngine, ms: i64, price: &str) -> Vec<tradegraph_core::Fill> {
    e.on_tick(
        &btc(),
        &Tick::new(Timestamp::from_millis(ms), d(price), Decimal::ONE),
    )
    .unwrap()
}

fn market(name: &str, side: OrderSide, qty: &str) -> OrderRequest {
    OrderRequest::market(id(name), btc(), side, d(qty))
}

fn assert_books(e: &PaperEngine) {
    let a = e.account();
    assert_eq!(a.reconciliation_gap(), Decimal::ZERO, "{a:#?}");
}

#[test]
fn market_orders_fill_at_the_quote_with_slippage_rounded_against_them() {
    let mut e = paper(5);
    let mut t = Tick::new(Timestamp::from_millis(1), d("40000"), Decimal::ONE);
    t.bid = Some(d("39999.50"));
    t.ask = Some(d("40000.50"));
    e.on_tick(&btc(), &t).unwrap();
    let o = e.submit(market("b1", OrderSide::Buy, "0.1")).unwrap();
    assert_eq!(o.status, OrderStatus::Filled);
    // 40 000.50 × 1.0005 = 40 020.50025 -> up to the cent.
    assert_eq!(o.average_fill_price, Some(d("40020.51")));
    let f = &e.fills()[0];
    assert_eq!((f.seq, f.liquidity), (1, Liquidity::Taker));
    assert_eq!(f.fee, d("4.002051"), "10 bp of 4 002.051");
    let o = e.submit(market("s1", OrderSide::Sell, "0.1")).unwrap();
    // 39 999.50 × 0.9995 = 39 979.50025 -> down to the cent.
    assert_eq!(o.average_fill_price, Some(d("39979.50")));
    let a = e.account();
    assert!(e.positions().is_empty());
    assert_eq!(a.realized_pnl, d("-4.101"));
    assert_eq!(a.cash, d("100000") - d("4.101") - a.fees_paid);
    assert_books(&e);
}

#[test]
fn submit_is_idempotent_by_client_order_id() {
    let mut e = paper(0);
    tick(&mut e, 1, "40000");
    let request = market("once", OrderSide::Buy, "0.01");
    let first = e.submit(request.clone()).unwrap();
    let again = e.submit(request.clone()).unwrap();
    assert_eq!(first, again);
    assert_eq!(e.fills().len(), 1);
    assert_eq!(e.positions()[0].quantity, d("0.01"));
    let mut changed = request;
    changed.quantity = d("0.02");
    assert!(matches!(
        e.submit(changed),
        Err(BrokerError::DuplicateClientOrderId(_))
    ));
    // A rejected order is remembered too.
    let bad = market("bad", OrderSide::Buy, "0.000001");
    assert!(e.submit(bad.clone()).unwrap().is_rejected());
    assert_eq!(e.submit(bad).unwrap().id, e.order(&id("bad")).unwrap().id);
}

#[test]
fn refusals_are_rejected_orders_with_reasons() {
    let mut e = paper(0);
    let reason = |e: &mut PaperEngine, r: OrderRequest| {
        let o = e.submit(r).unwrap();
        assert_eq!(o.status, OrderStatus::Rejected, "{o:?}");
        o.reason.unwrap()
    };
    assert!(reason(&mut e, market("r0", OrderSide::Buy, "0.01")).contains("no price yet"));
    tick(&mut e, 1, "40000");
    assert!(reason(&mut e, market("r1", OrderSide::Buy, "0.000015")).contains("lot size"));
    assert!(reason(&mut e, market("r2", OrderSide::Buy, "-1")).contains("not positive"));
    let limit = OrderRequest::limit(id("r3"), btc(), OrderSide::Buy, d("0.01"), d("39000.001"));
    assert!(reason(&mut e, limit).contains("tick size"));
    let stop = OrderRequest::stop(id("r4"), btc(), OrderSide::Sell, d("0.01"), d("40100"));
    assert!(reason(&mut e, stop).contains("trigger immediately"));
    assert!(
        reason(&mut e, market("r5", OrderSide::Sell, "0.01").reduce_only()).contains("no position")
    );
    let wrong = market("r6", OrderSide::Buy, "0.01").with_exits(Exits::stop(d("41000")));
    assert!(reason(&mut e, wrong).contains("must be below"));
    assert!(reason(&mut e, market("r7", OrderSide::Buy, "3")).contains("leverage"));
    assert!(matches!(
        e.submit(OrderRequest::market(
            id("r8"),
            Symbol::new("ETHUSDT"),
            OrderSide::Buy,
            d("1")
        )),
        Err(BrokerError::UnknownInstrument(_))
    ));
    assert!(e.fills().is_empty());
}

#[test]
fn resting_limits_fill_at_their_price_as_maker_and_ioc_cancels() {
    let mut e = paper(5);
    tick(&mut e, 1, "40000");
    let limit = OrderRequest::limit(id("l1"), btc(), OrderSide::Buy, d("0.1"), d("39500"));
    assert_eq!(e.submit(limit).unwrap().status, OrderStatus::Open);
    assert!(tick(&mut e, 2, "39500.01").is_empty());
    let fills = tick(&mut e, 3, "39400");
    assert_eq!(
        (fills[0].price, fills[0].liquidity),
        (d("39500"), Liquidity::Maker)
    );
    let ioc = OrderRequest::limit(id("l2"), btc(), OrderSide::Buy, d("0.1"), d("39000"))
        .time_in_force(TimeInForce::Ioc);
    assert_eq!(e.submit(ioc).unwrap().status, OrderStatus::Cancelled);
    // Marketable: fills now, never past the limit.
    let cross = OrderRequest::limit(id("l3"), btc(), OrderSide::Buy, d("0.1"), d("39410"));
    assert_eq!(
        e.submit(cross).unwrap().average_fill_price,
        Some(d("39410"))
    );
    assert_books(&e);
}

#[test]
fn stop_loss_take_profit_and_one_cancels_the_other() {
    let mut e = paper(0);
    tick(&mut e, 1, "40000");
    let entry = market("e1", OrderSide::Buy, "0.1")
        .with_exits(Exits::stop(d("39000")).with_take_profit(d("42000")));
    e.submit(entry).unwrap();
    let open = e.open_orders();
    assert_eq!(open.len(), 2);
    assert!(open
        .iter()
        .all(|o| o.request.reduce_only && o.request.quantity == d("0.1")));
    assert_eq!(open[0].parent, Some(id("e1")));
    assert_eq!(
        open[0].request.client_id,
        id("e1").child(tradegraph_core::order::Leg::StopLoss)
    );
    // A gap through the stop fills at the market, not at the stop.
    let fills = tick(&mut e, 2, "38800");
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].price, d("38800"));
    assert!(e.open_orders().is_empty(), "the take-profit is cancelled");
    let tp = e
        .order(&id("e1").child(tradegraph_core::order::Leg::TakeProfit))
        .unwrap();
    assert_eq!(tp.status, OrderStatus::Cancelled);
    assert!(tp
        .reason
        .as_deref()
        .unwrap()
        .starts_with("one-cancels-the-other"));
    // And a take-profit.
    e.submit(
        market("e2", OrderSide::Buy, "0.1")
            .with_exits(Exits::stop(d("38000")).with_take_profit(d("39000"))),
    )
    .unwrap();
    let fills = tick(&mut e, 3, "39100");
    assert_eq!(
        (fills[0].price, fills[0].liquidity),
        (d("39000"), Liquidity::Maker)
    );
    assert!(e.positions().is_empty() && e.open_orders().is_empty());
    assert_books(&e);
}

#[test]
fn trailing_stops_follow_the_best_price() {
    let mut e = paper(0);
    tick(&mut e, 1, "40000");
    e.submit(
        market("t1", OrderSide::Buy, "0.1").with_exits(Exits::default().with_trailing(d("500"))),
    )
    .unwrap();
    assert_eq!(e.open_orders()[0].trigger_price, Some(d("39500")));
    tick(&mut e, 2, "41000");
    tick(&mut e, 3, "40600");
    assert_eq!(
        e.open_orders()[0].trigger_price,
        Some(d("40500")),
        "never moves back"
    );
    let fills = tick(&mut e, 4, "40450");
    assert_eq!(fills[0].price, d("40450"));
    assert!(e.positions().is_empty());
    // A short's trailing stop trails above.
    e.submit(
        market("t2", OrderSide::Sell, "0.1").with_exits(Exits::default().with_trailing(d("100"))),
    )
    .unwrap();
    tick(&mut e, 5, "40000");
    assert!(tick(&mut e, 6, "40099").is_empty());
    assert_eq!(tick(&mut e, 7, "40101").len(), 1);
    assert_books(&e);
}

fn bar(ms: i64, o: &str, h: &str, l: &str, c: &str) -> Candle {
    Candle {
        open_time: Timestamp::from_millis(ms),
        timeframe: Timeframe::M1,
        open: d(o),
        high: d(h),
        low: d(l),
        close: d(c),
        volume: Decimal::ONE,
        trades: 1,
        quote_volume: None,
        taker_buy_volume: None,
        taker_buy_quote_volume: None,
    }
}

#[test]
fn a_bar_touching_stop_and_target_hits_the_stop_first() {
    for (side, stop, target) in [
        (OrderSide::Buy, "39000", "41000"),
        (OrderSide::Sell, "41000", "39000"),
    ] {
        let mut e = paper(0);
        e.on_candle(&btc(), &bar(0, "40000", "40000", "40000", "40000"))
            .unwrap();
        e.submit(
            market("c1", side, "0.1").with_exits(Exits::stop(d(stop)).with_take_profit(d(target))),
        )
        .unwrap();
        let fills = e
            .on_candle(&btc(), &bar(60_000, "40000", "41500", "38500", "40000"))
            .unwrap();
        assert_eq!(fills.len(), 1, "{side}");
        assert_eq!(
            fills[0].price,
            d(stop),
            "inside the bar a stop fills at its trigger"
        );
        assert_eq!(fills[0].ts, Timestamp::from_millis(119_999));
        assert_books(&e);
    }
    // The open gapping through the stop fills at the open.
    let mut e = paper(0);
    e.on_candle(&btc(), &bar(0, "40000", "40000", "40000", "40000"))
        .unwrap();
    e.submit(market("c2", OrderSide::Buy, "0.1").with_exits(Exits::stop(d("39000"))))
        .unwrap();
    let fills = e
        .on_candle(&btc(), &bar(60_000, "38000", "38500", "37000", "38200"))
        .unwrap();
    assert_eq!(fills[0].price, d("38000"));
}

#[test]
fn a_take_profit_born_inside_a_bar_waits_for_the_next_event() {
    let mut e = paper(0);
    e.on_candle(&btc(), &bar(0, "40000", "40000", "40000", "40000"))
        .unwrap();
    let entry = OrderRequest::limit(id("in"), btc(), OrderSide::Buy, d("0.1"), d("39500"))
        .with_exits(Exits::stop(d("39000")).with_take_profit(d("40500")));
    e.submit(entry).unwrap();
    // Low 39 400 fills the entry, high 40 600 would reach the target: not in this bar.
    let fills = e
        .on_candle(&btc(), &bar(60_000, "40000", "40600", "39400", "40400"))
        .unwrap();
    assert_eq!(fills.len(), 1);
    let fills = e
        .on_candle(&btc(), &bar(120_000, "40400", "40550", "40300", "40500"))
        .unwrap();
    assert_eq!(fills[0].price, d("40500"));
    assert_books(&e);
}

#[test]
fn exits_follow_the_position() {
    let mut e = paper(0);
    tick(&mut e, 1, "40000");
    e.submit(market("a1", OrderSide::Buy, "0.1").with_exits(Exits::stop(d("39000"))))
        .unwrap();
    // An addition without exits: the stop grows with the position.
    e.submit(market("a2", OrderSide::Buy, "0.05")).unwrap();
    assert_eq!(e.open_orders()[0].request.quantity, d("0.15"));
    // An addition with exits replaces them.
    e.submit(market("a3", OrderSide::Buy, "0.01").with_exits(Exits::stop(d("39500"))))
        .unwrap();
    let open = e.open_orders();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].trigger_price, open[0].request.quantity),
        (Some(d("39500")), d("0.16"))
    );
    // A close (reduce-only, larger than the position) flattens and cancels the exits.
    let close = e
        .submit(market("a4", OrderSide::Sell, "1").reduce_only())
        .unwrap();
    assert_eq!(close.status, OrderStatus::Cancelled);
    assert_eq!(close.filled_quantity, d("0.16"));
    assert!(e.positions().is_empty() && e.open_orders().is_empty());
    assert_books(&e);
}

#[test]
fn cancel_expire_and_poll() {
    let mut e = paper(0);
    tick(&mut e, 1, "40000");
    let day = OrderRequest::limit(id("day"), btc(), OrderSide::Buy, d("0.1"), d("30000"))
        .time_in_force(TimeInForce::Day);
    e.submit(day).unwrap();
    let gtc = OrderRequest::limit(id("gtc"), btc(), OrderSide::Buy, d("0.1"), d("30000"));
    e.submit(gtc).unwrap();
    assert_eq!(e.cancel(&id("gtc")).unwrap().status, OrderStatus::Cancelled);
    assert!(matches!(
        e.cancel(&id("gtc")),
        Err(BrokerError::NotCancellable { .. })
    ));
    assert!(matches!(
        e.cancel(&id("nope")),
        Err(BrokerError::UnknownOrder(_))
    ));
    tick(&mut e, 86_400_000, "40000");
    assert_eq!(e.order(&id("day")).unwrap().status, OrderStatus::Expired);
    e.submit(market("p1", OrderSide::Buy, "0.01")).unwrap();
    e.submit(market("p2", OrderSide::Sell, "0.01")).unwrap();
    assert_eq!(e.fills_since(0).len(), 2);
    assert_eq!(e.fills_since(1)[0].seq, 2);
    assert!(e.fills_since(2).is_empty() && e.fills_since(u64::MAX).is_empty());
    // A stale event changes nothing.
    assert!(tick(&mut e, 5, "1").is_empty());
    assert_eq!(
        (e.stale_events(), e.last_price(&btc())),
        (1, Some(d("40000")))
    );
    let trade = Trade {
        ts: Timestamp::from_millis(86_400_001),
        price: d("40001"),
        quantity: Decimal::ONE,
        aggressor: Side::Buy,
        trade_id: 1,
        first_trade_id: None,
        last_trade_id: None,
    };
    e.on_trade(&btc(), &trade).unwrap();
    assert_eq!(e.last_price(&btc()), Some(d("40001")));
}

#[test]
fn the_day_starts_at_the_previous_close() {
    let mut e = paper(0);
    tick(&mut e, 1, "40000");
    e.submit(market("d1", OrderSide::Buy, "1")).unwrap();
    tick(&mut e, 2, "39000");
    let before = e.account();
    assert_eq!(before.day_started_at, Some(Timestamp::EPOCH));
    tick(&mut e, 86_400_000 + 5, "38000");
    let a = e.account();
    assert_eq!(a.day_started_at, Some(Timestamp::from_millis(86_400_000)));
    assert_eq!(a.day_start_equity, before.equity, "yesterday's last mark");
    assert_eq!(a.daily_pnl(), d("-1000"));
}

#[test]
fn nse_sessions_square_off_before_the_close() {
    let bank_nifty = Instrument::bank_nifty();
    let s = bank_nifty.symbol.clone();
    let mut e = PaperEngine::new(PaperConfig::new(bank_nifty, d("50000000"))).unwrap();
    let at = |t: &str| t.parse::<Timestamp>().unwrap();
    let t = |t: &str, p: &str| Tick::new(at(t), d(p), Decimal::ZERO);
    e.on_tick(&s, &t("2025-01-06T09:16:00+05:30", "50000"))
        .unwrap();
    let o = e
        .submit(OrderRequest::market(
            id("n1"),
            s.clone(),
            OrderSide::Sell,
            d("30"),
        ))
        .unwrap();
    assert_eq!(o.status, OrderStatus::Filled);
    let f = &e.fills()[0];
    // Zerodha's futures sheet on a sell of 1 499 700 on 2025-01-06: brokerage 20, STT at
    // that day's 0.02% 299.94 → 300, exchange 27.44451 → 27.44, SEBI 1.4997 → 1.50, GST 18% of
    // 48.94 = 8.8092 → 8.81.
    assert_eq!(
        (f.price, f.fee),
        (d("49990"), d("357.75")),
        "2 bp slippage; Zerodha's futures charge sheet"
    );
    let stt = f.charges.iter().find(|c| c.kind == ChargeKind::Stt);
    assert_eq!(stt.map(|c| c.amount), Some(d("300")));
    assert_eq!(f.charges.iter().map(|c| c.amount).sum::<Decimal>(), f.fee);
    let resting = OrderRequest::limit(id("n2"), s.clone(), OrderSide::Sell, d("30"), d("51000"));
    e.submit(resting).unwrap();
    e.on_tick(&s, &t("2025-01-06T15:19:59+05:30", "49900"))
        .unwrap();
    assert_eq!(e.positions().len(), 1);
    let fills = e
        .on_tick(&s, &t("2025-01-06T15:20:00+05:30", "49950"))
        .unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].side, OrderSide::Buy);
    assert!(e.positions().is_empty());
    assert_eq!(e.order(&id("n2")).unwrap().status, OrderStatus::Cancelled);
    let late = e
        .submit(OrderRequest::market(
            id("n3"),
            s.clone(),
            OrderSide::Buy,
            d("30"),
        ))
        .unwrap();
    assert!(late.reason.unwrap().contains("square-off"));
    // After the close, the market is closed.
    e.on_tick(&s, &t("2025-01-06T15:40:00+05:30", "49950"))
        .unwrap();
    let closed = e
        .submit(OrderRequest::market(
            id("n4"),
            s.clone(),
            OrderSide::Buy,
            d("30"),
        ))
        .unwrap();
    assert!(closed.reason.unwrap().contains("market is closed"));
    // Lots and ticks are the exchange's.
    e.on_tick(&s, &t("2025-01-07T09:16:00+05:30", "50000"))
        .unwrap();
    let odd = e
        .submit(OrderRequest::market(id("n5"), s, OrderSide::Buy, d("20")))
        .unwrap();
    assert!(odd.reason.unwrap().contains("lot size 30"));
    assert_books(&e);
    let _ = OrderKind::Market;
}

#[tokio::test]
async fn the_async_broker_and_the_live_opt_in() {
    use crate::live::{Live, LiveTradingEnabled};
    use crate::Broker;
    use std::sync::Arc;
    let broker = PaperBroker::new(PaperConfig::new(Instrument::btc_usdt(), d("1000"))).unwrap();
    broker
        .on_tick(
            &btc(),
            &Tick::new(Timestamp::from_millis(1), d("100"), Decimal::ONE),
        )
        .unwrap();
    let shared: Arc<dyn Broker> = Arc::new(broker.clone());
    assert_eq!((shared.name(), shared.is_live()), ("paper", false));
    let o = shared
        .submit(market("x1", OrderSide::Buy, "1"))
        .await
        .unwrap();
    assert_eq!(o.status, OrderStatus::Filled);
    assert_eq!(shared.positions().await.unwrap().len(), 1);
    assert_eq!(shared.order(&id("x1")).await.unwrap().unwrap().id, o.id);
    assert_eq!(broker.read(|e| e.fills().len()).unwrap(), 1);
    let live = Live::new(
        broker,
        LiveTradingEnabled::i_understand_this_trades_real_money(),
    );
    assert!(live.is_live());
    assert_eq!(
        live.account().await.unwrap().reconciliation_gap(),
        Decimal::ZERO
    );
    assert_eq!(live.fills_since(0).await.unwrap().len(), 1);
}
