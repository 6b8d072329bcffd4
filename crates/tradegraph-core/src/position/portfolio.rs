//! The ledger: cash, positions, realized P&L, fees and the trading day's starting equity.

use super::{Account, Position};
use crate::money::{checked, Money};
use crate::order::Fill;
use crate::{CoreError, Currency, Price, Quantity, Symbol, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Books fills and marks into cash and positions, in one currency.
///
/// Cash moves by `−signed quantity × price − fee` per fill; equity is `cash + Σ quantity × mark`.
/// The books always reconcile exactly: `equity == initial cash + realized + unrealized − fees`
/// ([`Account::reconciliation_gap`] is zero).
///
/// ```
/// use tradegraph_core::position::Portfolio;
/// use tradegraph_core::order::{ClientOrderId, Fill, Liquidity, OrderId, OrderSide};
/// use tradegraph_core::{Currency, Decimal, Symbol, Timestamp};
/// let btc = Symbol::new("BTCUSDT");
/// let mut book = Portfolio::new(Currency::Usdt, Decimal::from(10_000));
/// book.apply_fill(&Fill {
///     seq: 1, order_id: OrderId::new("P-1"), client_id: ClientOrderId::new("a")?,
///     symbol: btc.clone(), side: OrderSide::Buy, quantity: Decimal::new(1, 2),
///     price: Decimal::from(40_000), fee: Decimal::new(4, 1), charges: vec![], liquidity: Liquidity::Taker,
///     ts: Timestamp::EPOCH,
/// })?;
/// book.mark(&btc, Decimal::from(41_000), Timestamp::EPOCH)?;
/// let account = book.snapshot(Timestamp::EPOCH);
/// assert_eq!(account.cash, Decimal::new(95_996, 1));          // 10 000 − 400 − 0.4
/// assert_eq!(account.equity, Decimal::new(100_096, 1));       // + 0.01 × 41 000
/// assert_eq!(account.unrealized_pnl, Decimal::from(10));
/// assert!(account.reconciliation_gap().is_zero());
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    currency: Currency,
    initial_cash: Money,
    cash: Money,
    realized_pnl: Money,
    fees_paid: Money,
    positions: BTreeMap<Symbol, Position>,
    day_start_equity: Money,
    day_started_at: Option<Timestamp>,
    updated_at: Timestamp,
}

impl Portfolio {
    /// A portfolio holding `initial_cash` in `currency`.
    pub fn new(currency: Currency, initial_cash: Money) -> Self {
        Self {
            currency,
            initial_cash,
            cash: initial_cash,
            realized_pnl: Money::ZERO,
            fees_paid: Money::ZERO,
            positions: BTreeMap::new(),
            day_start_equity: initial_cash,
            day_started_at: None,
            updated_at: Timestamp::EPOCH,
        }
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Cash.
    pub fn cash(&self) -> Money {
        self.cash
    }

    /// The position in `symbol`, if one was ever booked (it may be flat).
    pub fn position(&self, symbol: &Symbol) -> Option<&Position> {
        self.positions.get(symbol)
    }

    /// The signed quantity held in `symbol` (zero when none).
    pub fn quantity(&self, symbol: &Symbol) -> Quantity {
        self.positions
            .get(symbol)
            .map_or(Quantity::ZERO, |p| p.quantity)
    }

    /// The open (non-flat) positions.
    pub fn open_positions(&self) -> impl Iterator<Item = &Position> {
        self.positions.values().filter(|p| !p.is_flat())
    }

    /// `cash + Σ quantity × mark`.
    pub fn equity(&self) -> Money {
        self.positions
            .values()
            .fold(self.cash, |acc, p| acc.saturating_add(p.market_value()))
    }

    /// `Σ quantity × mark − cost basis` over open positions.
    pub fn unrealized_pnl(&self) -> Money {
        self.positions
            .values()
            .fold(Money::ZERO, |acc, p| acc.saturating_add(p.unrealized_pnl()))
    }

    /// Realized P&L (before fees) since the start.
    pub fn realized_pnl(&self) -> Money {
        self.realized_pnl
    }

    /// Fees paid since the start.
    pub fn fees_paid(&self) -> Money {
        self.fees_paid
    }

    /// Books a fill: moves cash, updates the position and the totals. Returns the realized P&L
    /// (before fees). Fails, changing nothing, when the fill is malformed or the figures overflow.
    pub fn apply_fill(&mut self, fill: &Fill) -> Result<Money, CoreError> {
        let mut position = self
            .positions
            .get(&fill.symbol)
            .cloned()
            .unwrap_or_else(|| Position::flat(fill.symbol.clone()));
        let realized = position.apply(fill)?;
        let value = checked("fill value", fill.signed_quantity().checked_mul(fill.price))?;
        let cash = checked("cash", self.cash.checked_sub(value))?;
        let cash = checked("cash", cash.checked_sub(fill.fee))?;
        let realized_total = checked("realized P&L", self.realized_pnl.checked_add(realized))?;
        let fees = checked("fees", self.fees_paid.checked_add(fill.fee))?;
        self.cash = cash;
        self.realized_pnl = realized_total;
        self.fees_paid = fees;
        self.positions.insert(fill.symbol.clone(), position);
        self.updated_at = self.updated_at.max(fill.ts);
        Ok(realized)
    }

    /// Marks `symbol` at `price` (no-op for an instrument never traded). Fails, changing nothing,
    /// when the position's value would overflow.
    pub fn mark(&mut self, symbol: &Symbol, price: Price, at: Timestamp) -> Result<(), CoreError> {
        if let Some(position) = self.positions.get_mut(symbol) {
            position.mark(price, at)?;
        }
        self.updated_at = self.updated_at.max(at);
        Ok(())
    }

    /// Starts a new trading day at `day_start` if it is later than the current one: the equity
    /// now (at the latest marks, i.e. the previous close) becomes the day's starting equity, the
    /// base of the daily loss limit. Returns whether a new day started.
    pub fn start_day(&mut self, day_start: Timestamp) -> bool {
        if self.day_started_at.is_some_and(|d| d >= day_start) {
            return false;
        }
        self.day_start_equity = self.equity();
        self.day_started_at = Some(day_start);
        true
    }

    /// A snapshot of the account at `as_of`.
    pub fn snapshot(&self, as_of: Timestamp) -> Account {
        let (gross, net) = self
            .positions
            .values()
            .fold((Money::ZERO, Money::ZERO), |(g, n), p| {
                (
                    g.saturating_add(p.exposure()),
                    n.saturating_add(p.market_value()),
                )
            });
        Account {
            as_of,
            currency: self.currency,
            initial_cash: self.initial_cash,
            cash: self.cash,
            equity: self.equity(),
            realized_pnl: self.realized_pnl,
            unrealized_pnl: self.unrealized_pnl(),
            fees_paid: self.fees_paid,
            gross_exposure: gross,
            net_exposure: net,
            day_start_equity: self.day_start_equity,
            day_started_at: self.day_started_at,
            positions: self.open_positions().cloned().collect(),
        }
    }
}
