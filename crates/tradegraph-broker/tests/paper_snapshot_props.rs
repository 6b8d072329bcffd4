//! The paper account across a restart: random sequences of ticks, trades, candles and orders
//! (market, limit, stop, trailing stop, with attached stop-loss, take-profit and trailing exits,
//! reduce-only closes, resubmissions, cancels) on BTC (24/7) and Bank Nifty (NSE hours,
//! square-off), split at a random point: snapshot -> JSON text -> restore -> continue. What every
//! step returned, and the fills, orders, open orders, positions and account at the end, must be
//! exactly those of the run that never stopped; so must the whole state. Right after the
//! restore, resubmitting every client order id already used returns the known order and
//! changes nothing. Half the cases restart as `run` on a file does: the feed resends every
//! price event from the start, and the restored account skips each one it had taken.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use tradegraph_broker::{BrokerError, PaperConfig, PaperEngine, PaperSnapshot};
use tradegraph_core::money::Bps;
use tradegraph_core::order::{
    ClientOrderId, Exits, Fill, Order, OrderKind, OrderRequest, OrderSide, TimeInForce,
};
use tradegraph_core::{
    Candle, Decimal, Instrument, Price, Side, Tick, Timeframe, Timestamp, Trade,
};

#[derive(Debug, Clone)]
enum Op {
    Tick {
        minutes: u8,
        bps: i32,
        spread: Option<u8>,
    },
    Trade {
        seconds: u8,
        bps: i32,
    },
    Candle {
        open: i32,
        low: u16,
        high: u16,
        close: i32,
    },
    Market {
        buy: bool,
        lots: u8,
        exits: Option<(i32, i32, i32)>,
    },
    Limit {
        buy: bool,
        lots: u8,
        offset: i32,
        exits: Option<(i32, i32, i32)>,
        tif: u8,
    },
    Stop {
        buy: bool,
        lots: u8,
        offset: i32,
    },
    Trailing {
        buy: bool,
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
    prop::option::weighted(0.7, (-300i32..600, -300i32..900, -50i32..400))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..40, -150i32..150, prop::option::of(0u8..4))
            .prop_map(|(minutes, bps, spread)| Op::Tick { minutes, bps, spread }),
        // Half the trades share the millisecond of the event before them (as trades do).
        3 => (prop_oneof![Just(0u8), 0u8..60], -100i32..100)
            .prop_map(|(seconds, bps)| Op::Trade { seconds, bps }),
        4 => (-100i32..100, 0u16..300, 0u16..300, -200i32..200)
            .prop_map(|(open, low, high, close)| Op::Candle { open, low, high, close }),
        4 => (any::<bool>(), 1u8..4, exits()).prop_map(|(buy, lots, exits)| Op::Market { buy, lots, exits }),
        3 => (any::<bool>(), 1u8..4, -300i32..300, exits(), 0u8..4)
            .prop_map(|(buy, lots, offset, exits, tif)| Op::Limit { buy, lots, offset, exits, tif }),
        2 => (any::<bool>(), 1u8..4, -300i32..300).prop_map(|(buy, lots, offset)| Op::Stop { buy, lots, offset }),
        2 => (any::<bool>(), 1u8..4, 1u16..400).prop_map(|(buy, lots, distance)| Op::Trailing { buy, lots, distance }),
        2 => (0u8..3).prop_map(|extra_lots| Op::Close { extra_lots }),
        2 => any::<prop::sample::Index>().prop_map(Op::Resubmit),
        2 => any::<prop::sample::Index>().prop_map(Op::Cancel),
    ]
}

/// What one step returned, to compare the two runs step by step.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Fills(Vec<Fill>),
    Order(Box<Order>),
    Refused(String),
    Nothing,
}

fn outcome<T>(result: Result<T, BrokerError>, ok: impl FnOnce(T) -> Outcome) -> Outcome {
    match result {
        Ok(value) => ok(value),
        Err(e) => Outcome::Refused(e.to_string()),
    }
}

/// The outside world of a run: prices, time, the orders sent. Cloned at the split, as a bot's
/// feed and decisions carry on after its restart.
#[derive(Debug, Clone)]
struct World {
    instrument: Instrument,
    price: Price,
    now: Timestamp,
    submitted: Vec<OrderRequest>,
    next_id: usize,
    unit: Decimal,
    /// Every price event sent, in order: what a bot replaying its file sends again.
    sent: Vec<Sent>,
}

/// A price event as sent.
#[derive(Debug, Clone)]
enum Sent {
    Tick(Tick),
    Trade(Trade),
    Candle(Candle),
}

impl Sent {
    fn send(&self, engine: &mut PaperEngine, instrument: &Instrument) -> Outcome {
        let s = &instrument.symbol;
        let fills = match self {
            Self::Tick(tick) => engine.on_tick(s, tick),
            Self::Trade(trade) => engine.on_trade(s, trade),
            Self::Candle(candle) => engine.on_candle(s, candle),
        };
        outcome(fills, Outcome::Fills)
    }
}

impl World {
    fn at(&self, bps: i64) -> Price {
        let p = self.price * (Decimal::ONE + Decimal::new(bps, 4));
        self.instrument
            .round_to_tick(p)
            .max(self.instrument.tick_size)
    }

    fn id(&mut self) -> ClientOrderId {
        self.next_id += 1;
        ClientOrderId::new(format!("s{}", self.next_id)).unwrap()
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
            exits.trailing_distance = Some(self.distance(trail));
        }
        Some(exits)
    }

    fn distance(&self, bps: i32) -> Price {
        self.instrument
            .round_to_tick(self.price * Decimal::new(i64::from(bps), 4))
            .max(self.instrument.tick_size)
    }

    fn submit(&mut self, engine: &mut PaperEngine, request: OrderRequest) -> Outcome {
        self.submitted.push(request.clone());
        outcome(engine.submit(request), |o| Outcome::Order(Box::new(o)))
    }

    fn step(&mut self, engine: &mut PaperEngine, op: &Op) -> Outcome {
        let s = self.instrument.symbol.clone();
        let unit = self.unit;
        let side = |buy: bool| if buy { OrderSide::Buy } else { OrderSide::Sell };
        let lots = |n: u8| unit * Decimal::from(n);
        match *op {
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
                self.sent.push(Sent::Tick(tick.clone()));
                outcome(engine.on_tick(&s, &tick), Outcome::Fills)
            }
            Op::Trade { seconds, bps } => {
                self.now = self.now.add_millis(i64::from(seconds) * 1_000);
                self.price = self.at(i64::from(bps));
                let trade = Trade {
                    ts: self.now,
                    price: self.price,
                    quantity: Decimal::ONE,
                    aggressor: if bps >= 0 { Side::Buy } else { Side::Sell },
                    trade_id: self.now.millis().unsigned_abs(),
                    first_trade_id: None,
                    last_trade_id: None,
                };
                self.sent.push(Sent::Trade(trade.clone()));
                outcome(engine.on_trade(&s, &trade), Outcome::Fills)
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
                self.sent.push(Sent::Candle(candle.clone()));
                outcome(engine.on_candle(&s, &candle), Outcome::Fills)
            }
            Op::Market {
                buy,
                lots: n,
                exits,
            } => {
                let exits = self.exits(buy, exits);
                let id = self.id();
                let mut r = OrderRequest::market(id, s, side(buy), lots(n));
                if let Some(e) = exits {
                    r = r.with_exits(e);
                }
                self.submit(engine, r)
            }
            Op::Limit {
                buy,
                lots: n,
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
                    OrderRequest::limit(id, s, side(buy), lots(n), price).time_in_force(tif);
                if let Some(e) = exits {
                    r = r.with_exits(e);
                }
                self.submit(engine, r)
            }
            Op::Stop {
                buy,
                lots: n,
                offset,
            } => {
                let trigger = self.at(i64::from(offset));
                let id = self.id();
                self.submit(
                    engine,
                    OrderRequest::stop(id, s, side(buy), lots(n), trigger),
                )
            }
            Op::Trailing {
                buy,
                lots: n,
                distance,
            } => {
                let kind = OrderKind::TrailingStop {
                    distance: self.distance(i32::from(distance)),
                };
                let id = self.id();
                self.submit(engine, OrderRequest::new(id, s, side(buy), lots(n), kind))
            }
            Op::Close { extra_lots } => {
                let held = engine.portfolio().quantity(&s);
                let Some(h) = OrderSide::of_quantity(held) else {
                    return Outcome::Nothing;
                };
                let id = self.id();
                let qty = held.abs() + lots(extra_lots);
                self.submit(
                    engine,
                    OrderRequest::market(id, s, h.opposite(), qty).reduce_only(),
                )
            }
            Op::Resubmit(i) => {
                if self.submitted.is_empty() {
                    return Outcome::Nothing;
                }
                let r = self.submitted[i.index(self.submitted.len())].clone();
                outcome(engine.submit(r), |o| Outcome::Order(Box::new(o)))
            }
            Op::Cancel(i) => {
                let open = engine.open_orders();
                if open.is_empty() {
                    return Outcome::Nothing;
                }
                let id = open[i.index(open.len())].client_id().clone();
                outcome(engine.cancel(&id), |o| Outcome::Order(Box::new(o)))
            }
        }
    }
}

fn config(instrument: &Instrument, cash: Decimal) -> PaperConfig {
    PaperConfig::new(instrument.clone(), cash)
        .slippage(Bps::whole(3))
        .max_leverage(Decimal::from(2))
}

/// Runs `ops` whole, and again split at `split` with a restart in between; both must agree.
/// With `resend`, the restarted engine is told its feed resends ([`PaperConfig::feed_resends`])
/// and is sent every price event of the first part again, as a bot replaying its file from the
/// start does: each is skipped, and the run goes on as the one that never stopped.
#[allow(clippy::too_many_arguments)]
fn split_run_matches(
    instrument: Instrument,
    cash: Decimal,
    start: &str,
    price: Price,
    unit: Decimal,
    ops: &[Op],
    split: prop::sample::Index,
    resend: bool,
) -> Result<(), TestCaseError> {
    let config = config(&instrument, cash);
    let world = World {
        instrument,
        price,
        now: start.parse().unwrap(),
        submitted: Vec::new(),
        next_id: 0,
        unit,
        sent: Vec::new(),
    };
    let first = Op::Tick {
        minutes: 0,
        bps: 0,
        spread: None,
    };
    let ops: Vec<Op> = std::iter::once(first).chain(ops.iter().cloned()).collect();
    let split = split.index(ops.len() + 1);

    let mut whole = PaperEngine::new(config.clone()).unwrap();
    let mut whole_world = world.clone();
    let whole_out: Vec<Outcome> = ops
        .iter()
        .map(|op| whole_world.step(&mut whole, op))
        .collect();

    let mut before = PaperEngine::new(config.clone()).unwrap();
    let mut split_world = world;
    let mut split_out: Vec<Outcome> = ops[..split]
        .iter()
        .map(|op| split_world.step(&mut before, op))
        .collect();
    let snapshot = before.snapshot();
    let text = serde_json::to_string(&snapshot).unwrap();
    let read: PaperSnapshot = serde_json::from_str(&text).unwrap();
    prop_assert_eq!(&read, &snapshot, "the snapshot changed through JSON");
    drop(before);
    let mut after = PaperEngine::restore(config.feed_resends(resend), read).unwrap();
    prop_assert_eq!(&after.snapshot(), &snapshot, "the restore is not exact");
    // A bot that restarts resends what it is unsure of: known ids return their order, and
    // nothing changes at all.
    for request in &split_world.submitted {
        let known = after.order(&request.client_id).cloned();
        let again = after.submit(request.clone()).unwrap();
        prop_assert_eq!(Some(again), known);
    }
    prop_assert_eq!(
        &after.snapshot(),
        &snapshot,
        "a resubmission changed the account"
    );
    // Then its feed sends everything again (with `resend`).
    let resent = if resend { split_world.sent.len() } else { 0 };
    for event in split_world.sent.iter().take(resent) {
        let out = event.send(&mut after, &split_world.instrument);
        prop_assert_eq!(
            out,
            Outcome::Fills(Vec::new()),
            "a resent event did something"
        );
    }

    split_out.extend(
        ops[split..]
            .iter()
            .map(|op| split_world.step(&mut after, op)),
    );
    for (i, (a, b)) in whole_out.iter().zip(&split_out).enumerate() {
        prop_assert_eq!(
            a,
            b,
            "step {} ({:?}) differs after a restart at {}",
            i,
            ops[i],
            split
        );
    }
    prop_assert_eq!(whole.fills(), after.fills());
    prop_assert_eq!(whole.orders(), after.orders());
    prop_assert_eq!(whole.open_orders(), after.open_orders());
    prop_assert_eq!(whole.positions(), after.positions());
    prop_assert_eq!(whole.account(), after.account());
    // Every resent event was skipped, and counted so.
    prop_assert_eq!(whole.stale_events() + resent as u64, after.stale_events());
    // The whole state, and its saved text byte for byte (a store can compare them); after a
    // resend, all of it but the count of stale events.
    let saved = |engine: &PaperEngine| {
        let mut value = serde_json::to_value(engine.snapshot()).unwrap();
        if resend {
            value.as_object_mut().unwrap().remove("stale_events");
        }
        value.to_string()
    };
    prop_assert_eq!(saved(&whole), saved(&after));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn btc_continues_exactly_after_a_restart(
        ops in prop::collection::vec(op(), 1..80),
        split in any::<prop::sample::Index>(),
        resend in any::<bool>(),
    ) {
        split_run_matches(
            Instrument::btc_usdt(),
            Decimal::from(100_000),
            "2024-01-01T00:00:00Z",
            Decimal::from(40_000),
            Decimal::new(1, 3),
            &ops,
            split,
            resend,
        )?;
    }

    #[test]
    fn bank_nifty_continues_exactly_after_a_restart(
        ops in prop::collection::vec(op(), 1..80),
        split in any::<prop::sample::Index>(),
        resend in any::<bool>(),
    ) {
        split_run_matches(
            Instrument::bank_nifty(),
            Decimal::from(50_000_000),
            "2025-01-06T13:30:00+05:30",
            Decimal::from(50_000),
            Decimal::from(30),
            &ops,
            split,
            resend,
        )?;
    }
}
