//! The order-flow tracker: aggressor volume, CVD, imbalances and session VWAP.

use super::TradeClassifier;
use crate::MarketEvent;
use serde::Serialize;
use tradegraph_core::{
    Book, OrderFlow, Price, Quantity, Side, Tick, Timestamp, Trade, TradingSession,
};

/// Counts of what the tracker did with its input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FlowStats {
    /// Trades and ticks outside the session, ignored.
    pub out_of_session: u64,
    /// Quantity whose aggressor could not be told (in the VWAP, not in buy or sell volume).
    pub unclassified_volume: Quantity,
    /// Trades left out of the VWAP because price × quantity overflowed the decimal range.
    pub overflowed: u64,
    /// Sessions started.
    pub sessions: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Volumes {
    buy: Quantity,
    sell: Quantity,
}

/// Folds trades, ticks and books into [`OrderFlow`] figures, per the rules of the
/// [module](crate::flow).
///
/// ```
/// use tradegraph_core::{Instrument, Side, Trade};
/// use tradegraph_market::flow::OrderFlowTracker;
/// let d = |s: &str| s.parse().unwrap();
/// let mut flow = OrderFlowTracker::new(Instrument::btc_usdt().session);
/// let ts = "2024-01-01T10:00:00Z".parse()?;
/// flow.on_trade(&Trade::new(ts, d("100"), d("3"), Side::Buy, 1));
/// flow.on_trade(&Trade::new(ts, d("110"), d("1"), Side::Sell, 2));
/// let f = flow.session();
/// assert_eq!(f.cumulative_delta, d("2"));
/// assert_eq!(f.session_vwap, Some(d("102.5")));
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OrderFlowTracker {
    session: TradingSession,
    session_start: Option<Timestamp>,
    session_volumes: Volumes,
    window: Volumes,
    notional: Price,
    vwap_volume: Quantity,
    book_imbalance: Option<f64>,
    resting_imbalance: Option<f64>,
    classifier: TradeClassifier,
    /// The best bid and ask of the last tick: the quote before the next tick's trades (a
    /// tick's own quote is the book after them).
    last_quote: Option<(Option<Price>, Option<Price>)>,
    stats: FlowStats,
}

impl OrderFlowTracker {
    /// A tracker for an instrument's trading session.
    pub fn new(session: TradingSession) -> Self {
        Self {
            session,
            session_start: None,
            session_volumes: Volumes::default(),
            window: Volumes::default(),
            notional: Price::ZERO,
            vwap_volume: Quantity::ZERO,
            book_imbalance: None,
            resting_imbalance: None,
            classifier: TradeClassifier::default(),
            last_quote: None,
            stats: FlowStats::default(),
        }
    }

    /// What happened so far.
    pub fn stats(&self) -> FlowStats {
        self.stats
    }

    /// A trade with a known aggressor (Binance). Returns whether it was in session.
    pub fn on_trade(&mut self, trade: &Trade) -> bool {
        if !self.enter(trade.ts) {
            return false;
        }
        self.fold(trade.price, trade.quantity, Some(trade.aggressor));
        true
    }

    /// A tick (Kite): its traded volume is classified by the quote and tick rules, and its total
    /// buy and sell quantities give the resting imbalance. Returns whether it was in session.
    ///
    /// The quote rule reads the quote before the trades: the previous tick's best bid and ask
    /// (a tick's own are the book after its trades, which moved when a trade took a whole
    /// level); the first tick of a session has only its own.
    pub fn on_tick(&mut self, tick: &Tick) -> bool {
        if !self.enter(tick.ts) {
            return false;
        }
        if let (Some(buy), Some(sell)) = (tick.total_buy_quantity, tick.total_sell_quantity) {
            self.resting_imbalance = imbalance(buy, sell);
        }
        let (bid, ask) = self.last_quote.unwrap_or((tick.bid, tick.ask));
        self.last_quote = Some((tick.bid, tick.ask));
        let side = self.classifier.classify(tick.price, bid, ask);
        if !tick.volume.is_zero() {
            self.fold(tick.price, tick.volume, side);
        }
        true
    }

    /// A top-of-book snapshot: the book imbalance. Books outside the session are kept too (the
    /// pre-open book says something), but do not start a session.
    pub fn on_book(&mut self, book: &Book) {
        self.book_imbalance = book.imbalance();
    }

    /// Folds trades, ticks and books in; other events are ignored.
    pub fn on_event(&mut self, event: &MarketEvent) {
        match event {
            MarketEvent::Trade { trade, .. } => {
                self.on_trade(trade);
            }
            MarketEvent::Tick { tick, .. } => {
                self.on_tick(tick);
            }
            MarketEvent::Book { book, .. } => self.on_book(book),
            _ => {}
        }
    }

    /// The figures of the session so far (buy and sell volume since the open).
    pub fn session(&self) -> OrderFlow {
        self.figures(self.session_volumes)
    }

    /// The figures since the last call (buy and sell volume of the window; delta, VWAP and
    /// imbalances as of now), then starts a new window: call it as each candle closes to get
    /// per-candle flow.
    pub fn take_window(&mut self) -> OrderFlow {
        let window = std::mem::take(&mut self.window);
        self.figures(window)
    }

    fn figures(&self, volumes: Volumes) -> OrderFlow {
        OrderFlow {
            buy_volume: volumes.buy,
            sell_volume: volumes.sell,
            cumulative_delta: self
                .session_volumes
                .buy
                .saturating_sub(self.session_volumes.sell),
            book_imbalance: self.book_imbalance,
            resting_imbalance: self.resting_imbalance,
            session_vwap: self.vwap(),
        }
    }

    fn vwap(&self) -> Option<Price> {
        if self.vwap_volume.is_zero() {
            return None;
        }
        self.notional.checked_div(self.vwap_volume)
    }

    /// Starts a new session when `ts` belongs to one later than the current; `false` when `ts`
    /// is outside every session.
    fn enter(&mut self, ts: Timestamp) -> bool {
        let Some((start, _)) = self.session.day_at(ts) else {
            self.stats.out_of_session += 1;
            return false;
        };
        if self.session_start.is_none_or(|current| start > current) {
            self.session_start = Some(start);
            self.session_volumes = Volumes::default();
            self.window = Volumes::default();
            self.notional = Price::ZERO;
            self.vwap_volume = Quantity::ZERO;
            self.classifier.reset();
            self.last_quote = None;
            self.stats.sessions += 1;
        }
        true
    }

    fn fold(&mut self, price: Price, quantity: Quantity, side: Option<Side>) {
        match side {
            // Saturating: quantities come from the wire, and a decimal overflow would panic.
            Some(Side::Buy) => {
                self.session_volumes.buy = self.session_volumes.buy.saturating_add(quantity);
                self.window.buy = self.window.buy.saturating_add(quantity);
            }
            Some(Side::Sell) => {
                self.session_volumes.sell = self.session_volumes.sell.saturating_add(quantity);
                self.window.sell = self.window.sell.saturating_add(quantity);
            }
            None => {
                self.stats.unclassified_volume =
                    self.stats.unclassified_volume.saturating_add(quantity);
            }
        }
        let sums = price.checked_mul(quantity).and_then(|n| {
            Some((
                self.notional.checked_add(n)?,
                self.vwap_volume.checked_add(quantity)?,
            ))
        });
        match sums {
            Some((notional, volume)) => {
                self.notional = notional;
                self.vwap_volume = volume;
            }
            None => self.stats.overflowed += 1,
        }
    }
}

fn imbalance(buy: Quantity, sell: Quantity) -> Option<f64> {
    let total = buy.checked_add(sell)?;
    if total.is_zero() {
        return None;
    }
    buy.checked_sub(sell)?.checked_div(total)?.try_into().ok()
}
