//! The paper account saved and restored: everything the engine changes, so that a bot
//! restarted mid-trade continues with the same account, orders, exits and fill numbering.

use super::engine::{ExitGroup, Meta, Quote};
use super::{PaperConfig, PaperEngine};
use crate::BrokerError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use tradegraph_core::order::{ClientOrderId, Fill, Order, OrderRequest};
use tradegraph_core::position::{Account, Portfolio};
use tradegraph_core::{Quantity, Symbol, Timestamp};

/// The version of the snapshot's layout; a snapshot of another version is refused.
const FORMAT: u32 = 1;

/// The paper engine's state, to save and [restore](PaperEngine::restore) after a restart: cash
/// and positions, every order with its bookkeeping (attached stop-loss, take-profit and
/// trailing stop with its best price), the client order ids already submitted, the fills
/// (numbering continues after them), market time, each instrument's last price, last bars'
/// volumes, how many trades and ticks it took at its latest millisecond (with
/// [`PaperConfig::feed_resends`], a replayed feed's same events are stale after the restore)
/// and squared-off session, the trading day. Not the [`PaperConfig`], which comes from the
/// configuration at the restart and must match (currency, starting cash, instruments).
///
/// Serializable (exact decimals as strings); its fields are private, so the only way to make
/// one is [`PaperEngine::snapshot`] or deserializing a saved one, and the only way to use one is
/// [`PaperEngine::restore`], which checks it.
///
/// ```
/// use tradegraph_broker::paper::{PaperConfig, PaperEngine, PaperSnapshot};
/// use tradegraph_core::order::{ClientOrderId, Exits, OrderRequest, OrderSide};
/// use tradegraph_core::{Decimal, Instrument, Tick, Timestamp};
///
/// let btc = Instrument::btc_usdt();
/// let config = PaperConfig::new(btc.clone(), Decimal::from(10_000));
/// let tick = |ms, p: i64| Tick::new(Timestamp::from_millis(ms), Decimal::from(p), Decimal::ONE);
/// let mut paper = PaperEngine::new(config.clone())?;
/// paper.on_tick(&btc.symbol, &tick(0, 40_000))?;
/// let entry = OrderRequest::market(ClientOrderId::new("e1")?, btc.symbol.clone(), OrderSide::Buy, Decimal::new(1, 2))
///     .with_exits(Exits::stop(Decimal::from(39_000)));
/// paper.submit(entry.clone())?;
///
/// // Saved, the process restarts, restored with the same configuration.
/// let saved = serde_json::to_string(&paper.snapshot())?;
/// let mut paper = PaperEngine::restore(config, serde_json::from_str::<PaperSnapshot>(&saved)?)?;
/// // The entry is known: submitting it again places nothing.
/// paper.submit(entry)?;
/// assert_eq!(paper.fills().len(), 1);
/// // The stop still works, and the fills are numbered on.
/// let fills = paper.on_tick(&btc.symbol, &tick(1_000, 38_900))?;
/// assert_eq!(fills[0].seq, 2);
/// assert!(paper.positions().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperSnapshot {
    format: u32,
    markets: BTreeMap<Symbol, MarketState>,
    day: Option<(Timestamp, Timestamp)>,
    portfolio: Portfolio,
    orders: Vec<SavedOrder>,
    working: Vec<usize>,
    exit_groups: BTreeMap<Symbol, ExitGroup>,
    fills: Vec<Fill>,
    /// Fills let go before the first one here.
    #[serde(default)]
    fills_base: u64,
    /// Orders let go (the next order id goes on after them).
    #[serde(default)]
    order_base: u64,
    /// The client order ids of the orders let go.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    retired: Vec<ClientOrderId>,
    now: Timestamp,
    event: u64,
    #[serde(default)]
    in_candle: bool,
    stale_events: u64,
}

/// One instrument's market state (its instrument comes from the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct MarketState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last: Option<Quote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session: Option<(Timestamp, Timestamp)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    squared_off: Option<Timestamp>,
    /// The volume of the bar being walked and of the last closed one, for the volume slippage
    /// model: a restarted engine no longer walks the last bar again (it is stale), so its
    /// volume is kept here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bar_volume: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    closed_volume: Option<Quantity>,
    /// How many trades and ticks at the latest price's millisecond were taken: with
    /// `feed_resends`, as many again at that millisecond, from a restarted bot's replayed feed,
    /// are stale.
    #[serde(default, skip_serializing_if = "is_zero")]
    taken_at_last: u32,
}

/// An order, its bookkeeping, and the request first submitted under its client order id when
/// that differs from the order's own (attached exits are resized to the position).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SavedOrder {
    order: Order,
    meta: Meta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    submitted: Option<OrderRequest>,
}

impl PaperSnapshot {
    /// Market time when it was taken.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The `seq` of the last fill (`0` for none): after a restore, fills continue from here.
    pub fn last_fill_seq(&self) -> u64 {
        self.fills_base + self.fills.len() as u64
    }

    /// The account as it was.
    pub fn account(&self) -> Account {
        self.portfolio.snapshot(self.now)
    }
}

impl PaperEngine {
    /// Everything the engine has changed since it was made, to save (see [`PaperSnapshot`]).
    pub fn snapshot(&self) -> PaperSnapshot {
        let markets = self
            .markets
            .iter()
            .map(|(symbol, m)| {
                let state = MarketState {
                    last: m.last,
                    session: m.session,
                    squared_off: m.squared_off,
                    bar_volume: m.bar_volume,
                    closed_volume: m.closed_volume,
                    taken_at_last: m.taken_at_last,
                };
                (symbol.clone(), state)
            })
            .collect();
        let orders = self
            .orders
            .iter()
            .zip(&self.meta)
            .map(|(order, meta)| {
                let submitted = self
                    .submitted
                    .get(order.client_id())
                    .map(|(_, request)| request)
                    .filter(|request| **request != order.request)
                    .cloned();
                SavedOrder {
                    order: order.clone(),
                    meta: meta.clone(),
                    submitted,
                }
            })
            .collect();
        PaperSnapshot {
            format: FORMAT,
            markets,
            day: self.day,
            portfolio: self.portfolio.clone(),
            orders,
            working: self.working.clone(),
            exit_groups: self
                .exit_groups
                .iter()
                .map(|(s, g)| (s.clone(), g.clone()))
                .collect(),
            fills: self.fills.clone(),
            fills_base: self.fills_base,
            order_base: self.order_base,
            retired: self.retired.iter().cloned().collect(),
            now: self.now,
            event: self.event,
            in_candle: self.in_candle,
            stale_events: self.stale_events,
        }
    }

    /// An engine with `config` that continues from `snapshot`, after checking that the snapshot
    /// is whole and was taken with the same currency, starting cash and instruments. Fees,
    /// slippage, leverage and square-off come from `config` and may have changed.
    ///
    /// Fails with [`BrokerError::Snapshot`], naming what is wrong, for a snapshot that is
    /// corrupt or does not match; never panics.
    pub fn restore(config: PaperConfig, snapshot: PaperSnapshot) -> Result<Self, BrokerError> {
        let mut engine = Self::new(config)?;
        check(&engine, &snapshot)?;
        let mut submitted = HashMap::with_capacity(snapshot.orders.len());
        let mut orders = Vec::with_capacity(snapshot.orders.len());
        let mut meta = Vec::with_capacity(snapshot.orders.len());
        for (index, saved) in snapshot.orders.into_iter().enumerate() {
            let request = saved
                .submitted
                .unwrap_or_else(|| saved.order.request.clone());
            submitted.insert(saved.order.client_id().clone(), (index, request));
            orders.push(saved.order);
            meta.push(saved.meta);
        }
        for (symbol, state) in snapshot.markets {
            if let Some(market) = engine.markets.get_mut(&symbol) {
                market.last = state.last;
                market.session = state.session;
                market.squared_off = state.squared_off;
                market.bar_volume = state.bar_volume;
                market.closed_volume = state.closed_volume;
                market.taken_at_last = state.taken_at_last;
                if engine.config.feed_resends {
                    market.replaying = state.taken_at_last;
                }
            }
        }
        engine.day = snapshot.day;
        engine.portfolio = snapshot.portfolio;
        engine.orders = orders;
        engine.meta = meta;
        engine.submitted = submitted;
        engine.working = snapshot.working;
        engine.exit_groups = snapshot.exit_groups.into_iter().collect();
        engine.fills = snapshot.fills;
        engine.fills_base = snapshot.fills_base;
        engine.order_base = snapshot.order_base;
        engine.retired = snapshot.retired.into_iter().collect();
        engine.now = snapshot.now;
        engine.event = snapshot.event;
        engine.in_candle = snapshot.in_candle;
        engine.stale_events = snapshot.stale_events;
        Ok(engine)
    }
}

/// Checks that `snapshot` fits the freshly configured `engine` and is whole.
fn check(engine: &PaperEngine, snapshot: &PaperSnapshot) -> Result<(), BrokerError> {
    let bad = |reason: String| Err(BrokerError::Snapshot(reason));
    if snapshot.format != FORMAT {
        return bad(format!(
            "it has layout version {}, this build reads version {FORMAT}",
            snapshot.format
        ));
    }
    let config = &engine.config;
    let account = snapshot.portfolio.snapshot(snapshot.now);
    if account.currency != config.currency {
        return bad(format!(
            "the account is in {:?} but the configuration says {:?}",
            account.currency, config.currency
        ));
    }
    if account.initial_cash != config.initial_cash {
        return bad(format!(
            "the account started with {} but the configuration says {}",
            account.initial_cash, config.initial_cash
        ));
    }
    let known = |s: &Symbol| engine.markets.contains_key(s);
    if let Some(s) = engine
        .markets
        .keys()
        .find(|s| !snapshot.markets.contains_key(*s))
    {
        return bad(format!(
            "instrument {s} is configured but not in the snapshot"
        ));
    }
    if let Some(s) = snapshot.markets.keys().find(|s| !known(s)) {
        return bad(format!(
            "instrument {s} is in the snapshot but not configured"
        ));
    }
    if let Some(p) = account.positions.iter().find(|p| !known(&p.symbol)) {
        return bad(format!(
            "a position in {}, which is not configured",
            p.symbol
        ));
    }
    let mut ids: HashSet<&ClientOrderId> = HashSet::with_capacity(snapshot.orders.len());
    let retired: HashSet<&ClientOrderId> = snapshot.retired.iter().collect();
    let mut previous = 0u64;
    for (index, saved) in snapshot.orders.iter().enumerate() {
        let order = &saved.order;
        let id = order.client_id();
        // Numbered P-1, P-2, ... in order; some may have been let go in between.
        let number = order
            .id
            .as_str()
            .strip_prefix("P-")
            .and_then(|n| n.parse::<u64>().ok());
        match number {
            Some(n) if n > previous => previous = n,
            _ => {
                return bad(format!(
                    "order {index} has id {}, after P-{previous}: the orders are out of sequence",
                    order.id
                ))
            }
        }
        if !ids.insert(id) || retired.contains(id) {
            return bad(format!("client order id {id} appears twice"));
        }
        if !known(&order.request.symbol) {
            return bad(format!(
                "order {id} is for {}, which is not configured",
                order.request.symbol
            ));
        }
        if saved.submitted.as_ref().is_some_and(|r| &r.client_id != id) {
            return bad(format!(
                "order {id} was submitted under another client order id"
            ));
        }
    }
    let count = snapshot.orders.len();
    if Some(previous) != snapshot.order_base.checked_add(count as u64) {
        return bad(format!(
            "the last order is P-{previous}, but {} orders were let go and {count} are kept",
            snapshot.order_base
        ));
    }
    let mut working = HashSet::with_capacity(snapshot.working.len());
    for &index in &snapshot.working {
        let Some(saved) = snapshot.orders.get(index) else {
            return bad(format!(
                "working order {index} does not exist ({count} orders)"
            ));
        };
        if !working.insert(index) {
            return bad(format!("working order {index} is listed twice"));
        }
        if !saved.order.status.is_working() {
            return bad(format!(
                "order {} is listed as working but is {}",
                saved.order.client_id(),
                saved.order.status
            ));
        }
    }
    for (symbol, group) in &snapshot.exit_groups {
        if !known(symbol) {
            return bad(format!("exits for {symbol}, which is not configured"));
        }
        if !ids.contains(&group.parent) {
            return bad(format!(
                "the exits of {symbol} belong to unknown order {}",
                group.parent
            ));
        }
        if let Some(index) = group.orders.iter().find(|i| **i >= count) {
            return bad(format!(
                "exit order {index} of {symbol} does not exist ({count} orders)"
            ));
        }
    }
    for (i, fill) in snapshot.fills.iter().enumerate() {
        let Some(expected) = snapshot.fills_base.checked_add(i as u64 + 1) else {
            return bad(format!(
                "fill {} after {} is past the last sequence number",
                i + 1,
                snapshot.fills_base
            ));
        };
        if fill.seq != expected {
            return bad(format!(
                "fill {expected} has seq {}: the fills are out of sequence",
                fill.seq
            ));
        }
        if !known(&fill.symbol) {
            return bad(format!(
                "fill {} is in {}, which is not configured",
                fill.seq, fill.symbol
            ));
        }
    }
    Ok(())
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
