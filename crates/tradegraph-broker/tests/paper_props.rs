//! The paper broker over random sequences of ticks, candles, orders (market, limit, stop,
//! trailing stop, with and without attached exits, reduce-only closes), resubmissions and
//! cancels, on BTC (24/7) and Bank Nifty (NSE hours, square-off). After every step the books are
//! checked against an independent ledger rebuilt from the fills alone:
//!
//! - `equity == initial cash + realized + unrealized − fees`, exactly (hence to the cent);
//! - cash is `initial − Σ signed quantity × price − Σ fees`, equity is cash plus every net
//!   position at the last price;
//! - positions are the sums of their fills, each order's filled quantity the sum of its fills;
//! - resubmitting a client order id never fills twice; terminal orders never change;
//! - working exits are exactly the size of the position they protect, on the other side;
//! - fill prices are on the tick grid, quantities in lots, fees never negative.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::collections::HashMap;
use tradegraph_broker::{BrokerError, PaperConfig, PaperEngine};
use tradegraph_core::money::{is_multiple_of, Bps};
use tradegraph_core::order::{
    ClientOrderId, Exits, OrderKind, OrderRequest, OrderSide, OrderStatus, TimeInForce,
};
use tradegraph_core::{Candle, Decimal, Instrument, Price, Tick, Timeframe, Timestamp};

#[derive(Debug, Clone)]
enum Op {
    /// Price moves by `bps`; with a spread of `spread` ticks when given.
    Tick {
        minutes: u8,
        bps: i32,
        spread: Option<u8>,
    },
    /// A bar: open gap, low and high excursions, close, in bp.
    Candle {
        open: i32,
        low: u16,
        high: u16,
        close: i32,
    },
    Market {
        side: bool,
        lots: u8,
        exits: Option<(i32, i32, i32)>,
    },
    Limit {
        side: bool,
        lots: u8,
        offset: i32,
        exits: Option<(i32, i32, i32)>,
        tif: u8,
    },
    Stop {
        side: bool,
        lots: u8,
        offset: i32,
    },
    Trailing {
        side: bool,
        lots: u8,
        distance: u16,
    },
    Close {
        extra_lots: u8,
    },
    Resubmit(prop::sample::Index),
    Cancel(prop::sample::Index),
}

fn exits() -> impl Strategy<Value = Option<(i32, i32, i32)>> {
    prop::option::weighted(0.6, (-300i32..600, -300i32..900, -50i32..400))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..40, -150i32..150, prop::option::of(0u8..4))
            .prop_map(|(minutes, bps, spread)| Op::Tick { minutes, bps, spread }),
        4 => (-100i32..100, 0u16..300, 0u16..300, -200i32..200)
            .prop_map(|(open, low, high, close)| Op::Candle { open, low, high, close }),
        4 => (any::<bool>(), 1u8..4, exits()).prop_map(|(side, lots, exits)| Op::Market { side, lots, exits }),
        3 => (any::<bool>(), 1u8..4, -300i32..300, exits(), 0u8..4)
            .prop_map(|(side, lots, offset, exits, tif)| Op::Limit { side, lots, offset, exits, tif }),
        2 => (any::<bool>(), 1u8..4, -300i32..300).prop_map(|(side, lots, offset)| Op::Stop { side, lots, offset }),
        1 => (any::<bool>(), 1u8..4, 0u16..400).prop_map(|(side, lots, distance)| Op::Trailing { side, lots, distance }),
        2 => (0u8..3).prop_map(|extra_lots| Op::Close { extra_lots }),
        2 => any::<prop::sample::Index>().prop_map(Op::Resubmit),
        2 => any::<prop::sample::Index>().prop_map(Op::Cancel),
    ]
}

struct Run {
    engine: PaperEngine,
    instrument: Instrument,
    price: Price,
    now: Timestamp,
    submitted: Vec<OrderRequest>,
    terminal: HashMap<ClientOrderId, OrderStatus>,
    next_id: usize,
    /// Units per lot traded: BTC in steps of 0.001 (100 steps), the indices in lots.
    unit: Decimal,
}

impl Run {
    fn new(
        instrument: Instrument,
        cash: Decimal,
        start: &str,
        price: Price,
        unit: Decimal,
    ) -> Self {
        let config = PaperConfig::new(instrument.clone(), cash)
            .slippage(Bps::whole(3))
            .max_leverage(Decimal::from(2));
        Self {
            engine: PaperEngine::new(config).unwrap(),
            instrument,
            price,
            now: start.parse().unwrap(),
            submitted: Vec::new(),
            terminal: HashMap::new(),
            next_id: 0,
            unit,
        }
    }

    fn at(&self, bps: i64) -> Price {
        let p = self.price * (Decimal::ONE + Decimal::new(bps, 4));
        self.instrument
            .round_to_tick(p)
            .max(self.instrument.tick_size)
    }

    fn id(&mut self) -> ClientOrderId {
        self.next_id += 1;
        ClientOrderId::new(format!("p{}", self.next_id)).unwrap()
    }

    fn exits(&self, long: bool, spec: Option<(i32, i32, i32)>) -> Option<Exits> {
        let (stop, target, trail) = spec?;
        let dir = if long { 1 } else { -1 };
        let mut exits = Exits::default();
        if stop != 0 {
            exits.stop_loss = Some(self.at(-i64::from(dir * stop)));
        }
        if target != 0 {
            exits.take_profit = Some(self.at(i64::from(dir * target)));
        }
        if trail > 0 {
            let d = self
                .instrument
                .round_to_tick(self.price * Decimal::new(i64::from(trail), 4));
            exits.trailing_distance = Some(d.max(self.instrument.tick_size));
        }
        Some(exits)
    }

    fn submit(&mut self, request: OrderRequest) -> Result<(), TestCaseError> {
        let before = self.engine.fills().len();
        let order = self.engine.submit(request.clone()).map_err(fail)?;
        // Idempotent: the same request again changes nothing.
        let again = self.engine.submit(request.clone()).map_err(fail)?;
        prop_assert_eq!(&again, &order);
        prop_assert!(self.engine.fills().len() <= before + 1);
        self.submitted.push(request);
        Ok(())
    }

    fn step(&mut self, op: Op) -> Result<(), TestCaseError> {
        let s = self.instrument.symbol.clone();
        let unit = self.unit;
        let side = |buy: bool| if buy { OrderSide::Buy } else { OrderSide::Sell };
        match op {
            Op::Tick {
                minutes,
                bps,
                spread,
            } => {
                self.now = self.now.add_millis(i64::from(minutes) * 60_000 + 1);
                self.price = self.at(i64::from(bps));
                let mut tick = Tick::new(self.now, self.price, Decimal::ONE);
                if let Some(n) = spread {
                    let half = self.instrument.tick_size * Decimal::from(n);
                    tick.bid = Some((self.price - half).max(self.instrument.tick_size));
                    tick.ask = Some(self.price + half);
                }
                self.engine.on_tick(&s, &tick).map_err(fail)?;
            }
            Op::Candle {
                open,
                low,
                high,
                close,
            } => {
                self.now = self.now.add_millis(60_000);
                let o = self.at(i64::from(open));
                let c = self.at(i64::from(close));
                let h = self
                    .at(i64::from(open.max(close)) + i64::from(high))
                    .max(o)
                    .max(c);
                let l = self
                    .at(i64::from(open.min(close)) - i64::from(low))
                    .min(o)
                    .min(c);
                let candle = Candle {
                    open_time: self.now.add_millis(-59_999),
                    timeframe: Timeframe::M1,
                    open: o,
                    high: h,
                    low: l,
                    close: c,
                    volume: Decimal::ONE,
                    trades: 1,
                    quote_volume: None,
                    taker_buy_volume: None,
                    taker_buy_quote_volume: None,
                };
                self.price = c;
                self.engine.on_candle(&s, &candle).map_err(fail)?;
            }
            Op::Market {
                side: buy,
                lots,
                exits,
            } => {
                let exits = self.exits(buy, exits);
                let id = self.id();
                let mut r = OrderRequest::market(id, s, side(buy), unit * Decimal::from(lots));
                if let Some(e) = exits {
                    r = r.with_exits(e);
                }
                self.submit(r)?;
            }
            Op::Limit {
                side: buy,
                lots,
                offset,
                exits,
                tif,
            } => {
                let price = self.at(i64::from(offset));
                let exits = self.exits(buy, exits);
                let id = self.id();
                let tif = [
                    TimeInForce::Gtc,
                    TimeInForce::Day,
                    TimeInForce::Ioc,
                    TimeInForce::Fok,
                ][usize::from(tif)];
                let mut r =
                    OrderRequest::limit(id, s, side(buy), unit * Decimal::from(lots), price)
                        .time_in_force(tif);
                if let Some(e) = exits {
                    r = r.with_exits(e);
                }
                self.submit(r)?;
            }
            Op::Stop {
                side: buy,
                lots,
                offset,
            } => {
                let trigger = self.at(i64::from(offset));
                let id = self.id();
                self.submit(OrderRequest::stop(
                    id,
                    s,
                    side(buy),
                    unit * Decimal::from(lots),
                    trigger,
                ))?;
            }
            Op::Trailing {
                side: buy,
                lots,
                distance,
            } => {
                let d = self
                    .instrument
                    .round_to_tick(self.price * Decimal::new(i64::from(distance), 4));
                let id = self.id();
                let kind = OrderKind::TrailingStop { distance: d };
                self.submit(OrderRequest::new(
                    id,
                    s,
                    side(buy),
                    unit * Decimal::from(lots),
                    kind,
                ))?;
            }
            Op::Close { extra_lots } => {
                let held = self.engine.portfolio().quantity(&s);
                if let Some(h) = OrderSide::of_quantity(held) {
                    let id = self.id();
                    let qty = held.abs() + unit * Decimal::from(extra_lots);
                    self.submit(OrderRequest::market(id, s, h.opposite(), qty).reduce_only())?;
                }
            }
            Op::Resubmit(i) => {
                if !self.submitted.is_empty() {
                    let r = self.submitted[i.index(self.submitted.len())].clone();
                    let fills = self.engine.fills().len();
                    let before = self.engine.order(&r.client_id).cloned();
                    let after = self.engine.submit(r.clone()).map_err(fail)?;
                    prop_assert_eq!(self.engine.fills().len(), fills, "a resubmission filled");
                    prop_assert_eq!(Some(after), before);
                    let mut other = r;
                    other.quantity += unit;
                    prop_assert!(matches!(
                        self.engine.submit(other),
                        Err(BrokerError::DuplicateClientOrderId(_))
                    ));
                }
            }
            Op::Cancel(i) => {
                let open = self.engine.open_orders();
                if !open.is_empty() {
                    let o = &open[i.index(open.len())];
                    let cancelled = self.engine.cancel(o.client_id()).map_err(fail)?;
                    prop_assert_eq!(cancelled.status, OrderStatus::Cancelled);
                }
            }
        }
        self.check()
    }

    /// Everything the books must satisfy, from the fills alone.
    fn check(&mut self) -> Result<(), TestCaseError> {
        let e = &self.engine;
        let s = &self.instrument.symbol;
        let account = e.account();
        prop_assert_eq!(
            account.reconciliation_gap(),
            Decimal::ZERO,
            "{:#?}",
            account
        );

        let mut cash = e.config().initial_cash;
        let mut held = Decimal::ZERO;
        let mut by_order: HashMap<&ClientOrderId, Decimal> = HashMap::new();
        for (i, f) in e.fills().iter().enumerate() {
            prop_assert_eq!(f.seq, i as u64 + 1);
            prop_assert!(f.fee >= Decimal::ZERO && f.quantity > Decimal::ZERO);
            prop_assert!(
                is_multiple_of(f.price, self.instrument.tick_size),
                "price {}",
                f.price
            );
            prop_assert!(is_multiple_of(f.quantity, self.instrument.lot_size));
            cash -= f.signed_quantity() * f.price + f.fee;
            held += f.signed_quantity();
            *by_order.entry(&f.client_id).or_default() += f.quantity;
        }
        prop_assert_eq!(account.cash, cash);
        let last = e.last_price(s).unwrap_or_default();
        prop_assert_eq!(account.equity, cash + held * last);
        prop_assert_eq!(e.portfolio().quantity(s), held);

        for o in e.orders() {
            let filled = by_order.get(o.client_id()).copied().unwrap_or_default();
            prop_assert_eq!(o.filled_quantity, filled, "{:?}", o);
            prop_assert!(o.filled_quantity <= o.request.quantity, "{:?}", o);
            if let Some(status) = self.terminal.get(o.client_id()) {
                prop_assert_eq!(*status, o.status, "a terminal order changed: {:?}", o);
            } else if o.status.is_terminal() {
                self.terminal.insert(o.client_id().clone(), o.status);
            }
            if o.parent.is_some() && o.status.is_working() {
                let protects = OrderSide::of_quantity(held).map(OrderSide::opposite);
                prop_assert_eq!(
                    Some(o.request.side),
                    protects,
                    "exit on the wrong side: {:?}",
                    o
                );
                prop_assert_eq!(
                    o.remaining(),
                    held.abs(),
                    "exit not sized to the position: {:?}",
                    o
                );
            }
        }
        Ok(())
    }
}

fn fail(e: BrokerError) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn btc_books_reconcile_at_every_step(ops in prop::collection::vec(op(), 1..80)) {
        let mut run = Run::new(
            Instrument::btc_usdt(),
            Decimal::from(100_000),
            "2024-01-01T00:00:00Z",
            Decimal::from(40_000),
            Decimal::new(1, 3),
        );
        run.step(Op::Tick { minutes: 0, bps: 0, spread: None })?;
        for op in ops {
            run.step(op)?;
        }
    }

    #[test]
    fn bank_nifty_books_reconcile_through_sessions_and_square_offs(ops in prop::collection::vec(op(), 1..80)) {
        let mut run = Run::new(
            Instrument::bank_nifty(),
            Decimal::from(50_000_000),
            "2025-01-06T13:30:00+05:30",
            Decimal::from(50_000),
            Decimal::from(30),
        );
        run.step(Op::Tick { minutes: 0, bps: 0, spread: None })?;
        for op in ops {
            run.step(op)?;
        }
    }
}
