//! Issue 12, item 10: the paper broker refuses prices that cannot be real, so a zero tick
//! never fires a stop nor marks equity to zero.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tradegraph_broker::{BrokerError, PaperConfig, PaperEngine};
use tradegraph_core::money::Bps;
use tradegraph_core::order::{ClientOrderId, Exits, OrderRequest, OrderSide, OrderStatus};
use tradegraph_core::{Candle, Decimal, Instrument, Side, Tick, Timeframe, Timestamp, Trade};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn paper_zero_price_tick_fires_no_stop_and_leaves_equity_unchanged() {
    let btc = Instrument::btc_usdt();
    let s = btc.symbol.clone();
    let mut e =
        PaperEngine::new(PaperConfig::new(btc, d("100000")).slippage(Bps::whole(0))).unwrap();
    let at = |ms: i64, price: &str| Tick::new(Timestamp::from_millis(ms), d(price), Decimal::ONE);
    e.on_tick(&s, &at(1, "40000")).unwrap();
    let entry = OrderRequest::market(
        ClientOrderId::new("in").unwrap(),
        s.clone(),
        OrderSide::Buy,
        d("0.1"),
    )
    .with_exits(Exits::stop(d("39000")));
    assert_eq!(e.submit(entry).unwrap().status, OrderStatus::Filled);
    let before = e.account();
    let fills = e.fills().len();

    let err = e
        .on_tick(&s, &at(2, "0"))
        .expect_err("a zero tick is refused");
    assert!(
        matches!(err, BrokerError::ImplausiblePrice { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("tick") && text.contains("price 0") && text.contains("BTCUSDT"),
        "{text}"
    );

    let trade = Trade {
        ts: Timestamp::from_millis(3),
        price: d("-1"),
        quantity: Decimal::ONE,
        aggressor: Side::Sell,
        trade_id: 7,
        first_trade_id: None,
        last_trade_id: None,
    };
    assert!(matches!(
        e.on_trade(&s, &trade),
        Err(BrokerError::ImplausiblePrice { .. })
    ));
    let mut bar = Candle::opening(
        Timestamp::from_millis(60_000),
        Timeframe::M1,
        d("40000"),
        Decimal::ONE,
    );
    bar.low = Decimal::ZERO;
    assert!(matches!(
        e.on_candle(&s, &bar),
        Err(BrokerError::ImplausiblePrice { .. })
    ));

    let absurd = e
        .on_tick(&s, &at(5, "1000000000000.01"))
        .expect_err("a price above MAX_PRICE is refused");
    assert!(matches!(err_kind(&absurd), Some("tick")), "{absurd:?}");
    assert!(
        absurd.to_string().contains("at most 1000000000000"),
        "{absurd}"
    );
    let mut spike = Candle::opening(
        Timestamp::from_millis(120_000),
        Timeframe::M1,
        d("40000"),
        Decimal::ONE,
    );
    spike.high = Decimal::MAX;
    assert!(matches!(
        e.on_candle(&s, &spike),
        Err(BrokerError::ImplausiblePrice {
            event: "candle high",
            ..
        })
    ));

    assert_eq!(e.fills().len(), fills, "no stop fired");
    let after = e.account();
    assert_eq!(after.equity, before.equity);
    assert_eq!(after.cash, before.cash);

    // A real price afterwards still works: the stop fires at it (no slippage configured).
    let filled = e.on_tick(&s, &at(4, "38900")).unwrap();
    assert_eq!(filled.len(), 1);
    assert_eq!(filled[0].price, d("38900"));
}

/// The event a [`BrokerError::ImplausiblePrice`] names, if it is one.
fn err_kind(err: &BrokerError) -> Option<&'static str> {
    match err {
        BrokerError::ImplausiblePrice { event, .. } => Some(event),
        _ => None,
    }
}
