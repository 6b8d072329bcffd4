//! The venue's book: balances, orders, trades, and the events they send to the user data stream.

use super::json;
use super::orders::{Side, VenueOrder, VenueTrade};
use super::rules::Rules;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tokio::sync::mpsc::UnboundedSender;

/// In which asset the venue charges commission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommissionAsset {
    /// The quote asset (USDT), the default.
    Quote,
    /// The base asset (BTC) on buys, as Binance does without BNB.
    Base,
    /// Another asset (BNB), at this many quote units per unit.
    Other(String, Decimal),
}

/// A refusal, as Binance's `(HTTP status, code, msg)`.
pub(crate) type Refusal = (u16, i64, String);

pub(crate) fn refusal(code: i64, msg: &str) -> Refusal {
    (400, code, msg.to_owned())
}

pub(crate) struct State {
    pub(crate) rules: Rules,
    pub(crate) last: Decimal,
    pub(crate) trading: bool,
    pub(crate) balances: BTreeMap<String, Decimal>,
    pub(crate) orders: Vec<VenueOrder>,
    pub(crate) trades: Vec<VenueTrade>,
    pub(crate) next_order_id: u64,
    pub(crate) next_trade_id: u64,
    pub(crate) next_list_id: i64,
    pub(crate) partial: Option<Decimal>,
    pub(crate) commission_rate: Decimal,
    pub(crate) commission_asset: CommissionAsset,
    pub(crate) subscribers: Vec<UnboundedSender<String>>,
    pub(crate) events: Vec<String>,
    pub(crate) now: i64,
    pub(crate) klines: super::klines::Klines,
}

impl State {
    pub(crate) fn new(rules: Rules) -> Self {
        Self {
            rules,
            last: Decimal::from(40_000),
            trading: true,
            balances: BTreeMap::new(),
            orders: Vec::new(),
            trades: Vec::new(),
            next_order_id: 1000,
            next_trade_id: 5000,
            next_list_id: 1,
            partial: None,
            commission_rate: Decimal::new(1, 3),
            commission_asset: CommissionAsset::Quote,
            subscribers: Vec::new(),
            events: Vec::new(),
            now: 0,
            klines: super::klines::Klines::default(),
        }
    }

    fn balance(&self, asset: &str) -> Decimal {
        self.balances.get(asset).copied().unwrap_or_default()
    }

    fn add(&mut self, asset: &str, delta: Decimal) {
        *self.balances.entry(asset.to_owned()).or_default() += delta;
    }

    /// What working orders lock: `(base, quote)`; the legs of one order list lock once.
    pub(crate) fn locked(&self) -> (Decimal, Decimal) {
        let (mut base, mut quote) = (Decimal::ZERO, Decimal::ZERO);
        let mut lists: BTreeMap<i64, (Decimal, Decimal)> = BTreeMap::new();
        for o in self.orders.iter().filter(|o| o.is_working()) {
            let (b, q) = match o.side {
                Side::Sell => (o.remaining(), Decimal::ZERO),
                Side::Buy => {
                    let at = if o.price.is_zero() {
                        self.last.max(o.stop_price)
                    } else {
                        o.price
                    };
                    (Decimal::ZERO, o.remaining() * at)
                }
            };
            if o.order_list_id >= 0 {
                let e = lists.entry(o.order_list_id).or_default();
                *e = (e.0.max(b), e.1.max(q));
            } else {
                base += b;
                quote += q;
            }
        }
        for (b, q) in lists.values() {
            base += b;
            quote += q;
        }
        (base, quote)
    }

    /// `(free, locked)` of an asset.
    pub(crate) fn free_locked(&self, asset: &str) -> (Decimal, Decimal) {
        let (lb, lq) = self.locked();
        let locked = if asset == self.rules.base {
            lb
        } else if asset == self.rules.quote {
            lq
        } else {
            Decimal::ZERO
        };
        (self.balance(asset) - locked, locked)
    }

    /// Checks the balance for a new order (or a list's one lock).
    pub(crate) fn check_balance(
        &self,
        side: Side,
        qty: Decimal,
        at: Decimal,
    ) -> Result<(), Refusal> {
        let enough = match side {
            Side::Sell => self.free_locked(&self.rules.base).0 >= qty,
            Side::Buy => self.free_locked(&self.rules.quote).0 >= qty * at,
        };
        if enough {
            Ok(())
        } else {
            Err(refusal(
                -2010,
                "Account has insufficient balance for requested action.",
            ))
        }
    }

    /// A market order placed by hand at the last price.
    pub(crate) fn place_by_hand(&mut self, sell: bool, qty: Decimal) -> Result<u64, Refusal> {
        let side = if sell { Side::Sell } else { Side::Buy };
        if !self.trading {
            return Err(refusal(-2010, "Market is closed."));
        }
        self.check_balance(side, qty, self.last)?;
        self.next_order_id += 1;
        let id = self.next_order_id;
        self.insert(VenueOrder {
            id,
            client_id: format!("web_{id}"),
            side,
            kind: "MARKET".into(),
            time_in_force: "GTC".into(),
            quantity: qty,
            price: Decimal::ZERO,
            stop_price: Decimal::ZERO,
            trailing_delta: 0,
            trail_best: Decimal::ZERO,
            triggered: false,
            status: "NEW",
            executed: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            order_list_id: -1,
            time: self.now,
            update_time: self.now,
        });
        Ok(id)
    }

    /// Adds an order and matches it at once if it can; sends its events.
    pub(crate) fn insert(&mut self, mut order: VenueOrder) -> usize {
        if order.trailing_delta > 0 && order.stop_price.is_zero() {
            order.trail_best = self.last;
        }
        self.orders.push(order);
        let at = self.orders.len() - 1;
        self.emit(at, "NEW", None);
        self.match_one(at);
        at
    }

    /// Moves the last price and matches every working order.
    pub(crate) fn set_price(&mut self, price: Decimal) {
        self.last = price;
        for i in 0..self.orders.len() {
            self.match_one(i);
        }
    }

    fn match_one(&mut self, i: usize) {
        let last = self.last;
        let Some(order) = self.orders.get_mut(i) else {
            return;
        };
        let was_triggered = order.triggered;
        let result = order.fill_price(last);
        let (list, newly) = (order.order_list_id, !was_triggered && order.triggered);
        if newly && list >= 0 {
            // One leg of an OCO triggers: the other is cancelled at once.
            self.cancel_list_except(list, i);
        }
        let Some((price, maker)) = result else {
            return;
        };
        let remaining = self.orders[i].remaining();
        let qty = self.partial.map_or(remaining, |p| p.min(remaining));
        if qty <= Decimal::ZERO {
            return;
        }
        self.fill(i, qty, price, maker);
        if list >= 0 {
            self.cancel_list_except(list, i);
        }
        let order = &mut self.orders[i];
        let market = !(order.kind.ends_with("LIMIT") || order.kind == "LIMIT_MAKER");
        if market && order.is_working() {
            // A market order (or a triggered stop-market) does not rest: what did not fill
            // expires.
            order.status = "EXPIRED";
            self.emit(i, "EXPIRED", None);
        }
    }

    fn fill(&mut self, i: usize, qty: Decimal, price: Decimal, maker: bool) {
        let now = self.now;
        let (base, quote) = (self.rules.base.clone(), self.rules.quote.clone());
        let side = self.orders[i].side;
        let notional = qty * price;
        let (commission, asset) = match (&self.commission_asset, side) {
            (CommissionAsset::Base, Side::Buy) => (qty * self.commission_rate, base.clone()),
            (CommissionAsset::Other(a, p), _) => {
                ((notional * self.commission_rate / p).round_dp(8), a.clone())
            }
            _ => (notional * self.commission_rate, quote.clone()),
        };
        match side {
            Side::Buy => {
                self.add(&quote, -notional);
                self.add(&base, qty);
            }
            Side::Sell => {
                self.add(&base, -qty);
                self.add(&quote, notional);
            }
        }
        self.add(&asset, -commission);
        let trade = VenueTrade {
            id: self.next_trade_id,
            order_id: self.orders[i].id,
            order_list_id: self.orders[i].order_list_id,
            price,
            qty,
            commission,
            commission_asset: asset,
            time: now,
            is_buyer: side == Side::Buy,
            is_maker: maker,
        };
        self.next_trade_id += 1;
        let order = &mut self.orders[i];
        order.executed += qty;
        order.cum_quote += notional;
        order.update_time = now;
        order.status = if order.remaining().is_zero() {
            "FILLED"
        } else {
            "PARTIALLY_FILLED"
        };
        self.trades.push(trade.clone());
        self.emit(i, "TRADE", Some(&trade));
    }

    /// One leg of an OCO triggered or filled: the other leg expires (Binance reports it
    /// `EXPIRED`, not `CANCELED`).
    fn cancel_list_except(&mut self, list: i64, keep: usize) {
        for j in 0..self.orders.len() {
            if j != keep && self.orders[j].order_list_id == list && self.orders[j].is_working() {
                self.orders[j].status = "EXPIRED";
                self.orders[j].update_time = self.now;
                self.emit(j, "EXPIRED", None);
            }
        }
    }

    /// Cancels an order (and the rest of its list); returns the indices cancelled.
    pub(crate) fn cancel(&mut self, i: usize) -> Vec<usize> {
        let list = self.orders[i].order_list_id;
        let mut done = Vec::new();
        for j in 0..self.orders.len() {
            let member = j == i || (list >= 0 && self.orders[j].order_list_id == list);
            if member && self.orders[j].is_working() {
                self.orders[j].status = "CANCELED";
                self.orders[j].update_time = self.now;
                self.emit(j, "CANCELED", None);
                done.push(j);
            }
        }
        done
    }

    pub(crate) fn find(&self, client_id: Option<&str>, order_id: Option<u64>) -> Option<usize> {
        // The newest order under a client id: Binance keeps client ids unique only among open
        // orders.
        self.orders.iter().rposition(|o| {
            client_id.is_some_and(|c| c == o.client_id) || order_id.is_some_and(|id| id == o.id)
        })
    }

    fn emit(&mut self, i: usize, execution: &str, trade: Option<&VenueTrade>) {
        let text = json::execution_report(&self.rules, &self.orders[i], execution, trade, self.now);
        self.events.push(text.clone());
        self.subscribers.retain(|s| s.send(text.clone()).is_ok());
    }
}
