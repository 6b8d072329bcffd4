//! The paper broker's state, its constructor and its read side.

use super::PaperConfig;
use crate::BrokerError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tradegraph_core::order::{ClientOrderId, Fill, Order, OrderRequest};
use tradegraph_core::position::{Account, Portfolio, Position};
use tradegraph_core::{Instrument, Price, Quantity, Symbol, Timestamp, TradingSession};

/// The last price seen for an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Quote {
    pub(super) price: Price,
    pub(super) bid: Option<Price>,
    pub(super) ask: Option<Price>,
    pub(super) ts: Timestamp,
    /// Inside a candle: the price of the previous point, from which the market traded through
    /// every price to this one, so a stop between them fills at its trigger rather than here
    /// (`None`: a tick, a trade, a candle's open, which may gap).
    pub(super) through: Option<Price>,
}

impl Quote {
    /// What a buyer pays now: the ask, or the last price.
    pub(super) fn buy_price(&self) -> Price {
        self.ask.unwrap_or(self.price)
    }

    /// What a seller gets now: the bid, or the last price.
    pub(super) fn sell_price(&self) -> Price {
        self.bid.unwrap_or(self.price)
    }
}

/// One instrument's market state.
#[derive(Debug, Clone)]
pub(super) struct Market {
    pub(super) instrument: Instrument,
    pub(super) last: Option<Quote>,
    /// The exchange session containing the last event (cached).
    pub(super) session: Option<(Timestamp, Timestamp)>,
    /// The open of the last session squared off.
    pub(super) squared_off: Option<Timestamp>,
    /// The volume of the candle being walked (for volume-based slippage); `None` on ticks and
    /// trades.
    pub(super) bar_volume: Option<Quantity>,
    /// The volume of the last candle walked to its close before the current event: what a
    /// next-open fill's volume-based slippage uses (the current bar's volume is only known at
    /// its close).
    pub(super) closed_volume: Option<Quantity>,
    /// How many trades and ticks at the latest price's millisecond were taken (they may share
    /// one; a bar there is stale anyway).
    pub(super) taken_at_last: u32,
    /// After a restore with [`PaperConfig::feed_resends`], how many of those may still come
    /// again from the replayed feed: they are the same events and are stale. A later event
    /// ends the replay.
    pub(super) replaying: u32,
}

/// What a working order is for, which decides the order it is checked in at each price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Role {
    /// An attached stop-loss: checked first.
    StopLoss,
    /// An attached trailing stop.
    Trailing,
    /// An attached take-profit: after the stops.
    TakeProfit,
    /// Any other order.
    Plain,
}

/// Bookkeeping beside each order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Meta {
    pub(super) role: Role,
    /// A trailing stop's best price since it started working.
    pub(super) best: Option<Price>,
    /// A take-profit attached inside a candle may fill only at events after this one.
    pub(super) armed_after: u64,
    /// When a DAY order expires.
    pub(super) expires_at: Option<Timestamp>,
    /// Placed with next-open fill timing and not yet checked at a price: a limit order
    /// marketable at its first price fills there as a taker.
    #[serde(default)]
    pub(super) deferred: bool,
}

/// An entry's attached exits in one instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ExitGroup {
    pub(super) parent: ClientOrderId,
    pub(super) orders: Vec<usize>,
}

/// The paper broker's engine: synchronous, deterministic, no locks. [`PaperBroker`] wraps it
/// for the async [`Broker`](crate::Broker) trait; a backtest can drive it directly.
///
/// Time is market time: the timestamp of the latest price event. See the
/// [module documentation](super) for the fill rules.
///
/// [`PaperBroker`]: super::PaperBroker
///
/// ```
/// use tradegraph_broker::paper::{PaperConfig, PaperEngine};
/// use tradegraph_core::order::{ClientOrderId, Exits, OrderRequest, OrderSide};
/// use tradegraph_core::{Decimal, Instrument, Tick, Timestamp};
///
/// let btc = Instrument::btc_usdt();
/// let mut paper = PaperEngine::new(PaperConfig::new(btc.clone(), Decimal::from(10_000)))?;
/// let tick = |ms, p: i64| Tick::new(Timestamp::from_millis(ms), Decimal::from(p), Decimal::ONE);
/// paper.on_tick(&btc.symbol, &tick(0, 40_000))?;
/// let entry = OrderRequest::market(ClientOrderId::new("e1")?, btc.symbol.clone(), OrderSide::Buy, Decimal::new(1, 2))
///     .with_exits(Exits::stop(Decimal::from(39_000)));
/// paper.submit(entry)?;
/// assert_eq!(paper.open_orders().len(), 1, "the stop-loss works");
/// let fills = paper.on_tick(&btc.symbol, &tick(1_000, 38_900))?;
/// assert_eq!(fills.len(), 1, "stopped out");
/// assert!(paper.positions().is_empty());
/// assert!(paper.account().reconciliation_gap().is_zero());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PaperEngine {
    pub(super) config: PaperConfig,
    pub(super) markets: HashMap<Symbol, Market>,
    pub(super) trading_day: TradingSession,
    pub(super) day: Option<(Timestamp, Timestamp)>,
    pub(super) portfolio: Portfolio,
    pub(super) orders: Vec<Order>,
    pub(super) meta: Vec<Meta>,
    pub(super) submitted: HashMap<ClientOrderId, (usize, OrderRequest)>,
    pub(super) working: Vec<usize>,
    pub(super) exit_groups: HashMap<Symbol, ExitGroup>,
    pub(super) fills: Vec<Fill>,
    /// Fills let go by [`compact`](Self::compact): `fills[0].seq == fills_base + 1`.
    pub(super) fills_base: u64,
    /// Orders let go by [`compact`](Self::compact): the next order is `P-{order_base + orders.len() + 1}`.
    pub(super) order_base: u64,
    /// The client order ids of the orders let go: never placed again.
    pub(super) retired: std::collections::VecDeque<ClientOrderId>,
    pub(super) now: Timestamp,
    pub(super) event: u64,
    pub(super) in_candle: bool,
    pub(super) stale_events: u64,
    pub(super) scratch: Vec<usize>,
}

impl PaperEngine {
    /// An engine with `config`'s cash and instruments, after checking it.
    pub fn new(config: PaperConfig) -> Result<Self, BrokerError> {
        config.validate()?;
        let markets = config
            .instruments
            .iter()
            .map(|i| {
                let market = Market {
                    instrument: i.clone(),
                    last: None,
                    session: None,
                    squared_off: None,
                    bar_volume: None,
                    closed_volume: None,
                    taken_at_last: 0,
                    replaying: 0,
                };
                (i.symbol.clone(), market)
            })
            .collect();
        Ok(Self {
            trading_day: config.trading_day(),
            portfolio: Portfolio::new(config.currency, config.initial_cash),
            config,
            markets,
            day: None,
            orders: Vec::new(),
            meta: Vec::new(),
            submitted: HashMap::new(),
            working: Vec::new(),
            exit_groups: HashMap::new(),
            fills: Vec::new(),
            fills_base: 0,
            order_base: 0,
            retired: std::collections::VecDeque::new(),
            now: Timestamp::EPOCH,
            event: 0,
            in_candle: false,
            stale_events: 0,
            scratch: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PaperConfig {
        &self.config
    }

    /// Market time: the latest price event's timestamp.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The last price of `symbol`.
    pub fn last_price(&self, symbol: &Symbol) -> Option<Price> {
        self.markets.get(symbol)?.last.map(|q| q.price)
    }

    /// The order with this client order id.
    pub fn order(&self, client_id: &ClientOrderId) -> Option<&Order> {
        let (index, _) = self.submitted.get(client_id)?;
        self.orders.get(*index)
    }

    /// The orders kept (every working one, and the finished ones since the last
    /// [`compact`](Self::compact)), oldest first.
    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    /// The working orders, oldest first.
    pub fn open_orders(&self) -> Vec<Order> {
        let mut open: Vec<usize> = self.working.clone();
        open.sort_unstable();
        open.iter()
            .filter_map(|i| self.orders.get(*i).cloned())
            .collect()
    }

    /// The open positions.
    pub fn positions(&self) -> Vec<Position> {
        self.portfolio.open_positions().cloned().collect()
    }

    /// The ledger.
    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    /// A snapshot of the account at market time.
    pub fn account(&self) -> Account {
        self.portfolio.snapshot(self.now)
    }

    /// The fills kept (all of them until a [`compact`](Self::compact)), oldest first, numbered
    /// on without gaps.
    pub fn fills(&self) -> &[Fill] {
        &self.fills
    }

    /// The fills with `seq` above `after`.
    pub fn fills_since(&self, after: u64) -> &[Fill] {
        let start = usize::try_from(after.saturating_sub(self.fills_base))
            .unwrap_or(usize::MAX)
            .min(self.fills.len());
        &self.fills[start..]
    }

    /// The `seq` of the last fill (`0` for none).
    pub fn last_fill_seq(&self) -> u64 {
        self.fills_base + self.fills.len() as u64
    }

    /// Price events ignored because they were older than the instrument's latest one (or a bar
    /// the instrument's latest price had reached).
    pub fn stale_events(&self) -> u64 {
        self.stale_events
    }
}
