//! Parsed market events into the candle aggregator and the paper broker, with orders placed
//! in between, and the invariants both promise checked after every step.
//!
//! Shared by the property test `tests/market_events_properties.rs` and the cargo-fuzz target
//! `fuzz/fuzz_targets/market_events.rs` (which includes this file by path), so both exercise
//! exactly the same code. A violated invariant panics with what was violated.
//!
//! The input is a sequence of chunks: a tag byte, a 2-byte little-endian length, then that
//! many payload bytes (fewer at the end of the input). The tag picks what the payload is:
//!
//! | tag % 7 | payload |
//! |---|---|
//! | 0 | a Binance combined-stream text frame (`feed::binance::Decoder`) |
//! | 1 | a Kite binary message (`feed::kite::split`, then `Converter`) |
//! | 2 | a replay JSONL line (`LineParser::jsonl`) |
//! | 3 | a replay CSV tick row (`timestamp,price,volume,bid,ask`, BTCUSDT) |
//! | 4 | a replay CSV candle row (`timestamp,open,high,low,close,volume`; BTCUSDT or BANKNIFTY by the tag) |
//! | 5 | an order (see [`Order::decode`]) |
//! | 6 | the aggregators' clock moves on (`advance`) by the payload's first byte in minutes |
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use tradegraph_broker::{Broker, PaperBroker, PaperConfig, PriceEvent};
use tradegraph_core::order::{
    ClientOrderId, Exits, Fill, OrderKind, OrderRequest, OrderSide, OrderStatus, TimeInForce,
};
use tradegraph_core::{Candle, Decimal, Instrument, Symbol, Timeframe, Timestamp};
use tradegraph_market::aggregate::{bucket_start, CandleAggregator};
use tradegraph_market::feed::binance::{Decoded, Decoder};
use tradegraph_market::feed::check_prices;
use tradegraph_market::feed::kite::{split, Converter, Message};
use tradegraph_market::feed::replay::LineParser;
use tradegraph_market::MarketEvent;

/// Kite's instrument token of the Nifty Bank index.
pub const BANKNIFTY_TOKEN: u32 = 260_105;

/// Monday 2025-01-06 04:00 UTC (09:30 in Mumbai): the clock the feeds stamp with at the start.
pub const START_MS: i64 = 1_736_136_000_000;

/// What a run did, so a test can tell its inputs reached the code under test.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Market events the parsers produced.
    pub events: usize,
    /// Candles the aggregators closed.
    pub candles: usize,
    /// Orders submitted.
    pub orders: usize,
    /// Fills the broker made.
    pub fills: usize,
    /// Price events the broker refused with an error.
    pub refused_events: usize,
}

/// One order, decoded from payload bytes.
#[derive(Debug, Clone, Copy)]
pub struct Order {
    /// Even: BTCUSDT; odd: BANKNIFTY.
    pub instrument: u8,
    /// Buy when even.
    pub side: u8,
    /// 0 market, 1 limit, 2 stop, 3 trailing stop, 4 reduce-only market.
    pub kind: u8,
    /// Lots (0 gives an invalid quantity, which the broker must refuse).
    pub lots: u8,
    /// Limit, trigger or trailing distance, in basis points of the last price.
    pub offset_bps: i16,
    /// Attached exits: stop-loss and take-profit distances in basis points (0 = none).
    pub exits: (u8, u8),
    /// Time in force: 0 GTC, 1 DAY, 2 IOC, 3 FOK.
    pub tif: u8,
    /// Resubmit an earlier client order id (its index, modulo the ids used) instead of a new one.
    pub resubmit: Option<u8>,
}

impl Order {
    /// Reads an order from up to 9 bytes (missing bytes are 0).
    pub fn decode(payload: &[u8]) -> Self {
        let b = |i: usize| payload.get(i).copied().unwrap_or(0);
        Self {
            instrument: b(0),
            side: b(1),
            kind: (b(2) & 127) % 5,
            lots: b(3) % 9,
            offset_bps: i16::from_le_bytes([b(4), b(5)]),
            exits: (b(6), b(7)),
            tif: b(8) % 4,
            resubmit: (b(2) >= 128).then_some(b(3)),
        }
    }

    /// The payload that decodes to this order.
    pub fn encode(&self) -> Vec<u8> {
        let [lo, hi] = self.offset_bps.to_le_bytes();
        let (kind, lots) = match self.resubmit {
            Some(index) => (self.kind | 128, index),
            None => (self.kind, self.lots),
        };
        vec![
            self.instrument,
            self.side,
            kind,
            lots,
            lo,
            hi,
            self.exits.0,
            self.exits.1,
            self.tif,
        ]
    }
}

/// One chunk of the input.
pub fn chunk(tag: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    let mut out = vec![tag];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&payload[..usize::from(len)]);
    out
}

/// Runs the chunks of `input` through the parsers, the aggregators and the paper broker,
/// checking every invariant after each step.
pub fn run(input: &[u8]) -> Stats {
    let mut h = Harness::new();
    let mut rest = input;
    while let Some((&tag, after)) = rest.split_first() {
        let len = match after {
            [a, b, ..] => usize::from(u16::from_le_bytes([*a, *b])),
            _ => after.len(),
        };
        let body = after.get(2..).unwrap_or(&[]);
        let (payload, next) = body.split_at(len.min(body.len()));
        h.step(tag, payload);
        rest = next;
    }
    h.stats
}

/// Candles closed for one instrument, with the checks on them.
struct Candles {
    symbol: Symbol,
    aggregator: CandleAggregator,
    last_open: [Option<Timestamp>; 5],
}

/// One instrument's paper broker (an account has one currency: USDT for BTC, INR for the
/// index), and the ledger rebuilt from its fills.
struct Desk {
    instrument: Instrument,
    broker: PaperBroker,
    initial_cash: Decimal,
    ids: Vec<ClientOrderId>,
    /// The request first placed under each id, for resubmissions.
    requests: Vec<OrderRequest>,
    /// Every fill seen, by `seq`.
    fills: Vec<Fill>,
    /// Orders that ended, to check they never fill again.
    finished: HashMap<ClientOrderId, OrderStatus>,
}

struct Harness {
    aggregators: Vec<Candles>,
    desks: Vec<Desk>,
    binance: Decoder,
    kite: Converter,
    jsonl: LineParser,
    csv_ticks: LineParser,
    csv_candles: [LineParser; 2],
    clock: Timestamp,
    stats: Stats,
}

impl Harness {
    fn new() -> Self {
        let btc = Instrument::btc_usdt();
        let nifty = Instrument::bank_nifty();
        let candles = |i: &Instrument| Candles {
            symbol: i.symbol.clone(),
            aggregator: CandleAggregator::new(i.symbol.clone(), i.session.clone()),
            last_open: [None; 5],
        };
        let desk = |i: &Instrument, cash: i64| {
            let initial_cash = Decimal::from(cash);
            Desk {
                instrument: i.clone(),
                broker: PaperBroker::new(PaperConfig::new(i.clone(), initial_cash))
                    .expect("a valid paper configuration"),
                initial_cash,
                ids: Vec::new(),
                requests: Vec::new(),
                fills: Vec::new(),
                finished: HashMap::new(),
            }
        };
        let csv = |header, symbol: &Symbol| {
            LineParser::csv(header, symbol.clone(), Timeframe::M1).expect("a valid header")
        };
        Self {
            aggregators: vec![candles(&btc), candles(&nifty)],
            desks: vec![desk(&btc, 100_000), desk(&nifty, 10_000_000)],
            binance: Decoder::new("BTCUSDT"),
            kite: Converter::new("kite", &[(BANKNIFTY_TOKEN, nifty.symbol.clone())]),
            jsonl: LineParser::jsonl(),
            csv_ticks: csv("timestamp,price,volume,bid,ask", &btc.symbol),
            csv_candles: [
                csv("timestamp,open,high,low,close,volume", &btc.symbol),
                csv("timestamp,open,high,low,close,volume", &nifty.symbol),
            ],
            clock: Timestamp::from_millis(START_MS),
            stats: Stats::default(),
        }
    }

    fn step(&mut self, tag: u8, payload: &[u8]) {
        self.clock = self.clock.add_millis(250);
        match tag % 7 {
            0 => {
                if let Ok(text) = std::str::from_utf8(payload) {
                    if let Ok(Decoded::Event(event)) = self.binance.decode(text, self.clock) {
                        self.market(&event);
                    }
                }
            }
            1 => {
                let mut events = Vec::new();
                if let Ok(Message::Packets(packets)) = split(payload) {
                    for packet in packets.flatten() {
                        self.kite.convert(&packet, self.clock, &mut events);
                    }
                }
                for event in &events {
                    self.market(event);
                }
            }
            2..=4 => {
                let Ok(line) = std::str::from_utf8(payload) else {
                    return;
                };
                let parser = match tag % 7 {
                    2 => &self.jsonl,
                    3 => &self.csv_ticks,
                    _ => &self.csv_candles[usize::from(tag / 7 % 2)],
                };
                if let Ok(event) = parser.parse(line) {
                    self.market(&event);
                }
            }
            5 => {
                let order = Order::decode(payload);
                let desk = &mut self.desks[usize::from(order.instrument % 2)];
                self.stats.orders += 1;
                self.stats.fills += desk.order(order);
            }
            _ => {
                let minutes = i64::from(payload.first().copied().unwrap_or(1));
                self.clock = self.clock.add_millis(minutes * 60_000);
                let mut closed = Vec::new();
                for i in 0..self.aggregators.len() {
                    closed.clear();
                    self.aggregators[i]
                        .aggregator
                        .advance(self.clock, &mut closed);
                    self.stats.candles += self.aggregators[i].check(&closed);
                }
            }
        }
    }

    /// One parsed event: what every feed promises of it, then into the aggregator of its
    /// instrument and into the broker (the BTC desk's for instruments no desk trades, which
    /// it must refuse).
    fn market(&mut self, event: &MarketEvent) {
        self.stats.events += 1;
        assert!(
            check_prices(event).is_ok(),
            "a feed let through an event its own price check refuses: {event:?}"
        );
        assert!(
            event.ts().is_representable(),
            "a feed let through a time outside years 0000-9999: {event:?}"
        );
        if let Some(c) = self
            .aggregators
            .iter_mut()
            .find(|c| Some(&c.symbol) == event.symbol())
        {
            let mut closed = Vec::new();
            c.aggregator.on_event(event, &mut closed);
            self.stats.candles += c.check(&closed);
        }
        let (symbol, price) = match event {
            MarketEvent::Trade { symbol, trade } => (symbol, PriceEvent::Trade(trade)),
            MarketEvent::Tick { symbol, tick } => (symbol, PriceEvent::Tick(tick)),
            MarketEvent::Candle {
                symbol,
                candle,
                closed: true,
            } => (symbol, PriceEvent::Candle(candle)),
            _ => return,
        };
        let desk = match self
            .desks
            .iter_mut()
            .position(|d| &d.instrument.symbol == symbol)
        {
            Some(i) => &mut self.desks[i],
            None => &mut self.desks[0],
        };
        if desk.broker.on_market(symbol, price).is_err() {
            self.stats.refused_events += 1;
        }
        self.stats.fills += desk.check_books();
    }
}

impl Candles {
    /// Candles the aggregator closed: consistent, aligned to their bucket, each timeframe's
    /// open times strictly rising (each bucket is emitted once, in time order). Returns how
    /// many there were.
    fn check(&mut self, closed: &[Candle]) -> usize {
        for candle in closed {
            assert!(
                candle.low <= candle.open
                    && candle.low <= candle.close
                    && candle.open <= candle.high
                    && candle.close <= candle.high,
                "{} candle outside its own range: {candle:?}",
                self.symbol
            );
            assert!(
                !candle.volume.is_sign_negative() || candle.volume.is_zero(),
                "{} candle with a negative volume: {candle:?}",
                self.symbol
            );
            let bucket = bucket_start(
                self.aggregator.session(),
                candle.timeframe,
                candle.open_time,
            );
            assert_eq!(
                bucket.map(|b| b.0),
                Some(candle.open_time),
                "{} candle not at the start of its bucket: {candle:?}",
                self.symbol
            );
            let slot = &mut self.last_open[candle.timeframe.index()];
            if let Some(previous) = *slot {
                assert!(
                    candle.open_time > previous,
                    "{} {} candle at {} after one at {previous}",
                    self.symbol,
                    candle.timeframe,
                    candle.open_time
                );
            }
            *slot = Some(candle.open_time);
        }
        for tf in Timeframe::ALL {
            if let Some(open) = self.aggregator.current(tf) {
                assert!(
                    open.low <= open.open.min(open.close) && open.high >= open.open.max(open.close),
                    "{} {tf} candle in progress outside its own range: {open:?}",
                    self.symbol
                );
            }
        }
        closed.len()
    }
}

impl Desk {
    /// Places (or resubmits) an order; returns the fills it made.
    fn order(&mut self, order: Order) -> usize {
        let request = match order.resubmit {
            Some(index) if !self.requests.is_empty() => {
                self.requests[usize::from(index) % self.requests.len()].clone()
            }
            _ => {
                let id = ClientOrderId::new(format!("f{}", self.ids.len())).unwrap();
                let request = self.request(id.clone(), order);
                self.ids.push(id);
                self.requests.push(request.clone());
                request
            }
        };
        let id = request.client_id.clone();
        let before = self.last_seq();
        let known = block_on(self.broker.order(&id)).unwrap();
        match block_on(self.broker.submit(request)) {
            Ok(placed) => {
                assert_eq!(placed.client_id(), &id);
                if placed.status == OrderStatus::Rejected {
                    assert!(
                        placed.filled_quantity.is_zero(),
                        "a refused order has fills: {placed:?}"
                    );
                    assert!(
                        placed.reason.is_some(),
                        "a refusal without a reason: {placed:?}"
                    );
                }
                if let Some(known) = known {
                    assert_eq!(
                        placed.id, known.id,
                        "a resubmitted client order id made a new order"
                    );
                    let fills = block_on(self.broker.fills_since(before)).unwrap();
                    assert!(
                        fills.iter().all(|f| f.client_id != id),
                        "a resubmission filled again: {fills:?}"
                    );
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        self.check_books()
    }

    /// The request an order stands for, priced from the broker's last price.
    fn request(&self, id: ClientOrderId, order: Order) -> OrderRequest {
        let instrument = &self.instrument;
        let side = if order.side.is_multiple_of(2) {
            OrderSide::Buy
        } else {
            OrderSide::Sell
        };
        // BTC in steps of 0.001 (100 lot sizes), the index in lots.
        let unit = if instrument.lot_size < Decimal::ONE {
            instrument.lot_size * Decimal::from(100)
        } else {
            instrument.lot_size
        };
        let quantity = unit * Decimal::from(order.lots);
        let last = self
            .broker
            .read(|e| e.last_price(&instrument.symbol))
            .unwrap()
            .unwrap_or(Decimal::ONE);
        let at = |bps: i64| {
            let moved = last
                .checked_mul(Decimal::ONE + Decimal::new(bps, 4))
                .unwrap_or(last);
            instrument.round_to_tick(moved).max(instrument.tick_size)
        };
        let offset = i64::from(order.offset_bps);
        let sign = if side == OrderSide::Buy { 1 } else { -1 };
        let symbol = instrument.symbol.clone();
        let request = match order.kind {
            1 => OrderRequest::limit(id, symbol, side, quantity, at(offset)),
            2 => OrderRequest::stop(id, symbol, side, quantity, at(offset)),
            3 => {
                let distance = last
                    .checked_mul(Decimal::new(offset.abs(), 4))
                    .unwrap_or(last);
                let distance = instrument.round_to_tick(distance).max(instrument.tick_size);
                OrderRequest::new(
                    id,
                    symbol,
                    side,
                    quantity,
                    OrderKind::TrailingStop { distance },
                )
            }
            4 => OrderRequest::market(id, symbol, side, quantity).reduce_only(),
            _ => OrderRequest::market(id, symbol, side, quantity),
        };
        let mut exits = Exits::default();
        if order.exits.0 > 0 {
            exits.stop_loss = Some(at(-sign * i64::from(order.exits.0) * 10));
        }
        if order.exits.1 > 0 {
            exits.take_profit = Some(at(sign * i64::from(order.exits.1) * 10));
        }
        request
            .time_in_force(match order.tif {
                1 => TimeInForce::Day,
                2 => TimeInForce::Ioc,
                3 => TimeInForce::Fok,
                _ => TimeInForce::Gtc,
            })
            .with_exits(exits)
    }

    fn last_seq(&self) -> u64 {
        self.fills.last().map_or(0, |f| f.seq)
    }

    /// The broker's books against a ledger rebuilt from its fills alone. Returns how many new
    /// fills there were.
    fn check_books(&mut self) -> usize {
        let new = block_on(self.broker.fills_since(self.last_seq())).unwrap();
        let count = new.len();
        for fill in new {
            assert_eq!(
                fill.seq,
                self.last_seq() + 1,
                "fills are numbered without gaps"
            );
            assert!(
                fill.price > Decimal::ZERO,
                "a fill at a price not above 0: {fill:?}"
            );
            assert!(fill.quantity > Decimal::ZERO, "an empty fill: {fill:?}");
            assert!(
                !fill.fee.is_sign_negative() || fill.fee.is_zero(),
                "a negative fee: {fill:?}"
            );
            if let Some(status) = self.finished.get(&fill.client_id) {
                panic!(
                    "order {} filled after it ended {status:?}: {fill:?}",
                    fill.client_id
                );
            }
            self.fills.push(fill);
        }
        let account = block_on(self.broker.account()).unwrap();
        assert!(
            account.reconciliation_gap().is_zero(),
            "equity does not reconcile: {account:?}"
        );
        let mut cash = self.initial_cash;
        let mut held = Decimal::ZERO;
        for f in &self.fills {
            cash -= f.signed_quantity() * f.price + f.fee;
            held += f.signed_quantity();
        }
        assert_eq!(account.cash, cash, "cash is not what the fills say");
        let positions = block_on(self.broker.positions()).unwrap();
        let quantity: Decimal = positions.iter().map(|p| p.quantity).sum();
        assert_eq!(quantity, held, "the position is not the sum of its fills");
        let equity = positions
            .iter()
            .fold(account.cash, |e, p| e + p.market_value());
        assert_eq!(
            account.equity, equity,
            "equity is not cash plus positions at their marks"
        );
        for id in &self.ids {
            if let Some(order) = block_on(self.broker.order(id)).unwrap() {
                let filled: Decimal = self
                    .fills
                    .iter()
                    .filter(|f| &f.client_id == id)
                    .map(|f| f.quantity)
                    .sum();
                assert_eq!(
                    order.filled_quantity, filled,
                    "order {id}: filled is not its fills"
                );
                if order.status.is_terminal() {
                    self.finished.insert(id.clone(), order.status);
                }
            }
        }
        count
    }
}

/// The paper broker's futures never wait (its lock is synchronous): one poll finishes them.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("a paper broker call waited"),
    }
}
