//! Unit tests of saving and restoring the paper account, and of the paper broker's revision
//! and market-data entry point. The property test over random sequences split by a restart is
//! in `tests/paper_snapshot_props.rs`.
#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;
use crate::live::{Live, LiveTradingEnabled};
use crate::{Broker, BrokerError, PriceEvent};
use serde_json::{json, Value};
use std::sync::Arc;
use tradegraph_core::money::Bps;
use tradegraph_core::order::{ClientOrderId, Exits, OrderKind, OrderRequest, OrderSide};
use tradegraph_core::{Candle, Decimal, Instrument, Side, Tick, Timeframe, Timestamp, Trade};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn id(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

fn config() -> PaperConfig {
    PaperConfig::new(Instrument::btc_usdt(), d("100000"))
}

fn tick(ms: i64, price: &str) -> Tick {
    Tick::new(Timestamp::from_millis(ms), d(price), Decimal::ONE)
}

/// A long position with a working stop-loss, trailing stop and take-profit, and a resting buy
/// limit below the market.
fn busy_engine() -> PaperEngine {
    let btc = Instrument::btc_usdt().symbol;
    let mut e = PaperEngine::new(config()).unwrap();
    e.on_tick(&btc, &tick(1, "40000")).unwrap();
    let exits = Exits::stop(d("39000"))
        .with_take_profit(d("42000"))
        .with_trailing(d("500"));
    e.submit(
        OrderRequest::market(id("entry"), btc.clone(), OrderSide::Buy, d("0.1")).with_exits(exits),
    )
    .unwrap();
    e.submit(OrderRequest::limit(
        id("dip"),
        btc.clone(),
        OrderSide::Buy,
        d("0.01"),
        d("38000"),
    ))
    .unwrap();
    e.on_tick(&btc, &tick(2, "40800")).unwrap();
    e
}

fn restore_json(config: PaperConfig, value: Value) -> Result<PaperEngine, BrokerError> {
    PaperEngine::restore(config, serde_json::from_value(value).unwrap())
}

fn refusal(config: PaperConfig, value: Value) -> String {
    match restore_json(config, value) {
        Err(BrokerError::Snapshot(reason)) => reason,
        Err(other) => panic!("not a snapshot error: {other}"),
        Ok(_) => panic!("a bad snapshot was restored"),
    }
}

#[test]
fn a_restored_engine_keeps_exits_trailing_best_and_fill_numbers() {
    let btc = Instrument::btc_usdt().symbol;
    let e = busy_engine();
    let saved = serde_json::to_value(e.snapshot()).unwrap();
    let mut back = restore_json(config(), saved).unwrap();
    assert_eq!(back.snapshot(), e.snapshot());
    assert_eq!(back.open_orders().len(), 4, "three exits and the limit");
    let trailing = back
        .open_orders()
        .into_iter()
        .find(|o| matches!(o.request.kind, OrderKind::TrailingStop { .. }))
        .unwrap();
    assert_eq!(
        trailing.trigger_price,
        Some(d("40300")),
        "best 40 800 less 500"
    );
    // The trailing stop fires from its best, not from the restore's price.
    let fills = back.on_tick(&btc, &tick(3, "40250")).unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].seq, 2);
    assert_eq!(fills[0].client_id, trailing.request.client_id);
    assert!(back.positions().is_empty());
    assert_eq!(
        back.open_orders().len(),
        1,
        "the others went with the position"
    );
    assert!(back.account().reconciliation_gap().is_zero());
}

#[test]
fn fees_and_slippage_may_change_across_a_restart() {
    let e = busy_engine();
    let cheaper = config().fees(FeeModel::zero()).slippage(Bps::ZERO);
    let back = PaperEngine::restore(cheaper.clone(), e.snapshot()).unwrap();
    assert_eq!(back.config(), &cheaper);
    assert_eq!(back.fills(), e.fills());
}

/// A second 24/7 USDT instrument.
fn eth() -> Instrument {
    let mut eth = Instrument::btc_usdt();
    eth.symbol = "ETHUSDT".into();
    eth
}

#[test]
fn a_snapshot_of_another_account_is_refused() {
    let saved = serde_json::to_value(busy_engine().snapshot()).unwrap();
    let more_cash = PaperConfig::new(Instrument::btc_usdt(), d("200000"));
    assert!(refusal(more_cash, saved.clone())
        .contains("started with 100000 but the configuration says 200000"));
    let mut rupees = Instrument::bank_nifty();
    rupees.symbol = Instrument::btc_usdt().symbol;
    let inr = PaperConfig::new(rupees, d("100000"));
    assert!(refusal(inr, saved.clone())
        .contains("the account is in Usdt but the configuration says Inr"));
    let wider = config().with_instrument(eth());
    assert!(refusal(wider, saved.clone())
        .contains("instrument ETHUSDT is configured but not in the snapshot"));
    let two = PaperEngine::new(config().with_instrument(eth())).unwrap();
    let narrower = refusal(config(), serde_json::to_value(two.snapshot()).unwrap());
    assert!(
        narrower.contains("instrument ETHUSDT is in the snapshot but not configured"),
        "{narrower}"
    );
    // The error says what to do.
    let err = PaperEngine::restore(
        PaperConfig::new(eth(), d("100000")),
        busy_engine().snapshot(),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("restore it with the configuration it was saved with"),
        "{err}"
    );
}

#[test]
fn a_corrupt_snapshot_is_refused_naming_what_is_wrong() {
    let saved = serde_json::to_value(busy_engine().snapshot()).unwrap();
    type Corruption = (fn(&mut Value), &'static str);
    let cases: Vec<Corruption> = vec![
        (|v| v["format"] = json!(2), "layout version 2"),
        (
            |v| v["working"] = json!([1, 99]),
            "working order 99 does not exist (5 orders)",
        ),
        (
            |v| v["working"] = json!([1, 1]),
            "working order 1 is listed twice",
        ),
        (
            |v| v["working"] = json!([0]),
            "is listed as working but is FILLED",
        ),
        (|v| v["fills"][0]["seq"] = json!(7), "fill 1 has seq 7"),
        (
            |v| v["fills"][0]["symbol"] = json!("DOGEUSDT"),
            "DOGEUSDT, which is not configured",
        ),
        (
            |v| v["orders"][1]["order"]["id"] = json!("P-9"),
            "order 2 has id P-3, after P-9: the orders are out of sequence",
        ),
        (|v| v["order_base"] = json!(5), "5 orders were let go"),
        (
            |v| v["order_base"] = json!(u64::MAX),
            "18446744073709551615 orders were let go",
        ),
        (
            |v| v["fills_base"] = json!(u64::MAX),
            "is past the last sequence number",
        ),
        (
            |v| v["orders"][2]["order"]["request"]["client_id"] = json!("entry"),
            "client order id entry appears twice",
        ),
        (
            |v| v["orders"][0]["order"]["request"]["symbol"] = json!("DOGEUSDT"),
            "is for DOGEUSDT",
        ),
        (
            |v| v["exit_groups"]["BTCUSDT"]["orders"] = json!([2, 40]),
            "exit order 40 of BTCUSDT does not exist",
        ),
        (
            |v| v["exit_groups"]["BTCUSDT"]["parent"] = json!("ghost"),
            "belong to unknown order ghost",
        ),
        (
            |v| {
                let state = v["markets"]["BTCUSDT"].take();
                v["markets"] = json!({ "ETHUSDT": state });
            },
            "BTCUSDT is configured but not in the snapshot",
        ),
    ];
    for (corrupt, expected) in cases {
        let mut bad = saved.clone();
        corrupt(&mut bad);
        let reason = refusal(config(), bad);
        assert!(
            reason.contains(expected),
            "`{reason}` does not say `{expected}`"
        );
    }
    assert!(
        restore_json(config(), saved).is_ok(),
        "the untouched snapshot restores"
    );
}

#[tokio::test]
async fn the_revision_moves_with_every_change_and_only_then() {
    let btc = Instrument::btc_usdt().symbol;
    let broker = PaperBroker::new(config()).unwrap();
    assert_eq!(broker.revision(), 0);
    broker.on_tick(&btc, &tick(1, "40000")).unwrap();
    let r1 = broker.revision();
    assert!(r1 > 0);
    let order = OrderRequest::market(id("b"), btc.clone(), OrderSide::Buy, d("0.01"));
    broker.submit(order.clone()).await.unwrap();
    let r2 = broker.revision();
    assert!(r2 > r1);
    broker.submit(order.clone()).await.unwrap();
    let mut other = order;
    other.quantity = d("0.02");
    assert!(broker.submit(other).await.is_err());
    assert_eq!(broker.revision(), r2, "a resubmission is not a change");
    let _ = broker.order(&id("b")).await.unwrap();
    let _ = broker.account().await.unwrap();
    broker.read(|e| e.fills().len()).unwrap();
    assert_eq!(broker.revision(), r2, "reads are not changes");
    let rest = OrderRequest::limit(id("l"), btc.clone(), OrderSide::Buy, d("0.01"), d("30000"));
    broker.submit(rest).await.unwrap();
    let r3 = broker.revision();
    assert!(r3 > r2);
    broker.cancel(&id("l")).await.unwrap();
    let r4 = broker.revision();
    assert!(r4 > r3);
    assert!(broker.cancel(&id("l")).await.is_err());
    assert_eq!(broker.revision(), r4, "a refused cancel is not a change");
    // Clones share the account and its revision.
    let clone = broker.clone();
    clone.on_tick(&btc, &tick(2, "40100")).unwrap();
    assert!(broker.revision() > r4);
}

#[tokio::test]
async fn market_events_reach_the_paper_broker_through_any_wrapper() {
    let btc = Instrument::btc_usdt();
    let s = btc.symbol.clone();
    let paper = PaperBroker::new(config().slippage(Bps::ZERO)).unwrap();
    let live = Live::new(
        paper.clone(),
        LiveTradingEnabled::i_understand_this_trades_real_money(),
    );
    let shared: Arc<dyn Broker> = Arc::new(live);
    shared
        .on_market(&s, PriceEvent::from(&tick(60_000, "40000")))
        .unwrap();
    let entry = OrderRequest::market(id("e"), s.clone(), OrderSide::Buy, d("0.01"))
        .with_exits(Exits::stop(d("39000")).with_take_profit(d("41000")));
    shared.submit(entry).await.unwrap();
    // A trade above the target fills it at its limit.
    let trade = Trade {
        ts: Timestamp::from_millis(61_000),
        price: d("41000"),
        quantity: Decimal::ONE,
        aggressor: Side::Buy,
        trade_id: 1,
        first_trade_id: None,
        last_trade_id: None,
    };
    let fills = shared.on_market(&s, PriceEvent::Trade(&trade)).unwrap();
    assert_eq!((fills.len(), fills[0].price), (1, d("41000")));
    // A candle is walked too.
    shared
        .submit(
            OrderRequest::market(id("e2"), s.clone(), OrderSide::Buy, d("0.01"))
                .with_exits(Exits::stop(d("40500"))),
        )
        .await
        .unwrap();
    let bar = Candle {
        open_time: Timestamp::from_millis(120_000),
        timeframe: Timeframe::M1,
        open: d("41000"),
        high: d("41100"),
        low: d("40400"),
        close: d("40900"),
        volume: Decimal::ONE,
        trades: 3,
        quote_volume: None,
        taker_buy_volume: None,
        taker_buy_quote_volume: None,
    };
    let fills = shared.on_market(&s, PriceEvent::Candle(&bar)).unwrap();
    assert_eq!(
        (fills.len(), fills[0].price, fills[0].seq),
        (1, d("40500"), 4)
    );
    assert_eq!(paper.fills_since(0).await.unwrap().len(), 4);
    assert!(matches!(
        shared.on_market(&"ETHUSDT".into(), PriceEvent::Candle(&bar)),
        Err(BrokerError::UnknownInstrument(_))
    ));
}

/// A long-running account stays bounded: finished orders and old fills are let go, numbering
/// goes on, a let-go order is never placed again, and the compacted account restores.
#[test]
fn a_long_running_account_is_compacted_and_still_restores() {
    let btc = tradegraph_core::Instrument::btc_usdt();
    let config = || PaperConfig::new(btc.clone(), rust_decimal::Decimal::from(10_000_000));
    let mut paper = PaperEngine::new(config()).unwrap();
    let tick = |ms: i64| {
        tradegraph_core::Tick::new(
            tradegraph_core::Timestamp::from_millis(ms),
            rust_decimal::Decimal::from(40_000),
            rust_decimal::Decimal::ONE,
        )
    };
    let order = |i: usize| {
        let side = if i.is_multiple_of(2) {
            OrderSide::Buy
        } else {
            OrderSide::Sell
        };
        OrderRequest::market(
            ClientOrderId::new(format!("o{i}")).unwrap(),
            btc.symbol.clone(),
            side,
            rust_decimal::Decimal::new(1, 2),
        )
    };
    let n = 2 * PaperEngine::KEEP_FINISHED_ORDERS + 10;
    for i in 0..n {
        paper
            .on_tick(&btc.symbol, &tick(i as i64 * 1_000 + 1))
            .unwrap();
        paper.submit(order(i)).unwrap();
    }
    assert!(
        paper.compact(),
        "past the limit, finished orders are let go"
    );
    assert_eq!(paper.orders().len(), PaperEngine::KEEP_FINISHED_ORDERS);
    assert_eq!(paper.last_fill_seq(), n as u64, "fills numbered on");
    assert!(paper.order(&order(0).client_id).is_none());
    assert!(
        matches!(
            paper.submit(order(0)),
            Err(BrokerError::DuplicateClientOrderId(_))
        ),
        "a let-go order is never placed again"
    );
    assert_eq!(
        paper.order(&order(n - 1).client_id).unwrap().id.as_str(),
        format!("P-{n}")
    );
    let saved = serde_json::to_string(&paper.snapshot()).unwrap();
    let mut restored =
        PaperEngine::restore(config(), serde_json::from_str(&saved).unwrap()).unwrap();
    restored
        .on_tick(&btc.symbol, &tick(n as i64 * 1_000 + 1))
        .unwrap();
    let next = restored.submit(order(n)).unwrap();
    assert_eq!(
        next.id.as_str(),
        format!("P-{}", n + 1),
        "ids go on after a restore"
    );
    assert_eq!(restored.last_fill_seq(), n as u64 + 1);
    assert!(matches!(
        restored.submit(order(1)),
        Err(BrokerError::DuplicateClientOrderId(_))
    ));
    assert_eq!(restored.fills_since(n as u64).len(), 1);
}

/// An open position's entry and its attached exits survive a compaction, and the compacted
/// account restores with its stop still working.
#[test]
fn a_compaction_keeps_the_open_position_its_entry_and_exits() {
    let btc = Instrument::btc_usdt();
    let config = || PaperConfig::new(btc.clone(), Decimal::from(10_000_000));
    let mut paper = PaperEngine::new(config()).unwrap();
    let tick =
        |ms: i64, p: i64| Tick::new(Timestamp::from_millis(ms), Decimal::from(p), Decimal::ONE);
    paper.on_tick(&btc.symbol, &tick(1, 40_000)).unwrap();
    let entry = OrderRequest::market(
        ClientOrderId::new("entry").unwrap(),
        btc.symbol.clone(),
        OrderSide::Buy,
        Decimal::new(1, 1),
    )
    .with_exits(Exits::stop(Decimal::from(39_000)));
    paper.submit(entry.clone()).unwrap();
    // Many orders that finish without touching the position: limits far away, cancelled.
    for i in 0..(2 * PaperEngine::KEEP_FINISHED_ORDERS + 20) {
        let id = ClientOrderId::new(format!("far{i}")).unwrap();
        let far = OrderRequest::limit(
            id.clone(),
            btc.symbol.clone(),
            OrderSide::Buy,
            Decimal::new(1, 2),
            Decimal::from(1_000),
        );
        paper.submit(far).unwrap();
        paper.cancel(&id).unwrap();
        paper.compact();
    }
    assert!(
        paper.order(&entry.client_id).is_some(),
        "the entry of the open position stays"
    );
    assert!(paper.orders().len() < 2 * PaperEngine::KEEP_FINISHED_ORDERS + 10);
    let saved = serde_json::to_string(&paper.snapshot()).unwrap();
    let mut restored = PaperEngine::restore(config(), serde_json::from_str(&saved).unwrap())
        .expect("a compacted account with an open position restores");
    let fills = restored
        .on_tick(&btc.symbol, &tick(10_000_000, 38_900))
        .unwrap();
    assert_eq!(fills.len(), 1, "the stop still works");
    assert!(restored.positions().is_empty());
}
